"""The outlook as K32 figures: per coming day (the period) one KPI result per open hour (cut `hour`) and
stat, and the day's totals (cut `overall`), so the forecast is stored, pushed to HubSpot and drawn like
every other KPI."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from connector.forecast import Outlook
from connector.kpis import CATALOGUE
from connector.kpis.results import KpiResult

KPI = "K32"
HOURLY_STATS = (
    ("calls", "count"),
    ("tickets", "count"),
    ("needed", "agents"),
    ("available", "agents"),
    ("short", "agents"),
)
"""The stats of an hour, with their units; a day's are the same summed, the agents as agent-hours."""


def staffing_results(outlook: Outlook, zone: ZoneInfo) -> list[KpiResult]:
    definition = CATALOGUE[KPI]
    results: list[KpiResult] = []
    days: dict[datetime, list[tuple[str, float, str]]] = {}
    for row in outlook.hours:
        day = row.start.replace(hour=0)
        totals = days.setdefault(day, [])
        values = {
            "calls": row.calls,
            "tickets": row.tickets,
            "needed": row.needed,
            "available": row.available,
            "short": row.short,
        }
        if row.open:
            start, end = _instant(day, zone), _instant(day + timedelta(days=1), zone)
            for stat, unit in HOURLY_STATS:
                results.append(
                    _result(
                        definition.name, stat, start, end, "hour", f"{row.start.hour:02d}", values[stat], unit
                    )
                )
        for stat, unit in HOURLY_STATS:
            if row.open or unit == "count":
                totals.append((stat, float(values[stat]), unit))
    for day, totals in days.items():
        start, end = _instant(day, zone), _instant(day + timedelta(days=1), zone)
        for stat, unit in HOURLY_STATS:
            value = sum(v for s, v, _ in totals if s == stat)
            results.append(
                _result(
                    definition.name,
                    stat,
                    start,
                    end,
                    "overall",
                    None,
                    value,
                    "agent_hours" if unit == "agents" else unit,
                )
            )
    return results


def _instant(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))


def _result(
    name: str,
    stat: str,
    start: datetime,
    end: datetime,
    cut: str,
    cut_value: str | None,
    value: float,
    unit: str,
) -> KpiResult:
    return KpiResult(
        kpi=KPI,
        name=name,
        stat=stat,
        basis="calendar",
        period_start=start,
        period_end=end,
        cut=cut,
        cut_value=cut_value,
        value=round(float(value), 4),
        unit=unit,
        numerator=None,
        denominator=None,
        count=None,
    )
