"""The rows a few records' figures need — one ticket's, one customer's — read by index: what a webhook's
recomputation copies into the calculator's workspace instead of reading the whole store (see
`connector.kpis.scope` for which rows and why their figures equal the whole store's)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from connector.store.records import id_chunks
from connector.store.tables import call_topic, entity_tables, identity_link, ticket_merge, ticket_topic, topic


def scoped_rows(
    connection: Connection, tickets: frozenset[str], contacts: frozenset[str]
) -> dict[str, list[Mapping[str, Any]]]:
    """The rows of each table the figures of these tickets and customers (contact identities) need (see
    `connector.kpis.scope`), read by index."""
    link = identity_link.c
    people = _where_in(connection, identity_link, link.identity_id, contacts, link.kind == "contact")
    customers = set(contacts) | {row["record_id"] for row in people}
    t = entity_tables
    rows: dict[str, list[Mapping[str, Any]]] = {
        "contact": _where_in(connection, t["contact"], t["contact"].c.id, customers),
        "ticket": _unique(
            _where_in(connection, t["ticket"], t["ticket"].c.id, tickets)
            + _where_in(connection, t["ticket"], t["ticket"].c.contact_id, customers)
        ),
        "call": _where_in(connection, t["call"], t["call"].c.contact_id, customers),
        "survey_response": _where_in(
            connection, t["survey_response"], t["survey_response"].c.contact_id, customers
        ),
        "purchase": _where_in(connection, t["purchase"], t["purchase"].c.contact_id, customers),
    }
    read = {row["id"] for row in rows["ticket"]}
    rows["message"] = _where_in(connection, t["message"], t["message"].c.ticket_id, read)
    merges = ticket_merge.c
    referred = read | {row["ticket_id"] for row in rows["survey_response"] if row.get("ticket_id")}
    rows["ticket_merge"] = _unique(
        _where_in(connection, ticket_merge, merges.ticket_id, referred)
        + _where_in(connection, ticket_merge, merges.into_ticket_id, read),
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
    # the tickets' and calls' topics (the topic cut), and the few topics of the last discovery whole
    rows["ticket_topic"] = _where_in(connection, ticket_topic, ticket_topic.c.ticket_id, read)
    rows["call_topic"] = _where_in(
        connection, call_topic, call_topic.c.call_id, {r["id"] for r in rows["call"]}
    )
    rows["topic"] = [dict(row._mapping) for row in connection.execute(select(topic))]
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
