"""The self-contained HTML dashboard, and CSV/JSON exports of the same results.

    >>> paths = write_report(results, Path("out"), zone=ZoneInfo("Europe/Amsterdam"))

`dashboard.html` has no external reference at all (inline CSS and SVG, no font or image fetched; one
inline script only makes table columns sortable, and the page reads fully without it), reads on a laptop
screen and prints legibly. It shows, for the periods the results cover: a card per KPI with the latest
full period's headline and a trend chart (calendar and business basis where the KPI is timed, targets
from the settings drawn), K11's weekday × hour heat map, the agent leaderboard, the channel, team,
priority (first response against its targets) and category views, the top contact reasons and the
topics found in the tickets' words (trend, rising flag, examples) of the latest full period, the
business-hours vs calendar comparison, and every KPI's definition.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypedDict, Unpack
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from connector.kpis import CATALOGUE
from connector.kpis.catalogue import is_forecast
from connector.kpis.figures import QUANTILE_METHOD
from connector.kpis.results import KpiResult, headline_stat, to_csv, to_json
from connector.kpis.tickets import WEEKDAYS
from connector.kpis.workspace import NONE
from connector.settings import PRIORITIES, Settings

CHART_W, CHART_H, PAD = 320, 120, 28
SMALL_SAMPLE = 20
"""A headline from fewer results than this is marked as a small sample."""
FRT = ("K01", "mean", "business", "First response, mean (business hours)")
RESOLUTION = ("K04", "mean", "business", "Resolution, mean (business hours)")
CSAT = ("K14", "value", "calendar", "CSAT (% satisfied)")
TICKETS = ("K11", "count", "calendar", "Tickets")
LEADERBOARD = (FRT, RESOLUTION, CSAT, TICKETS, ("K29", "resolved", "calendar", "Tickets resolved"))
"""Agent columns: (KPI, statistic, basis, heading); a view's rows are sorted by its last column."""
CHANNEL = (FRT, RESOLUTION, ("K07", "value", "calendar", "First-contact resolution"), CSAT, TICKETS)
TEAM = (FRT, RESOLUTION, CSAT,
        ("K31", "value", "calendar", "Calls answered within the service level"),
        ("K30", "value", "calendar", "Contacts per agent-hour"), TICKETS)  # fmt: skip
PRIORITY = (FRT, ("K02", "value", "business", "Answered within target (business hours)"), RESOLUTION,
            ("K27", "value", "calendar", "Escalated"), TICKETS)  # fmt: skip
SHARE = ("K09", "share", "calendar", "Share of tickets")
REASON_TICKETS = ("K09", "count", "calendar", "Tickets")
CATEGORY = (RESOLUTION, ("K08", "value", "calendar", "Repeat contacts"), CSAT, SHARE, REASON_TICKETS)
CHANGE = ("K09", "change", "calendar", "Change against the period before")
REASONS = (CHANGE, SHARE, REASON_TICKETS)
TOPICS = (("K04", "median", "business", "Resolution, median (business hours)"), CSAT, CHANGE, SHARE,
          ("K09", "calls", "calendar", "Calls"), REASON_TICKETS)  # fmt: skip
"""Topic columns: which topics are slow or make customers unhappy, which grow, and how large each is."""
SPARK_W, SPARK_H = 96, 24
WITHOUT = {"agent": "(unassigned)", "team": "(no team)", "priority": "(no priority)",
           "category": "(no category)", "channel": "(unknown channel)", "tag": "(no tag)",
           "topic": "(no topic)"}  # fmt: skip
"""A view's label for the records without a value of its cut."""
EXAMPLE_CHARACTERS = 90
TOP_REASONS = 10
"""K09's definition promises the top N contact reasons: the dashboard lists this many (categories and
tags together)."""
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
class Target:
    """A goal from the settings, drawn where its KPI is shown: on the trend chart (`cut_value` None)
    or against the row of its cut value (first-response targets per priority)."""

    kpi: str
    value: float
    label: str
    cut_value: str | None = None


