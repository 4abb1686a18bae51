"""The sandbox's LiveAgent API v3 through a `requests` session: the `apikey` header, the keys and codes of
the provenance table (`tests/contracts/liveagent.json`), `_filters` on `date_changed` and `dateCreated`,
page and cursor paging, and LiveAgent's `YYYY-MM-DD HH:MM:SS` timestamps."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests

from connector.sandbox import Sandbox
from tests.contract_tables import problems
from tests.sync_helpers import module_sandbox

LA_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


sandbox = module_sandbox(seed=5, size=600, liveagent_requests_per_minute=100_000)


@pytest.fixture
def session(sandbox: Sandbox) -> requests.Session:
    session = requests.Session()
    session.headers["apikey"] = sandbox.liveagent_api_key
    return session


def test_tickets_carry_notes_fields_codes_and_time_format(
    session: requests.Session, sandbox: Sandbox
) -> None:
    tickets = session.get(f"{sandbox.liveagent_url}/tickets", params={"_perPage": 1000}, timeout=10).json()
    assert len(tickets) == sandbox.world.conversation_count
    for ticket in tickets:
        assert problems("liveagent", "ticket", ticket) == []
        assert LA_TIME.match(ticket["date_created"]) and LA_TIME.match(ticket["date_changed"])


def test_filters_on_date_changed_and_paging(session: requests.Session, sandbox: Sandbox) -> None:
    everything = session.get(f"{sandbox.liveagent_url}/tickets", params={"_perPage": 1000}, timeout=10).json()
    middle = sorted(t["date_changed"] for t in everything)[150]
    filters = json.dumps([["date_changed", "D>=", middle]])
    paged: list[dict[str, Any]] = []
    page = 1
    while True:
        batch = session.get(
            f"{sandbox.liveagent_url}/tickets",
            params={"_filters": filters, "_perPage": "40", "_page": str(page), "_sortField": "date_changed"},
            timeout=10,
        ).json()
        if not batch:
            break
        paged += batch
        page += 1
    assert len(paged) == sum(1 for t in everything if t["date_changed"] >= middle)
    assert [t["date_changed"] for t in paged] == sorted(t["date_changed"] for t in paged)


def test_messages_sla_and_history_of_a_ticket(session: requests.Session, sandbox: Sandbox) -> None:
    ticket = session.get(f"{sandbox.liveagent_url}/tickets", params={"_perPage": 1}, timeout=10).json()[0]
    url = f"{sandbox.liveagent_url}/tickets/{ticket['id']}/messages"
    groups = session.get(url, params={"_perPage": 500}, timeout=10).json()
    assert groups and all(problems("liveagent", "message_group", g) == [] for g in groups)
    assert [g["datecreated"] for g in groups] == sorted(g["datecreated"] for g in groups)
    first_two = session.get(url, params={"_perPage": 2}, timeout=10).json()
    default = session.get(url, timeout=10).json()
    assert first_two == groups[:2] and default == groups[:10]  # paged; 10 groups unless asked
    sla = session.get(f"{sandbox.liveagent_url}/tickets/{ticket['id']}/sla", timeout=10).json()
    assert problems("liveagent", "ticket_sla", sla) == [] and sla["conversationid"] == ticket["id"]
    history = session.get(f"{sandbox.liveagent_url}/tickets/{ticket['id']}/history", timeout=10).json()
    assert history and {row["conversation_id"] for row in history} == {ticket["id"]}
    missing = session.get(f"{sandbox.liveagent_url}/tickets/nope/sla", timeout=10)
    assert missing.status_code == 404


@pytest.mark.parametrize("path", ["tickets/history", "calls"])
def test_cursor_paging_reaches_every_row_once(session: requests.Session, sandbox: Sandbox, path: str) -> None:
    rows, cursor, pages = [], None, 0
    while True:
        params = {"_perPage": 50} | ({"_cursor": cursor} if cursor else {})
        response = session.get(f"{sandbox.liveagent_url}/{path}", params=params, timeout=10)
        rows += response.json()
        pages += 1
        cursor = response.headers.get("next_page_cursor")
        if not cursor:
            break
    keys = [json.dumps(r, sort_keys=True) for r in rows]
    assert len(keys) == len(set(keys)) and pages > 1
    if path == "tickets/history":
        assert all(problems("liveagent", "ticket_history", row) == [] for row in rows)
        assert len({r["conversation_id"] for r in rows}) == sandbox.world.conversation_count
    else:
        assert all(problems("liveagent", "call", row) == [] for row in rows)
        assert len(rows) == (sandbox.world.call_count + 3) // 4


def test_agents_share_emails_with_the_other_vendors(session: requests.Session, sandbox: Sandbox) -> None:
    agents = session.get(f"{sandbox.liveagent_url}/agents", params={"_perPage": 100}, timeout=10).json()
    assert {a["email"] for a in agents} == {
        sandbox.world.agent(i).email for i in range(sandbox.world.agent_count)
    }
    assert session.get(f"{sandbox.liveagent_url}/departments", timeout=10).json()
    assert session.get(f"{sandbox.liveagent_url}/tags", timeout=10).json()
    assert session.get(f"{sandbox.liveagent_url}/contacts", timeout=10).json()


def test_wrong_api_key_is_401(sandbox: Sandbox) -> None:
    response = requests.get(f"{sandbox.liveagent_url}/tickets", headers={"apikey": "wrong"}, timeout=10)
    assert response.status_code == 401 and response.json()["message"] == "Invalid API key"


def test_reopened_conversations_show_in_messages_and_sla(session: requests.Session, sandbox: Sandbox) -> None:
    world = sandbox.world
    reopened = next(
        i
        for i in range(world.conversation_count)
        if world.conversation(i).first_resolved_at != world.conversation(i).resolved_at
    )
    ticket_id = f"la{reopened:07x}"
    sla = session.get(f"{sandbox.liveagent_url}/tickets/{ticket_id}/sla", timeout=10).json()
    ticket = session.get(f"{sandbox.liveagent_url}/tickets/{ticket_id}", timeout=10).json()
    assert sla["first_resolve"] < ticket["date_resolved"]
    groups = session.get(
        f"{sandbox.liveagent_url}/tickets/{ticket_id}/messages", params={"_perPage": 500}, timeout=10
    ).json()
    types = [g["type"] for g in groups]
    assert types.count("R") == 2  # two resolve groups: resolved, reopened, resolved again


def test_rate_limited_answers_carry_retry_after() -> None:
    with Sandbox(seed=1, size=5, liveagent_requests_per_minute=1) as small:
        headers = {"apikey": small.liveagent_api_key}
        assert requests.get(f"{small.liveagent_url}/tags", headers=headers, timeout=10).status_code == 200
        limited = requests.get(f"{small.liveagent_url}/tags", headers=headers, timeout=10)
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1


def test_calls_by_date_created_windows(session: requests.Session, sandbox: Sandbox) -> None:
    url = f"{sandbox.liveagent_url}/calls"
    everything = session.get(url, params={"_perPage": 1000}, timeout=10).json()
    low, high = everything[10]["dateCreated"], everything[60]["dateCreated"]
    operator_pairs: list[tuple[str, str]] = [
        ("D>=", "D<"),
        (">=", "<="),
    ]  # NOTES' date operators and Keboola's
    for operators in operator_pairs:
        filters = json.dumps([["dateCreated", operators[0], low], ["dateCreated", operators[1], high]])
        window = session.get(url, params={"_filters": filters, "_perPage": "1000"}, timeout=10).json()
        expected = [
            c
            for c in everything
            if low <= c["dateCreated"] and (c["dateCreated"] < high or operators[1] == "<=")
        ]
        expected = [c for c in expected if c["dateCreated"] <= high]
        assert window == expected and window
    bad = session.get(url, params={"_filters": json.dumps([["date_created", "D>=", low]])}, timeout=10)
    assert bad.status_code == 400  # the snake_case column is not LiveAgent's


def test_departments_hold_their_agents_and_agents_carry_no_departments(
    session: requests.Session, sandbox: Sandbox
) -> None:
    agents = session.get(f"{sandbox.liveagent_url}/agents", params={"_perPage": 100}, timeout=10).json()
    departments = session.get(f"{sandbox.liveagent_url}/departments", timeout=10).json()
    assert all("departments" not in a for a in agents)
    members = {agent for d in departments for agent in d["agent_ids"]}
    assert members == {a["id"] for a in agents}
    assert all(d["agent_count"] == len(d["agent_ids"]) for d in departments)
