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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import duckdb
from sqlalchemy import BigInteger, Boolean, Date, Float, Numeric, Table

from connector.kpis.workspace import json_list, unnested
from connector.store import Store
from connector.store.tables import (
    UtcDateTime,
    call_topic,
    entity_tables,
    identity_link,
    ticket_merge,
    ticket_topic,
    topic,
)

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
    rows = store.scoped_rows(scope.tickets, scope.contacts)
    for name, table in [
        *entity_tables.items(),
        ("identity_link", identity_link),
        ("ticket_merge", ticket_merge),
        ("ticket_topic", ticket_topic),
        ("call_topic", call_topic),
        ("topic", topic),
    ]:
        _copy(con, name, table, rows.get(name, []))
    return SCHEMA


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
    if isinstance(value, bool | dict | list):
        return json.dumps(value)  # booleans as true/false, as DuckDB reads them
    if isinstance(value, datetime):
        return str(value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value)
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