def targets_from(settings: Settings) -> list[Target]:
    """The goals the settings define: first response per priority (K01, judged by K02), the share of
    calls answered within the service level (K31) and the contacts an agent can handle per hour (K30)."""
    frt = settings.first_response_targets
    targets = [Target("K01", getattr(frt, p).total_seconds(), f"{p} target", cut_value=p) for p in PRIORITIES]
    seconds = f"{settings.call_service_level_seconds:g} s"
    targets.append(Target("K31", settings.call_service_level_target, f"target within {seconds}"))
    if settings.capacity_contacts_per_agent_hour is not None:
        targets.append(Target("K30", settings.capacity_contacts_per_agent_hour, "capacity"))
    return targets


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
    target_lines: list[tuple[float, str]]
    """(y, label) of each target drawn across the plot."""


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
    if unit == "percent_change":
        return f"{value:+.1f} %"
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
    if definition is not None and definition.forecast:
        return (
            "a forecast of the coming weeks, not of past periods: drawn below as the agents needed in the "
            "coming weeks (made by helpdesk-kpi forecast, or run with the forecast extra)"
        )
    reads = ", ".join(e.replace("_", " ") for e in definition.reads) if definition else "its"
    return f"no figures yet: it needs {reads} records — sync a source that has them, or import them"


def _chart(
    kpi: str,
    results: Sequence[KpiResult],
    starts: list[datetime],
    zone: ZoneInfo,
    moment: datetime,
    currency: str,
    targets: Sequence[Target] = (),
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
    goals = [t for t in targets if t.kpi == kpi and t.cut_value is None] if values else []
    # the axis spans the data, its targets and zero, so a negative value (NPS, a SERVQUAL gap) or a
    # target above every figure stays inside the plot
    spanned = [0.0, *values, *(t.value for t in goals)]
    low, high = min(spanned), max(spanned)
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
        target_lines=[
            (round(y_of(t.value), 1), f"{t.label}: {format_value(t.value, unit, currency)}") for t in goals
        ],
    )


def _label(start: datetime, zone: ZoneInfo, *, short: bool = False) -> str:
    local = start.astimezone(zone)
    if short:  # axis ticks: months as "Jun 26", other periods as "03 Jun"
        return local.strftime("%b %y") if local.day == 1 and local.hour == 0 else local.strftime("%d %b")
    return local.strftime("%Y-%m-%d")


@dataclass(frozen=True)
class Table:
    """One view of a period: a row per cut value (agent, channel, team…), a column per KPI statistic."""

    headings: list[str]
    rows: list[tuple[str, list[tuple[str, float | None]]]]
    """(row label, (text shown, value to sort by) per column)."""


def _table(
    results: Sequence[KpiResult],
    cut: str | tuple[str, ...],
    columns: Sequence[tuple[str, str, str, str]],
    start: datetime | None,
    currency: str,
    *,
    always: Iterable[str] = (),
    order: Sequence[str] = (),
    names: dict[str, str] | None = None,
    limit: int | None = None,
) -> Table:
    """The rows of one cut (or of several, each row labelled `cut: value`) in the period starting at
    `start`, sorted by the last column, highest first (rows without a figure there last), or in `order`
    for the cut values it names. `always` lists cut values that get a row without figures too (every
    active agent); `names` gives rows their labels."""
    if start is None:
        return Table([heading for *_, heading in columns], [])
    cuts = (cut,) if isinstance(cut, str) else cut
    cells: dict[str, dict[int, tuple[str, float | None]]] = {value: {} for value in always}
    for n, (kpi, stat, basis, _) in enumerate(columns):
        for r in results:
            if (r.kpi, r.stat, r.basis) != (kpi, stat, basis) or r.cut not in cuts or r.period_start != start:
                continue
            label = r.cut_value if r.cut_value not in (None, NONE) else WITHOUT.get(r.cut, NONE)
            label = f"{r.cut}: {label}" if len(cuts) > 1 else label
            cells.setdefault(label, {})[n] = (format_value(r.value, r.unit, currency), r.value)

    def rank(label: str) -> tuple[int, float, str]:
        if label in order:
            return (order.index(label), 0.0, label)
        last = cells[label].get(len(columns) - 1, ("", None))[1]
        return (len(order), -last if last is not None else float("inf"), (names or {}).get(label, label))

    labels = sorted(cells, key=rank)[:limit]
    rows = [
        ((names or {}).get(label, label), [cells[label].get(n, ("–", None)) for n in range(len(columns))])
        for label in labels
    ]
    return Table([heading for *_, heading in columns], rows)


