"""The tickets' words in, the discovered topics out: what `helpdesk-kpi topics` reads and keeps.

A discovery replaces the previous one as a whole (`topic`, `ticket_topic`), in one transaction: the
numbers and labels belong to one model, and a ticket never carries the topic number of another model.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection, Engine

from connector.store.records import dialect_insert
from connector.store.tables import entity_tables, ticket_merge, ticket_topic, topic

CHUNK = 5_000


def ticket_texts(
    engine: Engine, since: datetime | None = None, *, unassigned: bool = False
) -> Iterator[tuple[str, str]]:
    """(ticket id, subject + description) of every ticket a KPI counts (not archived, not merged away),
    created from `since` on, oldest first; tickets with neither text are left out, and with `unassigned`
    those that have a topic."""
    t = entity_tables["ticket"].c
    merged = select(ticket_merge.c.ticket_id)
    query = (
        select(t.id, t.subject, t.description)
        .where(~t.archived, t.id.not_in(merged))
        .where((t.subject.is_not(None)) | (t.description.is_not(None)))
        .order_by(t.created_at, t.id)
    )
    if since is not None:
        query = query.where(t.created_at >= since)
    if unassigned:
        query = query.where(t.id.not_in(select(ticket_topic.c.ticket_id)))
    with engine.connect() as connection:
        for row in connection.execution_options(stream_results=True, yield_per=CHUNK).execute(query):
            yield row.id, "\n".join(part for part in (row.subject, row.description) if part)


def replace_topics(
    connection: Connection, topics: Sequence[dict[str, Any]], assigned: Sequence[tuple[str, int]]
) -> None:
    """The discovery's `topics` (rows of `topic`) and each ticket's topic number, in place of the last."""
    connection.execute(delete(ticket_topic))
    connection.execute(delete(topic))
    if topics:
        connection.execute(insert(topic), list(topics))
    rows = [{"ticket_id": ticket_id, "topic": number} for ticket_id, number in assigned]
    for start in range(0, len(rows), CHUNK):
        connection.execute(insert(ticket_topic), rows[start : start + CHUNK])


def add_ticket_topics(connection: Connection, assigned: Sequence[tuple[str, int]]) -> None:
    """Give tickets without a topic one of the last discovery's (a ticket that got one meanwhile keeps
    it)."""
    rows = [{"ticket_id": ticket_id, "topic": number} for ticket_id, number in assigned]
    for start in range(0, len(rows), CHUNK):
        statement = dialect_insert(connection, ticket_topic).on_conflict_do_nothing(
            index_elements=["ticket_id"]
        )
        connection.execute(statement, rows[start : start + CHUNK])


def stored_topics(engine: Engine) -> list[dict[str, Any]]:
    """The topics of the last discovery, by number."""
    with engine.connect() as connection:
        return [dict(r._mapping) for r in connection.execute(select(topic).order_by(topic.c.number))]


def topics_of(engine: Engine, ticket_ids: Sequence[str]) -> dict[str, str]:
    """Ticket id → its topic's label, for the tickets of `ticket_ids` that have one."""
    found: dict[str, str] = {}
    with engine.connect() as connection:
        for start in range(0, len(ticket_ids), CHUNK):
            chunk = list(ticket_ids[start : start + CHUNK])
            query = (
                select(ticket_topic.c.ticket_id, topic.c.label)
                .join(topic, topic.c.number == ticket_topic.c.topic)
                .where(ticket_topic.c.ticket_id.in_(chunk))
            )
            found.update({ticket_id: label for ticket_id, label in connection.execute(query)})
    return found
