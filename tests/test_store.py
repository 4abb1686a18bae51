"""The store on SQLite and PostgreSQL: round trips, idempotent upserts, newest wins, identity links,
cursors in the records' transaction, webhook event ids, and migrations that match the tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.errors import ConfigError, StoreError
from connector.schema import ENTITIES, Agent, Contact, Record, Ticket, entity_model
from connector.store import Store
from connector.store.engine import alembic_config, create_store_engine, head_revision, migrate
from connector.store.tables import metadata
from tests.conftest import example_records

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _examples() -> list[Record]:
    records = []
    for data in example_records():
        fields = dict(data)
        records.append(entity_model(fields.pop("type")).model_validate(fields))
    return records


def _ticket(version: int, *, updated_at: datetime | None, subject: str | None = None) -> Ticket:
    return Ticket(
        source="hubspot",
        source_id="1",
        status="open",
        created_at=T0,
        subject=subject or f"version {version}",
        updated_at=updated_at,
    )


def test_every_entity_round_trips_exactly(store: Store) -> None:
    records = _examples()
    assert {r.entity for r in records} == set(ENTITIES)
    with store.transaction() as tx:
        counts = store.upsert(tx, records)
    assert counts.total("inserted") == len(records)
    for record in records:
        assert store.get(type(record), record.id) == record


def test_same_records_twice_are_stored_once_and_reported_unchanged(store: Store) -> None:
    records = _examples()
    with store.transaction() as tx:
        store.upsert(tx, records)
    with store.transaction() as tx:
        again = store.upsert(tx, records)
    assert again.total("unchanged") == len(records)
    assert again.total("inserted") == again.total("updated") == 0
    assert sum(store.counts().values()) == len(records)


def test_newer_updated_at_wins_and_older_is_ignored(store: Store) -> None:
    with store.transaction() as tx:
        store.upsert(tx, [_ticket(2, updated_at=T0 + timedelta(hours=2))])
    with store.transaction() as tx:
        older = store.upsert(tx, [_ticket(1, updated_at=T0 + timedelta(hours=1))])
    assert older.by_entity["ticket"]["stale"] == 1
    assert store.get(Ticket, "hubspot:1").subject == "version 2"  # type: ignore[union-attr]
    with store.transaction() as tx:
        newer = store.upsert(tx, [_ticket(3, updated_at=T0 + timedelta(hours=3))])
    assert newer.by_entity["ticket"]["updated"] == 1
    assert store.get(Ticket, "hubspot:1").subject == "version 3"  # type: ignore[union-attr]


def test_same_updated_at_with_new_content_updates(store: Store) -> None:
    """Late fields (Aircall tags, a HubSpot property filled later) can arrive without a newer timestamp."""
    with store.transaction() as tx:
        store.upsert(tx, [_ticket(1, updated_at=T0)])
    with store.transaction() as tx:
        counts = store.upsert(tx, [_ticket(2, updated_at=T0)])
    assert counts.by_entity["ticket"]["updated"] == 1


def test_entities_without_updated_at_are_last_write_wins(store: Store) -> None:
    with store.transaction() as tx:
        store.upsert(tx, [Agent(source="aircall", source_id="7", name="Old Name")])
    with store.transaction() as tx:
        counts = store.upsert(tx, [Agent(source="aircall", source_id="7", name="New Name")])
    assert counts.by_entity["agent"]["updated"] == 1
    assert store.get(Agent, "aircall:7").name == "New Name"  # type: ignore[union-attr]


def test_versions_of_one_record_in_one_batch_settle_in_order(store: Store) -> None:
    batch = [
        _ticket(1, updated_at=T0 + timedelta(hours=1)),
        _ticket(1, updated_at=T0 + timedelta(hours=1)),  # the same again
        _ticket(3, updated_at=T0 + timedelta(hours=3)),
        _ticket(2, updated_at=T0 + timedelta(hours=2)),  # older than the one before it
    ]
    with store.transaction() as tx:
        counts = store.upsert(tx, batch).by_entity["ticket"]
    assert (counts["inserted"], counts["unchanged"], counts["updated"], counts["stale"]) == (1, 1, 1, 1)
    assert store.get(Ticket, "hubspot:1").subject == "version 3"  # type: ignore[union-attr]


def test_database_refuses_an_older_version_even_past_the_python_check(store: Store) -> None:
    """The ON CONFLICT guard protects against a concurrent writer that decided on stale information."""
    from connector.store.records import _upsert_statement, record_to_row

    with store.transaction() as tx:
        store.upsert(tx, [_ticket(2, updated_at=T0 + timedelta(hours=2))])
    older_row = record_to_row(_ticket(1, updated_at=T0 + timedelta(hours=1)), now=T0)
    with store.transaction() as tx:
        tx.execute(_upsert_statement(tx, sa.Table("ticket", metadata)), [older_row])
    assert store.get(Ticket, "hubspot:1").subject == "version 2"  # type: ignore[union-attr]


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hours=st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=8))
def test_any_arrival_order_keeps_the_newest_version(
    tmp_path_factory: pytest.TempPathFactory, hours: list[int]
) -> None:
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('prop') / 's.db'}")
    try:
        for hour in hours:
            with store.transaction() as tx:
                store.upsert(tx, [_ticket(hour, updated_at=T0 + timedelta(hours=hour))])
        stored = store.get(Ticket, "hubspot:1")
        assert stored is not None and stored.updated_at == T0 + timedelta(hours=max(hours))
    finally:
        store.close()


def test_failed_transaction_stores_nothing_and_leaves_the_cursor(store: Store) -> None:
    with store.transaction() as tx:
        store.set_cursor(tx, "hubspot", "tickets", "cursor-1")
    with pytest.raises(RuntimeError), store.transaction() as tx:
        store.upsert(tx, _examples())
        store.set_cursor(tx, "hubspot", "tickets", "cursor-2")
        raise RuntimeError("killed mid-sync")
    assert sum(store.counts().values()) == 0
    assert store.cursor("hubspot", "tickets") == "cursor-1"
    with store.transaction() as tx:
        store.upsert(tx, _examples())
        store.set_cursor(tx, "hubspot", "tickets", "cursor-2")
    assert store.cursor("hubspot", "tickets") == "cursor-2"
    assert store.cursor("aircall", "calls") is None


def test_webhook_event_ids_are_remembered_once(store: Store) -> None:
    with store.transaction() as tx:
        assert store.remember_event(tx, "aircall", "evt-1", {"event": "call.ended"}) is True
        assert store.remember_event(tx, "aircall", "evt-1", {"event": "call.ended"}) is False
        assert store.remember_event(tx, "hubspot", "evt-1", [{"subscriptionType": "ticket.creation"}]) is True


def _contact(source: str, source_id: str, **fields: Any) -> Contact:
    return Contact(source=source, source_id=source_id, **fields)


def test_agents_link_across_sources_by_email_ignoring_case(store: Store) -> None:
    with store.transaction() as tx:
        store.upsert(
            tx,
            [
                Agent(source="hubspot", source_id="101", email="anna@example.com"),
                Agent(source="liveagent", source_id="a1", email=" Anna@Example.COM"),
                Agent(source="aircall", source_id="501", email="other@example.com"),
            ],
        )
    identity = store.identity_of("agent", "liveagent:a1")
    assert identity == store.identity_of("agent", "hubspot:101")
    assert store.linked_records("agent", identity) == ["hubspot:101", "liveagent:a1"]  # type: ignore[arg-type]
    assert store.identity_of("agent", "aircall:501") == "aircall:501"


def test_contacts_link_by_email_then_phone_and_groups_merge(store: Store) -> None:
    with store.transaction() as tx:
        store.upsert(
            tx,
            [
                _contact("hubspot", "1", email="dirk@klant.nl"),
                _contact("aircall", "9", phone="+31612345678"),
            ],
        )
    assert store.identity_of("contact", "hubspot:1") != store.identity_of("contact", "aircall:9")
    # a third record carrying both keys joins the two groups into one
    with store.transaction() as tx:
        store.upsert(tx, [_contact("liveagent", "c7", email="DIRK@klant.nl", phone="+31 6 1234 5678")])
    identity = store.identity_of("contact", "hubspot:1")
    assert identity is not None
    assert store.linked_records("contact", identity) == ["aircall:9", "hubspot:1", "liveagent:c7"]
    # merging never destroys or rewrites a source record
    assert store.counts()["contact"] == 3
    assert store.get(Contact, "aircall:9") == _contact("aircall", "9", phone="+31612345678")


def test_a_shared_phone_does_not_link_people_with_different_emails(store: Store) -> None:
    switchboard = "+31201234567"
    with store.transaction() as tx:
        store.upsert(
            tx,
            [
                _contact("hubspot", "1", email="ann@acme.nl", phone=switchboard),
                _contact("hubspot", "2", email="bob@acme.nl", phone=switchboard),
                _contact("aircall", "3", phone=switchboard),  # which of them called? ambiguous: no link
                _contact("liveagent", "4", email="ANN@acme.nl"),
            ],
        )
    assert store.identity_of("contact", "hubspot:1") != store.identity_of("contact", "hubspot:2")
    assert store.identity_of("contact", "aircall:3") == "aircall:3"
    assert store.linked_records("contact", "hubspot:1") == ["hubspot:1", "liveagent:4"]


def test_a_phone_links_a_record_without_email_to_the_one_person_using_it(store: Store) -> None:
    with store.transaction() as tx:
        store.upsert(
            tx,
            [
                _contact("hubspot", "1", email="ann@acme.nl", phone="+31612345678"),
                _contact("aircall", "3", phone="+31612345678"),
            ],
        )
    assert store.identity_of("contact", "aircall:3") == store.identity_of("contact", "hubspot:1")


def test_identity_does_not_depend_on_arrival_order(database_url: str) -> None:
    contacts = [
        _contact("hubspot", "1", email="a@x.nl"),
        _contact("aircall", "2", phone="+31612345678"),
        _contact("liveagent", "3", email="a@x.nl", phone="+31612345678"),
        _contact("hubspot", "4", email="someone@else.nl"),
    ]
    store = Store.open(database_url)
    try:
        for contact in reversed(contacts):
            with store.transaction() as tx:
                store.upsert(tx, [contact])
        groups = {c.id: store.identity_of("contact", c.id) for c in contacts}
    finally:
        store.close()
    assert groups == {
        "hubspot:1": "aircall:2",
        "aircall:2": "aircall:2",
        "liveagent:3": "aircall:2",
        "hubspot:4": "hubspot:4",
    }


# SQLite's expression index cannot be reflected (test_store_facts checks it is there); PostgreSQL's is compared
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_migrations_produce_exactly_the_table_definitions(store: Store) -> None:
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_schema_version_is_recorded_and_reopening_migrates_nothing(database_url: str) -> None:
    first = Store.open(database_url)
    with first.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head_revision()
    first.close()
    Store.open(database_url).close()  # a second open finds nothing to do


def test_database_from_a_newer_connector_is_refused_clearly(database_url: str) -> None:
    engine = create_store_engine(database_url)
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match=r"schema version 9999.*upgrade the connector"):
        migrate(engine)
    engine.dispose()


def test_every_migration_downgrades_to_an_empty_database_and_up_again(database_url: str) -> None:
    """Each revision's downgrade undoes its upgrade: down to base leaves only Alembic's own table, and the
    way back up gives the same definitions again."""
    engine = create_store_engine(database_url)
    migrate(engine)
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    tables = set(sa.inspect(engine).get_table_names())
    assert tables <= {"alembic_version"}
    migrate(engine)
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head_revision()
        assert len(set(sa.inspect(connection).get_table_names())) == len(metadata.tables) + 1
    engine.dispose()


def test_unsupported_database_url_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="unsupported database"):
        create_store_engine("mysql://localhost/x")


def test_ticket_merges_resolve_in_one_lookup_whatever_their_order(store: Store) -> None:
    """A merged-away ticket points at a survivor that is not merged itself: a merge into a ticket that
    was merged onward follows the chain, and tickets merged into one that is merged later move along.
    A merge into itself, or one closing a loop, changes nothing."""
    with store.transaction() as tx:
        assert store.fold(tx, "ticket", "hubspot:1", "hubspot:2") == "hubspot:2"
        assert store.fold(tx, "ticket", "hubspot:2", "hubspot:3") == "hubspot:3"  # 1 moves along to 3
        assert store.fold(tx, "ticket", "hubspot:4", "hubspot:1") == "hubspot:3"  # into a merged one
        assert store.fold(tx, "ticket", "hubspot:5", "hubspot:5") == "hubspot:5"
        assert store.fold(tx, "ticket", "hubspot:3", "hubspot:1") == "hubspot:3"  # would close a loop
    assert store.merged_tickets() == {
        "hubspot:1": "hubspot:3",
        "hubspot:2": "hubspot:3",
        "hubspot:4": "hubspot:3",
    }


def test_a_postgresql_store_without_its_driver_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """psycopg is the `postgres` extra: without it a PostgreSQL URL is a clear configuration error."""
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg → ModuleNotFoundError
    with pytest.raises(ConfigError, match=r"helpdesk-kpi-connector\[postgres\]"):
        create_store_engine("postgresql://user@127.0.0.1:5432/db")
