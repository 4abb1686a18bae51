"""Webhook processing: each recorded event names its object (type, id, when it changed), counts its
processing attempts and keeps its outcome or last error; pending events and an object's events are
found by index. Survey answers get an index on their contact, so one contact's figures are read without
scanning every answer. Created 2026-12-03.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

COLUMNS = (
    sa.Column(
        "object_type", sa.String(64), nullable=True, comment="the vendor's object type the event is about"
    ),
    sa.Column("object_id", sa.Text(), nullable=True, comment="the vendor's id of that object"),
    sa.Column(
        "occurred_at",
        sa.DateTime(timezone=True),
        nullable=True,
        comment="when the change happened, as the vendor says",
    ),
    sa.Column("attempts", sa.BigInteger(), nullable=False, server_default="0"),
    sa.Column("outcome", sa.String(16), nullable=True, comment="applied, stale or gone, once processed"),
    sa.Column("last_error", sa.Text(), nullable=True, comment="why the last processing attempt failed"),
)


def upgrade() -> None:
    with op.batch_alter_table("webhook_event", schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.add_column(column)
        batch_op.create_index(batch_op.f("ix_webhook_event_processed_at"), ["processed_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_webhook_event_source_object_type_object_id"),
            ["source", "object_type", "object_id"],
            unique=False,
        )
    with op.batch_alter_table("survey_response", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_response_contact_id"), ["contact_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("survey_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_response_contact_id"))
    with op.batch_alter_table("webhook_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_event_source_object_type_object_id"))
        batch_op.drop_index(batch_op.f("ix_webhook_event_processed_at"))
        for column in reversed(COLUMNS):
            batch_op.drop_column(column.name)
