"""The KPI calculator: reads the store, never a vendor. `compute` is its one entry point.

    >>> periods = split_periods(date(2026, 1, 1), date(2027, 1, 1), Grain.MONTH, settings.zone)
    >>> results = compute(store, settings, periods, cuts=("overall", "agent"), kpi_ids=["K01", "K14"])

Each KPI lives in the catalogue (`catalogue.CATALOGUE`), defined once in one of the family modules
(`tickets`, `reasons`, `workload`, `calls`, `feedback`, `customers`), with its formula in its docstring.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

import duckdb

from adapters.registry import CALL_LOGGING_CRMS
from connector.calendar import BusinessCalendar
from connector.errors import ConfigError
from connector.kpis import calls, customers, feedback, reasons, tickets, workload  # noqa: F401  (registration)
from connector.kpis.catalogue import ALL_CUTS, CATALOGUE, Context, KpiDefinition
from connector.kpis.results import KpiResult, with_every_stat
from connector.kpis.scope import RecordScope, copy_scope
from connector.kpis.workspace import Workspace
from connector.periods import Period
from connector.settings import Settings
from connector.store import Store

__all__ = ["ALL_CUTS", "CATALOGUE", "KpiResult", "compute", "definitions", "load_bounds"]

log = logging.getLogger(__name__)


def definitions(kpi_ids: Sequence[str] | None = None) -> list[KpiDefinition]:
    """The catalogue entries for these ids (all when None), in id order; unknown ids are an error."""
    known = sorted(CATALOGUE)
    wanted = list(kpi_ids) if kpi_ids is not None else known
    unknown = [k for k in wanted if k not in CATALOGUE]
    if unknown:
        raise ConfigError(f"unknown KPI ids: {', '.join(unknown)} (the catalogue has {known[0]}…{known[-1]})")
    return [CATALOGUE[k] for k in sorted(set(wanted))]


def compute(
    store: Store,
    settings: Settings,
    periods: Sequence[Period],
    *,
    cuts: Sequence[str] = ("overall",),
    kpi_ids: Sequence[str] | None = None,
    now: datetime | None = None,
) -> list[KpiResult]:
    """Every requested KPI for every period and cut, as flat result records."""
    unknown_cuts = [c for c in cuts if c not in ALL_CUTS]
    if unknown_cuts:
        raise ConfigError(f"unknown cuts: {', '.join(unknown_cuts)} (choose from {', '.join(ALL_CUTS)})")
    chosen = definitions(kpi_ids)
    with within_memory_limit(settings):
        return _compute(store, settings, periods, chosen, cuts, now)


@contextmanager
def within_memory_limit(settings: Settings) -> Iterator[None]:
    """DuckDB's out-of-memory error under `HELPDESK_KPI_MEMORY_LIMIT_MB` as the setting to change."""
    try:
        yield
    except duckdb.OutOfMemoryException as exc:
        raise ConfigError(
            f"the KPI computation needs more memory than HELPDESK_KPI_MEMORY_LIMIT_MB="
            f"{settings.kpi_memory_limit_mb} lets it hold, even spilling to disk: raise it, or set 0 "
            f"for DuckDB's own limit (80 % of RAM) ({str(exc).splitlines()[0]})"
        ) from exc


def _compute(
    store: Store,
    settings: Settings,
    periods: Sequence[Period],
    chosen: Sequence[KpiDefinition],
    cuts: Sequence[str],
    now: datetime | None,
) -> list[KpiResult]:
    started = time.perf_counter()
    workspace = open_workspace(
        store, settings, periods, now=now, bounds=load_bounds(chosen, settings, periods)
    )
    loaded = time.perf_counter()
    try:
        context = Context(workspace, settings, periods, tuple(dict.fromkeys(("overall", *cuts))))
        results: list[KpiResult] = []
        # 160,000 result tuples that all stay alive: with the cyclic garbage collector on, each of its
        # passes walks every one made so far (0.39 s under the profiler for a year by month with every
        # cut, about 0.2 s in the benchmark); none of them can form a cycle
        collecting = gc.isenabled()
        gc.disable()
        try:
            for definition in chosen:
                results += with_every_stat(definition.compute(context, definition))
        finally:
            if collecting:
                gc.enable()
    finally:
        workspace.close()
    log.info(
        "computed %d KPIs into %d figures (%d periods): load %.2fs, compute %.2fs",
        len(chosen),
        len(results),
        len(periods),
        loaded - started,
        time.perf_counter() - loaded,
    )
    return results


LOOK_MARGIN = timedelta(days=1)
"""Added to a look-ahead window: a call's window runs from its end, which can be after its period."""


def load_bounds(
    chosen: Sequence[KpiDefinition], settings: Settings, periods: Sequence[Period]
) -> tuple[datetime, datetime]:
    """[from, until) of the facts computing `chosen` for `periods` can need: the periods, the period
    before the first for a KPI that compares with it (K09), and the longest look-ahead window of the
    chosen KPIs after the last (FCR, repeat contacts). Computed from the definitions, not a fixed
    margin, so a two-month run reads two months of a store that holds years."""
    low = min(p.start for p in periods)
    high = max(p.end for p in periods)
    if any(d.looks_back for d in chosen):
        first = min(periods, key=lambda p: p.start)
        low = min(low, first.previous(settings.zone).start)
    ahead = [timedelta(days=float(getattr(settings, name))) for d in chosen for name in d.looks_ahead]
    if ahead:
        high += max(ahead) + LOOK_MARGIN
    return low, high


def open_workspace(
    store: Store,
    settings: Settings,
    periods: Sequence[Period],
    *,
    now: datetime | None = None,
    scope: RecordScope | None = None,
    bounds: tuple[datetime, datetime] | None = None,
) -> Workspace:
    """The store's records loaded for `periods`, with the settings' business calendar and call
    de-duplication: what the KPIs, the record-level figures of the writer and tests all read. With a
    `scope`, only the rows those records' figures need (see `connector.kpis.scope`); with `bounds`,
    only the facts whose life touches them (see `load_bounds`)."""
    url = store.url
    calendar = BusinessCalendar.from_settings(settings)
    if scope is not None:
        return Workspace(
            url,
            calendar,
            periods,
            now=now,
            call_duplicate_seconds=settings.call_duplicate_seconds,
            yielding_call_sources=CALL_LOGGING_CRMS,
            memory_limit_mb=settings.kpi_memory_limit_mb,
            loader=lambda con: copy_scope(con, store, scope),
        )
    return Workspace(
        url,
        calendar,
        periods,
        schema=store.schema(),
        now=now,
        bounds=bounds,
        call_duplicate_seconds=settings.call_duplicate_seconds,
        yielding_call_sources=CALL_LOGGING_CRMS,
        memory_limit_mb=settings.kpi_memory_limit_mb,
    )
