"""The store: SQLite file by default, PostgreSQL by URL; the only place state lives.

    >>> store = Store.open("sqlite://")           # in memory; migrations applied on open
    >>> with store.transaction() as tx:
    ...     counts = store.upsert(tx, records)
    ...     store.set_cursor(tx, "hubspot", "tickets", "2026-01-01T00:00:00Z")  # same transaction

Writes take the caller's transaction so a sync cursor can advance in the same commit as the records it
covers, and an import can be all-or-nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, bindparam, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from connector.errors import StoreError
from connector.schema import ENTITIES, Agent, Contact, Record
from connector.store.alerts import AlertKey, Raised, raised_alerts, remember_alerts
from connector.store.engine import (
    connection_problem,
    create_store_engine,
    migrate,
    shown_url,
    sqlite_file_problem,
    writing,
)
from connector.store.identity import (
    IdentityKind,
    fold_identity,
    identity_of,
    link_identities,
    linked_records,
    source_contacts,
)
from connector.store.merges import MergeKind, merge_ticket
from connector.store.pushes import PushedValues, pushed_values, remember_pushed
from connector.store.records import UpsertCounts, dialect_insert, id_chunks, read_records, upsert_records
from connector.store.scoped import scoped_rows
from connector.store.tables import (
    identity_link,
    kpi_result,
    sync_cursor,
    table_for,
    ticket_merge,
    webhook_event,
)
from connector.store.topics import (
    TopicKind,
    add_topics,
    replace_topics,
    stored_topics,
    topic_sizes,
    topic_texts,
    topics_of,
)

__all__ = ["Store", "UpsertCounts"]
log = logging.getLogger(__name__)

R = TypeVar("R", bound=Record)


class Store:
    """Records, identity links, sync cursors, KPI results, pushed values and webhook events."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Store:
        """Connect and bring the schema to the current version; a store that cannot be reached or
        created is a `StoreError` in one line naming the place and the cause."""
        problem = sqlite_file_problem(url)
        if problem is not None:
            raise StoreError(f"cannot open the store {shown_url(url)}: {problem}")
        engine = create_store_engine(url)
        try:
            migrate(engine)
        except DBAPIError as exc:
            engine.dispose()
            raise StoreError(
                f"cannot open the store {shown_url(url)}: {connection_problem(url, exc)}"
            ) from None
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def exclusive(self, scope: str, *, waiting: Callable[[str], None] | None = None) -> Iterator[None]:
        """Work on `scope` (e.g. `sync:hubspot`) in one process at a time. PostgreSQL: a session advisory
        lock keyed by the store's schema and the scope, so different sources sync in parallel and one
        source waits for the process already syncing it (`waiting` hears about it; a process that dies
        drops its lock with its session). SQLite has nothing to take: its writes are serialised batch by
        batch by immediate transactions, so two runs interleave and upsert the same records idempotently."""
        if self.engine.dialect.name != "postgresql":
            yield
            return
        with self.engine.connect() as connection:
            key = connection.execute(
                text("SELECT hashtextextended(current_schema() || ':' || :scope, 0)"), {"scope": scope}
            ).scalar_one()
            if not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one():
                (waiting or log.warning)(f"another run holds {scope} on this store; waiting for it to finish")
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            connection.commit()  # the session keeps the lock; no transaction stays open meanwhile
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction: committed when the block ends, rolled back if it raises. On SQLite it
        takes the write lock at its start, so concurrent runs wait for each other instead of failing."""
        with writing(self.engine) as connection:
            yield connection

    # --- records ------------------------------------------------------------------------------------

    def upsert(self, connection: Connection, records: Sequence[Record]) -> UpsertCounts:
        """Insert new records, update changed ones (never with an older `updated_at`), link identities."""
        counts, written = upsert_records(connection, records)
        people = [record for record in written if isinstance(record, Agent | Contact)]
        if people:
            link_identities(connection, people)
        return counts

    def get(self, model: type[R], record_id: str) -> R | None:
        with self.engine.connect() as connection:
            found = list(read_records(connection, model, [record_id]))
        return found[0] if found else None  # type: ignore[return-value]

    def records(self, model: type[R], ids: Iterable[str] | None = None) -> list[R]:
        with self.engine.connect() as connection:
            return list(read_records(connection, model, ids))  # type: ignore[arg-type]

    def counts(self) -> dict[str, int]:
        """Stored records per entity."""
        with self.engine.connect() as connection:
            return {
                name: int(connection.execute(select(func.count()).select_from(table_for(model))).scalar_one())
                for name, model in ENTITIES.items()
            }

    def digest(self) -> dict[str, dict[str, str]]:
        """Every stored record as id → content hash, per entity, plus the identity links (record id →
        identity): two stores with equal digests hold the same data. For fault trials and tests."""
        with self.engine.connect() as connection:
            found = {
                name: {
                    str(row.id): str(row.content_hash)
                    for row in connection.execute(select(table.c.id, table.c.content_hash))
                }
                for name, table in ((name, table_for(model)) for name, model in ENTITIES.items())
            }
            found["identity_link"] = {
                str(row.record_id): str(row.identity_id)
                for row in connection.execute(select(identity_link.c.record_id, identity_link.c.identity_id))
            }
        return found

    # --- identities ---------------------------------------------------------------------------------

    def identity_of(self, kind: IdentityKind, record_id: str) -> str | None:
        """The identity (smallest record id of the linked group) of an agent or contact record."""
        with self.engine.connect() as connection:
            return identity_of(connection, kind, record_id)

    def identities_of(self, kind: IdentityKind, record_ids: Iterable[str]) -> dict[str, str]:
        """record id → its identity, for many records in a few queries (a record without a link maps to
        itself)."""
        found = {record_id: record_id for record_id in record_ids}
        link = identity_link.c
        with self.engine.connect() as connection:
            for chunk in id_chunks(found):
                rows = connection.execute(
                    select(link.record_id, link.identity_id).where(
                        link.kind == kind, link.record_id.in_(chunk)
                    )
                )
                found.update({row.record_id: row.identity_id for row in rows})
        return found

    def fold(self, connection: Connection, kind: MergeKind, record_id: str, into_record_id: str) -> str:
        """Fold a record merged away in its source into the survivor (same transaction as the survivor's
        upsert): an agent or contact into the survivor's identity (`connector.store.identity`), a ticket
        into the surviving ticket (`connector.store.merges`). Returns the identity or the survivor."""
        if kind == "ticket":
            return merge_ticket(connection, record_id, into_record_id)
        return fold_identity(connection, kind, record_id, into_record_id)

    # --- values pushed to targets ------------------------------------------------------------------

    def pushed_values(self, target: str, object_type: str, object_ids: Collection[str]) -> PushedValues:
        """(object id, property) → the value last pushed to `target` (see `connector.store.pushes`)."""
        with self.engine.connect() as connection:
            return pushed_values(connection, target, object_type, object_ids)

    def remember_pushed(
        self,
        connection: Connection,
        target: str,
        object_type: str,
        written: Iterable[tuple[str, Mapping[str, str | None]]],
    ) -> None:
        """Record the values just pushed, in the caller's transaction."""
        remember_pushed(connection, target, object_type, written)

    def raised_alerts(self, keys: Sequence[AlertKey]) -> set[AlertKey]:
        """Which of these alerts were raised before (see `connector.store.alerts`)."""
        with self.engine.connect() as connection:
            return raised_alerts(connection, keys)

    def remember_alerts(self, raised: Iterable[Raised]) -> None:
        """Record alerts just raised, each with its value and HubSpot task id, in one transaction."""
        with self.transaction() as connection:
            remember_alerts(connection, raised)

    def topic_texts(
        self, kind: TopicKind, since: datetime | None = None, *, unassigned: bool = False
    ) -> Iterator[tuple[str, str]]:
        """(id, words) of the tickets or calls KPIs count that have words (`connector.store.topics`); with
        `unassigned`, of those without a topic only."""
        return topic_texts(self.engine, kind, since, unassigned=unassigned)

    def add_topics(self, kind: TopicKind, assigned: Sequence[tuple[str, int]]) -> None:
        """Give tickets or calls without a topic one of the last discovery's, in one transaction."""
        with self.transaction() as connection:
            add_topics(connection, kind, assigned)

    def replace_topics(
        self, topics: Sequence[dict[str, Any]], assigned: Mapping[TopicKind, Sequence[tuple[str, int]]]
    ) -> None:
        """Keep a topic discovery, with each ticket's and call's topic, in place of the last one, in one
        transaction."""
        with self.transaction() as connection:
            replace_topics(connection, topics, assigned)

    def topic_sizes(self) -> dict[int, dict[TopicKind, int]]:
        """Topic number → how many tickets and calls have it."""
        return topic_sizes(self.engine)

    def topics(self) -> list[dict[str, Any]]:
        """The topics of the last discovery, by number."""
        return stored_topics(self.engine)

    def topics_of(self, ticket_ids: Sequence[str]) -> dict[str, str]:
        """Ticket id → its topic's label (tickets with a topic only)."""
        return topics_of(self.engine, ticket_ids)

    def merged_tickets(self) -> dict[str, str]:
        """Every merged-away ticket → the ticket that survives it."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(ticket_merge.c.ticket_id, ticket_merge.c.into_ticket_id))
            return {ticket_id: into for ticket_id, into in rows}

    def scoped_rows(
        self, tickets: frozenset[str], contacts: frozenset[str]
    ) -> dict[str, list[Mapping[str, Any]]]:
        """Table → the rows the figures of these tickets and customers need (`connector.store.scoped`)."""
        with self.engine.connect() as connection:
            return scoped_rows(connection, tickets, contacts)

    @property
    def url(self) -> str:
        """The database URL, password included: for another client of the same database (the
        calculator's DuckDB attaches it). Never log it (`shown_url` hides the password)."""
        return self.engine.url.render_as_string(hide_password=False)

    def schema(self) -> str | None:
        """PostgreSQL: the schema the store's tables are in (the connection's current schema); SQLite:
        None."""
        if self.engine.dialect.name != "postgresql":
            return None
        with self.engine.connect() as connection:
            return str(connection.execute(text("SELECT current_schema()")).scalar_one())

    def source_contacts(self, source: str, identities: Iterable[str] | None = None) -> list[tuple[str, str]]:
        """(contact record id, its identity) of every live contact of `source` (of `identities` only,
        when given): the records a customer's figures are written to."""
        with self.engine.connect() as connection:
            return source_contacts(connection, source, identities)

    def linked_records(self, kind: IdentityKind, identity_id: str) -> list[str]:
        with self.engine.connect() as connection:
            return linked_records(connection, kind, identity_id)

    # --- sync cursors -------------------------------------------------------------------------------

    def cursor(self, source: str, stream: str) -> str | None:
        with self.engine.connect() as connection:
            return connection.execute(
                select(sync_cursor.c.value).where(
                    sync_cursor.c.source == source, sync_cursor.c.stream == stream
                )
            ).scalar_one_or_none()

    def cursors(self, source: str, prefix: str) -> dict[str, str]:
        """Every cursor of `source` whose stream name starts with `prefix`, by the rest of the name."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(sync_cursor.c.stream, sync_cursor.c.value).where(
                    sync_cursor.c.source == source, sync_cursor.c.stream.startswith(prefix, autoescape=True)
                )
            )
            return {stream.removeprefix(prefix): value for stream, value in rows}

    def set_cursor(self, connection: Connection, source: str, stream: str, value: str) -> None:
        """Advance a cursor inside the transaction that commits the records it covers."""
        now = datetime.now(UTC)
        statement = dialect_insert(connection, sync_cursor).values(
            source=source, stream=stream, value=value, updated_at=now
        )
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=[sync_cursor.c.source, sync_cursor.c.stream],
                set_={"value": value, "updated_at": now},
            )
        )

    # --- KPI results --------------------------------------------------------------------------------

    def save_kpi_results(self, connection: Connection, results: Iterable[Any]) -> int:
        """Upsert KPI results (anything with the SPEC §4 fields and a `snapshot_key`) by snapshot key."""
        now = datetime.now(UTC)
        rows = [
            {
                "snapshot_key": r.snapshot_key,
                "kpi": r.kpi,
                "name": r.name,
                "stat": r.stat,
                "basis": r.basis,
                "period_start": r.period_start,
                "period_end": r.period_end,
                "cut": r.cut,
                "cut_value": r.cut_value,
                "value": r.value,
                "unit": r.unit,
                "numerator": r.numerator,
                "denominator": r.denominator,
                "count": r.count,
                "computed_at": now,
            }
            for r in results
        ]
        if rows:
            statement = dialect_insert(connection, kpi_result)
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[kpi_result.c.snapshot_key],
                    set_={
                        c.name: statement.excluded[c.name] for c in kpi_result.c if c.name != "snapshot_key"
                    },
                ),
                rows,
            )
        return len(rows)

    def kpi_results(self) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            return [
                dict(row._mapping)
                for row in connection.execute(select(kpi_result).order_by(kpi_result.c.snapshot_key))
            ]

    # --- webhook events -----------------------------------------------------------------------------

    def record_webhook_events(self, events: Sequence[Any]) -> list[Any]:
        """Store webhook events (each with `vendor`, `event_id`, `kind`, `object_type`, `object_id`,
        `occurred_at`, `payload`) in one transaction; returns those not seen before — a redelivery is
        recorded once. They stay pending until processed."""
        new = []
        with self.transaction() as connection:
            for event in events:
                envelope = {"kind": event.kind, "body": event.payload}
                about = {
                    "object_type": event.object_type,
                    "object_id": event.object_id,
                    "occurred_at": event.occurred_at,
                }
                if self.remember_event(connection, event.vendor, event.event_id, envelope, **about):
                    new.append(event)
        return new

    def pending_webhook_events(
        self, limit: int | None = None, *, after: tuple[datetime, str, str] | None = None
    ) -> list[dict[str, Any]]:
        """Recorded events not yet processed, oldest first (at most `limit`; only those after the
        (received_at, source, event_id) `after`, to page through them)."""
        e = webhook_event.c
        query = (
            select(webhook_event)
            .where(e.processed_at.is_(None))
            .order_by(e.received_at, e.source, e.event_id)
        )
        if after is not None:
            at, source, event_id = after
            later_id = (e.source > source) | ((e.source == source) & (e.event_id > event_id))
            query = query.where((e.received_at > at) | ((e.received_at == at) & later_id))
        with self.engine.connect() as connection:
            rows = connection.execute(query.limit(limit) if limit else query)
            return [dict(row._mapping) for row in rows]

    def latest_processed(
        self, objects: Iterable[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], datetime]:
        """(source, object type, object id) → the newest `occurred_at` among its processed events."""
        keys = set(objects)
        found: dict[tuple[str, str, str], datetime] = {}
        by_type: dict[tuple[str, str], list[str]] = {}
        for source, object_type, object_id in keys:
            by_type.setdefault((source, object_type), []).append(object_id)
        e = webhook_event.c
        with self.engine.connect() as connection:
            for (source, object_type), ids in by_type.items():
                for chunk in id_chunks(ids):
                    rows = connection.execute(
                        select(e.object_id, func.max(e.occurred_at))
                        .where(e.source == source, e.object_type == object_type, e.object_id.in_(chunk))
                        .where(e.processed_at.is_not(None), e.occurred_at.is_not(None))
                        .group_by(e.object_id)
                    )
                    # max() keeps the column's type (UtcDateTime): an aware instant
                    found.update({(source, object_type, i): newest for i, newest in rows if newest})
        return found

    def finish_webhook_events(self, outcomes: Sequence[tuple[str, str, str]]) -> None:
        """Mark events processed: (source, event id, outcome) each, in one transaction."""
        self._update_events(
            [{"s": s, "e": i, "o": o} for s, i, o in outcomes],
            processed_at=datetime.now(UTC),
            outcome=bindparam("o"),
            last_error=None,
        )

    def fail_webhook_events(self, events: Sequence[tuple[str, str]], error: str) -> None:
        """Count a failed attempt on events that stay pending, with the reason (no secret in it)."""
        self._update_events([{"s": s, "e": i} for s, i in events], last_error=error[:500])

    def _update_events(self, rows: Sequence[dict[str, str]], **values: Any) -> None:
        """One more attempt and `values` on each event of `rows` ({"s": source, "e": event id, …}): one
        statement for many rows, so the write lock is held briefly."""
        if not rows:
            return
        e = webhook_event.c
        statement = (
            webhook_event.update()
            .where(e.source == bindparam("s"), e.event_id == bindparam("e"))
            .values(attempts=e.attempts + 1, **values)
        )
        with self.transaction() as connection:
            connection.execute(statement, list(rows))

    def remember_event(
        self,
        connection: Connection,
        source: str,
        event_id: str,
        payload: Any,
        *,
        object_type: str | None = None,
        object_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> bool:
        """Record a webhook event id; False when it was seen before (a replay or a duplicate delivery)."""
        statement = (
            dialect_insert(connection, webhook_event)
            .values(
                source=source,
                event_id=event_id,
                received_at=datetime.now(UTC),
                payload=payload,
                object_type=object_type,
                object_id=object_id,
                occurred_at=occurred_at,
            )
            .on_conflict_do_nothing(index_elements=[webhook_event.c.source, webhook_event.c.event_id])
            .returning(webhook_event.c.event_id)
        )
        return connection.execute(statement).first() is not None
