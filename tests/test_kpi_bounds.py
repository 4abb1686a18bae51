"""The calculator reads only the facts the periods asked for can need (`connector.kpis.load_bounds`), and
gets exactly the figures it gets from the whole store: on a sandbox year of all three vendors plus the
records a desk imports, for months, weeks and days, every KPI and every cut, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

import connector.kpis as kpis
from connector.importer import import_lines
from connector.kpis import ALL_CUTS, CATALOGUE, compute, load_bounds, workspace
from connector.periods import Grain, split_periods
from connector.sandbox import Sandbox
from connector.sandbox.extras import extra_records
from connector.store import Store
from tests.sync_helpers import sandbox_settings, sync

END = datetime(2026, 11, 1, tzinfo=UTC)
NOW = END + timedelta(days=2)


def _key(r: Any) -> tuple[Any, ...]:
    return (r.kpi, r.stat, r.basis, r.period_start, r.cut, r.cut_value or "")


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _incomplete(results: list[Any]) -> list[tuple[Any, ...]]:
    """Groups lacking a stat their cut has elsewhere (SPEC §4: every group with any activity in a period
    gets every stat of its KPI); named breakdowns (`reason:…`) aside."""
    shapes: dict[tuple[str, str], set[tuple[str, str]]] = {}
    groups: dict[tuple[Any, ...], set[tuple[str, str]]] = {}
    for r in results:
        if ":" not in r.stat:
            shapes.setdefault((r.kpi, r.cut), set()).add((r.stat, r.basis))
            groups.setdefault((r.kpi, r.period_start, r.cut, r.cut_value), set()).add((r.stat, r.basis))
    return [
        (key, sorted(shapes[(key[0], key[2])] - stats))
        for key, stats in groups.items()
        if shapes[(key[0], key[2])] - stats
    ]


@pytest.mark.slow
@pytest.mark.parametrize("read_by", ["index", "scanner"])
def test_bounded_loading_gives_the_figures_of_the_whole_store(
    database_url: str, monkeypatch: pytest.MonkeyPatch, read_by: str
) -> None:
    """Both ways of reading within the bounds: the database's queries by index (`connector.store.facts`)
    and DuckDB's scanner with the calculator's filter."""
    monkeypatch.setattr(workspace, "INDEXED_SHARE", 100.0 if read_by == "index" else 0.0)
    windows: list[bool] = []
    opened = workspace.Workspace._fact_window

    def watched(self: workspace.Workspace, *args: Any) -> Any:
        window = opened(self, *args)
        windows.append(window is not None)
        return window

    monkeypatch.setattr(workspace.Workspace, "_fact_window", watched)
    store = Store.open(database_url)
    limits = {"hubspot_requests_per_10s": 100_000, "aircall_requests_per_minute": 1_000_000,
              "liveagent_requests_per_minute": 1_000_000}  # fmt: skip
    with Sandbox(seed=12, size=400, end=END, **limits) as sandbox:  # type: ignore[arg-type]
        settings = sandbox_settings(sandbox, monkeypatch, database_url=database_url)
        for vendor in ("hubspot", "liveagent", "aircall"):
            assert sync(settings, store, vendor, now=NOW).ok
        assert import_lines(store, (json.dumps(r) for r in extra_records(sandbox.world))).committed
    whole = load_bounds
    cases = [
        split_periods(date(2026, 8, 1), date(2026, 10, 1), Grain.MONTH, settings.zone),  # two months
        split_periods(date(2026, 9, 28), date(2026, 10, 12), Grain.WEEK, settings.zone),
        split_periods(date(2026, 10, 30), date(2026, 11, 3), Grain.DAY, settings.zone),  # to after the end
    ]
    try:
        for periods in cases:
            bounded = compute(store, settings, periods, cuts=ALL_CUTS, now=NOW)
            low, high = whole(list(CATALOGUE.values()), settings, periods)
            assert low < periods[0].start and high > periods[-1].end  # K09 looks back, K07/K08 ahead
            monkeypatch.setattr(kpis, "load_bounds", lambda *args: None)
            full = compute(store, settings, periods, cuts=ALL_CUTS, now=NOW)
            monkeypatch.setattr(kpis, "load_bounds", whole)
            assert len(full) > 1000
            by_key = {_key(r): r for r in full}
            assert sorted(by_key) == sorted(_key(r) for r in bounded), periods[0]
            differing = [
                (_key(r), r.value, by_key[_key(r)].value)
                for r in bounded
                if not _same(r.value, by_key[_key(r)].value) or r.count != by_key[_key(r)].count
            ]
            assert differing == [], differing[:5]
            assert _incomplete(bounded) == [], _incomplete(bounded)[:5]
        assert windows == [read_by == "index", False] * len(cases)  # bounded, then whole
    finally:
        store.close()


def test_the_bounds_follow_the_kpis_asked_for() -> None:
    from connector.settings import load_settings

    settings = load_settings(fcr_window_days=7, repeat_contact_window_days=3)
    periods = split_periods(date(2026, 9, 1), date(2026, 11, 1), Grain.MONTH, settings.zone)
    start, end = periods[0].start, periods[-1].end
    assert load_bounds([CATALOGUE["K01"], CATALOGUE["K14"]], settings, periods) == (start, end)
    assert load_bounds([CATALOGUE["K09"]], settings, periods)[0] == periods[0].previous(settings.zone).start
    assert load_bounds([CATALOGUE["K08"]], settings, periods)[1] == end + timedelta(days=4)
    assert load_bounds([CATALOGUE["K07"], CATALOGUE["K08"]], settings, periods)[1] == end + timedelta(days=8)
