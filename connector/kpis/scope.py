"""A workspace of a few records: the store's rows one ticket's or one customer's figures need, read by
index and copied into the workspace's DuckDB as schema `s`, so the same workspace SQL that computes
every record's figures computes these without scanning the store.

    >>> scope = RecordScope(tickets=frozenset({"crm:7"}), contacts=frozenset({"crm:42"}))
    >>> workspace = open_workspace(store, settings, [period], scope=scope)

What a scope loads:
- tickets: each ticket in `tickets`, and every ticket of a customer in `contacts`, with their messages;
- customers: each contact identity in `contacts` — every contact record linked to it, and their calls,
  survey answers and purchases;
- the identity links and agents those rows name (their cuts), the merges of the tickets they name,
  nothing of reviews or costs.

A figure over these rows equals the figure the whole store gives for the same record: ticket figures
depend on the ticket and its messages only, customer figures on the rows of that customer's identity
(calls logged by two sources are both the customer's, so de-duplication sees both).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import duckdb
from sqlalchemy import BigInteger, Boolean, Date, Float, Numeric, Table, select
from sqlalchemy.engine import Connection

from connector.kpis.workspace import json_list, unnested
from connector.store import Store
from connector.store.records import id_chunks
from connector.store.tables import UtcDateTime, entity_tables, identity_link, ticket_merge

SCHEMA = "s"


@dataclass(frozen=True)
class RecordScope:
    """The records whose figures are wanted: tickets by record id, customers by contact identity id."""

    tickets: frozenset[str] = frozenset()
    contacts: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.tickets or self.contacts)


def copy_scope(con: duckdb.DuckDBPyConnection, store: Store, scope: RecordScope) -> str:
    """Create schema `s` in `con` holding the store's tables with only the rows `scope` needs; returns
    the prefix of its tables (`s`)."""
    con.execute(f"CREATE SCHEMA {SCHEMA}")
    with store.engine.connect() as connection:
        rows = _scoped_rows(connection, scope)
    for name, table in [
        *entity_tables.items(),
        ("identity_link", identity_link),
        ("ticket_merge", ticket_merge),
    ]:
        _copy(con, name, table, rows.get(name, []))
    return SCHEMA


def _scoped_rows(connection: Connection, scope: RecordScope) -> dict[str, list[Mapping[str, Any]]]:
    link = identity_link.c
    people = _where_in(connection, identity_link, link.identity_id, scope.contacts, link.kind == "contact")
    customers = set(scope.contacts) | {row["record_id"] for row in people}
    t = entity_tables
    rows: dict[str, list[Mapping[str, Any]]] = {
        "contact": _where_in(connection, t["contact"], t["contact"].c.id, customers),
        "ticket": _unique(
            _where_in(connection, t["ticket"], t["ticket"].c.id, scope.tickets)
            + _where_in(connection, t["ticket"], t["ticket"].c.contact_id, customers)
        ),
        "call": _where_in(connection, t["call"], t["call"].c.contact_id, customers),
        "survey_response": _where_in(
            connection, t["survey_response"], t["survey_response"].c.contact_id, customers
        ),
        "purchase": _where_in(connection, t["purchase"], t["purchase"].c.contact_id, customers),
    }
    tickets = {row["id"] for row in rows["ticket"]}
    rows["message"] = _where_in(connection, t["message"], t["message"].c.ticket_id, tickets)
    merges = ticket_merge.c
    referred = tickets | {row["ticket_id"] for row in rows["survey_response"] if row.get("ticket_id")}
    rows["ticket_merge"] = _unique(
        _where_in(connection, ticket_merge, merges.ticket_id, referred)
        + _where_in(connection, ticket_merge, merges.into_ticket_id, tickets),
        key=("ticket_id",),
    )
    named = {
        kind: {row[column] for table in rows.values() for row in table if row.get(column)}
        for kind, column in (("agent", "agent_id"), ("contact", "contact_id"))
    }
    rows["agent"] = _where_in(connection, t["agent"], t["agent"].c.id, named["agent"])
    rows["identity_link"] = _unique(
        people
        + _where_in(connection, identity_link, link.record_id, named["agent"], link.kind == "agent")
        + _where_in(
            connection, identity_link, link.record_id, named["contact"] - customers, link.kind == "contact"
        ),
        key=("kind", "record_id"),
    )
    return rows


def _where_in(
    connection: Connection, table: Table, column: Any, values: Iterable[str], *more: Any
) -> list[Mapping[str, Any]]:
    """Rows of `table` whose `column` is one of `values` (read in chunks, by index)."""
    found: list[Mapping[str, Any]] = []
    for chunk in id_chunks(values):
        found += [
            dict(row._mapping) for row in connection.execute(select(table).where(column.in_(chunk), *more))
        ]
    return found


def _unique(rows: Sequence[Mapping[str, Any]], key: tuple[str, ...] = ("id",)) -> list[Mapping[str, Any]]:
    seen: dict[tuple[Any, ...], Mapping[str, Any]] = {}
    for row in rows:
        seen.setdefault(tuple(row[k] for k in key), row)
    return list(seen.values())


def _duck_type(column: Any) -> str:
    kind = column.type
    if isinstance(kind, UtcDateTime):
        return "TIMESTAMP"
    if isinstance(kind, Boolean):
        return "BOOLEAN"
    if isinstance(kind, BigInteger):
        return "BIGINT"
    if isinstance(kind, Float | Numeric):
        return "DOUBLE"
    if isinstance(kind, Date):
        return "DATE"
    return "VARCHAR"  # text, enums and JSON (as its text, which the workspace casts)


def _duck_text(value: Any) -> str | None:
    """A stored value as the text DuckDB casts to its column's type."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return str(value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value)
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _copy(con: duckdb.DuckDBPyConnection, name: str, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    columns = list(table.columns)
    definition = ", ".join(f'"{c.name}" {_duck_type(c)}' for c in columns)
    con.execute(f'CREATE TABLE {SCHEMA}."{name}" ({definition})')
    if not rows:
        return
    con.execute(
        f'INSERT INTO {SCHEMA}."{name}" SELECT {", ".join(unnested(_duck_type(c)) for c in columns)}',
        [json_list(_duck_text(row[c.name]) for row in rows) for c in columns],
    )
