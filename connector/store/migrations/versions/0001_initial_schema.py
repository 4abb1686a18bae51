"""Initial schema: one table per entity of the common schema, identity links, sync cursors, KPI results,
pushed values and webhook events. Created 2026-11-23.

Written with three local helpers (a migration stays frozen, so it borrows nothing from the live table
definitions): ``_record_table`` adds what every normalised record carries (id, source, source id, raw
payload, content hash, ingest time), ``_indexes`` names each index ``ix_<table>_<columns>`` as the naming
convention of ``connector/store/tables.py`` does.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None

TABLES = (
    "agent",
    "call",
    "contact",
    "identity_link",
    "kpi_result",
    "message",
    "purchase",
    "pushed_value",
    "quality_review",
    "service_cost",
    "survey_response",
    "sync_cursor",
    "ticket",
    "webhook_event",
)


def _json(name: str) -> sa.Column[Any]:
    """A JSON column (JSONB on PostgreSQL), never null."""
    return sa.Column(
        name, sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
    )


def _text(name: str, *, nullable: bool = True, **kwargs: Any) -> sa.Column[Any]:
    return sa.Column(name, sa.Text(), nullable=nullable, **kwargs)


def _short(name: str, length: int, *, nullable: bool = False, **kwargs: Any) -> sa.Column[Any]:
    return sa.Column(name, sa.String(length=length), nullable=nullable, **kwargs)


def _instant(name: str, *, nullable: bool = True) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _number(name: str, *, nullable: bool = True) -> sa.Column[Any]:
    return sa.Column(name, sa.Float(), nullable=nullable)


def _money(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.Numeric(precision=18, scale=4), nullable=False)


def _flag(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.Boolean(), nullable=False)


def _whole(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _table(
    name: str, *columns: sa.Column[Any], key: tuple[str, ...], indexes: tuple[tuple[str, ...], ...] = ()
) -> None:
    """Create table ``name`` with its primary key ``pk_<name>`` and an index per column tuple."""
    op.create_table(name, *columns, sa.PrimaryKeyConstraint(*key, name=op.f(f"pk_{name}")))
    for columns_of_index in indexes:
        op.create_index(
            op.f(f"ix_{name}_{'_'.join(columns_of_index)}"), name, list(columns_of_index), unique=False
        )


def _record_table(name: str, *columns: sa.Column[Any], indexes: tuple[tuple[str, ...], ...] = ()) -> None:
    """A table of normalised records: id, source and source id, the entity's columns, then the raw payload,
    its content hash and the ingest time; ``source`` is always indexed."""
    _table(
        name,
        _text("id", nullable=False),
        _text("source", nullable=False),
        _text("source_id", nullable=False),
        *columns,
        _json("raw"),
        _short("content_hash", 64),
        _instant("ingested_at", nullable=False),
        key=("id",),
        indexes=(*indexes, ("source",)),
    )


def upgrade() -> None:
    _record_table(
        "agent",
        _text("name"),
        _text("email"),
        _json("teams"),
        _flag("active"),
        indexes=(("email",),),
    )
    _record_table(
        "call",
        _short("direction", 32),
        _short("status", 32),
        _text("missed_reason"),
        _instant("started_at", nullable=False),
        _instant("answered_at"),
        _instant("ended_at"),
        _number("wait_seconds"),
        _number("talk_seconds"),
        _number("hold_seconds"),
        _number("wrap_up_seconds"),
        _text("agent_id"),
        _text("team"),
        _text("contact_id"),
        _text("phone_number"),
        _text("ticket_id"),
        _instant("updated_at"),
        indexes=(("agent_id",), ("contact_id",), ("started_at",)),
    )
    _record_table(
        "contact",
        _text("email"),
        _text("phone"),
        _text("name"),
        _text("company"),
        _instant("created_at"),
        _instant("customer_since"),
        _instant("churned_at"),
        _text("acquisition_source"),
        _text("referred_by"),
        _json("attributes"),
        indexes=(("churned_at",), ("customer_since",), ("email",), ("phone",)),
    )
    _table(
        "identity_link",
        _short("kind", 16, comment="agent or contact"),
        _text("record_id", nullable=False),
        _text("identity_id", nullable=False, comment="the smallest record id of the linked group"),
        _text("email_key", comment="lower-cased email"),
        _text("phone_key", comment="E.164 phone (contacts only)"),
        _short("matched_by", 16, comment="self, email or phone"),
        _instant("linked_at", nullable=False),
        key=("kind", "record_id"),
        indexes=(("kind", "email_key"), ("kind", "identity_id"), ("kind", "phone_key")),
    )
    _table(
        "kpi_result",
        _text("snapshot_key", nullable=False, comment="kpi|stat|basis|start|end|cut|cut_value"),
        _short("kpi", 8),
        _text("name", nullable=False),
        _short("stat", 32),
        _short("basis", 16),
        _instant("period_start", nullable=False),
        _instant("period_end", nullable=False),
        _short("cut", 32),
        _text("cut_value"),
        _number("value"),
        _short("unit", 32),
        _number("numerator"),
        _number("denominator"),
        _whole("count", nullable=True),
        _instant("computed_at", nullable=False),
        key=("snapshot_key",),
        indexes=(("kpi", "period_start"),),
    )
    _record_table(
        "message",
        _text("ticket_id", nullable=False),
        _short("author_type", 32),
        _text("agent_id"),
        _text("channel"),
        _instant("created_at", nullable=False),
        _flag("is_public"),
        indexes=(("ticket_id", "created_at"),),
    )
    _record_table(
        "purchase",
        _text("contact_id"),
        _money("amount"),
        _text("currency", nullable=False),
        _number("gross_margin"),
        _instant("occurred_at", nullable=False),
        indexes=(("contact_id",), ("occurred_at",)),
    )
    _table(
        "pushed_value",
        _short("target", 32, comment="e.g. hubspot"),
        _short("object_type", 64),
        _text("object_id", nullable=False),
        _text("property", nullable=False),
        _text("value", comment="the value as sent; null = cleared"),
        _instant("pushed_at", nullable=False),
        key=("target", "object_type", "object_id", "property"),
    )
    _record_table(
        "quality_review",
        _text("ticket_id"),
        _text("call_id"),
        _text("agent_id"),
        _instant("reviewed_at", nullable=False),
        _json("criteria"),
        _json("weights"),
        _json("critical"),
        indexes=(("agent_id",), ("reviewed_at",)),
    )
    _table(
        "service_cost",
        _text("id", nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        _money("amount"),
        _text("currency", nullable=False),
        _json("raw"),
        _short("content_hash", 64),
        _instant("ingested_at", nullable=False),
        key=("id",),
    )
    _record_table(
        "survey_response",
        _short("kind", 32),
        _number("scale_min", nullable=False),
        _number("scale_max", nullable=False),
        _number("score", nullable=False),
        _instant("submitted_at", nullable=False),
        _text("contact_id"),
        _text("ticket_id"),
        _text("agent_id"),
        _short("dimension", 32, nullable=True),
        _short("measure", 32, nullable=True),
        _text("comment"),
        _instant("responded_at"),
        indexes=(("kind", "submitted_at"), ("submitted_at",)),
    )
    _table(
        "sync_cursor",
        _short("source", 64),
        _short("stream", 64),
        _text("value", nullable=False, comment="opaque to the store; the stream's windowing engine owns it"),
        _instant("updated_at", nullable=False),
        key=("source", "stream"),
    )
    _record_table(
        "ticket",
        _text("subject"),
        _text("channel", nullable=False),
        _short("status", 32),
        _short("priority", 32, nullable=True),
        _text("category"),
        _json("tags"),
        _text("contact_id"),
        _text("agent_id"),
        _text("team"),
        _instant("created_at", nullable=False),
        _instant("first_agent_reply_at"),
        _instant("first_resolved_at"),
        _instant("resolved_at"),
        _instant("closed_at"),
        _whole("reopen_count"),
        _flag("escalated"),
        _instant("escalation_at"),
        _whole("transfer_count"),
        _flag("is_complaint"),
        _number("handle_seconds"),
        _instant("updated_at"),
        indexes=(
            ("agent_id",),
            ("contact_id",),
            ("created_at",),
            ("first_agent_reply_at",),
            ("resolved_at",),
            ("updated_at",),
        ),
    )
    _table(
        "webhook_event",
        _short("source", 64),
        _text("event_id", nullable=False),
        _instant("received_at", nullable=False),
        _json("payload"),
        _instant("processed_at"),
        key=("source", "event_id"),
    )


def downgrade() -> None:
    """Drop every table; each table's indexes go with it."""
    for table in reversed(TABLES):
        op.drop_table(table)
