"""The shared HTTP layer of the requests-based adapters, tested at the HTTP boundary: `responses` for
exact sequences (429 → 200, 5xx exhausted, auth errors never retried) and the sandbox's fault switches
for real sockets (dropped connections, truncated bodies)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import requests
import responses
from responses import matchers
from responses.registries import OrderedRegistry

from adapters.http import RetryPolicy, VendorClient, error_for, retry_after_seconds
from adapters.paging import (
    HeaderCursorPaginator,
    HubSpotAfterPaginator,
    LastIdPaginator,
    NextLinkPaginator,
    PageNumberPaginator,
    PageRequest,
    Paginator,
    paginate,
)
from connector.errors import AuthError, FatalAPIError, PaginationLoopError, RetryableAPIError
from connector.sandbox import Sandbox

BASE = "https://api.aircall.io/v1"


def client(sleeps: list[float], attempts: int = 4) -> VendorClient:
    return VendorClient(
        "aircall", BASE, requests.Session(), retry=RetryPolicy(attempts=attempts), sleep=sleeps.append
    )


@responses.activate(registry=OrderedRegistry)
def test_429_then_success_waits_what_the_vendor_asked() -> None:
    responses.get(
        f"{BASE}/calls", status=429, headers={"Retry-After": "7"}, json={"error": "Too Many Requests"}
    )
    responses.get(f"{BASE}/calls", status=200, json={"calls": [], "meta": {}})
    sleeps: list[float] = []
    body, _ = client(sleeps).get_json("/calls")
    assert body == {"calls": [], "meta": {}}
    assert sleeps == [7.0]


@responses.activate(registry=OrderedRegistry)
def test_server_errors_are_retried_with_backoff_until_the_attempts_run_out() -> None:
    for _ in range(3):
        responses.get(f"{BASE}/users", status=503, json={"error": "Service Unavailable"})
    sleeps: list[float] = []
    with pytest.raises(RetryableAPIError) as caught:
        client(sleeps, attempts=3).get_json("/users")
    assert caught.value.status == 503 and caught.value.vendor == "aircall"
    assert len(sleeps) == 2 and all(0 <= s <= 60 for s in sleeps)


@pytest.mark.parametrize(
    ("status", "error"), [(401, AuthError), (403, AuthError), (404, FatalAPIError), (400, FatalAPIError)]
)
@responses.activate
def test_client_errors_are_not_retried(status: int, error: type[Exception]) -> None:
    responses.get(f"{BASE}/calls", status=status, json={"error": "nope", "troubleshoot": "check the key"})
    sleeps: list[float] = []
    with pytest.raises(error, match="nope"):
        client(sleeps).get_json("/calls")
    assert sleeps == [] and len(responses.calls) == 1


@responses.activate
def test_query_parameters_are_sent() -> None:
    responses.get(
        f"{BASE}/calls", match=[matchers.query_param_matcher({"from": "100", "per_page": "50"})], json={}
    )
    # the matcher answers only a request carrying exactly these parameters (any other is a ConnectionError)
    body, _ = client([]).get_json("/calls", params={"from": 100, "per_page": 50})
    assert body == {}
    assert len(responses.calls) == 1


def test_retry_after_forms() -> None:
    def response(headers: dict[str, str]) -> requests.Response:
        r = requests.Response()
        r.status_code = 429
        r.headers.update(headers)
        return r

    assert retry_after_seconds({"Retry-After": "3"}) == 3.0
    assert retry_after_seconds(response({"Retry-After": "3"}).headers) == 3.0
    assert retry_after_seconds(({"Retry-After": "Wed, 21 Oct 2015 07:28:10 GMT"}), now=1445412480) == 10.0
    assert (
        retry_after_seconds({"X-AircallApi-Reset": "1000"}, reset_header="X-AircallApi-Reset", now=990)
        == 10.0
    )
    assert retry_after_seconds({"X-AircallApi-Reset": "1000"}, now=990) is None  # not this vendor's header
    assert retry_after_seconds({}) is None
    assert error_for("x", response({"X-Request-Id": "abc"})).request_id == "abc"  # type: ignore[union-attr]


@pytest.mark.parametrize("fault", ["drop#1", "truncate#1", "malformed#1", "503#1,1"])
def test_real_socket_faults_are_retried(fault: str) -> None:
    with Sandbox(size=60, faults=f"aircall:/calls={fault}") as sandbox:
        session = requests.Session()
        session.auth = (sandbox.aircall_api_id, sandbox.aircall_api_token)
        sleeps: list[float] = []
        vendor = VendorClient(
            "aircall", sandbox.aircall_url, session, retry=RetryPolicy(attempts=4), sleep=sleeps.append
        )
        body, _ = vendor.get_json("/calls", params={"per_page": 50})
        assert len(body["calls"]) == 50 and sleeps


def test_paginators_follow_cursors_and_refuse_loops() -> None:
    hubspot = HubSpotAfterPaginator()
    assert hubspot.advance({"paging": {"next": {"after": "100"}}}) == "100"
    assert hubspot.advance({"results": []}) is None
    with pytest.raises(PaginationLoopError):
        hubspot.advance({"paging": {"next": {"after": "100"}}})
    aircall = NextLinkPaginator()
    assert aircall.advance({"meta": {"next_page_link": f"{BASE}/calls?page=2"}}) == f"{BASE}/calls?page=2"
    assert aircall.advance({"meta": {"next_page_link": None}}) is None
    page = PageNumberPaginator(per_page=2)
    assert (page.advance([1, 2]), page.advance([3, 4]), page.advance([5])) == (2, 3, None)


def test_header_cursor_paginator_stops_on_an_empty_page() -> None:
    response = requests.Response()
    response.headers["next_page_cursor"] = "abc"
    paginator = HeaderCursorPaginator()
    assert paginator.advance([{"id": 1}], response) == "abc"
    assert paginator.advance([], response) is None
    with pytest.raises(PaginationLoopError):
        paginator.advance([{"id": 2}], response)


def test_liveagent_history_pages_through_the_sandbox_with_the_cursor_paginator() -> None:
    with Sandbox(size=300) as sandbox:
        session = requests.Session()
        session.headers["apikey"] = sandbox.liveagent_api_key
        vendor = VendorClient("liveagent", sandbox.liveagent_url, session)
        paginator = HeaderCursorPaginator()
        rows: list[dict[str, Any]] = []
        params: dict[str, int | str] = {"_perPage": 40}
        while True:
            body, response = vendor.get_json("/tickets/history", params=params)
            rows += body
            cursor = paginator.advance(body, response)
            if cursor is None:
                break
            params = {"_perPage": 40, "_cursor": cursor}
        assert len({r["conversation_id"] for r in rows}) == sandbox.world.conversation_count
        assert vendor.calls > 1


def _repeating(body: Any, response: requests.Response | None = None) -> Any:
    """A fetch that answers every request with the same page: a vendor stuck on one cursor."""
    return lambda request: (body, response)


def test_every_paginator_stops_a_vendor_that_repeats_itself() -> None:
    """Each list goes through `paginate`; a vendor handing out the same cursor (or, page-numbered, the
    same full page) again is a `PaginationLoopError`, never an endless read."""
    cursor = requests.Response()
    cursor.headers["next_page_cursor"] = "same"
    sdk_page = SimpleNamespace(paging=SimpleNamespace(next=SimpleNamespace(after="7")), results=[])
    full = [{"id": n} for n in range(3)]
    cases: list[tuple[Paginator, Any]] = [
        (HubSpotAfterPaginator(), _repeating({"paging": {"next": {"after": "7"}}})),
        (HubSpotAfterPaginator(), _repeating(sdk_page)),  # owners, archived sweeps: SDK pages
        (LastIdPaginator(limit=2), _repeating(SimpleNamespace(results=[SimpleNamespace(id=1)] * 2))),
        (NextLinkPaginator(), _repeating({"meta": {"next_page_link": f"{BASE}/calls?page=2"}})),
        (HeaderCursorPaginator(), _repeating(full, cursor)),
        (PageNumberPaginator(per_page=3), _repeating(full)),
        (
            PageNumberPaginator(3, param="page", items=lambda b: b["calls"], vendor="aircall"),
            _repeating({"calls": full}),
        ),
    ]
    for paginator, fetch in cases:
        with pytest.raises(PaginationLoopError, match="repeated"):
            for _ in paginate(fetch, PageRequest("/x", {"per_page": 3}), paginator):
                pass


def test_paginate_puts_each_cursor_into_the_next_request() -> None:
    asked: list[PageRequest] = []
    pages = {None: ({"paging": {"next": {"after": "a"}}}), "a": {"paging": {"next": {"after": "b"}}}, "b": {}}

    def fetch(request: PageRequest) -> tuple[Any, None]:
        asked.append(request)
        return pages[request.params.get("after")], None

    assert len(list(paginate(fetch, PageRequest("/owners", {"limit": 2}), HubSpotAfterPaginator()))) == 3
    assert [r.params for r in asked] == [{"limit": 2}, {"limit": 2, "after": "a"}, {"limit": 2, "after": "b"}]
    numbered = PageNumberPaginator(2, max_page=2)
    seen = [r for r, _ in paginate(lambda r: ([r.params.get("_page"), 0], None), PageRequest(), numbered)]
    assert seen == [[None, 0], [2, 0]]  # page 2 is the last one asked for


def test_credentials_are_auth_objects_that_sign_each_request_and_stay_out_of_the_session() -> None:
    """Aircall's Basic auth and LiveAgent's `apikey` header are `requests` auth classes: each request is
    signed as it is sent; the session's default headers hold no credential."""
    from pydantic import SecretStr

    from adapters.http import BasicAuth, HeaderKeyAuth

    for auth, header, expected in (
        (BasicAuth("id", SecretStr("token")), "Authorization", "Basic aWQ6dG9rZW4="),
        (HeaderKeyAuth("apikey", SecretStr("k3y")), "apikey", "k3y"),
    ):
        session = requests.Session()
        session.auth = auth
        prepared = session.prepare_request(requests.Request("GET", f"{BASE}/calls"))
        assert prepared.headers[header] == expected
        assert header not in session.headers and "k3y" not in repr(auth) and "token" not in repr(auth)
