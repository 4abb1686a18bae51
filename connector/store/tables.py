"""Table definitions: one table per entity of the common schema, plus the connector's own state.

Entity tables are derived from the pydantic models, so a field added to the schema is a column here (and
the migration test fails until a migration adds it). Each entity table has the model's fields as typed
columns, `raw` as JSON, `content_hash` (what makes an upsert of the same record a no-op) and
`ingested_at`.
"""

from __future__ import annotations

import types
import typing
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import AwareDatetime
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeEngine

from connector.schema import ENTITIES, Record

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """An instant, always UTC: written as UTC, read back timezone-aware even from SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        # SQLite stores text: drop the offset so every value sorts and compares as the same UTC string
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JsonColumn = JSON().with_variant(JSONB(), "postgresql")


def column_type(annotation: Any) -> TypeEngine[Any]:
    """The column type for a model field's annotation (Optional and Annotated unwrapped)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return column_type(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        (inner,) = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return column_type(inner)
    if origin in (list, dict) or annotation in (list, dict):
        return JsonColumn
    if isinstance(annotation, type):
        if issubclass(annotation, Enum):
            return String(32)
        for python_type, sql_type in _SCALAR_TYPES:
            if issubclass(annotation, python_type):
                return sql_type
    raise TypeError(f"no column type for {annotation!r}")


_SCALAR_TYPES: list[tuple[type, TypeEngine[Any]]] = [
    (bool, Boolean()),  # before int: bool is an int
    (int, BigInteger()),
    (float, Float()),
    (Decimal, Numeric(18, 4)),
    (datetime, UtcDateTime()),  # before date: datetime is a date
    (AwareDatetime, UtcDateTime()),
    (date, Date()),
    (str, Text()),
]

_ENTITY_INDEXES: dict[str, list[tuple[str, ...]]] = {
    "agent": [("email",)],
    "contact": [("email",), ("phone",), ("customer_since",), ("churned_at",)],
    "ticket": [
        ("created_at",),
        ("first_agent_reply_at",),
        ("resolved_at",),
        ("agent_id",),
        ("contact_id",),
        ("updated_at",),
    ],
    "message": [("ticket_id", "created_at"), ("created_at",)],
    "call": [("started_at",), ("agent_id",), ("contact_id",)],
    "survey_response": [("submitted_at",), ("kind", "submitted_at"), ("contact_id",), ("ticket_id",)],
    "quality_review": [("reviewed_at",), ("agent_id",)],
    "purchase": [("contact_id",), ("occurred_at",)],
    "service_cost": [],
}


TICKET_EVENTS = (
    "created_at",
    "first_agent_reply_at",
    "first_resolved_at",
    "resolved_at",
    "closed_at",
    "escalation_at",
)
"""A ticket's event instants: the latest of them says until when the ticket can change a figure."""
LAST_EVENT_INDEX = "ix_ticket_last_event"


class LastEvent(FunctionElement[datetime]):
    """SQL: a ticket's latest event instant (`TICKET_EVENTS`), indexed as `LAST_EVENT_INDEX` so the
    tickets whose life reaches into a span are found without reading the others (see
    `connector.store.facts`). A query finds the index only with this very expression."""

    name = "last_event"
    inherit_cache = True


@compiles(LastEvent, "sqlite")
def _last_event_sqlite(element: LastEvent, compiler: Any, **kw: Any) -> str:
    # SQLite keeps instants as UTC text that sorts as time; its max() of several values is null when
    # any is, so a missing instant counts as the empty string
    return "max(" + ", ".join(f"coalesce({c}, '')" for c in TICKET_EVENTS) + ")"


@compiles(LastEvent, "postgresql")
def _last_event_postgresql(element: LastEvent, compiler: Any, **kw: Any) -> str:
    return "greatest(" + ", ".join(TICKET_EVENTS) + ")"  # greatest() skips nulls


def _entity_table(model: type[Record]) -> Table:
    columns: list[Column[Any]] = [Column("id", Text(), primary_key=True)]
    for name, info in model.model_fields.items():
        if name in ("id", "raw"):
            continue
        nullable = not info.is_required() and info.default is None and info.default_factory is None
        nullable = nullable or type(None) in typing.get_args(info.annotation)
        columns.append(Column(name, column_type(info.annotation), nullable=nullable))
    columns += [
        Column("raw", JsonColumn, nullable=False),
        Column("content_hash", String(64), nullable=False),
        Column("ingested_at", UtcDateTime(), nullable=False),
    ]
    indexes = [Index(None, *cols) for cols in _ENTITY_INDEXES[model.entity]]
    if "source" in model.model_fields:
        indexes.append(Index(None, "source"))
    if model.entity == "ticket":
        indexes.append(Index(LAST_EVENT_INDEX, LastEvent()))
    return Table(model.entity, metadata, *columns, *indexes)


entity_tables: dict[str, Table] = {name: _entity_table(model) for name, model in ENTITIES.items()}


def table_for(model: type[Record] | Record) -> Table:
    return entity_tables[model.entity]


