"""KPI results: the flat record of SPEC §4, and its JSON, CSV and table renderings.

One record per (kpi, stat, basis, period, cut, cut value):
`{kpi, name, stat, basis, period_start, period_end, cut, cut_value, value, unit, numerator, denominator,
count}`. An empty denominator gives `value: null`, never 0.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

RESULT_KEYS = (
    "kpi",
    "name",
    "stat",
    "basis",
    "period_start",
    "period_end",
    "cut",
    "cut_value",
    "value",
    "unit",
    "numerator",
    "denominator",
    "count",
)


class KpiResult(NamedTuple):
    """One figure. A named tuple, not a frozen dataclass: a computation builds ~160,000 of them and a
    frozen dataclass's `__init__` alone cost 0.24 s of it (0.04 s this way); immutable either way."""

    kpi: str
    name: str
    stat: str
    basis: str
    period_start: datetime
    period_end: datetime
    cut: str
    cut_value: str | None
    value: float | None
    unit: str
    numerator: float | None
    denominator: float | None
    count: int | None  # type: ignore[assignment]  # (shadows tuple.count; SPEC §4 names the key)

    @property
    def snapshot_key(self) -> str:
        """Stable identity of the figure across runs: kpi|stat|basis|start|end|cut|cut_value."""
        parts = [
            self.kpi,
            self.stat,
            self.basis,
            _iso(self.period_start),
            _iso(self.period_end),
            self.cut,
            self.cut_value or "",
        ]
        return "|".join(parts)

    def as_json(self) -> dict[str, Any]:
        data = self._asdict()
        data["period_start"] = _iso(self.period_start)
        data["period_end"] = _iso(self.period_end)
        return data


assert KpiResult._fields == RESULT_KEYS

HEADLINE_STATS = ("value", "mean", "rate", "count")
"""A KPI's headline figure is its first of these stats it has (else its first stat by name)."""


def headline_stat(results: Iterable[KpiResult]) -> str | None:
    """The stat a KPI is read by at a glance (the dashboard's card, an alert rule without a stat)."""
    stats = {r.stat for r in results}
    return next((s for s in HEADLINE_STATS if s in stats), min(stats) if stats else None)


def with_every_stat(results: Sequence[KpiResult]) -> list[KpiResult]:
    """One KPI's results, completed so that every group with any activity in a period has every stat
    (and basis) its cut has anywhere: a missing count is 0, any other missing stat null (SPEC §4: "a
    zero count is a figure, not a missing row"). An agent with answered tickets but none waiting gets
    `waiting` 0; a team whose tickets are all still open gets its resolution stats, null. Named
    breakdowns (`reason:<r>`, `handle_median:<category>`…) exist only where they occurred and are left
    as they are."""
    shapes: dict[str, dict[tuple[str, str], KpiResult]] = {}
    present: dict[tuple[datetime, datetime, str, str | None], set[tuple[str, str]]] = {}
    for r in results:
        if ":" in r.stat:
            continue
        shapes.setdefault(r.cut, {}).setdefault((r.stat, r.basis), r)
        present.setdefault((r.period_start, r.period_end, r.cut, r.cut_value), set()).add((r.stat, r.basis))
    missing = [
        sample._replace(
            period_start=start,
            period_end=end,
            cut_value=cut_value,
            value=0 if sample.unit == "count" else None,
            numerator=None,
            denominator=None,
            count=0,
        )
        for (start, end, cut, cut_value), stats in present.items()
        for key, sample in shapes[cut].items()
        if key not in stats
    ]
    return [*results, *missing]


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may run as a formula at the start of a cell (OWASP's CSV-injection list)."""


def _finite(value: Any) -> Any:
    """JSON has no NaN or Infinity: a non-finite figure is written as null."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def to_json(results: Iterable[KpiResult]) -> str:
    """The figures as a JSON array; always valid JSON (non-finite numbers become null)."""
    rows = [{k: _finite(v) for k, v in r.as_json().items()} for r in results]
    return json.dumps(rows, indent=2, ensure_ascii=False, allow_nan=False)


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: empty for None and non-finite numbers, and text that a spreadsheet would run
    as a formula (a category `=HYPERLINK(…)`) prefixed with a quote, as OWASP advises."""
    value = _finite(value)
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(results: Iterable[KpiResult]) -> str:
    """The figures as RFC 4180 CSV (CRLF line ends, so a carriage return inside a text cell is quoted
    rather than breaking the row), every cell through `csv_cell`."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=RESULT_KEYS, lineterminator="\r\n")
    writer.writeheader()
    for result in results:
        writer.writerow({k: csv_cell(v) for k, v in result.as_json().items()})
    return out.getvalue()


def to_table(results: Sequence[KpiResult], zone: ZoneInfo | None = None) -> str:
    """A terminal table: one line per figure, periods as local dates, values rounded for reading."""
    zone = zone or ZoneInfo("UTC")

    def day(instant: datetime) -> str:
        return instant.astimezone(zone).date().isoformat()

    headers = ("kpi", "name", "stat", "basis", "period", "cut", "value", "unit", "count")
    rows = [
        (
            r.kpi,
            r.name,
            r.stat,
            r.basis,
            f"{day(r.period_start)}..{day(r.period_end)}",
            r.cut if r.cut_value is None else f"{r.cut}={r.cut_value}",
            "null" if r.value is None else f"{r.value:,.2f}",
            r.unit,
            "" if r.count is None else str(r.count),
        )
        for r in results
    ]
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(headers)]
    numeric = {"value", "count"}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(w) if h in numeric else cell.ljust(w)
            for cell, w, h in zip(cells, widths, headers, strict=True)
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(row) for row in rows)])
