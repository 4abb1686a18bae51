"""Scoped record figures (a webhook's recompute): a workspace of one ticket's or one customer's rows gives
exactly the figures the whole store gives for those records."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from connector.kpis.scope import RecordScope
from connector.sandbox import Sandbox
from connector.store import Store
from connector.store.tables import entity_tables, identity_link
from connector.writer.properties import record_values
from tests.sync_helpers import sandbox_settings, sync
from tests.test_writer import NOW, OPEN


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Store]]:
    monkeypatch = pytest.MonkeyPatch()
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('scope') / 'store.db'}")
    with Sandbox(seed=21, size=200, **OPEN) as sandbox:  # type: ignore[arg-type]
        settings = sandbox_settings(sandbox, monkeypatch)
        for vendor in ("hubspot", "aircall", "liveagent"):
            assert sync(settings, store, vendor, now=NOW).ok
    yield settings, store
    store.close()
    monkeypatch.undo()


def _identities(store: Store) -> dict[str, str]:
    """HubSpot contact record id → its contact identity."""
    contact = entity_tables["contact"]
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(contact.c.id, identity_link.c.identity_id)
            .select_from(contact)
            .outerjoin(
                identity_link,
                (identity_link.c.record_id == contact.c.id) & (identity_link.c.kind == "contact"),
            )
            .where(contact.c.source == "hubspot")
        )
        return {row[0]: row[1] or row[0] for row in rows}


def test_a_scope_of_every_record_equals_the_whole_store(synced: tuple[Any, Store]) -> None:
    settings, store = synced
    whole = record_values(store, settings, now=NOW)
    tickets = frozenset(f"hubspot:{i}" for i in whole["tickets"])
    scoped = record_values(
        store, settings, now=NOW, scope=RecordScope(tickets, frozenset(_identities(store).values()))
    )
    assert scoped == whole
    # the world links customers across vendors: some HubSpot contacts count Aircall calls and LiveAgent tickets
    assert any(v["helpdesk_calls_90d"] not in (None, "0") for v in whole["contacts"].values())


@pytest.mark.parametrize("n", [0, 7, 33, 150])
def test_one_ticket_and_one_customer_alone_get_their_whole_store_figures(
    synced: tuple[Any, Store], n: int
) -> None:
    settings, store = synced
    whole = record_values(store, settings, now=NOW)
    ticket = sorted(whole["tickets"])[n]
    identities = _identities(store)
    shared = sorted(
        c for c in identities if whole["contacts"][c.split(":", 1)[1]]["helpdesk_calls_90d"] != "0"
    )
    contact = shared[n % len(shared)]  # a customer with calls from another vendor
    scoped = record_values(
        store,
        settings,
        now=NOW,
        scope=RecordScope(frozenset({f"hubspot:{ticket}"}), frozenset({identities[contact]})),
    )
    assert scoped["tickets"] == {ticket: whole["tickets"][ticket]}
    same_customer = {k.split(":", 1)[1] for k, v in identities.items() if v == identities[contact]}
    assert set(scoped["contacts"]) == same_customer
    assert all(scoped["contacts"][c] == whole["contacts"][c] for c in same_customer)


def test_an_empty_scope_computes_nothing(synced: tuple[Any, Store]) -> None:
    settings, store = synced
    assert record_values(store, settings, now=NOW, scope=RecordScope()) == {"tickets": {}, "contacts": {}}
