"""The sync job: every enabled vendor's streams into the store, incrementally.

    >>> report = run_sync(settings, store)            # what `helpdesk-kpi sync` runs
    >>> report.ok, report.records, report.usage["hubspot"].calls

Each batch a stream yields is committed in one transaction together with the stream's cursor, so a
crash (even kill -9) loses at most the batch in flight, and the rerun reads it again. A vendor that fails
(bad credentials, quota reserve reached, an error retries did not cure) is reported and the others still
run; `ok` is False then, and the CLI exits non-zero after everything fetched is committed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import time as clock_time

from sqlalchemy.engine import Connection

from adapters.base import OWN_WRITE_STREAM, Adapter, Batch, OwnWrite, SyncPlan
from adapters.governor import RateGovernor, VendorUsage
from adapters.registry import build_adapter
from adapters.windows import ReadProgress
from connector.errors import AuthError, ConfigError, ConnectorError, QuotaExhaustedError, UnreachableError
from connector.settings import Settings, Vendor
from connector.store import Store, UpsertCounts

log = logging.getLogger(__name__)


@dataclass
class StreamReport:
    vendor: str
    stream: str
    records: int = 0
    rejected: int = 0
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    error: str | None = None
    seconds: float = 0.0


@dataclass
class SyncReport:
    streams: list[StreamReport] = field(default_factory=list)
    usage: dict[str, VendorUsage] = field(default_factory=dict)
    governors: dict[str, RateGovernor] = field(default_factory=dict)
    """Each vendor's governor, for the writes of the same run to share (one budget per vendor)."""
    failures: dict[str, str] = field(default_factory=dict)
    """vendor (or vendor/stream) → what went wrong."""

    @property
    def ok(self) -> bool:
        return not self.failures and not any(s.rejected for s in self.streams)

    @property
    def records(self) -> int:
        return sum(s.records for s in self.streams)

    def changed(self) -> int:
        return sum(s.counts.total("inserted") + s.counts.total("updated") for s in self.streams)


class Progress:
    """A log line per stream at most every `every` seconds: records and records/s; how far the read has
    come — of how many, when the vendor counts them, the share of the time range read and the time left
    at the pace so far; the vendor's API calls with their pace since the last line against its limit;
    retries and 429s."""

    def __init__(self, every: float = 2.0, emit: Callable[[str], None] | None = None) -> None:
        self.every = every
        self.emit = emit or log.info
        self._last: float | None = None
        self._seen: dict[str, tuple[float, dict[str, int]]] = {}
        """Per vendor: when the last line was, and its calls per budget then."""

    def update(
        self,
        report: StreamReport,
        governor: RateGovernor,
        *,
        read: ReadProgress | None = None,
        final: bool = False,
    ) -> None:
        """A line when `every` seconds passed since the last one (a stream's first after `every` of its
        own), and always its final one — a stream done within seconds shows one line. The vendor's
        `governor` tells its usage so far and its published limits."""
        usage = governor.usage
        now = time.monotonic()
        since = now - (self._last if self._last is not None else now - report.seconds)
        if not final and since < self.every:
            return
        self._last = None if final else now
        rate = report.records / report.seconds if report.seconds > 0 else 0.0
        head = f"{report.vendor}/{report.stream}: {report.records:,}"
        if read is not None and read.expected is not None and not final:
            head += f" of {read.expected:,}"
        parts = [f"{head} records ({rate:,.0f}/s)"]
        if read is not None and not final:
            parts.append(_how_far(read, report.seconds))
        then, before = self._seen.get(report.vendor, (usage.started, {}))
        delta = {b: n - before.get(b, 0) for b, n in usage.by_budget.items()}
        self._seen[report.vendor] = (now, dict(usage.by_budget))
        parts.append(f"{usage.calls:,} API calls{pace(delta, now - then, governor.limits)}")
        parts.append(f"{usage.retries} retries, {usage.throttled} × 429")
        self.emit(", ".join(parts) + ((" — FAILED" if report.error else " — done") if final else ""))


