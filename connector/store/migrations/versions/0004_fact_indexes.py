"""Fact indexes: a computation of a few periods finds the rows it needs by index instead of reading the
whole store (see `connector.store.facts`): tickets by their latest event (an expression index), messages
by their time, survey answers by their ticket. Created 2026-12-03.
"""

from __future__ import annotations

from alembic import op

from connector.store.tables import LAST_EVENT_INDEX, LastEvent

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_created_at"), ["created_at"], unique=False)
    with op.batch_alter_table("survey_response", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_response_ticket_id"), ["ticket_id"], unique=False)
    op.create_index(LAST_EVENT_INDEX, "ticket", [LastEvent()], unique=False)


def downgrade() -> None:
    op.drop_index(LAST_EVENT_INDEX, table_name="ticket")
    with op.batch_alter_table("survey_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_response_ticket_id"))
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_created_at"))
