"""The KPI computation's memory cap (`HELPDESK_KPI_MEMORY_LIMIT_MB`): DuckDB holds at most that much and
spills the rest to a temporary directory of its own, which goes when the workspace closes; the figures do
not depend on it."""

from __future__ import annotations

import dataclasses
import os
from datetime import date
from typing import Any

import duckdb
import pytest

from connector.errors import ConfigError
from connector.importer import import_lines
from connector.kpis import ALL_CUTS, CATALOGUE, compute, open_workspace
from connector.periods import Grain, split_periods
from connector.settings import load_settings
from connector.store import Store
from tests.conftest import EXAMPLE_LINES
from tests.kpi_helpers import NOW


def _figures(results: list[Any]) -> dict[tuple[Any, ...], tuple[float | None, int | None]]:
    return {(r.kpi, r.stat, r.basis, r.period_start, r.cut, r.cut_value): (r.value, r.count) for r in results}


def test_the_figures_do_not_depend_on_the_memory_limit(database_url: str) -> None:
    store = Store.open(database_url)
    try:
        assert import_lines(store, EXAMPLE_LINES).committed
        capped = load_settings(database_url=database_url, kpi_memory_limit_mb=128)
        free = load_settings(database_url=database_url, kpi_memory_limit_mb=0)
        periods = split_periods(date(2026, 1, 1), date(2026, 12, 31), Grain.MONTH, capped.zone)
        with_cap = compute(store, capped, periods, cuts=ALL_CUTS, now=NOW)
        without = compute(store, free, periods, cuts=ALL_CUTS, now=NOW)
    finally:
        store.close()
    assert len(with_cap) > 100
    assert _figures(with_cap) == _figures(without)


def test_the_workspace_spills_past_its_limit_and_leaves_nothing_behind(tmp_path: Any) -> None:
    """A table sorted into more than the limit is built by spilling into the workspace's own directory;
    closing the workspace removes it."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store.open(url)
    settings = load_settings(database_url=url, kpi_memory_limit_mb=128)
    periods = split_periods(date(2026, 1, 1), date(2026, 1, 31), Grain.MONTH, settings.zone)
    try:
        workspace = open_workspace(store, settings, periods)
    finally:
        store.close()
    spill = workspace.spill_directory
    try:
        assert spill is not None and os.path.isdir(spill)
        limit = workspace.con.execute("SELECT current_setting('memory_limit')").fetchone()
        assert limit is not None and limit[0] == "122.0 MiB", limit  # DuckDB's rendering of 128 MB
        assert workspace.con.execute("SELECT current_setting('temp_directory')").fetchone() == (spill,)
        # 20 M rows of two BIGINTs sorted: 320 MB, over twice the limit
        workspace.con.execute(
            "CREATE TABLE big AS SELECT i, hash(i) AS h FROM range(20000000) r(i) ORDER BY h"
        )
        spilled = workspace.con.execute("SELECT count(*), sum(size) FROM duckdb_temporary_files()").fetchone()
        assert spilled is not None and spilled[0] > 0 and spilled[1] > 128 * 2**20, spilled
        assert workspace.con.execute("SELECT count(*), max(i) FROM big").fetchone() == (
            20_000_000,
            19_999_999,
        )
    finally:
        workspace.close()
    assert not os.path.exists(spill)


def test_the_memory_limit_is_validated() -> None:
    with pytest.raises(ConfigError, match=r"HELPDESK_KPI_MEMORY_LIMIT_MB: .*at least 128"):
        load_settings(kpi_memory_limit_mb=64)
    assert load_settings().kpi_memory_limit_mb == 640
    assert load_settings(kpi_memory_limit_mb=0).kpi_memory_limit_mb == 0


def test_running_out_of_memory_names_the_setting(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB's out-of-memory error (an operator that cannot spill) becomes a ConfigError naming the
    setting and its value."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store.open(url)
    settings = load_settings(database_url=url, kpi_memory_limit_mb=256)
    periods = split_periods(date(2026, 1, 1), date(2026, 1, 31), Grain.MONTH, settings.zone)

    def exhausted(ctx: Any, d: Any) -> Any:
        raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block of size 256.0 KiB")

    monkeypatch.setitem(CATALOGUE, "K01", dataclasses.replace(CATALOGUE["K01"], compute=exhausted))
    try:
        with pytest.raises(ConfigError, match=r"HELPDESK_KPI_MEMORY_LIMIT_MB=256 .*could not allocate"):
            compute(store, settings, periods, kpi_ids=["K01"])
    finally:
        store.close()