def _how_far(read: ReadProgress, seconds: float) -> str:
    text = f"{100 * read.share:.0f} % of the time range"
    left = seconds * (1 - read.share) / read.share if read.share >= 0.01 else 0.0
    if left >= 1:
        text += f", ~{_duration(left)} left"
    return text


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


BUDGET_NAMES = {"default": "calls", "search": "searches"}
JUDGED_AFTER = 5.0
"""Seconds of traffic before a pace is set against the limit: over a shorter span a budget's burst
allowance alone can exceed the per-second average (HubSpot's ten-second window)."""


def pace(calls: Mapping[str, int], seconds: float, limits: Mapping[str, float]) -> str:
    """` (calls 2.9/s = 97 % of the 3/s limit; searches …)`: each budget's calls per second over
    `seconds`, against its published limit once the span is long enough to say ('' when nothing can)."""
    if seconds <= 0 or not any(calls.values()):
        return ""
    parts = []
    for budget, n in sorted(calls.items()):
        if not n:
            continue
        per_second = n / seconds
        limit = limits.get(budget)
        name = BUDGET_NAMES.get(budget, budget)
        share = ""
        if limit and seconds >= JUDGED_AFTER:
            share = f" = {100 * per_second / limit:.0f} % of the {limit:g}/s limit"
        parts.append(f"{name} {per_second:.1f}/s{share}")
    return " (" + "; ".join(parts) + ")"


def sync_plan(
    settings: Settings, *, full: bool = False, now: datetime | None = None, store: Store | None = None
) -> SyncPlan:
    """The run's read plan; with the `store`, the connector's own latest HubSpot writes, which an
    incremental read leaves out (see `adapters.base.OwnWrite`)."""
    current = now or datetime.now(UTC)
    backfill = datetime.combine(settings.backfill_from(current), clock_time(), tzinfo=settings.zone)
    own = store.cursors(Vendor.HUBSPOT.value, OWN_WRITE_STREAM) if store is not None else {}
    return SyncPlan(
        now=current,
        backfill_start=backfill.astimezone(UTC),
        overlap=settings.sync_overlap,
        full=full,
        own_writes={t: mark for t, text in own.items() if (mark := OwnWrite.parse(text)) is not None},
    )


def run_sync(
    settings: Settings,
    store: Store,
    *,
    sources: Sequence[Vendor] | None = None,
    entities: Sequence[str] | None = None,
    full: bool = False,
    now: datetime | None = None,
    progress: Progress | None = None,
    adapters: dict[Vendor, Adapter] | None = None,
) -> SyncReport:
    """Sync the chosen vendors (default: the enabled ones) and entities (default: all)."""
    plan = sync_plan(settings, full=full, now=now, store=store)
    progress = progress or Progress()
    report = SyncReport()
    for vendor in sources or settings.sources:
        try:
            adapter = (adapters or {}).get(vendor) or build_adapter(vendor, settings, plan)
        except ConfigError as exc:
            report.failures[vendor.value] = str(exc)
            log.error("%s", exc)
            continue
        report.usage[vendor.value] = adapter.governor.usage
        report.governors[vendor.value] = adapter.governor
        try:
            with store.exclusive(f"sync:{vendor.value}", waiting=progress.emit):
                _sync_vendor(adapter, store, report, progress, entities)
        finally:
            adapter.close()
    return report


def _sync_vendor(
    adapter: Adapter, store: Store, report: SyncReport, progress: Progress, entities: Sequence[str] | None
) -> None:
    """Every stream of one vendor; the time it takes counts as the vendor's active time."""
    began = time.monotonic()
    try:
        _sync_streams(adapter, store, report, progress, entities)
    finally:
        adapter.governor.usage.active += time.monotonic() - began