identity_link = Table(
    "identity_link",
    metadata,
    Column("kind", String(16), nullable=False, comment="agent or contact"),
    Column("record_id", Text(), nullable=False),
    Column("identity_id", Text(), nullable=False, comment="the smallest record id of the linked group"),
    Column("email_key", Text(), comment="lower-cased email"),
    Column("phone_key", Text(), comment="E.164 phone (contacts only)"),
    Column("matched_by", String(16), nullable=False, comment="self, email or phone"),
    Column("linked_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("kind", "record_id"),
    Index(None, "kind", "email_key"),
    Index(None, "kind", "phone_key"),
    Index(None, "kind", "identity_id"),
)

ticket_merge = Table(
    "ticket_merge",
    metadata,
    Column("ticket_id", Text(), primary_key=True, comment="a ticket its source merged into another"),
    Column(
        "into_ticket_id", Text(), nullable=False, comment="the ticket that survives it (never merged itself)"
    ),
    Column("merged_at", UtcDateTime(), nullable=False),
    Index(None, "into_ticket_id"),
    comment="HubSpot merges tickets into a new record (webhook merge events): the merged-away ones count no "
    "more, and what referred to them (survey answers, messages) belongs to the survivor",
)

alert_raised = Table(
    "alert_raised",
    metadata,
    Column("rule", Text(), comment="the alert rule as written in HELPDESK_ALERTS"),
    Column("kpi", String(8)),
    Column("stat", String(128)),
    Column("basis", String(16)),
    Column("cut", String(32)),
    Column("cut_value", Text(), comment="'' for the overall cut"),
    Column("period_start", UtcDateTime()),
    Column("value", Float(), nullable=True),
    Column(
        "task_id", Text(), nullable=True, comment="the HubSpot task raised for it (None: HubSpot not written)"
    ),
    Column("raised_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint(
        "rule", "kpi", "stat", "basis", "cut", "cut_value", "period_start"
    ),  # one alert each
    comment="alerts already raised: the same rule on the same figure of the same period raises no second "
    "task",
)

topic = Table(
    "topic",
    metadata,
    Column("number", Integer(), primary_key=True, comment="1 = the largest topic of the last discovery"),
    Column("label", Text(), nullable=False, comment="its three most distinctive terms, ' / '-joined"),
    Column("terms", JsonColumn, nullable=False),
    Column("language", String(8), nullable=True),
    Column("size", Integer(), nullable=False),
    Column(
        "examples", JsonColumn, nullable=False, comment="ids of the tickets (or calls) most typical of it"
    ),
    Column("discovered_at", UtcDateTime(), nullable=False),
    comment="the topics the last `helpdesk-kpi topics` found in the tickets' words (replaced as a whole)",
)


def _topic_of(kind: str, comment: str) -> Table:
    """`<kind>_topic`: each record's topic number (`topic.number`) by the last discovery."""
    return Table(
        f"{kind}_topic",
        metadata,
        Column(f"{kind}_id", Text(), primary_key=True),
        Column("topic", Integer(), nullable=False, comment="topic.number"),
        comment=comment,
    )


ticket_topic = _topic_of(
    "ticket", "each ticket's topic by the last discovery; tickets without words have none"
)
call_topic = _topic_of(
    "call", "each call's topic by the last discovery, from its notes; calls without notes have none"
)

sync_cursor = Table(
    "sync_cursor",
    metadata,
    Column("source", String(64), nullable=False),
    Column("stream", String(64), nullable=False),
    Column(
        "value", Text(), nullable=False, comment="opaque to the store; the stream's windowing engine owns it"
    ),
    Column("updated_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("source", "stream"),
)

kpi_result = Table(
    "kpi_result",
    metadata,
    Column("snapshot_key", Text(), primary_key=True, comment="kpi|stat|basis|start|end|cut|cut_value"),
    Column("kpi", String(8), nullable=False),
    Column("name", Text(), nullable=False),
    Column("stat", String(32), nullable=False),
    Column("basis", String(16), nullable=False),
    Column("period_start", UtcDateTime(), nullable=False),
    Column("period_end", UtcDateTime(), nullable=False),
    Column("cut", String(32), nullable=False),
    Column("cut_value", Text()),
    Column("value", Float()),
    Column("unit", String(32), nullable=False),
    Column("numerator", Float()),
    Column("denominator", Float()),
    Column("count", BigInteger()),
    Column("computed_at", UtcDateTime(), nullable=False),
    Index(None, "kpi", "period_start"),
)

pushed_value = Table(
    "pushed_value",
    metadata,
    Column("target", String(32), nullable=False, comment="e.g. hubspot"),
    Column("object_type", String(64), nullable=False),
    Column("object_id", Text(), nullable=False),
    Column("property", Text(), nullable=False),
    Column("value", Text(), comment="the value as sent; null = cleared"),
    Column("pushed_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("target", "object_type", "object_id", "property"),
)

webhook_event = Table(
    "webhook_event",
    metadata,
    Column("source", String(64), nullable=False),
    Column("event_id", Text(), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("payload", JsonColumn, nullable=False),
    Column("processed_at", UtcDateTime()),
    Column("object_type", String(64), comment="the vendor's object type the event is about"),
    Column("object_id", Text(), comment="the vendor's id of that object"),
    Column("occurred_at", UtcDateTime(), comment="when the change happened, as the vendor says"),
    Column("attempts", BigInteger(), nullable=False, server_default="0"),
    Column("outcome", String(16), comment="applied, stale or gone, once processed"),
    Column("last_error", Text(), comment="why the last processing attempt failed"),
    PrimaryKeyConstraint("source", "event_id"),
    Index(None, "processed_at"),
    Index(None, "source", "object_type", "object_id"),
)
