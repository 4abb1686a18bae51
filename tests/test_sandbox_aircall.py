"""The sandbox's Aircall API through a `requests` session: Basic auth, `meta` paging, `from`/`to`
windows, the 10,000-item listing limit, rate-limit headers, and payload keys, types and codes within the
provenance table `tests/contracts/aircall.json` (the contract)."""

from __future__ import annotations

import pytest
import requests

from connector.sandbox import Sandbox
from tests.contract_tables import keys_of, problems
from tests.sync_helpers import module_sandbox

sandbox = module_sandbox(seed=11, size=10_600, aircall_requests_per_minute=100_000)


@pytest.fixture
def session(sandbox: Sandbox) -> requests.Session:
    session = requests.Session()
    session.auth = (sandbox.aircall_api_id, sandbox.aircall_api_token)
    return session


@pytest.mark.parametrize("kind", ["calls", "users", "teams", "contacts"])
def test_payload_keys_are_aircalls_field_names(
    session: requests.Session, sandbox: Sandbox, kind: str
) -> None:
    response = session.get(f"{sandbox.aircall_url}/{kind}", params={"per_page": 50}, timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {kind, "meta"} and body[kind]
    assert set(body["meta"]) == set(keys_of("aircall", "meta"))
    assert problems("aircall", "envelope", body) == []  # every key, nested ones too, typed and coded


def test_call_timestamps_are_unix_seconds(session: requests.Session, sandbox: Sandbox) -> None:
    call = session.get(f"{sandbox.aircall_url}/calls", timeout=10).json()["calls"][0]
    assert isinstance(call["started_at"], int) and isinstance(call["ended_at"], int)
    single = session.get(f"{sandbox.aircall_url}/calls/{call['id']}", timeout=10).json()["call"]
    assert single == call


def test_paging_by_next_page_link_and_the_10000_item_limit(
    session: requests.Session, sandbox: Sandbox
) -> None:
    url: str | None = f"{sandbox.aircall_url}/calls?per_page=50"
    seen = 0
    while url:
        body = session.get(url, timeout=10).json()
        seen += len(body["calls"])
        url = body["meta"]["next_page_link"]
    assert seen == 10_000  # the listing stops at 10,000 of the 10,600 calls
    past = session.get(f"{sandbox.aircall_url}/calls", params={"per_page": 50, "page": 201}, timeout=10)
    assert past.status_code == 400 and "from and to" in past.json()["troubleshoot"]


def test_from_to_windows_reach_every_call(session: requests.Session, sandbox: Sandbox) -> None:
    first = session.get(f"{sandbox.aircall_url}/calls", params={"per_page": 1}, timeout=10).json()["calls"][0]
    middle = first["started_at"] + 180 * 86400
    early = session.get(
        f"{sandbox.aircall_url}/calls", params={"to": middle - 1, "per_page": 1}, timeout=10
    ).json()
    late = session.get(
        f"{sandbox.aircall_url}/calls", params={"from": middle, "per_page": 1}, timeout=10
    ).json()
    assert early["meta"]["total"] + late["meta"]["total"] == sandbox.world.call_count


def test_basic_auth_and_rate_limit_headers(sandbox: Sandbox) -> None:
    wrong = requests.get(f"{sandbox.aircall_url}/calls", auth=("nobody", "nothing"), timeout=10)
    assert wrong.status_code == 401 and wrong.json()["error"] == "Unauthorized"
    with Sandbox(seed=1, size=5, aircall_requests_per_minute=2) as small:
        auth = (small.aircall_api_id, small.aircall_api_token)
        ok = requests.get(f"{small.aircall_url}/users", auth=auth, timeout=10)
        assert ok.headers["X-AircallApi-Limit"] == "2" and ok.headers["X-AircallApi-Remaining"] == "1"
        requests.get(f"{small.aircall_url}/users", auth=auth, timeout=10)
        limited = requests.get(f"{small.aircall_url}/users", auth=auth, timeout=10)
        assert limited.status_code == 429
        assert int(limited.headers["X-AircallApi-Reset"]) > 0 and int(limited.headers["Retry-After"]) >= 1


def test_webhook_registry(session: requests.Session, sandbox: Sandbox) -> None:
    created = session.post(
        f"{sandbox.aircall_url}/webhooks",
        json={"url": "https://example.org/hooks/aircall", "events": ["call.ended", "call.tagged"]},
        timeout=10,
    )
    assert created.status_code == 201
    webhook = created.json()["webhook"]
    assert webhook["events"] == ["call.ended", "call.tagged"] and len(webhook["token"]) == 32
    listed = session.get(f"{sandbox.aircall_url}/webhooks", timeout=10).json()
    assert [w["webhook_id"] for w in listed["webhooks"]] == [webhook["webhook_id"]]
    assert (
        session.post(f"{sandbox.aircall_url}/webhooks", json={"url": "ftp://x"}, timeout=10).status_code
        == 400
    )
    assert (
        session.delete(f"{sandbox.aircall_url}/webhooks/{webhook['webhook_id']}", timeout=10).status_code
        == 204
    )
    assert session.get(f"{sandbox.aircall_url}/webhooks", timeout=10).json()["webhooks"] == []


def test_answered_calls_carry_the_agents_note_as_a_comment(
    session: requests.Session, sandbox: Sandbox
) -> None:
    calls = session.get(f"{sandbox.aircall_url}/calls", params={"per_page": 50}, timeout=10).json()["calls"]
    commented = [c for c in calls if c["comments"]]
    assert commented and all(c["answered_at"] for c in commented)  # only answered calls have a note
    assert not [c for c in calls if c["comments"] and not c["answered_at"]]
    for call in commented:
        (comment,) = call["comments"]
        note = sandbox.world.call(call["id"] - 900_000).note
        assert note is not None and comment["content"] == note.message
        assert comment["posted_at"] > call["ended_at"]
        assert problems("aircall", "call_comments", comment) == []
