"""What agents wrote on a call (its notes), and each call's topic found in them. Created 2026-12-04."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _examples(comment: str) -> None:
    with op.batch_alter_table("topic", schema=None) as batch_op:
        batch_op.alter_column("examples", existing_type=JSON, existing_nullable=False, comment=comment)


def upgrade() -> None:
    op.create_table(
        "call_topic",
        sa.Column("call_id", sa.Text(), primary_key=True),  # named pk_call_topic by the naming convention
        sa.Column("topic", sa.Integer(), nullable=False, comment="topic.number"),
        comment="each call's topic by the last discovery, from its notes; calls without notes have none",
    )
    # a plain ALTER TABLE: batch mode would copy the call table on SQLite and lose 0004's indexes
    op.add_column("call", sa.Column("notes", sa.Text(), nullable=True))
    _examples("ids of the tickets (or calls) most typical of it")


def downgrade() -> None:
    _examples("ids of the tickets most typical of it")
    op.drop_column("call", "notes")
    op.drop_table("call_topic")