@dataclass(frozen=True)
class TargetBars:
    """K01's first response per priority in one period, each bar against its target's mark."""

    rows: list[tuple[str, float, float, str, float, str]]
    """(priority, y, bar width, caption, target x, `good` | `bad` | `none`) per priority."""
    height: float


BAR_LEFT, BAR_PLOT, BAR_ROW = 64, 420, 26


def _target_bars(
    results: Sequence[KpiResult], targets: Sequence[Target], start: datetime
) -> TargetBars | None:
    """Mean first response (business hours) per priority against the settings' target for it."""
    goals = {t.cut_value: t.value for t in targets if t.kpi == "K01" and t.cut_value is not None}
    means = {
        r.cut_value: r.value
        for r in results
        if (r.kpi, r.stat, r.basis, r.cut) == ("K01", "mean", "business", "priority")
        and r.period_start == start
        and r.value is not None
    }
    if not goals or not means:
        return None
    scale = 1.05 * max([*goals.values(), *means.values()])
    rows = []
    for n, priority in enumerate(p for p in PRIORITIES if p in goals):
        goal, mean = goals[priority], means.get(priority)
        verdict = "none" if mean is None else "good" if mean <= goal else "bad"
        caption = f"{format_value(mean, 'seconds')} (target {format_value(goal, 'seconds')})"
        rows.append(
            (
                priority,
                float(n * BAR_ROW),
                round((mean or 0.0) / scale * BAR_PLOT, 1),
                caption,
                round(BAR_LEFT + goal / scale * BAR_PLOT, 1),
                verdict,
            )
        )
    return TargetBars(rows, len(rows) * BAR_ROW + 4.0)


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


@dataclass(frozen=True)
class StaffingMap:
    """K32's coming days × open hours: each cell shaded by agents needed / available, a shortfall red."""

    days: list[str]
    cells: list[tuple[float, float, float, bool, str]]
    """(x, y, opacity, short, tooltip) per open hour."""
    hours: list[tuple[float, str]]
    short_hours: int


def _staffing_map(results: Sequence[KpiResult], zone: ZoneInfo) -> StaffingMap | None:
    """The K32 hours of the latest forecast (the coming days of the results), day by day."""
    hourly: dict[tuple[datetime, str], dict[str, float]] = defaultdict(dict)
    for r in results:
        if is_forecast(r.kpi) and r.cut == "hour" and r.cut_value is not None and r.value is not None:
            hourly[(r.period_start, r.cut_value)][r.stat] = r.value
    if not hourly:
        return None
    days = sorted({day for day, _ in hourly})
    cells: list[tuple[float, float, float, bool, str]] = []
    for row, day in enumerate(days):
        label = day.astimezone(zone).strftime("%a %d %b")
        for hour in range(24):
            stats = hourly.get((day, f"{hour:02d}"))
            if stats is None:
                continue
            needed, available = stats.get("needed", 0.0), stats.get("available", 0.0)
            short = needed > available
            load = min(needed / available, 1.0) if available else 1.0
            tip = (
                f"{label} {hour:02d}:00: {needed:.0f} agents needed, {available:.0f} available"
                + (f" ({needed - available:.0f} short)" if short else "")
                + f"; {stats.get('calls', 0):.1f} calls, {stats.get('tickets', 0):.1f} tickets expected"
            )
            cells.append(
                (
                    HEAT_LEFT + hour * HEAT_CELL,
                    HEAT_TOP + row * HEAT_CELL,
                    round(0.15 + 0.85 * load, 2),
                    short,
                    tip,
                )
            )
    labels = [day.astimezone(zone).strftime("%a %d %b") for day in days]
    hours = [(HEAT_LEFT + h * HEAT_CELL + HEAT_CELL / 2, f"{h:02d}") for h in range(0, 24, 3)]
    return StaffingMap(labels, cells, hours, sum(1 for cell in cells if cell[3]))


