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
from markupsafe import Markup, escape

from connector.kpis import CATALOGUE
from connector.kpis.results import KpiResult, to_csv, to_json
from connector.kpis.tickets import WEEKDAYS

CHART_W, CHART_H, PAD = 320, 120, 28
HEADLINE_STATS = ("value", "mean", "rate", "count")
SMALL_SAMPLE = 20
"""A headline from fewer results than this is marked as a small sample."""
LEADERBOARD = (("K01", "mean", "business", "First response, mean (business hours)"),
               ("K04", "mean", "business", "Resolution, mean (business hours)"),
               ("K14", "value", "calendar", "CSAT (% satisfied)"),
               ("K11", "count", "calendar", "Tickets"),
               ("K29", "resolved", "calendar", "Tickets resolved"))  # fmt: skip
"""Agent columns: (KPI, statistic, basis, heading); sorted by the last."""
CHANNEL = (("K01", "mean", "business", "First response, mean (business hours)"),
           ("K04", "mean", "business", "Resolution, mean (business hours)"),
           ("K07", "value", "calendar", "First-contact resolution"),
           ("K14", "value", "calendar", "CSAT (% satisfied)"),
           ("K11", "count", "calendar", "Tickets"))  # fmt: skip
EMPTY_HINTS = {
    "K10": "needs the desk's cost: set HELPDESK_SERVICE_COST_MONTHLY, or import service_cost records",
    "K17": "needs SERVQUAL answers: import survey_response records of kind servqual (expectation and "
    "perception per dimension)",
    "K18": "needs QA reviews: import quality_review records",
    "K22": "needs purchases (HubSpot closed-won deals or imported purchase records) and the settings "
    "HELPDESK_CLV_GROSS_MARGIN and HELPDESK_CLV_LIFESPAN_YEARS",
    "K24": "needs referrals: contacts with referred_by (imported contact records)",
    "K29": "a per-agent KPI: its figures are the agent leaderboard below",
}
"""What gives a KPI its inputs, where more than its records are needed (the rest: see `_empty_reason`)."""


@dataclass(frozen=True)
class Series:
    label: str
    css: str
    points: list[tuple[str, float | None]]


@dataclass(frozen=True)
class Headline:
    """A KPI's figure for the latest closed period, against the one before."""

    value: str
    period: str
    n: int | None
    small: bool
    change: str
    """Signed change against the previous period, in the KPI's unit ('' when there is none)."""
    verdict: str
    """`good`, `bad` or `flat` by the KPI's good direction; '' for volumes."""
    running: str
    """The running period's figure so far, with its label ('' when none)."""


@dataclass(frozen=True)
class Chart:
    kpi: str
    name: str
    unit: str
    stat: str
    definition: str
    series: list[Series]
    headline: Headline | None
    empty: str
    """Why there is no figure, and what would give one ('' when there are figures)."""
    svg_lines: list[tuple[str, str]]
    """(css class, SVG points attribute) per series."""
    dots: list[tuple[str, float, float, str]]
    """(css class, x, y, tooltip) per point."""
    labels: list[tuple[float, str]]
    y_max: str
    y_min: str
    zero_y: float | None
    """Where the zero line goes, when the axis spans negative values."""


def headline_stat(results: Iterable[KpiResult]) -> str | None:
    stats = {r.stat for r in results}
    return next((s for s in HEADLINE_STATS if s in stats), min(stats) if stats else None)


def format_value(value: float | None, unit: str, currency: str = "") -> str:
    if value is None:
        return "–"
    if unit == "seconds":
        hours = abs(value) / 3600
        return (
            f"{value / 60:.1f} min"
            if hours < 1
            else f"{value / 3600:.1f} h"
            if hours < 48
            else f"{value / 86400:.1f} d"
        )
    if unit == "percent":
        return f"{value:.1f} %"
    if unit == "currency":
        return f"{value:,.2f} {currency}".rstrip()
    if len(unit) == 3 and unit.isalpha() and unit.isupper():  # money figures carry their ISO currency
        return f"{value:,.2f} {unit}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:,.0f}"


def _change(value: float, previous: float, unit: str, currency: str) -> str:
    delta = value - previous
    sign = "+" if delta > 0 else "−" if delta < 0 else "±"
    if unit == "percent":
        return f"{sign}{abs(delta):.1f} pp"
    return sign + format_value(abs(delta), unit, currency)


