"""The job layer: what a run does — sync → compute → push → report — for every host alike. The CLI, a
scheduler and the webhook path call these functions; they report through typed results and a progress
callback, never by printing (STYLE.md item 14).

    >>> report = run_job(settings, out=Path("report"), months=2, dry_run=False, emit=print)
    >>> report.ok, report.figures, report.dashboard
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connector.errors import ConnectorError
from connector.kpis import ALL_CUTS
from connector.kpis import compute as compute_kpis
from connector.kpis.catalogue import is_forecast
from connector.kpis.results import KpiResult
from connector.periods import Grain, Period, split_periods
from connector.settings import Settings, Vendor, WriteTarget
from connector.store import Store
from connector.sync import Progress, SyncReport, run_sync, summary_lines
from connector.webhooks.process import ProcessReport
from connector.writer.hubspot import HubSpotWriter, PushReport

if TYPE_CHECKING:
    from connector.forecast import Outlook
    from connector.writer.dashboard import TopicView

log = logging.getLogger(__name__)
Emit = Callable[[str], None]


def recent_months(settings: Settings, months: int, now: datetime | None = None) -> list[Period]:
    """Month periods: the `months - 1` full months before the current one, and the month to date."""
    today = (now or datetime.now(UTC)).astimezone(settings.zone).date()
    first = today.replace(day=1)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    return split_periods(first, today + timedelta(days=1), Grain.MONTH, settings.zone)


def compute_and_store(
    settings: Settings, store: Store, periods: list[Period], now: datetime | None = None
) -> list[KpiResult]:
    """Every enabled KPI for `periods` with every cut, saved as the store's KPI results."""
    results = compute_kpis(store, settings, periods, cuts=ALL_CUTS, kpi_ids=settings.kpis, now=now)
    with store.transaction() as connection:
        store.save_kpi_results(connection, results)
    return results


def forecast_and_store(
    settings: Settings, store: Store, *, weeks: int | None = None, now: datetime | None = None
) -> tuple[Outlook, list[KpiResult]]:
    """The outlook for the coming weeks (`HELPDESK_FORECAST_WEEKS` unless given), saved as K32 results."""
    from connector.forecast import plan
    from connector.forecast.results import staffing_results

    outlook = plan(store, settings, weeks=weeks or settings.forecast_weeks, now=now)
    results = staffing_results(outlook, settings.zone)
    with store.transaction() as connection:
        store.save_kpi_results(connection, results)
    return outlook, results


def forecast_step(
    settings: Settings, store: Store, now: datetime | None, lines: list[str]
) -> list[KpiResult]:
    """`run`'s forecast: its K32 results, or none (with the reason in `lines`) when the forecast extra is
    missing, no forecast KPI (K32) is enabled or the history is too short — the rest of the run goes on."""
    if not any(is_forecast(kpi) for kpi in settings.kpis):
        return []
    try:
        outlook, results = forecast_and_store(settings, store, now=now)
    except (ConnectorError, ValueError) as exc:
        lines.append(f"forecast: skipped ({exc})")
        return []
    methods = ", ".join(f"{group} {series.method}" for group, series in outlook.forecast.series.items())
    short = sum(h.short for h in outlook.hours)
    lines.append(
        f"forecast: {len(results)} K32 figures for {outlook.forecast.hours // 168} week(s) ({methods}); "
        f"{short} agent-hour(s) short"
    )
    return results


def topics_step(settings: Settings, store: Store, now: datetime | None, emit: Emit) -> str:
    """`run`'s topics (`HELPDESK_TOPIC_REFRESH_DAYS`, `connector.topics.store.refresh_topics`): the line
    saying what was done, or why nothing was (the `topics` extra missing, too few tickets with words) —
    the rest of the run goes on either way."""
    from connector.topics.store import refresh_topics

    try:
        return refresh_topics(settings, store, now=now, progress=emit)
    except ConnectorError as exc:
        return f"topics: skipped ({exc})"


TOPIC_KPIS = ("K04", "K09", "K14")
"""The KPIs a topic's figures come from: resolution time, contact reasons (tickets, share, change,
rising, calls), CSAT."""


