"""Alerts already raised (`alert_raised`): a rule firing on the same figure of the same period again
raises no second task."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from connector.store.records import dialect_insert
from connector.store.tables import alert_raised

AlertKey = tuple[str, str, str, str, str, str, str]
"""(rule, kpi, stat, basis, cut, cut value ('' overall), period start as ISO text)."""
KEY_COLUMNS = ("rule", "kpi", "stat", "basis", "cut", "cut_value", "period_start")


def raised_alerts(connection: Connection, keys: Sequence[AlertKey]) -> set[AlertKey]:
    """Which of `keys` were raised before."""
    if not keys:
        return set()
    a = alert_raised.c
    rules = sorted({key[0] for key in keys})
    rows = connection.execute(select(*(a[c] for c in KEY_COLUMNS)).where(a.rule.in_(rules)))
    seen = {(r.rule, r.kpi, r.stat, r.basis, r.cut, r.cut_value, r.period_start.isoformat()) for r in rows}
    return {key for key in keys if key in seen}


Raised = tuple[AlertKey, float | None, str | None]
"""An alert just raised: its key, the figure's value, the HubSpot task id (None: none written)."""


def remember_alerts(connection: Connection, raised: Iterable[Raised]) -> None:
    """Record alerts just raised."""
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = [
        {
            **dict(zip(KEY_COLUMNS[:-1], key[:-1], strict=True)),
            "period_start": datetime.fromisoformat(key[-1]),
            "value": value,
            "task_id": task_id,
            "raised_at": now,
        }
        for key, value, task_id in raised
    ]
    if rows:
        statement = dialect_insert(connection, alert_raised)
        connection.execute(statement.on_conflict_do_nothing(index_elements=list(KEY_COLUMNS)), rows)
