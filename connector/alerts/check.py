"""Which alert rules fire on a run's figures.

Only closed periods are judged (a month to date would fire on half a month). A threshold rule fires on a
figure that breaks it. An anomaly rule fires on a figure outside mean ± width × standard deviation of the
same figure in the `RECENT` periods of the same length before it (from the store's KPI results: every run
keeps them), once at least `MIN_RECENT` of them have a value; when they all agree (no spread), any other
value is outside.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connector.alerts.rules import AlertRule
from connector.kpis.results import KpiResult, headline_stat

RECENT = 6
MIN_RECENT = 3


@dataclass(frozen=True)
class Alert:
    rule: AlertRule
    result: KpiResult
    expected: tuple[float, float] | None = None
    """An anomaly's range (low, high); None for a threshold."""

    @property
    def key(self) -> tuple[str, str, str, str, str, str, str]:
        """What is raised once: the rule, and the figure's KPI, stat, basis, cut, cut value and period."""
        r = self.result
        return (self.rule.text, r.kpi, r.stat, r.basis, r.cut, r.cut_value or "", r.period_start.isoformat())

    def describe(self) -> str:
        r = self.result
        where = "overall" if r.cut == "overall" else f"{r.cut} {r.cut_value}"
        if self.expected is None:
            limit = f"{self.rule.comparison} {self.rule.threshold:g}"
        else:
            limit = f"outside {self.expected[0]:.4g}–{self.expected[1]:.4g}, the range of the periods before"
        return (
            f"{r.kpi} {r.name} {r.stat} ({r.basis}) {where}, period from {r.period_start:%Y-%m-%d}: "
            f"{r.value:.4g} {r.unit} — {limit} (rule {self.rule.text})"
        )


def firing(
    rules: Sequence[AlertRule],
    results: Sequence[KpiResult],
    stored: Iterable[Mapping[str, Any]],
    moment: datetime,
) -> list[Alert]:
    """The alerts `rules` raise on the closed periods of `results`; `stored` are the store's KPI results
    (earlier periods, for the anomaly rules)."""
    closed = [r for r in results if r.period_end <= moment and r.value is not None]
    by_kpi: dict[str, list[KpiResult]] = defaultdict(list)
    for r in closed:
        by_kpi[r.kpi].append(r)
    history = _history(stored) if any(rule.anomaly for rule in rules) else {}
    alerts: list[Alert] = []
    for rule in rules:
        figures = by_kpi.get(rule.kpi, [])
        stat = rule.stat or headline_stat(figures)
        for r in figures:
            if r.stat != stat or r.cut != rule.cut or (rule.cut_value and r.cut_value != rule.cut_value):
                continue
            assert r.value is not None
            if not rule.anomaly:
                if rule.breached(r.value):
                    alerts.append(Alert(rule, r))
                continue
            expected = _expected(history, r, rule.width or 0)
            if expected is not None and not expected[0] <= r.value <= expected[1]:
                alerts.append(Alert(rule, r, expected))
    return alerts


History = dict[tuple[str, str, str, str, str], list[tuple[datetime, float, float]]]


def _history(stored: Iterable[Mapping[str, Any]]) -> History:
    """Per figure (kpi, stat, basis, cut, cut value): (period start, length in seconds, value)."""
    series: History = defaultdict(list)
    for row in stored:
        if row["value"] is None:
            continue
        start, end = row["period_start"], row["period_end"]  # aware UTC: the store's column type
        key = (row["kpi"], row["stat"], row["basis"], row["cut"], row["cut_value"] or "")
        series[key].append((start, (end - start).total_seconds(), float(row["value"])))
    return series


def _expected(history: History, r: KpiResult, width: float) -> tuple[float, float] | None:
    """mean ± width × sd of the same figure in the periods of about the same length before `r`'s."""
    length = (r.period_end - r.period_start).total_seconds()
    key = (r.kpi, r.stat, r.basis, r.cut, r.cut_value or "")
    before = sorted(
        (start, value)
        for start, seconds, value in history.get(key, [])
        if start < r.period_start and abs(seconds - length) <= 0.1 * length  # months of 28–31 days
    )[-RECENT:]
    if len(before) < MIN_RECENT:
        return None
    values = [value for _, value in before]
    mean, spread = statistics.fmean(values), statistics.stdev(values)
    return mean - width * spread, mean + width * spread
