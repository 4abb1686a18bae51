"""Contract tests: the sandbox and the adapters speak the vendors' contracts as the provenance tables in
`tests/contracts/` record them with their sources (the vendors' generated clients and docs, Keboola's and
Airbyte's connectors, NOTES.md). A key, parameter or code that is not in a table fails here, so a guess
cannot hide behind a sandbox that learnt the same guess."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connector.sandbox import Sandbox
from connector.store import Store
from tests.contract_tables import all_keys, keys_read_by, problems, table
from tests.sync_helpers import module_sandbox, sandbox_settings, sync

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


sandbox = module_sandbox(seed=11, size=400, liveagent_requests_per_minute=1_000_000)


# --- LiveAgent -------------------------------------------------------------------------------------


def _liveagent_payloads(sandbox: Sandbox) -> dict[str, list[dict[str, Any]]]:
    """One or more payloads of every object the LiveAgent sandbox serves, fetched over HTTP."""
    session = requests.Session()
    session.headers["apikey"] = sandbox.liveagent_api_key
    base = sandbox.liveagent_url

    def get(path: str, **params: Any) -> Any:
        response = session.get(f"{base}{path}", params=params, timeout=10)
        assert response.status_code == 200, (path, response.text)
        return response.json()

    tickets = get("/tickets", _perPage=1000)
    sample = [t["id"] for t in tickets[:40]]
    return {
        "ticket": [*tickets, get(f"/tickets/{sample[0]}")],
        "message_group": [g for t in sample for g in get(f"/tickets/{t}/messages", _perPage=500)],
        "ticket_sla": [get(f"/tickets/{t}/sla") for t in sample],
        "ticket_history": get("/tickets/history", _perPage=500)
        + [row for t in sample for row in get(f"/tickets/{t}/history")],
        "call": get("/calls", _perPage=500),
        "agent": get("/agents", _perPage=500),
        "department": get("/departments"),
        "contact": get("/contacts", _perPage=500),
        "tag": get("/tags"),
        "error": [requests.get(f"{base}/tickets", headers={"apikey": "wrong"}, timeout=10).json()],
    }


def _served_keys(vendor: str, payloads: dict[str, list[dict[str, Any]]]) -> set[str]:
    keys: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            keys.update(value)
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(payloads)
    return keys - set(payloads)


def test_liveagent_sandbox_serves_only_keys_types_and_codes_of_the_table(sandbox: Sandbox) -> None:
    payloads = _liveagent_payloads(sandbox)
    found = [p for obj, items in payloads.items() for item in items for p in problems("liveagent", obj, item)]
    assert found == []
    kinds = {g["type"] for g in payloads["message_group"]}
    assert {"S", "T", "R", "I", "G"} <= kinds, "conversations render their events, not only replies"


def test_liveagent_every_key_the_adapter_reads_is_in_the_table_and_served(sandbox: Sandbox) -> None:
    read = keys_read_by("adapters/liveagent.py")
    assert read - all_keys("liveagent") == set()
    assert read - _served_keys("liveagent", _liveagent_payloads(sandbox)) == set()
    assert {"ticketId", "dateCreated", "dateAnswered", "dateFinished", "agent_ids"} <= read


def _request_problems(vendor: str, requests_made: list[tuple[str, str]]) -> list[str]:
    """Requests whose endpoint, parameter, filter column or operator the vendor's table does not list."""
    contract = table(vendor)
    templates = [
        (spec, re.compile("^" + re.sub(r"\\{\w+\\}", "[^/]+", re.escape(path.split(" ", 1)[1])) + "/?$"))
        for path, spec in sorted(contract["endpoints"].items(), key=lambda item: item[0].count("{"))
    ]  # literal paths first: /tickets/history is not /tickets/{ticketId}
    found = []
    for method, full_path in requests_made:
        parts = urlsplit(full_path)
        path = parts.path  # the emulators log paths below their mount point (/api/v3, /v1)
        spec = next((s for s, pattern in templates if method == "GET" and pattern.match(path)), None)
        if spec is None:
            found.append(f"{method} {path}: no such endpoint in the table")
            continue
        params = parse_qs(parts.query)
        for name in set(params) - set(spec["params"]):
            found.append(f"{method} {path}: parameter {name} is not in the table for this endpoint")
        for value in params.get("_filters", []):  # LiveAgent's
            for column, operator, _ in json.loads(value):
                if column not in contract["filters"]["columns"]:
                    found.append(f"{path}: filter column {column} is not in the table")
                if operator not in contract["filters"]["operators"]:
                    found.append(f"{path}: filter operator {operator} is not in the table")
    return found


