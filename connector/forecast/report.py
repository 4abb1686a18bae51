"""The outlook as people and programs read it: a table per day with the backtest first, or every hour
as JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from datetime import date
from typing import Any

from connector.forecast import Outlook
from connector.forecast.model import BASELINE, LEVEL, MODEL

HOUR_FIELDS = (
    "hour", "open", "calls", "tickets", "call_agents", "ticket_workload_hours", "agents_needed",
    "agents_available", "agents_short", "agents_over",
)  # fmt: skip


def backtest_lines(outlook: Outlook) -> list[str]:
    """Per channel group: both backtest scores and which forecast is used."""
    lines = []
    for group, series in outlook.forecast.series.items():
        if series.model_mase is None or series.baseline_mase is None:
            lines.append(f"{group}: no backtest possible; seasonal-naive forecast (same hour last week)")
            continue
        verdict = (
            f"{MODEL} forecast used"
            if series.method == MODEL
            else f"{MODEL} did not beat the baseline: seasonal-naive forecast (same hour last week) used"
        )
        scores = f"{MODEL} {series.model_mase:.3f} vs {BASELINE} {series.baseline_mase:.3f}"
        lines.append(f"{group}: backtest MASE {scores} — {verdict}")
    return lines


def hour_rows(outlook: Outlook) -> list[dict[str, Any]]:
    return [
        {
            "hour": h.start.isoformat(timespec="minutes"),
            "open": h.open,
            "calls": round(h.calls, 2),
            "tickets": round(h.tickets, 2),
            "call_agents": h.call_agents,
            "ticket_workload_hours": round(h.ticket_workload, 2),
            "agents_needed": h.needed,
            "agents_available": h.available,
            "agents_short": h.short,
            "agents_over": h.over,
        }
        for h in outlook.hours
    ]


def render_json(outlook: Outlook) -> str:
    history = outlook.history
    document = {
        "history": {
            "start": history.start.isoformat(),
            "end": history.end.isoformat(),
            "call_handle_seconds": history.call_handle_seconds,
            "ticket_handle_seconds": history.ticket_handle_seconds,
            "active_agents": history.active_agents,
        },
        "targets": {
            "answer_seconds": outlook.targets.answer_seconds,
            "service_level": outlook.targets.service_level,
            "max_occupancy": outlook.targets.max_occupancy,
            "assumed_ticket_seconds": outlook.targets.assumed_ticket_seconds,
        },
        "series": [
            {
                "group": s.group,
                "method": s.method,
                "backtest_mase": {MODEL: s.model_mase, BASELINE: s.baseline_mase},
                "closed_day_share": s.closed_day_share,
                "interval_level": LEVEL,
                "hours": [
                    {
                        "hour": outlook.forecast.hour(i).isoformat(timespec="minutes"),
                        "mean": m,
                        "low": lo,
                        "high": hi,
                    }
                    for i, (m, lo, hi) in enumerate(zip(s.mean, s.low, s.high, strict=True))
                ],
            }
            for s in outlook.forecast.series.values()
        ],
        "staffing": hour_rows(outlook),
    }
    return json.dumps(document, indent=2)


def render_csv(outlook: Outlook) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HOUR_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(hour_rows(outlook))
    return out.getvalue()


def render_table(outlook: Outlook) -> str:
    """The backtest, then one line per day: contacts forecast, the busiest hour's agents needed, agent-hours
    needed and available, and the open hours short of agents."""
    days: dict[date, list[Any]] = defaultdict(list)
    for h in outlook.hours:
        days[h.start.date()].append(h)
    header = (
        f"{'day':<15}{'calls':>8}{'tickets':>9}{'peak need':>11}{'need h':>8}{'have h':>8}"
        f"{'hours short':>13}{'agent-h short':>15}"
    )
    lines = [*backtest_lines(outlook), "", header, "-" * len(header)]
    for day, hours in days.items():
        open_hours = [h for h in hours if h.open]
        lines.append(
            f"{day.strftime('%a %Y-%m-%d'):<15}{sum(h.calls for h in hours):>8.0f}"
            f"{sum(h.tickets for h in hours):>9.0f}{max((h.needed for h in hours), default=0):>11}"
            f"{sum(h.needed for h in open_hours):>8}{sum(h.available for h in open_hours):>8}"
            f"{sum(1 for h in open_hours if h.short):>13}{sum(h.short for h in open_hours):>15}"
        )
    t, history = outlook.targets, outlook.history
    tickets = (
        f"{history.ticket_handle_seconds / 60:.1f} min of recorded work each"
        if history.ticket_handle_seconds
        else f"an assumed {t.assumed_ticket_seconds / 60:g} min each (no source records ticket work time; "
        "HELPDESK_TICKET_HANDLE_SECONDS)"
    )
    calls = (
        f"{history.call_handle_seconds:.0f} s handle time"
        if history.call_handle_seconds
        else "no answered calls"
    )
    lines.append(
        f"(calls: {calls}, agents for {t.service_level:.0%} answered within {t.answer_seconds:g} s at most "
        f"{t.max_occupancy:.0%} busy; tickets: {tickets}; available = {history.active_agents} active agents "
        "in every open hour)"
    )
    return "\n".join(lines)
