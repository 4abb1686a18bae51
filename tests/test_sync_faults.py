"""Faults during a sync: kill -9 mid-run, vendor errors that retries cure, and a steady sync that stays
under the vendor's limit (no 429)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.http import RetryPolicy
from adapters.registry import build_adapter
from connector.sandbox import Sandbox
from connector.sandbox.trials import FAULT_KINDS, run_trial
from connector.schema import Ticket
from connector.settings import Vendor
from connector.store import Store
from connector.sync import run_sync, sync_plan
from tests.sync_helpers import FAST, sandbox_settings, sync

END = datetime(2026, 11, 1, tzinfo=UTC)


def snapshot(url: str) -> dict[str, dict[str, str]]:
    """Every stored record as id → content hash, per entity, plus the identity links (`Store.digest`)."""
    store = Store.open(url)
    try:
        return store.digest()
    finally:
        store.close()


def tickets_in(path: Path) -> int:
    """Tickets committed so far, read without taking part in the writer's locking for long."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.1)
        try:
            return int(connection.execute("SELECT count(*) FROM ticket").fetchone()[0])
        finally:
            connection.close()
    except sqlite3.Error:
        return 0  # not created yet, or busy


@pytest.mark.slow
def test_kill_9_mid_sync_then_a_rerun_gives_the_store_of_an_uninterrupted_run(tmp_path: Path) -> None:
    with Sandbox(
        seed=12, size=1500, faults="hubspot=latency(0.03)", hubspot_requests_per_10s=100_000
    ) as sandbox:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
        env |= sandbox.settings_env() | FAST | {"HELPDESK_BACKFILL_START": "2025-10-01"}
        script = str(Path(sys.executable).with_name("helpdesk-kpi"))
        killed_url = f"sqlite:///{tmp_path / 'killed.db'}"
        whole_url = f"sqlite:///{tmp_path / 'whole.db'}"
        command = [script, "sync", "--source", "hubspot"]

        victim = subprocess.Popen(
            command,
            env=env | {"HELPDESK_DATABASE_URL": killed_url},
            stderr=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and tickets_in(tmp_path / "killed.db") == 0:
            time.sleep(0.05)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        partial = tickets_in(tmp_path / "killed.db")
        assert 0 < partial < sandbox.world.size  # it really was cut off mid-run

        for url in (killed_url, whole_url):  # the rerun of the killed store, then an uninterrupted run
            run = subprocess.run(
                command, env=env | {"HELPDESK_DATABASE_URL": url}, capture_output=True, text=True, timeout=300
            )
            assert run.returncode == 0, run.stderr
        assert snapshot(killed_url) == snapshot(whole_url)


def test_hubspot_5xx_429_and_dropped_connections_are_retried(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = "hubspot:/crm/v3/objects=503#1,0,0,1; hubspot:/crm/v4=drop#1; hubspot:/crm/v3/objects/tickets/search=429#0,1"
    with Sandbox(seed=13, size=300, faults=faults, hubspot_requests_per_10s=100_000) as sandbox:
        settings = sandbox_settings(sandbox, monkeypatch)
        report = sync(settings, store, "hubspot", now=END + timedelta(days=3), entities=["ticket"])
        assert report.ok, report.failures
        assert len(store.records(Ticket)) == sandbox.world.size
        usage = report.usage["hubspot"]
        assert usage.retries >= 3 and usage.throttled == 1


@pytest.mark.slow
def test_a_steady_sync_stays_under_the_vendors_limit_without_a_429(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox enforces 30 requests per 10 s; the governor, told the same limit, never meets a 429."""
    with Sandbox(seed=14, size=2000, hubspot_requests_per_10s=30) as sandbox:
        settings = sandbox_settings(
            sandbox, monkeypatch, hubspot__requests_per_10s="30", hubspot__search_per_second="4"
        )
        store = Store.open("sqlite://")
        report = sync(settings, store, "hubspot", now=END + timedelta(days=3), entities=["ticket", "agent"])
        assert report.ok, report.failures
        usage = report.usage["hubspot"]
        assert usage.calls > 30  # more than one window's worth
        assert usage.throttled == 0 and usage.retries == 0


def _impatient(vendor: Vendor, settings: Any, now: datetime) -> Any:
    """The vendor's adapter with three attempts per call and no waiting between them."""
    adapter = build_adapter(vendor, settings, sync_plan(settings, now=now))
    client = adapter.api if vendor is Vendor.HUBSPOT else adapter.client  # type: ignore[attr-defined]
    client.retry = RetryPolicy(attempts=3, initial_wait=0, max_wait=0)
    client.sleep = lambda seconds: None
    return adapter


@pytest.mark.parametrize("vendor", list(Vendor))
def test_malformed_bodies_are_errors_never_empty_pages(
    vendor: Vendor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 200 whose body is not JSON (or not the endpoint's shape) is retried like a 5xx; when it persists
    the stream fails with its cursor where it was, and the vendor's other streams go on. One clean rerun
    then gives the store of a fault-free sync — nothing read as an empty page and skipped for good."""
    now = END + timedelta(days=3)
    open_limits = {"hubspot_requests_per_10s": 100_000, "aircall_requests_per_minute": 1_000_000,
                   "liveagent_requests_per_minute": 1_000_000}  # fmt: skip
    faulty_url, clean_url = f"sqlite:///{tmp_path / 'faulty.db'}", f"sqlite:///{tmp_path / 'clean.db'}"
    with Sandbox(seed=16, size=300, faults=f"{vendor.value}=malformed@0.4", **open_limits) as sandbox:  # type: ignore[arg-type]
        sandbox.now = now
        settings = sandbox_settings(sandbox, monkeypatch)
        faulty = Store.open(faulty_url)
        first = run_sync(
            settings, faulty, sources=[vendor], now=now, adapters={vendor: _impatient(vendor, settings, now)}
        )
        assert sandbox.faults[vendor.value].fired, "the fault must have fired"
        assert first.failures, "at 40 % some call must have failed three times in a row"
        assert all(
            "not complete JSON" in why or "not the JSON object" in why for why in first.failures.values()
        )
        assert len(first.streams) == len(
            build_adapter(vendor, settings, sync_plan(settings, now=now)).streams()
        )
        sandbox.faults[vendor.value].rules = []  # the vendor recovers
        second = run_sync(
            settings, faulty, sources=[vendor], now=now, adapters={vendor: _impatient(vendor, settings, now)}
        )
        assert second.ok, second.failures
        faulty.close()
    with Sandbox(seed=16, size=300, **open_limits) as healthy:  # type: ignore[arg-type]
        healthy.now = now
        settings = sandbox_settings(healthy, monkeypatch)
        clean = Store.open(clean_url)
        assert run_sync(settings, clean, sources=[vendor], now=now).ok
        clean.close()
    assert snapshot(faulty_url) == snapshot(clean_url)


@pytest.mark.slow
def test_two_syncs_started_together_on_one_store_both_succeed_and_equal_one_run(
    database_url: str, tmp_path: Path
) -> None:
    """Two `helpdesk-kpi sync` processes on one new store (SQLite file, or PostgreSQL): neither dies of a
    locked database or a half-made schema; each vendor is synced by one process at a time; the store
    equals a single run's."""
    from tests.conftest import _postgres_schema_url

    with Sandbox(seed=17, size=500, hubspot_requests_per_10s=100_000, aircall_requests_per_minute=1_000_000,
                 liveagent_requests_per_minute=1_000_000) as sandbox:  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
        env |= sandbox.settings_env() | FAST | {"HELPDESK_BACKFILL_START": "2025-10-01"}
        script = str(Path(sys.executable).with_name("helpdesk-kpi"))
        together = [
            subprocess.Popen(
                [script, "sync"],
                env=env | {"HELPDESK_DATABASE_URL": database_url},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outcomes = [process.communicate(timeout=300) for process in together]
        for process, (_, err) in zip(together, outcomes, strict=True):
            assert process.returncode == 0, err[-3000:]
            assert "database is locked" not in err and "Traceback" not in err
        if database_url.startswith("sqlite"):
            single_urls = iter([f"sqlite:///{tmp_path / 'single.db'}"])
        else:
            single_urls = _postgres_schema_url()
        single_url = next(single_urls)
        try:
            alone = subprocess.run(
                [script, "sync"], env=env | {"HELPDESK_DATABASE_URL": single_url}, capture_output=True,
                text=True, timeout=300,
            )  # fmt: skip
            assert alone.returncode == 0, alone.stderr[-3000:]
            assert snapshot(database_url) == snapshot(single_url)
        finally:
            for _ in single_urls:
                pass


@pytest.mark.parametrize("kind", list(FAULT_KINDS))
@pytest.mark.parametrize("vendor", list(Vendor))
def test_every_fault_kind_then_a_clean_rerun_equals_a_fault_free_sync(vendor: Vendor, kind: str) -> None:
    """The digest of every table after a sync under each kind of fault the sandbox serves, followed by a
    clean rerun, equals a fault-free sync's (bench/reliability.py prints the same trials as a table)."""
    result = run_trial(vendor, kind)
    assert result.fired > 0, "the fault must have fired"
    assert (result.lost, result.duplicated, result.differing) == (0, 0, 0), result
    assert result.stored == result.expected > 0, result
