"""The words of tickets and calls in, the discovered topics out: what `helpdesk-kpi topics` reads and keeps.

A ticket's words are its subject and description (the customer's first message), a call's its notes (what
the agent wrote). A discovery replaces the previous one as a whole (`topic`, `ticket_topic`,
`call_topic`), in one transaction: the numbers and labels belong to one model, and no record carries the
topic number of another model.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, Table, delete, func, insert, select
from sqlalchemy.engine import Connection, Engine

from connector.store.records import dialect_insert
from connector.store.tables import call_topic, entity_tables, ticket_merge, ticket_topic, topic

CHUNK = 5_000
TopicKind = Literal["ticket", "call"]
TOPIC_KINDS: tuple[TopicKind, ...] = ("ticket", "call")
"""The records a topic is found in; tickets first (their subjects make the better examples)."""
TOPIC_TABLES: dict[TopicKind, Table] = {"ticket": ticket_topic, "call": call_topic}
"""Where each kind's topics are kept: (record id, topic number), the id in the table's first column."""


def _words(kind: TopicKind) -> tuple[Select[Any], ColumnElement[Any]]:
    """The query for (id, its text columns…) of the records of `kind` a KPI counts that have words, and
    the time a learning window applies to (a ticket's creation, a call's start)."""
    if kind == "ticket":
        t = entity_tables["ticket"].c
        query = select(t.id, t.subject, t.description).where(
            ~t.archived,
            t.id.not_in(select(ticket_merge.c.ticket_id)),
            t.subject.is_not(None) | t.description.is_not(None),
        )
        return query, t.created_at
    c = entity_tables["call"].c
    return select(c.id, c.notes).where(~c.archived, c.notes.is_not(None)), c.started_at


def topic_texts(
    engine: Engine, kind: TopicKind, since: datetime | None = None, *, unassigned: bool = False
) -> Iterator[tuple[str, str]]:
    """(id, words) of every ticket or call of `kind` a KPI counts (not archived, not merged away) that
    has words, from `since` on, oldest first; with `unassigned`, of those without a topic only."""
    query, moment = _words(kind)
    if since is not None:
        query = query.where(moment >= since)
    if unassigned:
        kept = TOPIC_TABLES[kind]
        query = query.where(query.selected_columns[0].not_in(select(kept.c[0])))
    query = query.order_by(moment, query.selected_columns[0])
    with engine.connect() as connection:
        for record_id, *parts in connection.execution_options(stream_results=True, yield_per=CHUNK).execute(
            query
        ):
            yield record_id, "\n".join(part for part in parts if part)


def _rows(kind: TopicKind, assigned: Sequence[tuple[str, int]]) -> list[dict[str, Any]]:
    key = TOPIC_TABLES[kind].c[0].name
    return [{key: record_id, "topic": number} for record_id, number in assigned]


def replace_topics(
    connection: Connection,
    topics: Sequence[dict[str, Any]],
    assigned: Mapping[TopicKind, Sequence[tuple[str, int]]],
) -> None:
    """The discovery's `topics` (rows of `topic`) and each ticket's and call's topic number (`assigned`
    by kind), in place of the last."""
    for kind in TOPIC_KINDS:
        connection.execute(delete(TOPIC_TABLES[kind]))
    connection.execute(delete(topic))
    if topics:
        connection.execute(insert(topic), list(topics))
    for kind, pairs in assigned.items():
        rows = _rows(kind, pairs)
        for start in range(0, len(rows), CHUNK):
            connection.execute(insert(TOPIC_TABLES[kind]), rows[start : start + CHUNK])


def add_topics(connection: Connection, kind: TopicKind, assigned: Sequence[tuple[str, int]]) -> None:
    """Give tickets or calls without a topic one of the last discovery's (one that got one meanwhile
    keeps it)."""
    table = TOPIC_TABLES[kind]
    rows = _rows(kind, assigned)
    for start in range(0, len(rows), CHUNK):
        statement = dialect_insert(connection, table).on_conflict_do_nothing(index_elements=[table.c[0].name])
        connection.execute(statement, rows[start : start + CHUNK])


def stored_topics(engine: Engine) -> list[dict[str, Any]]:
    """The topics of the last discovery, by number."""
    with engine.connect() as connection:
        return [dict(r._mapping) for r in connection.execute(select(topic).order_by(topic.c.number))]


def topic_sizes(engine: Engine) -> dict[int, dict[TopicKind, int]]:
    """Topic number → how many tickets and calls have it."""
    sizes: dict[int, dict[TopicKind, int]] = {}
    with engine.connect() as connection:
        for kind in TOPIC_KINDS:
            table = TOPIC_TABLES[kind]
            query = select(table.c.topic, func.count()).group_by(table.c.topic)
            for number, n in connection.execute(query):
                sizes.setdefault(number, dict.fromkeys(TOPIC_KINDS, 0))[kind] = n
    return sizes


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