def topic_period(
    settings: Settings,
    store: Store,
    month: date,
    *,
    months: int | None = None,
    progress: Emit | None = None,
) -> tuple[str, TopicView]:
    """What `helpdesk-kpi topics --period` shows: the kept topics of the month holding `month`, each with
    the dashboard's topic columns (`TOPIC_KPIS`, computed, not stored), by tickets. Without a kept
    discovery, one is made first (over `months`)."""
    from connector.topics.store import discover_and_store
    from connector.writer.dashboard import topic_examples, topic_view

    if not store.topics():
        discover_and_store(settings, store, months=months, progress=progress)
    first = month.replace(day=1)
    (period,) = split_periods(first, (first + timedelta(days=32)).replace(day=1), Grain.MONTH, settings.zone)
    results = compute_kpis(store, settings, [period], cuts=["overall", "topic"], kpi_ids=TOPIC_KPIS)
    view = topic_view(
        results, period.start, [period.start], settings.currency, topic_examples(store), limit=None
    )
    return period.label, view


def push_results(
    settings: Settings,
    store: Store,
    *,
    dry_run: bool,
    now: datetime | None = None,
    governor: Any = None,
    emit: Emit = log.info,
) -> PushReport:
    """Record-level values and the stored KPI results of closed periods → HubSpot (see
    `connector.writer.hubspot`); with the sync's HubSpot `governor` when the same run synced, so reads
    and writes share one budget.

    A running period (the month to date) stays out of HubSpot until it ends: its figures move with the
    clock (open-ticket ages, the share of a month elapsed), so every run would rewrite them, and a
    snapshot is a period's record, not a reading of a gauge. The dashboard shows the running period;
    HubSpot gets it once it has closed, and again only when late records change a figure. Forecast
    figures (K32) are of coming periods by nature: they go as made, and again when a forecast changes."""
    writer = _hubspot_writer(settings, store, dry_run=dry_run, governor=governor, emit=emit)
    return _push_with(writer, settings, store, now)


def _push_with(writer: HubSpotWriter, settings: Settings, store: Store, now: datetime | None) -> PushReport:
    """`push_results` through a writer the caller made (`run` shares one with its alert step)."""
    from connector.writer.properties import record_values

    moment = now or datetime.now(UTC)
    targets = set(settings.write_back)
    values = record_values(store, settings, now=moment) if WriteTarget.HUBSPOT_PROPERTIES in targets else {}
    snapshots = snapshots_due(store, moment) if WriteTarget.HUBSPOT_SNAPSHOTS in targets else []
    return writer.push(values, snapshots)


def alerts_step(
    settings: Settings,
    store: Store,
    results: list[KpiResult],
    *,
    writer: HubSpotWriter | None,
    dry_run: bool,
    now: datetime | None = None,
) -> list[str]:
    """`HELPDESK_ALERTS` on the run's figures: each new alert a HubSpot task through `writer` (None: HubSpot
    is not written), and a summary line (see `connector.alerts.raising`)."""
    from connector.alerts.raising import raise_alerts

    return raise_alerts(
        settings, store, results, moment=now or datetime.now(UTC), writer=writer, dry_run=dry_run
    )


def writes_hubspot(settings: Settings) -> bool:
    """HubSpot is written back to: it is a source, and its properties or snapshots are a write target."""
    targets = {WriteTarget.HUBSPOT_PROPERTIES, WriteTarget.HUBSPOT_SNAPSHOTS}
    return bool(targets & set(settings.write_back)) and Vendor.HUBSPOT in settings.sources


def _hubspot_writer(
    settings: Settings, store: Store, *, dry_run: bool, governor: Any, emit: Emit
) -> HubSpotWriter:
    """The HubSpot writer, on the sync's governor when the same run synced (one budget for both)."""
    api = None
    if governor is not None and settings.hubspot.base_url and settings.hubspot.access_token:
        from adapters.hubspot_api import hubspot_api

        api = hubspot_api(settings.hubspot, governor)
    return HubSpotWriter(settings, store, dry_run=dry_run, echo=emit, api=api)


def snapshots_due(store: Store, moment: datetime) -> list[dict[str, Any]]:
    """The stored KPI results HubSpot gets at `moment`: those of closed periods, and forecasts."""
    return [r for r in store.kpi_results() if r["period_end"] <= moment or is_forecast(r["kpi"])]


def drain_events(
    settings: Settings, store: Store, *, now: datetime | None = None, emit: Emit = log.info
) -> ProcessReport:
    """Process every pending webhook event (see `connector.webhooks.process`)."""
    from connector.webhooks.process import EventProcessor

    processor = EventProcessor(settings, store, now=(lambda: now) if now else None, emit=emit)
    try:
        return processor.drain()
    finally:
        processor.close()


