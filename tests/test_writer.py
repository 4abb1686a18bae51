"""Write-back into the sandbox's HubSpot: idempotent properties and schema, diffed pushes, 207 partial
failures, dry runs, wrong types, portals without custom objects."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from adapters.governor import RateGovernor
from adapters.http import RetryPolicy
from adapters.hubspot_api import OWN_WRITE_PROPERTY, HubSpotApi
from connector.errors import WriteBackError
from connector.kpis import compute
from connector.periods import Grain, split_periods
from connector.sandbox import Sandbox
from connector.schema import Call, Ticket
from connector.settings import Settings
from connector.store import Store
from connector.writer.hubspot import HubSpotWriter
from connector.writer.properties import CONTACT_PROPERTIES, TICKET_PROPERTIES, record_values
from tests.sync_helpers import sandbox_settings, sync

END = datetime(2026, 11, 1, tzinfo=UTC)
NOW = END + timedelta(days=3)
OPEN = {"hubspot_requests_per_10s": 100_000, "aircall_requests_per_minute": 1_000_000,
        "liveagent_requests_per_minute": 1_000_000}  # fmt: skip


def prepare(sandbox: Sandbox, store: Store, monkeypatch: pytest.MonkeyPatch, **extra: str) -> Settings:
    settings = sandbox_settings(sandbox, monkeypatch, **extra)
    for vendor in ("hubspot", "aircall"):
        assert sync(settings, store, vendor, now=NOW).ok
    periods = split_periods(date(2026, 9, 1), date(2026, 11, 1), Grain.MONTH, settings.zone)
    results = compute(store, settings, periods, cuts=("overall", "channel"), now=NOW)
    with store.transaction() as connection:
        store.save_kpi_results(connection, results)
    return settings


def push(settings: Settings, store: Store, *, dry_run: bool = False, lines: list[str] | None = None) -> Any:
    writer = HubSpotWriter(settings, store, dry_run=dry_run, echo=(lines if lines is not None else []).append)
    return writer.push(record_values(store, settings, now=NOW), store.kpi_results())


def writes(sandbox: Sandbox, since: int = 0, kind: str = "") -> list[tuple[str, str, Any]]:
    return [w for w in sandbox.hubspot.writes[since:] if kind in w[1]]


@pytest.fixture
def file_store(tmp_path: Any) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'writer.db'}")
    yield opened
    opened.close()


def test_first_push_creates_and_writes_a_second_push_writes_nothing(
    file_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Sandbox(seed=21, size=200, **OPEN) as sandbox:  # type: ignore[arg-type]
        settings = prepare(sandbox, file_store, monkeypatch)
        first = push(settings, file_store)
        assert first.ok, first.failed
        registry = sandbox.hubspot.properties
        assert (
            "helpdesk_kpis" in registry.groups["tickets"] and "helpdesk_kpis" in registry.groups["contacts"]
        )
        assert {p.name for p in TICKET_PROPERTIES} <= set(registry.properties["tickets"])
        assert {p.name for p in CONTACT_PROPERTIES} <= set(registry.properties["contacts"])
        assert first.updates["tickets"] == sandbox.world.size
        assert first.snapshots == len(file_store.kpi_results()) > 0
        updates = writes(sandbox, kind="/batch/update")
        assert all(len(body["inputs"]) <= 100 for _, _, body in updates)

        before = len(sandbox.hubspot.writes)
        # the same figures computed again: the same snapshot keys, nothing to send
        periods = split_periods(date(2026, 9, 1), date(2026, 11, 1), Grain.MONTH, settings.zone)
        again = compute(file_store, settings, periods, cuts=("overall", "channel"), now=NOW)
        assert {r.snapshot_key for r in again} == {r["snapshot_key"] for r in file_store.kpi_results()}
        second = push(settings, file_store)
        assert second.ok and second.updates == {} and second.snapshots == 0
        assert not second.properties_created and not second.groups_created and not second.schema_created
        assert writes(sandbox, before) == []  # no create, update or upsert call at all
        # the snapshot object is addressed by objectTypeId, found by listing the schemas: never by its bare
        # name (which a real portal answers with 404, and a create after it with 409)
        upserts = [path for _, path, _ in writes(sandbox, kind="/batch/upsert")]
        assert upserts and all(path.startswith("/crm/v3/objects/2-") for path in upserts)
        asked = [path for _, path in sandbox.hubspot.requests]
        assert not [p for p in asked if "helpdesk_kpi_snapshot" in p]
        assert sum(p.startswith("/crm-object-schemas/v3/schemas?") or p == "/crm-object-schemas/v3/schemas"
                   for p in asked) >= 2  # fmt: skip
        assert [m for m, p, _ in sandbox.hubspot.writes if p.startswith("/crm-object-schemas")] == ["POST"]


def test_values_reach_hubspot_records_including_calls_from_aircall(
    file_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Sandbox(seed=22, size=200, **OPEN) as sandbox:  # type: ignore[arg-type]
        settings = prepare(sandbox, file_store, monkeypatch)
        assert push(settings, file_store).ok
        tickets = sandbox.hubspot.kinds["tickets"]
        ticket = next(
            t for t in file_store.records(Ticket) if t.source == "hubspot" and t.first_agent_reply_at
        )
        index = tickets.index_of(ticket.source_id)
        assert index is not None
        stored = tickets.record(index).properties
        expected = (ticket.first_agent_reply_at - ticket.created_at).total_seconds()  # type: ignore[operator]
        assert float(stored["helpdesk_frt_calendar_seconds"] or "nan") == pytest.approx(expected, abs=0.01)
        assert float(stored["helpdesk_frt_business_seconds"] or "0") <= expected

        recent = [
            c
            for c in file_store.records(Call)
            if c.source == "aircall" and c.started_at >= NOW - timedelta(days=90) and c.direction == "inbound"
        ]
        assert recent
        caller = next(c for c in recent if c.contact_id)
        identity = file_store.identity_of("contact", caller.contact_id)  # type: ignore[arg-type]
        hubspot_ids = [
            r for r in file_store.linked_records("contact", identity or "") if r.startswith("hubspot:")
        ]
        assert hubspot_ids
        contacts = sandbox.hubspot.kinds["contacts"]
        pushed = contacts.record(contacts.index_of(hubspot_ids[0].split(":")[1]) or 0).properties
        expected_calls = sum(
            1 for c in recent if c.contact_id and file_store.identity_of("contact", c.contact_id) == identity
        )
        assert int(pushed["helpdesk_calls_90d"] or 0) >= expected_calls  # Aircall's (and HubSpot's) calls


def test_a_207_retries_only_the_failed_inputs(file_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    faults = "hubspot:/crm/v3/objects/tickets/batch/update=partial(0.25)#1,0"
    with Sandbox(seed=23, size=120, faults=faults, **OPEN) as sandbox:  # type: ignore[arg-type]
        settings = prepare(sandbox, file_store, monkeypatch)
        report = push(settings, file_store)
        assert report.ok, report.failed
        updates = [body for _, path, body in writes(sandbox, kind="tickets/batch/update")]
        assert len(updates[0]["inputs"]) == 100
        retried = {i["id"] for i in updates[1]["inputs"]}
        assert retried == {updates[0]["inputs"][n]["id"] for n in range(0, 100, 4)}  # only those that failed
        assert report.updates["tickets"] == 120


def test_inputs_that_keep_failing_are_reported_and_the_rest_recorded(
    file_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = "hubspot:/crm/v3/objects/tickets/batch/update=partial(0.5)"
    with Sandbox(seed=24, size=40, faults=faults, **OPEN) as sandbox:  # type: ignore[arg-type]
        settings = prepare(sandbox, file_store, monkeypatch)
        report = push(settings, file_store)
        assert not report.ok
        assert report.failed and all(line.startswith("tickets ") for line in report.failed)
        written = report.updates["tickets"]
        assert written + len(report.failed) == 40
        again = push(settings, file_store)  # only the failed ones are still different from what was pushed
        sent = sum(len(body["inputs"]) for _, _, body in writes(sandbox, kind="tickets/batch/update")[-2:])
        assert again.updates.get("tickets", 0) + len(again.failed) <= len(report.failed) <= sent


def test_a_dry_run_prints_the_writes_and_writes_nothing(
    file_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Sandbox(seed=25, size=60, **OPEN) as sandbox:  # type: ignore[arg-type]
        settings = prepare(sandbox, file_store, monkeypatch)
        lines: list[str] = []
        report = push(settings, file_store, dry_run=True, lines=lines)
        assert report.updates["tickets"] == 60 and report.snapshots > 0
        assert any(
            line.startswith("[dry run] create property group helpdesk_kpis on tickets") for line in lines
        )
        assert any(line.startswith("[dry run] update tickets ") for line in lines)
        snapshot_lines = [
            line for line in lines if line.startswith("[dry run] upsert helpdesk_kpi_snapshot ")
        ]
        assert len(snapshot_lines) == report.snapshots  # every record it would write, with its values
        assert "value=" in snapshot_lines[0] and "period_start=" in snapshot_lines[0]
        assert writes(sandbox) == []
        assert "helpdesk_kpis" not in sandbox.hubspot.properties.groups["tickets"]
        real = push(settings, file_store)  # the dry run recorded nothing as pushed
        assert real.updates["tickets"] == 60


def test_a_property_of_another_type_stops_the_push_and_is_not_overwritten(
    file_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hubspot import HubSpot
    from hubspot.crm.properties import PropertyCreate

    with Sandbox(seed=26, size=30, **OPEN) as sandbox:  # type: ignore[arg-type]
        settings = prepare(sandbox, file_store, monkeypatch)
        client = HubSpot(access_token=sandbox.hubspot_token, host=sandbox.hubspot_url)
        client.crm.properties.core_api.create(
            "tickets",
            PropertyCreate(name="helpdesk_escalated", label="Escalated", type="string", field_type="text",
                           group_name="ticketinformation"),
        )  # fmt: skip
        before = len(sandbox.hubspot.writes)
        with pytest.raises(WriteBackError, match=r"tickets\.helpdesk_escalated is string, expected bool"):
            push(settings, file_store)
        assert [w for w in writes(sandbox, before) if "batch/update" in w[1] or "batch/create" in w[1]] == []
        assert sandbox.hubspot.properties.properties["tickets"]["helpdesk_escalated"]["type"] == "string"


def test_a_portal_without_custom_objects_gets_properties_and_a_note(
    file_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Sandbox(seed=27, size=50, hubspot_custom_objects=False, **OPEN) as sandbox:  # type: ignore[arg-type]
        settings = prepare(sandbox, file_store, monkeypatch)
        report = push(settings, file_store)
        assert report.ok
        assert report.snapshot_note is not None and "no custom objects" in report.snapshot_note
        assert report.updates["tickets"] == 50
        assert any("no custom objects" in line for line in report.lines())


def _written(sandbox: Sandbox) -> dict[str, dict[str, dict[str, str | None]]]:
    """What the connector has written into the sandbox's HubSpot: the helpdesk_* properties of every
    ticket and contact (but the write id, which names the write that set them), and every KPI snapshot
    record by its key."""
    state: dict[str, dict[str, dict[str, str | None]]] = {}
    for name in ("tickets", "contacts"):
        kind = sandbox.hubspot.kinds[name]
        rows = {}
        for index in range(kind.count):
            props = {
                k: v
                for k, v in kind.record(index).properties.items()
                if k.startswith("helpdesk_") and k != OWN_WRITE_PROPERTY
            }
            if props:
                rows[kind.object_id(index)] = props
        state[name] = rows
    snapshots = [s for s in sandbox.hubspot.schemas.schemas.values() if s["name"] == "helpdesk_kpi_snapshot"]
    snapshot_kind = sandbox.hubspot.kinds[snapshots[0]["objectTypeId"]] if snapshots else None
    state["snapshots"] = {
        str(props.get("snapshot_key")): props
        for props in (snapshot_kind.record(i).properties for i in range(snapshot_kind.count))
    } if snapshot_kind is not None else {}  # fmt: skip
    state["snapshots"] = {  # HubSpot's own bookkeeping (ids, create/modify times) is no write of ours
        key: {k: v for k, v in props.items() if not k.startswith("hs_")}
        for key, props in state["snapshots"].items()
    }
    return state


WRITE_FAULTS = {
    "207 partial": "hubspot:/crm/v3/objects=partial(0.3)",
    "5xx": "hubspot:/crm/v3/objects=503@0.3",
    "mix": "hubspot:/crm/v3/objects=partial(0.2); hubspot:/crm/v3/objects=503@0.15; hubspot:/crm-object-schemas=503@0.3",
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(WRITE_FAULTS))
def test_writes_under_faults_then_a_clean_rerun_equal_a_fault_free_push(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """`push` into a HubSpot that answers 207 partial failures and 5xx, then once more when it is healthy,
    leaves HubSpot as a fault-free push does: every property value and every snapshot, none twice."""
    states = []
    for faulty in (True, False):
        store = Store.open(f"sqlite:///{tmp_path / f'{kind}-{faulty}.db'}")
        with Sandbox(seed=25, size=150, faults=WRITE_FAULTS[kind] if faulty else "", **OPEN) as sandbox:  # type: ignore[arg-type]
            rules, sandbox.faults["hubspot"].rules = sandbox.faults["hubspot"].rules, []
            settings = prepare(sandbox, store, monkeypatch)  # the reads are not under trial here
            sandbox.faults["hubspot"].rules = rules
            api = HubSpotApi(
                sandbox.hubspot_url, sandbox.hubspot_token, RateGovernor.for_vendor("hubspot", limit=100_000, interval=10.0),
                retry=RetryPolicy(attempts=3, initial_wait=0, max_wait=0), sleep=lambda seconds: None,
            )  # fmt: skip
            first = HubSpotWriter(settings, store, api=api, echo=lambda line: None).push(
                record_values(store, settings, now=NOW), store.kpi_results()
            )
            assert first.ok or faulty, first.failed
            if faulty:
                assert sandbox.faults["hubspot"].fired
                sandbox.faults["hubspot"].rules = []
                again = HubSpotWriter(settings, store, api=api, echo=lambda line: None).push(
                    record_values(store, settings, now=NOW), store.kpi_results()
                )
                assert again.ok, again.failed
            states.append(_written(sandbox))
        store.close()
    assert states[0]["tickets"] and states[0]["snapshots"]
    for part in states[0]:
        a, b = states[0][part], states[1][part]
        assert set(a) == set(b), (part, sorted(set(a) ^ set(b))[:5])
        differing = [
            (
                key,
                {
                    k: (a[key].get(k), b[key].get(k))
                    for k in set(a[key]) | set(b[key])
                    if a[key].get(k) != b[key].get(k)
                },
            )
            for key in a
            if a[key] != b[key]
        ]
        assert differing == [], (part, differing[:3])


def test_a_contacts_last_nps_is_the_last_answer_nps_counts_in_its_groups(file_store: Store) -> None:
    """The contact's `helpdesk_last_nps_*` come from K15's definition (`connector.kpis.feedback`): only
    answers on the 0–10 scale count, and the groups are K15's (promoter 9–10, detractor 0–6, passive in
    between — a 6.5 is passive, not a detractor). A later answer on another scale is not an NPS answer."""
    from connector.schema import Contact, SurveyResponse

    def answer(contact: Contact, score: float, days_ago: int, high: int = 10) -> SurveyResponse:
        return SurveyResponse(
            source="hubspot",
            source_id=f"{contact.source_id}-{days_ago}",
            kind="nps",
            score=score,
            scale_min=0 if high == 10 else 1,
            scale_max=high,
            submitted_at=NOW - timedelta(days=days_ago),
            contact_id=contact.id,
        )

    first, second = (Contact(source="hubspot", source_id=n) for n in ("1", "2"))
    with file_store.transaction() as tx:
        file_store.upsert(
            tx, [first, second, answer(first, 9, 5), answer(first, 5, 1, high=5), answer(second, 6.5, 2)]
        )
    settings = Settings(database_url=str(file_store.engine.url))
    contacts = record_values(file_store, settings, now=NOW)["contacts"]
    assert (contacts["1"]["helpdesk_last_nps_score"], contacts["1"]["helpdesk_last_nps_category"]) == (
        "9",
        "promoter",
    )
    assert contacts["2"]["helpdesk_last_nps_category"] == "passive"


def test_each_tickets_topic_reaches_hubspot_and_is_written_again_only_when_it_changes(
    file_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("sklearn")
    from connector.topics.store import discover_and_store
    from tests.kpi_helpers import store_topics

    with Sandbox(seed=23, size=200, **OPEN) as sandbox:  # type: ignore[arg-type]
        settings = prepare(sandbox, file_store, monkeypatch)
        discover_and_store(settings, file_store, now=NOW)
        ids = [t.id for t in file_store.records(Ticket) if t.source == "hubspot"]
        labels = file_store.topics_of(ids)
        assert len(labels) > len(ids) / 2
        assert push(settings, file_store).ok
        tickets = sandbox.hubspot.kinds["tickets"]

        def on_hubspot(ticket_id: str) -> str | None:
            index = tickets.index_of(ticket_id.split(":", 1)[1])
            assert index is not None
            return tickets.record(index).properties.get("helpdesk_topic")

        assert all(on_hubspot(i) == labels.get(i) for i in ids)
        # the same topics again: nothing written; one ticket's topic changed: that ticket alone
        discover_and_store(settings, file_store, now=NOW)
        assert push(settings, file_store).updates == {}
        moved = next(iter(labels))
        store_topics(file_store, {**labels, moved: "something / else"})
        before = len(sandbox.hubspot.writes)
        assert push(settings, file_store).updates == {"tickets": 1}
        sent = [
            (i["id"], {k: v for k, v in i["properties"].items() if k != OWN_WRITE_PROPERTY})
            for _, _, body in writes(sandbox, before, "/batch/update")
            for i in body["inputs"]
        ]
        assert sent == [(moved.split(":", 1)[1], {"helpdesk_topic": "something / else"})]
        assert on_hubspot(moved) == "something / else"
