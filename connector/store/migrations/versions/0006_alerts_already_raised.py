"""Alerts already raised (HELPDESK_ALERTS): the same rule on the same figure of the same period raises
no second HubSpot task. Created 2026-12-04.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"

INSTANT = sa.DateTime(timezone=True)
"""A moment in time (UTC), as the store's `UtcDateTime` columns are."""


def upgrade() -> None:
    op.create_table(
        "alert_raised",
        sa.Column("rule", sa.Text(), nullable=False, comment="the alert rule as written in HELPDESK_ALERTS"),
        sa.Column("kpi", sa.String(length=8), nullable=False),
        sa.Column("stat", sa.String(length=128), nullable=False),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("cut", sa.String(length=32), nullable=False),
        sa.Column("cut_value", sa.Text(), nullable=False, comment="'' for the overall cut"),
        sa.Column("period_start", INSTANT, nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column(
            "task_id",
            sa.Text(),
            nullable=True,
            comment="the HubSpot task raised for it (None: HubSpot not written)",
        ),
        sa.Column("raised_at", INSTANT, nullable=False),
        sa.PrimaryKeyConstraint(
            "rule", "kpi", "stat", "basis", "cut", "cut_value", "period_start", name=op.f("pk_alert_raised")
        ),
        comment="alerts already raised: the same rule on the same figure of the same period raises no second "
        "task",
    )


def downgrade() -> None:
    op.drop_table("alert_raised")
