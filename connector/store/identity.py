"""Linking the same person across sources: agents by email, contacts by email and then phone.

Each agent or contact record gets one row in `identity_link` naming its `identity_id`: the smallest record
id of its group. A record that shares a normalised email (or, for contacts, an E.164 phone) with records
of other groups joins them all into one group; groups only ever merge, so links by email do not depend on
the order records arrive in (links by phone can, where a phone is ambiguous). The records themselves are
never changed or deleted by a merge: the link table is the only thing that moves, so a wrong match can be
undone without losing data.

Emails link unconditionally. A shared phone links only records whose groups carry no conflicting email
(see `_phone_groups_to_join`). A record whose email changes keeps its old links as well (merges are
sticky); that errs on the side of one customer counted once rather than twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Connection

from connector.schema import Agent, Contact
from connector.store.records import dialect_insert, id_chunks
from connector.store.tables import entity_tables, identity_link

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
        own = own or record.id
        by_email = _groups_sharing(connection, kind, record.id, identity_link.c.email_key, email)
        by_phone = _groups_sharing(connection, kind, record.id, identity_link.c.phone_key, phone) - by_email
        by_phone = _phone_groups_to_join(connection, kind, by_phone, {own, *by_email}, email)
        groups = {own} | by_email | by_phone
        target = min(groups)
        matched_by = "email" if by_email else "phone" if by_phone else "self"
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


def _groups_sharing(
    connection: Connection, kind: IdentityKind, record_id: str, column: Any, value: str | None
) -> set[str]:
    """Identities of the other records whose `column` equals `value`."""
    if not value:
        return set()
    rows = connection.execute(
        select(identity_link.c.identity_id)
        .distinct()
        .where(identity_link.c.kind == kind, identity_link.c.record_id != record_id, column == value)
    )
    return {row.identity_id for row in rows}


def _phone_groups_to_join(
    connection: Connection, kind: IdentityKind, candidates: set[str], own_groups: set[str], email: str | None
) -> set[str]:
    """A shared phone links people only when no email says they are different people: a switchboard or a
    family landline is shared by people with emails of their own. A phone that points at two groups with
    different emails is ambiguous and links nothing."""
    if not candidates:
        return set()
    emails: dict[str, set[str]] = {}
    rows = connection.execute(
        select(identity_link.c.identity_id, identity_link.c.email_key).where(
            identity_link.c.kind == kind,
            identity_link.c.identity_id.in_(sorted(candidates | own_groups)),
            identity_link.c.email_key.is_not(None),
        )
    )
    for row in rows:
        emails.setdefault(row.identity_id, set()).add(row.email_key)
    ours = ({email} if email else set()).union(*(emails.get(g, set()) for g in own_groups))
    if ours:
        return {g for g in candidates if emails.get(g, set()) <= ours}
    theirs = set().union(*(emails.get(g, set()) for g in candidates))
    return candidates if len(theirs) <= 1 else set()


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


def fold_identity(connection: Connection, kind: IdentityKind, record_id: str, into_record_id: str) -> str:
    """Join `record_id`'s group to `into_record_id`'s (a source merged the two records, as HubSpot's
    `hs_merged_object_ids` says): the record need not be stored, references to it fold into the survivor.
    Returns the group's identity."""
    now = datetime.now(UTC)
    mine = identity_of(connection, kind, record_id) or record_id
    theirs = identity_of(connection, kind, into_record_id) or into_record_id
    target = min(mine, theirs)
    for rid, matched_by in ((into_record_id, "self"), (record_id, "merge")):
        statement = dialect_insert(connection, identity_link).values(
            kind=kind, record_id=rid, identity_id=target, matched_by=matched_by, linked_at=now
        )
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=[identity_link.c.kind, identity_link.c.record_id],
                set_={"identity_id": target, "linked_at": now}
                | ({"matched_by": matched_by} if rid == record_id else {}),
            )
        )
    connection.execute(
        update(identity_link)
        .where(
            identity_link.c.kind == kind, identity_link.c.identity_id.in_(sorted({mine, theirs} - {target}))
        )
        .values(identity_id=target, linked_at=now)
    )
    return target


def source_contacts(
    connection: Connection, source: str, identities: Iterable[str] | None = None
) -> list[tuple[str, str]]:
    """(contact record id, its identity) of every live contact of `source` (only those of `identities`,
    by identity or record id, when given)."""
    contact = entity_tables["contact"]
    link = identity_link.c
    query = (
        select(contact.c.id, link.identity_id)
        .select_from(contact)
        .outerjoin(identity_link, (link.record_id == contact.c.id) & (link.kind == "contact"))
        .where(contact.c.source == source, contact.c.archived.is_(False))
    )
    if identities is None:
        rows = list(connection.execute(query))
    else:
        rows = []
        for chunk in id_chunks(identities):
            rows += connection.execute(query.where(or_(link.identity_id.in_(chunk), contact.c.id.in_(chunk))))
    return [(row[0], row[1] or row[0]) for row in rows]
