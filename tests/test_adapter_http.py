"""The shared HTTP layer of the requests-based adapters, tested at the HTTP boundary: `responses` for
exact sequences (429 → 200, 5xx exhausted, auth errors never retried) and the sandbox's fault switches
for real sockets (dropped connections, truncated bodies)."""

from __future__ import annotations

import pytest
import requests
import responses
from responses import matchers
from responses.registries import OrderedRegistry

from adapters.http import RetryPolicy, VendorClient, error_for, retry_after_seconds
from adapters.paging import (
    HeaderCursorPaginator,
    HubSpotAfterPaginator,
    NextLinkPaginator,
    PageNumberPaginator,
    PaginationLoopError,
)
from connector.errors import AuthError, FatalAPIError, RetryableAPIError
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
    assert retry_after_seconds(({"X-AircallApi-Reset": "1000"}), now=990) == 10.0
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
        rows, params = [], {"_perPage": 40}
        while True:
            body, response = vendor.get_json("/tickets/history", params=params)
            rows += body
            cursor = paginator.advance(body, response)
            if cursor is None:
                break
            params = {"_perPage": 40, "_cursor": cursor}
        assert len({r["conversation_id"] for r in rows}) == sandbox.world.conversation_count
        assert vendor.calls > 1