def _headline(
    kpi: str, figures: dict[datetime, KpiResult], moment: datetime, zone: ZoneInfo, currency: str
) -> Headline | None:
    """The latest closed period's figure (the running one shown apart), its sample size and its change
    against the period before, judged by the KPI's good direction."""
    closed = sorted(start for start, r in figures.items() if r.period_end <= moment and r.value is not None)
    running = [r for r in figures.values() if r.period_end > moment and r.value is not None]
    if not closed:
        return None
    latest = figures[closed[-1]]
    value = latest.value
    assert value is not None
    unit = latest.unit
    previous = figures[closed[-2]].value if len(closed) > 1 else None
    change, verdict = "", ""
    if previous is not None:
        change = _change(value, previous, unit, currency)
        better = CATALOGUE[kpi].better if kpi in CATALOGUE else None
        if better is not None:
            verdict = (
                "flat"
                if value == previous
                else "good"
                if (value < previous) == (better == "lower")
                else "bad"
            )
    n = (
        latest.count
        if latest.count is not None
        else (int(latest.denominator) if latest.denominator else None)
    )
    mtd = max(running, key=lambda r: r.period_start) if running else None
    so_far = (
        f"{format_value(mtd.value, unit, currency)} so far (from {_label(mtd.period_start, zone)})"
        if mtd
        else ""
    )
    return Headline(
        value=format_value(value, unit, currency),
        period=_label(latest.period_start, zone),
        n=n,
        small=n is not None and n < SMALL_SAMPLE,
        change=change,
        verdict=verdict,
        running=so_far,
    )


def _empty_reason(kpi: str) -> str:
    definition = CATALOGUE.get(kpi)
    if kpi in EMPTY_HINTS:
        return EMPTY_HINTS[kpi]
    reads = ", ".join(e.replace("_", " ") for e in definition.reads) if definition else "its"
    return f"no figures yet: it needs {reads} records — sync a source that has them, or import them"


def _chart(
    kpi: str,
    results: Sequence[KpiResult],
    starts: list[datetime],
    zone: ZoneInfo,
    moment: datetime,
    currency: str,
) -> Chart:
    definition = CATALOGUE.get(kpi)
    stat = headline_stat(results) or ""
    bases = ("calendar", "business") if definition is not None and definition.timed else ("calendar",)
    series = []
    for basis in bases:
        by_start = {r.period_start: r.value for r in results if r.stat == stat and r.basis == basis}
        series.append(Series(basis, basis, [(_label(s, zone), by_start.get(s)) for s in starts]))
    unit = results[0].unit if results else (definition.unit if definition else "")
    values = [v for s in series for _, v in s.points if v is not None]
    # the axis spans the data and zero, so a negative value (NPS, a SERVQUAL gap) stays inside the plot
    low, high = min([0.0, *values]), max([0.0, *values])
    if high == low:
        high = low + 1.0
    inner = CHART_H - 2 * PAD

    def y_of(value: float) -> float:
        return CHART_H - PAD - (value - low) / (high - low) * inner

    step = (CHART_W - 2 * PAD) / max(1, len(starts) - 1)
    lines, dots = [], []
    for s in series:
        coords = []
        for n, (label, value) in enumerate(s.points):
            if value is None:
                continue
            x = PAD + n * step if len(starts) > 1 else CHART_W / 2
            y = y_of(value)
            coords.append(f"{x:.1f},{y:.1f}")
            dots.append(
                (s.css, round(x, 1), round(y, 1), f"{label} {s.label}: {format_value(value, unit, currency)}")
            )
        lines.append((s.css, " ".join(coords)))
    tick_every = max(1, (len(starts) + 5) // 6)
    labels = [
        (PAD + n * step if len(starts) > 1 else CHART_W / 2, _label(s, zone, short=True))
        for n, s in enumerate(starts)
        if n % tick_every == 0
    ]
    headline_figures = {r.period_start: r for r in results if r.stat == stat and r.basis == bases[0]}
    headline = _headline(kpi, headline_figures, moment, zone, currency) if values else None
    return Chart(
        kpi=kpi,
        name=results[0].name if results else (definition.name if definition else kpi),
        unit=unit,
        stat=stat,
        definition=definition.formula if definition else "",
        series=series,
        headline=headline,
        empty="" if values else _empty_reason(kpi),
        svg_lines=lines,
        dots=dots,
        labels=labels,
        y_max=format_value(high, unit, currency) if values else "",
        y_min=format_value(low, unit, currency) if values and low < 0 else "",
        zero_y=round(y_of(0.0), 1) if values and low < 0 else None,
    )


def _label(start: datetime, zone: ZoneInfo, *, short: bool = False) -> str:
    local = start.astimezone(zone)
    if short:  # axis ticks: months as "Jun 26", other periods as "03 Jun"
        return local.strftime("%b %y") if local.day == 1 and local.hour == 0 else local.strftime("%d %b")
    return local.strftime("%Y-%m-%d")


def _table(
    results: Sequence[KpiResult],
    cut: str,
    columns: Sequence[tuple[str, str, str, str]],
    start: datetime,
    currency: str,
) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """Rows of one cut in the period starting at `start`: (cut value, formatted cells), sorted by the
    last column, highest first."""
    cells: dict[str, dict[int, str]] = defaultdict(dict)
    sort_key: dict[str, float] = {}
    for n, (kpi, stat, basis, _) in enumerate(columns):
        for r in results:
            if (r.kpi, r.stat, r.basis, r.cut) != (kpi, stat, basis, cut) or r.period_start != start:
                continue
            label = r.cut_value or "(none)"
            cells[label][n] = format_value(r.value, r.unit, currency)
            if n == len(columns) - 1 and r.value is not None:
                sort_key[label] = r.value
    rows = [(label, [cells[label].get(n, "–") for n in range(len(columns))]) for label in cells]
    rows.sort(key=lambda row: (-sort_key.get(row[0], float("-inf")), row[0]))
    return [heading for *_, heading in columns], rows


@dataclass(frozen=True)
class HeatMap:
    """K11's tickets by local weekday and hour in one period: a 7 × 24 grid of shaded cells."""

    days: list[str]
    cells: list[tuple[float, float, float, str]]
    """(x, y, opacity, tooltip) per hour that had tickets."""
    hours: list[tuple[float, str]]
    peak: int


HEAT_CELL, HEAT_LEFT, HEAT_TOP = 28, 40, 16


def _heat_map(results: Sequence[KpiResult], start: datetime) -> HeatMap | None:
    counts = {
        r.cut_value: r.value
        for r in results
        if (r.kpi, r.cut, r.stat) == ("K11", "weekday_hour", "count") and r.period_start == start and r.value
    }
    if not counts:
        return None
    peak = max(counts.values())
    cells: list[tuple[float, float, float, str]] = []
    for day_index, day in enumerate(WEEKDAYS):
        for hour in range(24):
            n = counts.get(f"{day} {hour:02d}")
            if n:
                x, y = HEAT_LEFT + hour * HEAT_CELL, HEAT_TOP + day_index * HEAT_CELL
                cells.append(
                    (x, y, round(0.15 + 0.85 * n / peak, 2), f"{day} {hour:02d}:00–{hour:02d}:59: {n:.0f}")
                )
    hours = [(HEAT_LEFT + h * HEAT_CELL + HEAT_CELL / 2, f"{h:02d}") for h in range(0, 24, 3)]
    return HeatMap(list(WEEKDAYS), cells, hours, int(peak))


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
    currency: str = "",
    kpi_ids: Sequence[str] | None = None,
) -> str:
    """The dashboard for `results`: a card per KPI of `kpi_ids` (default: the whole catalogue) — one
    without figures says what would give it some."""
    overall = [r for r in results if r.cut == "overall"]
    starts = sorted({r.period_start for r in results})
    by_kpi: dict[str, list[KpiResult]] = defaultdict(list)
    for r in overall:
        by_kpi[r.kpi].append(r)
    moment = generated_at or datetime.now(UTC)
    shown = sorted(set(kpi_ids or CATALOGUE) | set(by_kpi))
    charts = (
        [_chart(kpi, by_kpi.get(kpi, []), starts, zone, moment, currency) for kpi in shown] if starts else []
    )
    # tables show the latest full period: a month to date is too thin to rank agents on
    full = sorted({r.period_start for r in results if r.period_end <= moment})
    latest = full[-1] if full else (starts[-1] if starts else None)
    agents = _table(results, "agent", LEADERBOARD, latest, currency) if latest else ([], [])
    agents = (agents[0], [((names or {}).get(label, label), cells) for label, cells in agents[1]])
    channels = _table(results, "channel", CHANNEL, latest, currency) if latest else ([], [])
    heat = _heat_map(results, latest) if latest else None
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
    environment.filters["code"] = _code_spans
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
        small_sample=SMALL_SAMPLE,
        heat=heat,
        heat_cell=HEAT_CELL,
        heat_left=HEAT_LEFT,
        heat_top=HEAT_TOP,
    )


