"""The contact history a forecast learns from: contacts per local hour per channel group, and what a
contact costs an agent.

Channel groups: `calls` (inbound calls, by start) and `tickets:<channel>` (tickets by creation, one group
per channel) — the contacts K13 and K30 count. Hours are the desk's wall-clock hours (its time zone), so
the daily and weekly patterns stay in place across daylight-saving changes: the hour a spring change skips
counts 0, the hour an autumn change repeats counts both. Read through the KPI workspace, so deleted and
merged tickets, duplicate calls and identities are handled as for every KPI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from connector.kpis import open_workspace
from connector.kpis.workload import work_items
from connector.periods import Grain, split_periods
from connector.settings import Settings
from connector.store import Store

CALLS = "calls"
"""The channel group of inbound calls."""
TICKETS = "tickets:"
"""The prefix of the ticket channel groups (`tickets:email`, …)."""


@dataclass(frozen=True)
class ContactHistory:
    """Contacts per wall-clock hour `[start, end)` per channel group, and the mean handle times."""

    start: datetime
    """The first hour (naive, the desk's wall clock)."""
    hours: int
    counts: dict[str, list[int]]
    """Per channel group, the contacts of each hour from `start` (0 where none came)."""
    call_handle_seconds: float | None
    """Mean talk + hold + wrap-up of the answered calls (K06's call items); None without any."""
    ticket_handle_seconds: float | None
    """Mean work time of the resolved tickets whose source records it (K06's ticket items without its
    estimates: first reply → resolution is elapsed time, not work); None without any."""
    active_agents: int

    @property
    def end(self) -> datetime:
        return self.start + timedelta(hours=self.hours)


def read_history(store: Store, settings: Settings, first_day: date, end_day: date) -> ContactHistory:
    """The history of the local days `[first_day, end_day)`."""
    periods = split_periods(first_day, end_day, Grain.RANGE, settings.zone)
    zone = settings.zone.key.replace("'", "''")
    start = datetime.combine(first_day, datetime.min.time())
    hours = (end_day - first_day).days * 24
    workspace = open_workspace(store, settings, periods)
    try:
        local = f"date_trunc('hour', timezone('{zone}', CAST(arrived AS TIMESTAMPTZ)))"
        rows = workspace.rows(
            f"""SELECT grp, {local} AS hour, count(*) FROM (
                SELECT '{TICKETS}' || channel AS grp, created_at AS arrived
                FROM tickets WHERE created_at_p = 0
                UNION ALL
                SELECT '{CALLS}', started_at FROM calls WHERE started_at_p = 0 AND direction = 'inbound'
            ) GROUP BY ALL"""
        )
        handle = dict(
            workspace.rows(
                f"""SELECT kind, avg(handle) FROM ({work_items()})
                WHERE pidx = 0 AND NOT estimated GROUP BY kind"""
            )
        )
        active = workspace.rows("SELECT count(*) FROM agents WHERE active")[0][0]
    finally:
        workspace.close()
    counts: dict[str, list[int]] = {}
    for group, hour, n in rows:
        index = int((hour - start).total_seconds() // 3600)
        if 0 <= index < hours:
            counts.setdefault(group, [0] * hours)[index] += int(n)
    return ContactHistory(
        start=start,
        hours=hours,
        counts=dict(sorted(counts.items())),
        call_handle_seconds=handle.get("call"),
        ticket_handle_seconds=handle.get("ticket"),
        active_agents=int(active),
    )
