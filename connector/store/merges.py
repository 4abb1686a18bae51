"""Ticket merges: a ticket its source merged into another counts no more, and whatever refers to it (a
survey answer, a message) belongs to the survivor, with its cut values (SPEC §4's rule for a record that
borrows cut values from another; issue 16: "a merged ticket's survey belongs to the surviving ticket").

HubSpot merges two tickets into a new record with a new id (knowledge base, "Merge tickets"); its webhook
merge event names the primary, the merged-away ids and the new one (developer changelog, "New subscription
types for Webhooks": `primaryObjectId`, `mergedObjectIds`, `newObjectId`). Links are kept flat: each
merged-away ticket points at a survivor that is not merged itself, so one lookup resolves any reference,
whatever order the merges arrive in.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from connector.store.records import dialect_insert
from connector.store.tables import ticket_merge

MergeKind = Literal["agent", "contact", "ticket"]
"""What a source may merge: agents and contacts fold into identities, tickets into a surviving ticket."""


def merge_ticket(connection: Connection, ticket_id: str, into_ticket_id: str) -> str:
    """Record that `ticket_id` was merged into `into_ticket_id`; returns the survivor (the end of the
    chain when `into_ticket_id` was merged itself). Tickets merged into `ticket_id` before now point at
    the survivor too. A merge into itself, or one that would close a loop, changes nothing."""
    m = ticket_merge.c
    survivor = into_ticket_id
    seen = {ticket_id}
    while True:
        onward = connection.execute(
            select(m.into_ticket_id).where(m.ticket_id == survivor)
        ).scalar_one_or_none()
        if onward is None:
            break
        if onward in seen:  # `into_ticket_id` was merged into `ticket_id`: keep what is stored
            return ticket_id
        seen.add(survivor)
        survivor = onward
    if survivor == ticket_id:
        return survivor
    now = datetime.now(UTC)
    statement = dialect_insert(connection, ticket_merge).values(
        ticket_id=ticket_id, into_ticket_id=survivor, merged_at=now
    )
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=[m.ticket_id], set_={"into_ticket_id": survivor, "merged_at": now}
        )
    )
    connection.execute(
        update(ticket_merge).where(m.into_ticket_id == ticket_id).values(into_ticket_id=survivor)
    )
    return survivor
