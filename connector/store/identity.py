"""Linking the same person across sources: agents by email, contacts by email and then phone.

Each agent or contact record gets one row in `identity_link` naming its `identity_id`: the smallest record
id of its group. A record that shares a normalised email (or, for contacts, an E.164 phone) with records
of other groups joins them all into one group (groups only ever merge, so the result does not depend on
the order records arrive). The records themselves are never changed or deleted by a merge: the link table
is the only thing that moves, so a wrong match can be undone without losing data.

A record whose email changes keeps its old links as well (merges are sticky); that errs on the side of
one customer counted once rather than twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Connection

from connector.schema import Agent, Contact
from connector.store.records import dialect_insert
from connector.store.tables import identity_link

IdentityKind = Literal["agent", "contact"]


def email_key(email: str | None) -> str | None:
    """Emails compare case-insensitively and without surrounding spaces."""
    return email.strip().lower() if email else None


def link_identities(connection: Connection, records: Sequence[Agent | Contact]) -> None:
    """Create or refresh the identity links of these agents/contacts (inside the caller's transaction)."""
    now = datetime.now(UTC)
    for record in records:
        kind: IdentityKind = "agent" if isinstance(record, Agent) else "contact"
        email = email_key(record.email)
        phone = record.phone if isinstance(record, Contact) else None
        own = connection.execute(
            select(identity_link.c.identity_id).where(
                identity_link.c.kind == kind, identity_link.c.record_id == record.id
            )
        ).scalar_one_or_none()
        matches = _matching_identities(connection, kind, record.id, email, phone)
        groups = {identity for identity, _ in matches} | {own or record.id}
        target = min(groups)
        ways = {how for _, how in matches}
        matched_by = "email" if "email" in ways else "phone" if ways else "self"
        statement = dialect_insert(connection, identity_link).values(
            kind=kind,
            record_id=record.id,
            identity_id=target,
            email_key=email,
            phone_key=phone,
            matched_by=matched_by,
            linked_at=now,
        )
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=[identity_link.c.kind, identity_link.c.record_id],
                set_={
                    "identity_id": target,
                    "email_key": email,
                    "phone_key": phone,
                    "matched_by": matched_by,
                    "linked_at": now,
                },
            )
        )
        others = groups - {target}
        if others:
            connection.execute(
                update(identity_link)
                .where(identity_link.c.kind == kind, identity_link.c.identity_id.in_(sorted(others)))
                .values(identity_id=target, linked_at=now)
            )


def _matching_identities(
    connection: Connection, kind: IdentityKind, record_id: str, email: str | None, phone: str | None
) -> list[tuple[str, str]]:
    """(identity_id, 'email' | 'phone') of other records sharing this email or phone."""
    conditions = []
    if email:
        conditions.append(identity_link.c.email_key == email)
    if phone:
        conditions.append(identity_link.c.phone_key == phone)
    if not conditions:
        return []
    rows = connection.execute(
        select(identity_link.c.identity_id, identity_link.c.email_key).where(
            and_(identity_link.c.kind == kind, identity_link.c.record_id != record_id, or_(*conditions))
        )
    )
    return [(row.identity_id, "email" if email and row.email_key == email else "phone") for row in rows]


def identity_of(connection: Connection, kind: IdentityKind, record_id: str) -> str | None:
    return connection.execute(
        select(identity_link.c.identity_id).where(
            identity_link.c.kind == kind, identity_link.c.record_id == record_id
        )
    ).scalar_one_or_none()


def linked_records(connection: Connection, kind: IdentityKind, identity_id: str) -> list[str]:
    """Every record id of one identity, sorted."""
    rows = connection.execute(
        select(identity_link.c.record_id)
        .where(identity_link.c.kind == kind, identity_link.c.identity_id == identity_id)
        .order_by(identity_link.c.record_id)
    )
    return [row.record_id for row in rows]
