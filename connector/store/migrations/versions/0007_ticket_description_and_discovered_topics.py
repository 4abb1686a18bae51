"""A ticket's description (the customer's first message), and the topics `helpdesk-kpi topics` discovers
in the tickets' words with each ticket's topic. Created 2026-12-04.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "ticket_topic",
        sa.Column("ticket_id", sa.Text(), nullable=False),
        sa.Column("topic", sa.Integer(), nullable=False, comment="topic.number"),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_ticket_topic")),
        comment="each ticket's topic by the last discovery; tickets without words have none",
    )
    op.create_table(
        "topic",
        sa.Column(
            "number", sa.Integer(), nullable=False, comment="1 = the largest topic of the last discovery"
        ),
        sa.Column(
            "label", sa.Text(), nullable=False, comment="its three most distinctive terms, ' / '-joined"
        ),
        sa.Column("terms", JSON, nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("examples", JSON, nullable=False, comment="ids of the tickets most typical of it"),
        sa.Column("discovered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_topic")),
        comment="the topics the last `helpdesk-kpi topics` found in the tickets' words (replaced as a whole)",
    )
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))


def downgrade() -> None:
    # a plain ALTER TABLE (SQLite 3.35+ has DROP COLUMN): batch mode would copy the table on SQLite and
    # lose the expression index 0004 made, which 0004's own downgrade then drops
    op.drop_column("ticket", "description")
    op.drop_table("topic")
    op.drop_table("ticket_topic")
