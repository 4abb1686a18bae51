"""The HubSpot adapter and the sync job against the sandbox's HubSpot, through `hubspot-api-client`.

Each test of a known connector failure (records lost past 10,000 search results, bulk edits sharing one
timestamp, late records in an eventually consistent search) fails when the fix is taken out.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import UTC, datetime, timedelta

import pytest

from connector.sandbox import Sandbox
from connector.schema import Agent, Call, Contact, Purchase, SurveyResponse, Ticket
from connector.store import Store
from tests.sync_helpers import sandbox_settings, stored_counts, stream_records, sync

END = datetime(2026, 11, 1, tzinfo=UTC)
"""The sandbox world's end: its records are modified before it (a few minutes after, at most)."""
LATER = END + timedelta(days=5)
LAG = 3.0
"""Seconds the sandbox's search lags behind writes in the eventual-consistency test."""


def visible_tickets(sandbox: Sandbox, before: datetime) -> int:
    kind = sandbox.hubspot.kinds["tickets"]
    return sum(1 for i in range(kind.count) if kind.listed(i) and kind.record(i).updated_at < before)


def test_full_sync_maps_every_object_and_a_second_run_only_checks_cursors(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Sandbox(seed=5, size=600, hubspot_requests_per_10s=100_000) as sandbox:
        settings = sandbox_settings(sandbox, monkeypatch)
        first = sync(settings, store, "hubspot", now=LATER)
        assert first.ok, first.failures
        world = sandbox.world
        assert stored_counts(store, Ticket, Call, Contact, SurveyResponse, Purchase, Agent) == {
            "Ticket": world.size,
            "Call": world.call_count,
            "Contact": world.customer_count,
            "SurveyResponse": world.survey_count,
            "Purchase": sum(world.deal(i).won for i in range(world.deal_count)),
            "Agent": world.agent_count,
        }

        # one ticket, checked field by field against the world it came from
        w = world.ticket(3)
        t = store.get(Ticket, f"hubspot:{sandbox.hubspot.kinds['tickets'].object_id(3)}")
        assert t is not None
        assert t.created_at == w.created_at.replace(microsecond=w.created_at.microsecond // 1000 * 1000)
        assert t.status == ("closed" if w.is_closed else "open" if w.first_reply_at else "new")
        assert t.channel == w.channel.lower()
        assert t.priority == w.priority.lower()
        assert t.category == w.category.upper().replace("-", "_").lower()
        assert t.agent_id == (f"hubspot:{100 + w.owner_index}" if w.owner_index is not None else None)
        assert t.team == (world.agent(w.owner_index).team if w.owner_index is not None else None)
        contact_index = world.ticket_customer(3)
        assert t.contact_id == f"hubspot:{sandbox.hubspot.kinds['contacts'].object_id(contact_index)}"
        assert t.raw["pipeline_stage_label"] in ("New", "Waiting on contact", "Waiting on us", "Closed")
        if w.first_reply_at:
            assert t.first_agent_reply_at is not None
            assert abs((t.first_agent_reply_at - w.first_reply_at).total_seconds()) < 0.002

        # a call: direction, answered/missed, talk time from milliseconds
        c = world.call(0)
        call = store.get(Call, f"hubspot:{sandbox.hubspot.kinds['calls'].object_id(0)}")
        assert call is not None and call.direction == c.direction
        assert call.status == ("answered" if c.answered_at else "missed")
        if c.answered_at:
            assert call.talk_seconds == pytest.approx((c.ended_at - c.answered_at).total_seconds(), abs=0.002)

        # a contact: lifecycle and acquisition source
        customer = world.customer(2)
        contact = store.get(Contact, f"hubspot:{sandbox.hubspot.kinds['contacts'].object_id(2)}")
        assert contact is not None and contact.email == customer.email
        assert (contact.customer_since is not None) == (customer.customer_since is not None)
        assert (contact.churned_at is not None) == (customer.churned_at is not None)

        before = len(sandbox.hubspot.requests)
        second = sync(settings, store, "hubspot", now=LATER)
        assert second.ok and second.changed() == 0
        calls = sandbox.hubspot.requests[before:]
        searches = [r for r in calls if "/search" in r[1]]
        assert len(searches) == 5  # one empty window per object type
        assert len(calls) <= 14  # plus owners, properties, pipelines: reference data only
        assert not [r for r in calls if "associations" in r[1]]


def test_an_incremental_run_reads_only_the_change(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    with Sandbox(seed=6, size=400, hubspot_requests_per_10s=100_000) as sandbox:
        settings = sandbox_settings(sandbox, monkeypatch)
        sync(settings, store, "hubspot", now=LATER)
        kind = sandbox.hubspot.kinds["tickets"]
        kind.update(
            7,
            {"hs_pipeline_stage": "4", "closed_date": "2026-11-05T10:00:00.000Z"},
            LATER + timedelta(hours=1),
        )
        before = len(sandbox.hubspot.requests)
        report = sync(settings, store, "hubspot", now=LATER + timedelta(hours=2))
        assert stream_records(report, "tickets") == 1
        assert sum(s.counts.total("updated") for s in report.streams if s.stream == "tickets") == 1
        ticket = store.get(Ticket, f"hubspot:{kind.object_id(7)}")
        assert ticket is not None and ticket.status == "closed"
        associations = [r for r in sandbox.hubspot.requests[before:] if "associations" in r[1]]
        assert len(associations) == 1  # the changed ticket's contacts, also in an incremental run


@pytest.mark.slow
def test_more_than_10000_changed_tickets_are_all_read_and_the_search_budget_holds(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HubSpot search stops at 10,000 results per query; a connector that pages one query loses the
    rest. Also the API budget: about N/200 searches and N/100 association batches."""
    store = Store.open("sqlite://")
    with Sandbox(seed=2, size=12_000, hubspot_requests_per_10s=1_000_000) as sandbox:
        settings = sandbox_settings(sandbox, monkeypatch)
        report = sync(settings, store, "hubspot", now=LATER, entities=["ticket"])
        assert report.ok, report.failures
        n = visible_tickets(sandbox, LATER)
        assert n > 10_000
        assert len(store.records(Ticket)) == n
        searches = [s for s in sandbox.hubspot.searches if s[0] == "tickets"]
        associations = [r for r in sandbox.hubspot.requests if "associations" in r[1]]
        assert math.ceil(n / 200) <= len(searches) <= math.ceil(n / 199) + 8  # + probes of halved windows
        assert len(associations) <= math.ceil(n / 100) + len(searches)


def test_a_bulk_edit_sharing_one_timestamp_is_read_whole(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """450 tickets with one hs_lastmodifieddate: more than a search page, so `GTE last` never advances
    and `GT last` skips the rest; the engine reads the tie by object id."""
    with Sandbox(
        seed=4, size=1200, faults="hubspot=bulk_update(450)", hubspot_requests_per_10s=100_000
    ) as sandbox:
        settings = sandbox_settings(sandbox, monkeypatch)
        report = sync(settings, store, "hubspot", now=LATER, entities=["ticket"])
        assert report.ok, report.failures
        assert len(store.records(Ticket)) == visible_tickets(sandbox, LATER)
        tie_queries = [s for s in sandbox.hubspot.searches if "'hs_object_id'" in str(s[1])]
        assert len(tie_queries) == 3  # 450 tied tickets in pages of 200


@pytest.mark.slow
def test_late_records_of_an_eventually_consistent_search_arrive_through_the_overlap(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Sandbox(
        seed=8, size=200, faults=f"hubspot=search_lag({LAG})", hubspot_requests_per_10s=100_000
    ) as sandbox:
        kind = sandbox.hubspot.kinds["tickets"]
        for overlap, expected in (("0", False), ("600", True)):
            settings = sandbox_settings(sandbox, monkeypatch, sync_overlap=overlap)
            store = Store.open("sqlite://")
            sync(settings, store, "hubspot", now=datetime.now(UTC), entities=["ticket"])
            index = 11 if expected else 12
            written = time.monotonic()
            kind.update(index, {"subject": "changed"}, datetime.now(UTC))
            time.sleep(0.01)  # the sync's clock past the write's millisecond (a cursor is inclusive)
            sync(settings, store, "hubspot", now=datetime.now(UTC), entities=["ticket"])
            ticket_id = f"hubspot:{kind.object_id(index)}"
            assert time.monotonic() - written < LAG  # the premise: that sync ran before search saw the write
            assert store.get(Ticket, ticket_id).subject != "changed"  # type: ignore[union-attr]
            time.sleep(max(0.0, LAG + 0.1 - (time.monotonic() - written)))
            sync(settings, store, "hubspot", now=datetime.now(UTC), entities=["ticket"])
            ticket = store.get(Ticket, ticket_id)
            assert ticket is not None
            assert (ticket.subject == "changed") is expected


def test_archived_records_are_marked_and_merged_contacts_fold_into_the_survivor(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Sandbox(
        seed=9,
        size=400,
        faults="hubspot=archived(0.1); hubspot=merged(0.2)",
        hubspot_requests_per_10s=100_000,
    ) as sandbox:
        settings = sandbox_settings(sandbox, monkeypatch)
        assert sync(settings, store, "hubspot", now=LATER).ok
        tickets = sandbox.hubspot.kinds["tickets"]
        archived = {f"hubspot:{tickets.object_id(i)}" for i in range(tickets.count) if tickets.archived(i)}
        assert archived
        assert {t.id for t in store.records(Ticket) if t.archived} == archived
        contacts = sandbox.hubspot.kinds["contacts"]
        merged = next(
            i
            for i in range(contacts.count)
            if contacts.merged_into(i) is not None and not contacts.archived(i - 1)
        )
        survivor = store.identity_of("contact", f"hubspot:{contacts.object_id(merged - 1)}")
        assert survivor is not None
        assert store.identity_of("contact", f"hubspot:{contacts.object_id(merged)}") == survivor

        before = len(sandbox.hubspot.requests)
        sync(settings, store, "hubspot", now=LATER + timedelta(hours=1))
        swept = [r for r in sandbox.hubspot.requests[before:] if "archived=true" in r[1] + str(r)]
        assert not swept  # the sweep runs once a day


def test_a_missing_optional_property_degrades_with_a_warning(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with Sandbox(seed=10, size=100, hubspot_requests_per_10s=100_000) as sandbox:
        del sandbox.hubspot.properties.properties["tickets"]["hs_ticket_category"]
        settings = sandbox_settings(sandbox, monkeypatch)
        with caplog.at_level(logging.WARNING):
            report = sync(settings, store, "hubspot", now=LATER, entities=["ticket"])
        assert report.ok
        assert "no property 'hs_ticket_category'" in caplog.text
        assert all(t.category is None for t in store.records(Ticket))


def test_the_daily_quota_reserve_stops_the_sync_with_cursors_saved(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Sandbox(seed=11, size=3000, hubspot_requests_per_10s=100_000, hubspot_daily_limit=1060) as sandbox:
        settings = sandbox_settings(sandbox, monkeypatch, hubspot__daily_reserve="1000")
        report = sync(settings, store, "hubspot", now=LATER)
        assert not report.ok
        assert "daily" in report.failures["hubspot"] and "Cursors are saved" in report.failures["hubspot"]
        assert sandbox.hubspot.daily_used <= 61
        saved = store.cursor("hubspot", "contacts") or store.cursor("hubspot", "tickets")
        assert saved is not None


@pytest.mark.slow
def test_an_oauth_portal_without_daily_headers_syncs_whole_and_a_search_429_slows_search_only(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under OAuth HubSpot sends no daily-quota headers: the sync neither stops for a reserve it cannot
    know nor fails. With the sandbox's search limit at 1/s (the ten-second window wide open; tighter
    than HubSpot's 5/s so that a sync of a few searches surely trips it, however fast the machine) and
    the governor's search budget set far too high, the 429s come from search alone and are retried;
    every ticket arrives."""
    with Sandbox(
        seed=12, size=300, hubspot_requests_per_10s=100_000, hubspot_search_per_second=1, hubspot_auth="oauth"
    ) as sandbox:
        settings = sandbox_settings(sandbox, monkeypatch, hubspot__search_per_second="50")
        report = sync(settings, store, "hubspot", now=LATER)
        assert report.ok, report.failures
        assert len([t for t in store.records(Ticket) if t.source == "hubspot"]) == sandbox.world.size
        governor = report.governors["hubspot"]
        assert governor.daily_remaining is None  # no daily headers, no daily cap
        assert report.usage["hubspot"].throttled > 0 and report.usage["hubspot"].retries > 0  # search 429s


def test_the_search_budget_keeps_search_under_its_own_limit(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The governor's search budget at HubSpot's 4/s against the sandbox's real 5/s: no search 429,
    while the ten-second window (wide open) is not what paces search."""
    with Sandbox(seed=13, size=300, hubspot_requests_per_10s=100_000, hubspot_search_per_second=5) as sandbox:
        settings = sandbox_settings(sandbox, monkeypatch, hubspot__search_per_second="4")
        report = sync(settings, store, "hubspot", now=LATER)
        assert report.ok, report.failures
        assert report.usage["hubspot"].throttled == 0
        assert report.usage["hubspot"].by_budget["search"] > 0