def _code_spans(text: str) -> Markup:
    """A definition's `code` spans as <code>, everything else escaped."""
    parts = str(escape(text)).split("`")
    return Markup("".join(f"<code>{p}</code>" if n % 2 else p for n, p in enumerate(parts)))  # noqa: S704 — escaped above


def write_report(
    results: Sequence[KpiResult],
    out: Path,
    *,
    zone: ZoneInfo,
    generated_at: datetime | None = None,
    names: dict[str, str] | None = None,
    currency: str = "",
    kpi_ids: Sequence[str] | None = None,
) -> dict[str, Path]:
    """dashboard.html, kpis.csv and kpis.json in `out` (created if missing)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"dashboard": out / "dashboard.html", "csv": out / "kpis.csv", "json": out / "kpis.json"}
    html = render_dashboard(
        results, zone=zone, generated_at=generated_at, names=names, currency=currency, kpi_ids=kpi_ids
    )
    paths["dashboard"].write_text(html, "utf-8")
    paths["csv"].write_text(to_csv(results), "utf-8", newline="")
    paths["json"].write_text(to_json(results), "utf-8")
    return paths


def results_from_rows(rows: Iterable[dict[str, Any]]) -> list[KpiResult]:
    """Stored KPI results (the store's rows) as result records."""
    return [KpiResult(**{k: v for k, v in row.items() if k in KpiResult._fields}) for row in rows]
