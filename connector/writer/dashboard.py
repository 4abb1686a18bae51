"""The self-contained HTML dashboard, and CSV/JSON exports of the same results.

    >>> paths = write_report(results, Path("out"), zone=ZoneInfo("Europe/Amsterdam"))

`dashboard.html` has no external reference at all (inline CSS and SVG, no script, no font or image
fetched), reads on a laptop screen and prints legibly. It shows, for the periods the results cover:
a trend chart per KPI (calendar and business basis where the KPI is timed), the per-agent leaderboard
and per-channel breakdown of the latest period, the business-hours vs calendar comparison, and every
KPI's definition from the catalogue.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape

from connector.kpis import CATALOGUE
from connector.kpis.results import KpiResult, to_csv, to_json

CHART_W, CHART_H, PAD = 320, 120, 28
HEADLINE_STATS = ("value", "mean", "rate")
LEADERBOARD = (("K01", "mean", "business"), ("K04", "mean", "business"), ("K14", "value", "calendar"),
               ("K11", "value", "calendar"), ("K29", "resolved", "calendar"))  # fmt: skip
"""Agent columns: first response and resolution (business hours), CSAT, escalation rate, resolved."""
CHANNEL = (("K01", "mean", "business"), ("K04", "mean", "business"), ("K07", "value", "calendar"),
           ("K14", "value", "calendar"), ("K11", "value", "calendar"))  # fmt: skip


@dataclass(frozen=True)
class Series:
    label: str
    css: str
    points: list[tuple[str, float | None]]


@dataclass(frozen=True)
class Chart:
    kpi: str
    name: str
    unit: str
    stat: str
    definition: str
    series: list[Series]
    latest: str
    latest_period: str
    svg_lines: list[tuple[str, str]]
    """(css class, SVG points attribute) per series."""
    dots: list[tuple[str, float, float, str]]
    """(css class, x, y, tooltip) per point."""
    labels: list[tuple[float, str]]
    y_max: str


def headline_stat(results: Iterable[KpiResult]) -> str | None:
    stats = {r.stat for r in results}
    return next((s for s in HEADLINE_STATS if s in stats), min(stats) if stats else None)


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "seconds":
        hours = value / 3600
        return (
            f"{value / 60:.1f} min"
            if hours < 1
            else f"{hours:.1f} h"
            if hours < 48
            else f"{hours / 24:.1f} d"
        )
    if unit == "percent":
        return f"{value:.1f} %"
    if unit == "currency":
        return f"{value:,.2f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:,.0f}"


def _chart(kpi: str, results: Sequence[KpiResult], starts: list[datetime], zone: ZoneInfo) -> Chart | None:
    stat = headline_stat(results)
    if stat is None:
        return None
    definition = CATALOGUE.get(kpi)
    bases = ("calendar", "business") if definition is not None and definition.timed else ("calendar",)
    series = []
    for basis in bases:
        by_start = {r.period_start: r.value for r in results if r.stat == stat and r.basis == basis}
        series.append(Series(basis, basis, [(_label(s, zone), by_start.get(s)) for s in starts]))
    values = [v for s in series for _, v in s.points if v is not None]
    top = max(values, default=0.0) or 1.0
    step = (CHART_W - 2 * PAD) / max(1, len(starts) - 1)
    lines, dots = [], []
    for s in series:
        coords = []
        for n, (label, value) in enumerate(s.points):
            if value is None:
                continue
            x = PAD + n * step if len(starts) > 1 else CHART_W / 2
            y = CHART_H - PAD - (value / top) * (CHART_H - 2 * PAD) if top > 0 else CHART_H - PAD
            coords.append(f"{x:.1f},{y:.1f}")
            dots.append(
                (
                    s.css,
                    round(x, 1),
                    round(y, 1),
                    f"{label} {s.label}: {format_value(value, results[0].unit)}",
                )
            )
        lines.append((s.css, " ".join(coords)))
    last, last_label = next(((v, p) for p, v in reversed(series[0].points) if v is not None), (None, ""))
    tick_every = max(1, (len(starts) + 5) // 6)
    labels = [
        (PAD + n * step if len(starts) > 1 else CHART_W / 2, _label(s, zone, short=True))
        for n, s in enumerate(starts)
        if n % tick_every == 0
    ]
    return Chart(
        kpi=kpi,
        name=results[0].name,
        unit=results[0].unit,
        stat=stat,
        definition=definition.formula if definition else "",
        series=series,
        latest=format_value(last, results[0].unit),
        latest_period=last_label,
        svg_lines=lines,
        dots=dots,
        labels=labels,
        y_max=format_value(top, results[0].unit),
    )


def _label(start: datetime, zone: ZoneInfo, *, short: bool = False) -> str:
    local = start.astimezone(zone)
    if short:  # axis ticks: months as "Jun 26", other periods as "03 Jun"
        return local.strftime("%b %y") if local.day == 1 and local.hour == 0 else local.strftime("%d %b")
    return local.strftime("%Y-%m-%d")


def _table(
    results: Sequence[KpiResult], cut: str, columns: Sequence[tuple[str, str, str]], start: datetime
) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """Rows of one cut in the period starting at `start`: (cut value, formatted cells)."""
    cells: dict[str, dict[int, str]] = defaultdict(dict)
    sort_key: dict[str, float] = {}
    headers = []
    for n, (kpi, stat, basis) in enumerate(columns):
        matching = [
            r
            for r in results
            if (r.kpi, r.stat, r.basis, r.cut) == (kpi, stat, basis, cut) and r.period_start == start
        ]
        name = next((r.name for r in matching), CATALOGUE[kpi].name if kpi in CATALOGUE else kpi)
        headers.append(f"{kpi} {name.replace('_', ' ')}" + (f" ({basis})" if basis == "business" else ""))
        for r in matching:
            label = r.cut_value or "(none)"
            cells[label][n] = format_value(r.value, r.unit)
            if n == len(columns) - 1 and r.value is not None:
                sort_key[label] = r.value
    rows = [(label, [cells[label].get(n, "–") for n in range(len(columns))]) for label in cells]
    rows.sort(key=lambda row: (-sort_key.get(row[0], float("-inf")), row[0]))
    return headers, rows


def agent_names(store: Any) -> dict[str, str]:
    """Agent identity → a display name (the first named record of the identity), for the leaderboard."""
    from connector.schema import Agent

    names: dict[str, str] = {}
    for agent in sorted(store.records(Agent), key=lambda a: a.id):
        identity = store.identity_of("agent", agent.id) or agent.id
        if agent.name and identity not in names:
            names[identity] = agent.name
    return names


def render_dashboard(
    results: Sequence[KpiResult],
    *,
    zone: ZoneInfo,
    generated_at: datetime | None = None,
    names: dict[str, str] | None = None,
) -> str:
    overall = [r for r in results if r.cut == "overall"]
    starts = sorted({r.period_start for r in results})
    by_kpi: dict[str, list[KpiResult]] = defaultdict(list)
    for r in overall:
        by_kpi[r.kpi].append(r)
    charts = [c for kpi in sorted(by_kpi) if (c := _chart(kpi, by_kpi[kpi], starts, zone)) is not None]
    moment = generated_at or datetime.now(UTC)
    # tables show the latest full period: a month to date is too thin to rank agents on
    full = sorted({r.period_start for r in results if r.period_end <= moment})
    latest = full[-1] if full else (starts[-1] if starts else None)
    agents = _table(results, "agent", LEADERBOARD, latest) if latest else ([], [])
    agents = (agents[0], [((names or {}).get(label, label), cells) for label, cells in agents[1]])
    channels = _table(results, "channel", CHANNEL, latest) if latest else ([], [])
    comparison = []
    for kpi in sorted(by_kpi):
        definition = CATALOGUE.get(kpi)
        if definition is None or not definition.timed or latest is None:
            continue
        pick = {(r.stat, r.basis): r for r in by_kpi[kpi] if r.period_start == latest}
        stat = headline_stat(by_kpi[kpi]) or "mean"
        cal, bus = pick.get((stat, "calendar")), pick.get((stat, "business"))
        if cal is not None or bus is not None:
            unit = (cal or bus).unit  # type: ignore[union-attr]
            calendar_text = format_value(cal.value if cal else None, unit)
            business_text = format_value(bus.value if bus else None, unit)
            comparison.append((kpi, definition.name.replace("_", " "), stat, calendar_text, business_text))
    environment = Environment(
        loader=PackageLoader("connector.writer", "templates"), autoescape=select_autoescape(["html", "j2"])
    )
    template = environment.get_template("dashboard.html.j2")
    ends = sorted({r.period_end for r in results})
    return template.render(
        charts=charts,
        chart_w=CHART_W,
        chart_h=CHART_H,
        pad=PAD,
        agents=agents,
        channels=channels,
        comparison=comparison,
        period_from=_label(starts[0], zone) if starts else "–",
        period_to=_label(ends[-1] - timedelta(days=1), zone) if ends else "–",
        latest=_label(latest, zone) if latest else "–",
        periods=len(starts),
        zone=zone.key,
        generated=moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
        figures=len(results),
    )


def write_report(
    results: Sequence[KpiResult],
    out: Path,
    *,
    zone: ZoneInfo,
    generated_at: datetime | None = None,
    names: dict[str, str] | None = None,
) -> dict[str, Path]:
    """dashboard.html, kpis.csv and kpis.json in `out` (created if missing)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"dashboard": out / "dashboard.html", "csv": out / "kpis.csv", "json": out / "kpis.json"}
    html = render_dashboard(results, zone=zone, generated_at=generated_at, names=names)
    paths["dashboard"].write_text(html, "utf-8")
    paths["csv"].write_text(to_csv(results), "utf-8", newline="")
    paths["json"].write_text(to_json(results), "utf-8")
    return paths


def results_from_rows(rows: Iterable[dict[str, Any]]) -> list[KpiResult]:
    """Stored KPI results (the store's rows) as result records."""
    return [KpiResult(**{k: v for k, v in row.items() if k in KpiResult._fields}) for row in rows]