def agent_roster(store: Any) -> dict[str, tuple[str, bool]]:
    """Agent identity → (display name, active): the first named record of the identity gives the name;
    an identity is active while any of its records is."""
    from connector.schema import Agent

    roster: dict[str, tuple[str, bool]] = {}
    for agent in sorted(store.records(Agent), key=lambda a: a.id):
        identity = store.identity_of("agent", agent.id) or agent.id
        name, active = roster.get(identity, ("", False))
        roster[identity] = (name or agent.name or "", active or agent.active)
    return {identity: (name or identity, active) for identity, (name, active) in roster.items()}


@dataclass(frozen=True)
class TopicRow:
    """One topic in the latest full period: its figures, its tickets per period as a sparkline, its
    place among the topics rising fastest (K09 `rising`, None: not rising) and example subjects."""

    label: str
    cells: list[tuple[str, float | None]]
    trend: str
    """SVG polyline points of the topic's tickets per period, oldest first."""
    trend_text: str
    rising: int | None
    examples: Sequence[str]


@dataclass(frozen=True)
class TopicView:
    headings: list[str]
    rows: list[TopicRow]


def topic_view(
    results: Sequence[KpiResult],
    latest: datetime | None,
    starts: Sequence[datetime],
    currency: str,
    examples: Mapping[str, Sequence[str]],
    *,
    limit: int | None = TOP_REASONS,
) -> TopicView:
    """The top `limit` topics of the period starting at `latest` by tickets (`TOPICS` columns), each
    with its trend over the periods starting at `starts` and the subjects of its most typical tickets (the
    dashboard's section and `helpdesk-kpi topics --period`)."""
    table = _table(results, "topic", TOPICS, latest, currency, limit=limit)
    counts: dict[str, dict[datetime, float]] = defaultdict(dict)
    rising: dict[str, int] = {}
    for r in results:
        if r.kpi != "K09" or r.cut != "topic" or r.cut_value is None or r.value is None:
            continue
        if r.stat == "count":
            counts[r.cut_value][r.period_start] = r.value
        elif r.stat == "rising" and r.period_start == latest:
            rising[r.cut_value] = int(r.value)
    rows = []
    for label, cells in table.rows:
        key = NONE if label == WITHOUT["topic"] else label
        series = [counts[key].get(start, 0.0) for start in starts]
        rows.append(
            TopicRow(
                label,
                cells,
                _sparkline(series),
                " → ".join(format_value(v, "count") for v in series),
                rising.get(key),
                examples.get(key, ()),
            )
        )
    return TopicView(table.headings, rows)


def _sparkline(values: Sequence[float]) -> str:
    """SVG polyline points for `values` in a `SPARK_W` × `SPARK_H` box (2 px margin), zero at the bottom."""
    if not values:
        return ""
    top = max(values) or 1.0
    step = (SPARK_W - 4) / max(len(values) - 1, 1)
    return " ".join(
        f"{2 + n * step:.1f},{SPARK_H - 2 - v / top * (SPARK_H - 4):.1f}" for n, v in enumerate(values)
    )


class DashboardOptions(TypedDict, total=False):
    """`render_dashboard`'s options beyond the results and the time zone, as `write_report` passes them on."""

    generated_at: datetime | None
    names: dict[str, str] | None
    active_agents: Iterable[str]
    currency: str
    kpi_ids: Sequence[str] | None
    targets: Sequence[Target]
    topic_examples: Mapping[str, Sequence[str]]


