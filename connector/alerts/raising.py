"""Raising the alerts that fire: one HubSpot task each (for `HELPDESK_ALERT_OWNER`), one summary line
each, and never twice for the same rule, figure and period (the store remembers what was raised).

A task carries the KPI, period, cut, value and threshold, and a link to the figure's KPI snapshot record
(`helpdesk_kpi_snapshot`) when HubSpot has it, else its `snapshot_key` (searchable in HubSpot). Without
HubSpot as a write target the alert is a summary line only, and is remembered all the same; a dry run
prints the tasks it would create and remembers nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from connector.alerts.check import Alert, firing
from connector.kpis.results import KpiResult
from connector.settings import Settings
from connector.store import Store
from connector.store.alerts import Raised

SUBJECT_LIMIT = 250


class TaskWriter(Protocol):
    """Where alert tasks go (`HubSpotWriter`)."""

    def create_tasks(self, tasks: Sequence[Mapping[str, str]]) -> list[str | None]:
        """The created (or found) task ids in order; None where one was refused."""
        ...

    def snapshot_links(self, keys: Sequence[str]) -> dict[str, str]:
        """The address of each snapshot record of `keys` that exists."""
        ...


def task_properties(
    alert: Alert, owner: str | None, moment: datetime, link: str | None = None
) -> dict[str, str]:
    """The HubSpot task of an alert (property names from HubSpot's tasks guide, NOTES.md); `link` is the
    address of the figure's snapshot record."""
    r = alert.result
    where = "overall" if r.cut == "overall" else f"{r.cut} {r.cut_value}"
    subject = (  # unique per alert (rule, figure, period): the search before a create finds it by this
        f"KPI alert: {r.kpi} {r.name} {r.stat} ({r.basis}) {where}, period from {r.period_start:%Y-%m-%d} "
        f"({alert.rule.text})"
    )
    snapshot = f"helpdesk_kpi_snapshot with snapshot_key {r.snapshot_key}"
    body = (
        f"{alert.describe()}\n\nKPI snapshot: {link + ' (' + snapshot + ')' if link else snapshot}\n"
        "Raised by the helpdesk KPI connector (HELPDESK_ALERTS); it is not raised again for this period."
    )
    properties = {
        "hs_timestamp": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "hs_task_subject": subject[:SUBJECT_LIMIT],
        "hs_task_body": body,
        "hs_task_status": "NOT_STARTED",
        "hs_task_priority": "HIGH",
        "hs_task_type": "TODO",
    }
    if owner:
        properties["hubspot_owner_id"] = owner
    return properties


def raise_alerts(
    settings: Settings,
    store: Store,
    results: Sequence[KpiResult],
    *,
    moment: datetime,
    writer: TaskWriter | None,
    dry_run: bool,
) -> list[str]:
    """Check the rules on `results`, raise what is new; returns the summary lines. `writer` makes the
    HubSpot tasks (None: HubSpot is not written)."""
    rules = settings.alert_rules
    if not rules:
        return []
    alerts = firing(rules, results, store.kpi_results(), moment)
    seen = store.raised_alerts([a.key for a in alerts])
    new = [a for a in alerts if a.key not in seen]
    lines = [f"alerts: {len(new)} new, {len(alerts) - len(new)} raised before ({len(rules)} rule(s))"]
    if not new:
        return lines
    ids: list[str | None] = [None] * len(new)
    if writer is not None:
        links = writer.snapshot_links([a.result.snapshot_key for a in new])
        ids = writer.create_tasks(
            [task_properties(a, settings.alert_owner, moment, links.get(a.result.snapshot_key)) for a in new]
        )
    for alert, task_id in zip(new, ids, strict=True):
        if dry_run:
            lines.append(f"alert (dry run, not raised): {alert.describe()}")
        elif task_id is not None:
            lines.append(f"alert: {alert.describe()} → HubSpot task {task_id}")
        elif writer is not None:
            lines.append(
                f"alert NOT raised (HubSpot refused the task; next run tries again): {alert.describe()}"
            )
        else:
            lines.append(f"alert: {alert.describe()}")
    if not dry_run:
        kept: list[Raised] = [
            (a.key, a.result.value, task_id)
            for a, task_id in zip(new, ids, strict=True)
            if task_id is not None or writer is None
        ]
        store.remember_alerts(kept)
    return lines
