"""Writing and reading common records: idempotent upserts by id, newest version wins.

Rules of an upsert, per record (the same record twice is stored once):
- unknown id → **inserted**;
- same content as stored (equal `content_hash`) → **unchanged**;
- both versions carry `updated_at` and the incoming one is older → **stale**, ignored;
- otherwise → **updated** (an entity without `updated_at` is last-write-wins).

The decision is made in Python for the counts, and repeated in the database as the `WHERE` of an
`INSERT … ON CONFLICT DO UPDATE`, so a concurrent writer can never replace a newer version with an older.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Literal

from sqlalchemy import JSON, Table, and_, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from connector.schema import Record
from connector.store.tables import table_for

Outcome = Literal["inserted", "updated", "unchanged", "stale"]
OUTCOMES: tuple[Outcome, ...] = ("inserted", "updated", "unchanged", "stale")
_BOOKKEEPING = ("content_hash", "ingested_at")
ID_CHUNK = 500
"""Ids per `IN (…)` list (SQLite allows 32,766 bound parameters; PostgreSQL far more)."""


def id_chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    """The distinct `ids`, sorted, in lists of at most `ID_CHUNK` — one `IN (…)` query each."""
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), ID_CHUNK):
        yield ordered[start : start + ID_CHUNK]


@dataclass
class UpsertCounts:
    """How many records of each entity were inserted, updated, unchanged or ignored as stale."""

    by_entity: dict[str, Counter[str]]

    def __init__(self) -> None:
        self.by_entity = {}

    def add(self, entity: str, outcome: Outcome, n: int = 1) -> None:
        self.by_entity.setdefault(entity, Counter())[outcome] += n

    def merge(self, other: UpsertCounts) -> None:
        for entity, counter in other.by_entity.items():
            self.by_entity.setdefault(entity, Counter()).update(counter)

    def total(self, outcome: Outcome) -> int:
        return sum(counter[outcome] for counter in self.by_entity.values())


def content_hash(record: Record) -> str:
    """SHA-256 of the record's canonical JSON: equal hashes mean nothing to write."""
    canonical = json.dumps(record.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_to_row(record: Record, *, now: datetime) -> dict[str, Any]:
    table = table_for(record)
    as_json = record.model_dump(mode="json")
    row: dict[str, Any] = {}
    for name, value in record.model_dump().items():
        if isinstance(table.c[name].type, JSON):
            row[name] = as_json[name]
        elif isinstance(value, Enum):
            row[name] = value.value
        else:
            row[name] = value
    row["content_hash"] = content_hash(record)
    row["ingested_at"] = now
    return row


def row_to_record(model: type[Record], row: Any) -> Record:
    data = {key: value for key, value in row._mapping.items() if key not in _BOOKKEEPING}
    return model.model_validate(data)


def _decide(stored: tuple[datetime | None, str] | None, row: dict[str, Any]) -> Outcome:
    if stored is None:
        return "inserted"
    stored_updated_at, stored_hash = stored
    if stored_hash == row["content_hash"]:
        return "unchanged"
    incoming_updated_at = row.get("updated_at")
    if (
        stored_updated_at is not None
        and incoming_updated_at is not None
        and incoming_updated_at < stored_updated_at
    ):
        return "stale"
    return "updated"


def dialect_insert(connection: Connection, table: Table) -> Any:
    """The dialect's INSERT construct, which offers `on_conflict_do_update` on SQLite and PostgreSQL."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(dialect)


def _upsert_statement(connection: Connection, table: Table) -> Any:
    insert = dialect_insert(connection, table)
    excluded = insert.excluded
    guard: ColumnElement[bool] = table.c.content_hash != excluded.content_hash
    if "updated_at" in table.c:
        newer_or_unknown = or_(
            table.c.updated_at.is_(None),
            excluded.updated_at.is_(None),
            excluded.updated_at >= table.c.updated_at,
        )
        guard = and_(guard, newer_or_unknown)
    changes = {column.name: excluded[column.name] for column in table.c if column.name != "id"}
    return insert.on_conflict_do_update(index_elements=[table.c.id], set_=changes, where=guard)


def upsert_records(connection: Connection, records: Sequence[Record]) -> tuple[UpsertCounts, list[Record]]:
    """Upsert records of any entities on `connection` (inside the caller's transaction).

    Returns the counts and the records that were written (inserted or updated)."""
    counts = UpsertCounts()
    written: list[Record] = []
    by_entity: dict[str, list[Record]] = {}
    for record in records:
        by_entity.setdefault(record.entity, []).append(record)
    now = datetime.now(UTC)
    for entity, batch in by_entity.items():
        table = table_for(batch[0])
        rows = [record_to_row(record, now=now) for record in batch]
        state = _stored_versions(connection, table, {row["id"] for row in rows})
        pending: dict[str, dict[str, Any]] = {}
        for record, row in zip(batch, rows, strict=True):
            outcome = _decide(state.get(row["id"]), row)
            counts.add(entity, outcome)
            if outcome in ("inserted", "updated"):
                state[row["id"]] = (row.get("updated_at"), row["content_hash"])
                pending[row["id"]] = row
                written.append(record)
        if pending:
            connection.execute(_upsert_statement(connection, table), list(pending.values()))
    return counts, written


def _stored_versions(
    connection: Connection, table: Table, ids: set[str]
) -> dict[str, tuple[datetime | None, str]]:
    updated_at = table.c.updated_at if "updated_at" in table.c else None
    columns = [table.c.id, table.c.content_hash] + ([updated_at] if updated_at is not None else [])
    found: dict[str, tuple[datetime | None, str]] = {}
    for chunk in id_chunks(ids):
        for row in connection.execute(select(*columns).where(table.c.id.in_(chunk))):
            found[row.id] = (row.updated_at if updated_at is not None else None, row.content_hash)
    return found


def read_records(
    connection: Connection, model: type[Record], ids: Iterable[str] | None = None
) -> Iterator[Record]:
    """Records of one entity ordered by id (all of them, or those with the given ids)."""
    table = table_for(model)
    query = select(table).order_by(table.c.id)
    if ids is not None:
        query = query.where(table.c.id.in_(list(ids)))
    for row in connection.execute(query):
        yield row_to_record(model, row)