def test_liveagent_sync_asks_only_for_endpoints_and_parameters_of_the_table(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = sandbox_settings(sandbox, monkeypatch)
    store = Store.open("sqlite://")
    sandbox.liveagent.requests.clear()
    sync(settings, store, "liveagent", now=NOW)
    sandbox.liveagent.change(3, NOW.replace(hour=13), subject="changed")
    sync(settings, store, "liveagent", now=NOW.replace(hour=18))  # incremental: per-ticket history
    assert any(
        "/history" in path and "/tickets/history" not in path for _, path in sandbox.liveagent.requests
    )
    assert _request_problems("liveagent", sandbox.liveagent.requests) == []


OLD_CALL = {
    "id": "la-call-0", "ticket_id": "la0000000", "type": "I", "from_number": "+31600000001",
    "to_number": "+31200000000", "date_created": "2026-01-01 09:00:00", "date_answered": None,
    "date_finished": "2026-01-01 09:01:00", "call_duration": 0,
}  # fmt: skip
"""What the sandbox served before 2026-12-03: snake_case keys LiveAgent's /calls does not have."""


@pytest.mark.parametrize(
    ("obj", "payload", "why"),
    [
        ("call", OLD_CALL, "'ticket_id' is not in"),
        ("agent", {"id": "ag1", "name": "A", "email": "a@x", "departments": ["dep000"]}, "'departments'"),
        ("message_group", {"id": "g", "type": "?", "messages": []}, "code '?'"),
        ("call", {"id": "c", "callDuration": 13}, "is not of type string"),
        ("ticket", {"id": "t", "date_created": "2026-01-01T09:00:00Z"}, "is not of type timestamp"),
    ],
)
def test_the_old_or_guessed_shapes_fail_the_contract(obj: str, payload: dict[str, Any], why: str) -> None:
    assert any(why in p for p in problems("liveagent", obj, payload))


# --- Aircall ---------------------------------------------------------------------------------------


def _aircall_bodies(sandbox: Sandbox) -> list[dict[str, Any]]:
    session = requests.Session()
    session.auth = (sandbox.aircall_api_id, sandbox.aircall_api_token)
    bodies = [
        session.get(f"{sandbox.aircall_url}/{kind}", params={"per_page": 50}, timeout=10).json()
        for kind in ("calls", "users", "teams", "contacts")
    ]
    first = bodies[0]["calls"][0]["id"]
    hook = {
        "custom_name": "helpdesk-kpi",
        "url": "https://hooks.example.com/webhooks/aircall",
        "events": ["call.ended"],
    }
    created = session.post(f"{sandbox.aircall_url}/webhooks", json=hook, timeout=10).json()
    listed = session.get(f"{sandbox.aircall_url}/webhooks", timeout=10).json()
    return [*bodies, session.get(f"{sandbox.aircall_url}/calls/{first}", timeout=10).json(), created, listed]


def test_aircall_sandbox_and_adapter_keep_to_the_table(sandbox: Sandbox) -> None:
    bodies = _aircall_bodies(sandbox)
    assert [p for body in bodies for p in problems("aircall", "envelope", body)] == []
    read = keys_read_by("adapters/aircall.py") | keys_read_by("adapters/paging.py") - {
        "paging",
        "next",
        "after",
    }
    assert read - all_keys("aircall") == set()
    served: set[str] = set()
    for body in bodies:
        served |= _served_keys("aircall", {"body": [body]})
    assert read - served == set()
    assert {"raw_digits", "teams"} <= read


def test_aircall_sync_asks_only_for_endpoints_and_parameters_of_the_table(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = sandbox_settings(sandbox, monkeypatch)
    sandbox.aircall.requests.clear()
    sandbox.now = NOW
    report = sync(settings, Store.open("sqlite://"), "aircall", now=NOW)
    assert report.ok, report.failures
    assert _request_problems("aircall", sandbox.aircall.requests) == []
    assert any(path.startswith("/calls?") for _, path in sandbox.aircall.requests)


# --- HubSpot ---------------------------------------------------------------------------------------


def test_hubspot_properties_read_and_served_are_in_the_table(sandbox: Sandbox) -> None:
    """Every property the mapping reads (`p.get(...)`, `properties.get(...)`) and every property the
    adapter asks for is listed for its object; every property the sandbox serves is too, with its codes."""
    from adapters.hubspot import SPECS

    for name, spec in SPECS.items():
        declared = set(table("hubspot")["objects"][name]["keys"])
        assert set(spec.required + spec.optional) - declared == set(), name
        record = sandbox.hubspot.kinds[name].record(0)
        served = {k: v for k, v in record.properties.items()}
        assert problems("hubspot", name, served) == [], name
    read = keys_read_by("adapters/hubspot_mapping.py", receivers=("p", "properties"))
    assert read - all_keys("hubspot") == set()
    assert {"hs_pipeline_stage", "time_to_first_agent_reply", "hs_survey_type", "hs_call_duration"} <= read


def test_hubspot_served_codes_are_the_tables_across_the_world(sandbox: Sandbox) -> None:
    for name in ("tickets", "calls", "contacts", "feedback_submissions", "deals"):
        kind = sandbox.hubspot.kinds[name]
        found = [
            p
            for i in range(min(kind.count, 200))
            for p in problems("hubspot", name, kind.record(i).properties)
        ]
        assert found == [], name


# --- the tables themselves -------------------------------------------------------------------------


@pytest.mark.parametrize("vendor", ["liveagent", "aircall", "hubspot"])
def test_every_table_entry_names_a_source_or_says_it_is_assumed(vendor: str) -> None:
    contract = table(vendor)
    for obj, spec in contract["objects"].items():
        assert spec.get("source") or spec.get("assumed"), f"{vendor} object {obj} has no source"
        for key, value in spec["keys"].items():
            if isinstance(value, dict):
                assert value.get("source") or (value.get("assumed") and value.get("why")), f"{obj}.{key}"
    for name, codes in contract.get("codes", {}).items():
        assert codes.get("source") or (codes.get("assumed") and codes.get("why")), name
    for path, endpoint in contract["endpoints"].items():
        assert endpoint.get("source"), path


def assumed_entries(vendor: str) -> list[str]:
    """Every entry of a table marked assumed: the README's known limits list them all."""
    contract = table(vendor)
    found = []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            if value.get("assumed"):
                found.append(where)
            for key, inner in value.items():
                walk(inner, f"{where}.{key}" if where else key)

    walk(contract, "")
    return found


def test_the_readme_lists_every_assumed_entry() -> None:
    from tests.contract_tables import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for vendor in ("liveagent", "aircall", "hubspot"):
        for entry in assumed_entries(vendor):
            assert f"`{vendor}: {entry}`" in readme, f"README does not list the assumed {vendor}: {entry}"


def test_a_request_outside_the_table_is_named() -> None:
    old_calls = '/calls?_filters=[["date_created","D>=","2026-01-01 00:00:00"]]&_cursor=MA'
    assert _request_problems("liveagent", [("GET", old_calls)]) == [
        "/calls: filter column date_created is not in the table"
    ]
    assert _request_problems("liveagent", [("GET", "/tickets/x/history?_filters=[]")]) == [
        "GET /tickets/x/history: parameter _filters is not in the table for this endpoint"
    ]
    assert _request_problems("aircall", [("GET", "/calls/search?phone_number=1")]) != []