def _sync_streams(
    adapter: Adapter, store: Store, report: SyncReport, progress: Progress, entities: Sequence[str] | None
) -> None:
    vendor = adapter.vendor
    for stream in adapter.streams():
        if entities and not set(stream.entities) & set(entities):
            continue
        stream_report = StreamReport(vendor, stream.name)
        report.streams.append(stream_report)
        started = time.monotonic()
        try:
            for batch in stream.read(store.cursor(vendor, stream.name)):
                with store.transaction() as tx:
                    stream_report.counts.merge(apply_batch(store, tx, batch))
                    if batch.cursor is not None:
                        store.set_cursor(tx, vendor, stream.name, batch.cursor)
                stream_report.records += len(batch.records)
                stream_report.rejected += len(batch.rejected)
                for problem in batch.rejected:
                    log.error("%s/%s: record skipped: %s", vendor, stream.name, problem)
                stream_report.seconds = time.monotonic() - started
                progress.update(stream_report, adapter.governor, read=batch.progress)
        except (AuthError, QuotaExhaustedError, UnreachableError) as exc:
            stream_report.error = str(exc)
            report.failures[vendor] = without_vendor(vendor, str(exc))
            log.error("%s — the vendor's remaining streams are skipped", _with_vendor(vendor, str(exc)))
            return
        except ConnectorError as exc:
            stream_report.error = str(exc)
            report.failures[f"{vendor}/{stream.name}"] = without_vendor(vendor, str(exc))
            log.error("%s/%s failed: %s", vendor, stream.name, without_vendor(vendor, str(exc)))
        except Exception as exc:  # an answer no check foresaw, or a bug: this stream fails, the rest run
            stream_report.error = f"{type(exc).__name__}: {exc}"
            report.failures[f"{vendor}/{stream.name}"] = stream_report.error
            log.error("%s/%s failed: %s (cursor kept; the other streams go on)", vendor, stream.name, exc)
            log.debug("%s/%s traceback", vendor, stream.name, exc_info=True)
        finally:
            stream_report.seconds = time.monotonic() - started
        progress.update(stream_report, adapter.governor, final=True)


def apply_batch(store: Store, connection: Connection, batch: Batch) -> UpsertCounts:
    """A batch's records upserted and its merges folded, in the caller's transaction."""
    counts = store.upsert(connection, batch.records)
    for kind, merged, survivor in batch.merged:
        store.fold(connection, kind, merged, survivor)  # type: ignore[arg-type]
    return counts


def without_vendor(vendor: str, message: str) -> str:
    """An error's text without the vendor's name in front (the caller names it once)."""
    return message.removeprefix(f"{vendor}: ").removeprefix(f"{vendor} ")


def _with_vendor(vendor: str, message: str) -> str:
    return message if message.startswith(vendor) else f"{vendor}: {message}"


def _by_entity(counts: UpsertCounts) -> str:
    """`(300 tickets, 2082 messages)` when a stream stores more than one kind of record."""
    read = {entity: sum(counter.values()) for entity, counter in counts.by_entity.items() if counter}
    if len(read) < 2:
        return ""
    return " (" + ", ".join(f"{n} {entity.replace('_', ' ')}s" for entity, n in read.items()) + ")"


def summary_lines(report: SyncReport) -> list[str]:
    """The end-of-sync summary: per stream, then per vendor, then failures."""
    lines = []
    for s in report.streams:
        c = s.counts
        lines.append(
            f"{s.vendor}/{s.stream}: {s.records} read{_by_entity(c)}, {c.total('inserted')} new, "
            f"{c.total('updated')} changed, "
            f"{c.total('unchanged')} unchanged"
            + (f", {s.rejected} rejected" if s.rejected else "")
            + (" — FAILED (see below)" if s.error else "")
        )
    for vendor, usage in report.usage.items():
        governor = report.governors.get(vendor)
        active = (
            f" in {usage.active:.1f} s of reading{pace(usage.by_budget, usage.active, governor.limits)}"
            if governor is not None and usage.active > 0
            else ""
        )
        lines.append(
            f"{vendor}: {usage.calls} API calls{active}, {usage.retries} retries, {usage.throttled} × 429"
        )
    for where, problem in report.failures.items():
        lines.append(f"FAILED {where}: {problem}")
    return lines