def render_dashboard(
    results: Sequence[KpiResult],
    *,
    zone: ZoneInfo,
    generated_at: datetime | None = None,
    names: dict[str, str] | None = None,
    active_agents: Iterable[str] = (),
    currency: str = "",
    kpi_ids: Sequence[str] | None = None,
    targets: Sequence[Target] = (),
    topic_examples: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The dashboard for `results`: a card per KPI of `kpi_ids` (default: the whole catalogue) — one
    without figures says what would give it some — and the views of the latest full period. The
    leaderboard lists every agent of `active_agents` (identities), with figures or not. Forecast figures
    (K32, of coming days) are drawn apart, as the staffing map. `topic_examples` gives each topic's
    example subjects (topic label → subjects)."""
    forecasts = [r for r in results if is_forecast(r.kpi)]
    results = [r for r in results if not is_forecast(r.kpi)]
    overall = [r for r in results if r.cut == "overall"]
    starts = sorted({r.period_start for r in results})
    by_kpi: dict[str, list[KpiResult]] = defaultdict(list)
    for r in overall:
        by_kpi[r.kpi].append(r)
    moment = generated_at or datetime.now(UTC)
    shown = sorted(set(kpi_ids or CATALOGUE) | set(by_kpi))
    charts = (
        [_chart(kpi, by_kpi.get(kpi, []), starts, zone, moment, currency, targets) for kpi in shown]
        if starts
        else []
    )
    # views show the latest full period: a month to date is too thin to rank agents on
    full = sorted({r.period_start for r in results if r.period_end <= moment})
    latest = full[-1] if full else (starts[-1] if starts else None)
    views = {
        "agents": _table(results, "agent", LEADERBOARD, latest, currency, always=active_agents, names=names),
        "channels": _table(results, "channel", CHANNEL, latest, currency),
        "teams": _table(results, "team", TEAM, latest, currency),
        "priorities": _table(results, "priority", PRIORITY, latest, currency, order=PRIORITIES),
        "categories": _table(results, "category", CATEGORY, latest, currency),
        "reasons": _table(results, ("category", "tag"), REASONS, latest, currency, limit=TOP_REASONS),
    }
    topics = topic_view(results, latest, starts, currency, topic_examples or {})
    heat = _heat_map(results, latest) if latest else None
    bars = _target_bars(results, targets, latest) if latest else None
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
        views=views,
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
        staffing=_staffing_map(forecasts, zone),
        heat_cell=HEAT_CELL,
        heat_left=HEAT_LEFT,
        heat_top=HEAT_TOP,
        bars=bars,
        bar_left=BAR_LEFT,
        bar_plot=BAR_PLOT,
        bar_row=BAR_ROW,
        top_reasons=TOP_REASONS,
        topics=topics,
        spark_w=SPARK_W,
        spark_h=SPARK_H,
        quantile_method=QUANTILE_METHOD,
    )


def _code_spans(text: str) -> Markup:
    """A definition's `code` spans as <code>, everything else escaped."""
    parts = str(escape(text)).split("`")
    return Markup("".join(f"<code>{p}</code>" if n % 2 else p for n, p in enumerate(parts)))  # noqa: S704 — escaped above


def write_report(
    results: Sequence[KpiResult], out: Path, *, zone: ZoneInfo, **options: Unpack[DashboardOptions]
) -> dict[str, Path]:
    """dashboard.html, kpis.csv and kpis.json in `out` (created if missing)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"dashboard": out / "dashboard.html", "csv": out / "kpis.csv", "json": out / "kpis.json"}
    html = render_dashboard(results, zone=zone, **options)
    paths["dashboard"].write_text(html, "utf-8")
    paths["csv"].write_text(to_csv(results), "utf-8", newline="")
    paths["json"].write_text(to_json(results), "utf-8")
    return paths


def write_report_for(
    settings: Settings,
    store: Any,
    results: Sequence[KpiResult],
    out: Path,
    *,
    generated_at: datetime | None = None,
) -> dict[str, Path]:
    """`write_report` as the settings and the store configure it: their time zone, currency, KPIs and
    targets, the store's agents named and every active one on the leaderboard."""
    roster = agent_roster(store)
    return write_report(
        results,
        out,
        zone=settings.zone,
        generated_at=generated_at,
        names={identity: name for identity, (name, _) in roster.items()},
        active_agents=[identity for identity, (_, active) in roster.items() if active],
        currency=settings.currency,
        kpi_ids=settings.kpis,
        targets=targets_from(settings),
        topic_examples=topic_examples(store),
    )


def topic_examples(store: Any) -> dict[str, list[str]]:
    """Topic label → the subjects (else the first words) of its most typical tickets, or the notes of
    its most typical calls, as stored by the last discovery (`connector.topics.store.example_texts`)."""
    from connector.topics.store import example_texts

    topics = store.topics()
    texts = example_texts(store, [i for t in topics for i in t["examples"]], EXAMPLE_CHARACTERS)
    return {t["label"]: [texts[i] for i in t["examples"] if i in texts] for t in topics}
