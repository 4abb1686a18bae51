"""Ticket merges: which ticket a source merged into which (HubSpot's webhook merge events), so the
merged-away tickets count no more and what referred to them belongs to the survivor. Created 2026-12-04.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_table(
        "ticket_merge",
        sa.Column("ticket_id", sa.Text(), nullable=False, comment="a ticket its source merged into another"),
        sa.Column(
            "into_ticket_id",
            sa.Text(),
            nullable=False,
            comment="the ticket that survives it (never merged itself)",
        ),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_ticket_merge")),
        comment="HubSpot merges tickets into a new record (webhook merge events): the merged-away ones count "
        "no more, and what referred to them (survey answers, messages) belongs to the survivor",
    )
    with op.batch_alter_table("ticket_merge", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_merge_into_ticket_id"), ["into_ticket_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ticket_merge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_merge_into_ticket_id"))
    op.drop_table("ticket_merge")