@dataclass
class JobReport:
    """What `run_job` did: each step's report and one summary line list for people."""

    ok: bool = True
    lines: list[str] = field(default_factory=list)
    sync: SyncReport | None = None
    figures: int = 0
    push: PushReport | None = None
    dashboard: Path | None = None
    webhooks: ProcessReport | None = None
    """Webhook events left pending, finished at the start of the run."""

    @property
    def usage(self) -> dict[str, Any]:
        return self.sync.usage if self.sync is not None else {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Run one step of the job: a connector error fails the run and becomes the line `<name> FAILED:
        <error>`, and the job goes on with its next step."""
        try:
            yield
        except ConnectorError as exc:
            self.ok = False
            self.lines.append(f"{name} FAILED: {exc}")


def run_job(
    settings: Settings,
    *,
    out: Path,
    months: int,
    dry_run: bool,
    now: datetime | None = None,
    emit: Emit = log.info,
) -> JobReport:
    """Finish pending webhook events, sync every enabled source, find or assign the tickets' topics,
    compute the recent months, push to HubSpot when it is a source and a write-back target, write the
    dashboard. Each step runs even when an earlier source failed; `emit` hears the progress lines (and a
    dry run's planned writes)."""
    from connector.writer.dashboard import write_report_for

    report = JobReport()
    store = Store.open(settings.database_url)
    try:
        if store.pending_webhook_events(limit=1):
            report.webhooks = drain_events(settings, store, now=now, emit=emit)
            report.ok &= report.webhooks.ok
            report.lines += report.webhooks.lines()
        synced = run_sync(settings, store, now=now, progress=Progress(emit=emit))
        report.sync = synced
        report.ok &= synced.ok
        report.lines += summary_lines(synced)
        report.lines.append(f"sync: {synced.records} records read, {synced.changed()} new or changed")
        if settings.topic_refresh_days:
            report.lines.append(topics_step(settings, store, now, emit))
        results: list[KpiResult] | None = None
        with report.step("compute"):
            results = compute_and_store(settings, store, recent_months(settings, months, now), now)
        if results is None:
            return report
        report.figures = len(results)
        report.lines.append(f"compute: {len(results)} figures for {months} month(s)")
        results = results + forecast_step(settings, store, now, report.lines)
        hubspot: HubSpotWriter | None = None

        def hubspot_writer() -> HubSpotWriter:
            """One writer for the push and the alerts, on the sync's HubSpot budget."""
            governor = synced.governors.get("hubspot")
            return _hubspot_writer(settings, store, dry_run=dry_run, governor=governor, emit=emit)

        if writes_hubspot(settings):
            with report.step("push"):
                hubspot = hubspot_writer()
                pushed = _push_with(hubspot, settings, store, now)
                report.push = pushed
                report.ok &= pushed.ok
                report.lines += pushed.lines()
                total = synced.usage["hubspot"].calls if "hubspot" in synced.usage else pushed.write_calls
                report.lines.append(f"hubspot: {pushed.write_calls} write calls; {total} API calls in all")
        with report.step("alerts"):
            if hubspot is not None:
                hubspot.new_report()  # task refusals are the alerts' own, not the push's
            elif writes_hubspot(settings):
                hubspot = hubspot_writer()  # the push step could not make one: fail here too, not silently
            report.lines += alerts_step(settings, store, results, writer=hubspot, dry_run=dry_run, now=now)
        if WriteTarget.DASHBOARD in settings.write_back:
            paths = write_report_for(settings, store, results, out)
            report.dashboard = paths["dashboard"]
            report.lines.append(f"dashboard: {paths['dashboard']}")
    finally:
        store.close()
    return report


def scheduled_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The AWS Lambda entry point of the scheduled job (an EventBridge schedule): `run_job` with the
    settings from the environment, its dashboard in the function's scratch space. A run that did not
    succeed raises, so the invocation counts as failed (and EventBridge's retry runs it again — the
    job is idempotent)."""
    from connector.settings import load_settings

    settings = load_settings()
    report = run_job(
        settings,
        out=Path("/tmp/helpdesk-report"),  # noqa: S108 — Lambda's only writable place
        months=settings.run_months,
        dry_run=settings.dry_run,
    )
    for line in report.lines:
        log.info("%s", line)
    if not report.ok:
        raise ConnectorError("the scheduled job did not succeed: " + "; ".join(report.lines[-3:]))
    return {"ok": report.ok, "lines": report.lines}
