"""Fault trials: a sync under one kind of vendor fault, then a clean rerun, compared table by table with a
fault-free sync of the same world. What `tests/test_sync_faults.py` asserts and `bench/reliability.py`
prints as a table.

    >>> result = run_trial(Vendor.AIRCALL, "malformed")
    >>> result.ok, result.lost, result.duplicated, result.differing
    (True, 0, 0, 0)

Faults fire at the rates below, seeded; every call gets three attempts with no wait between them (the
production policy waits and tries six times), so persistent faults really fail streams in the first run
and the rerun has to make up for them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.http import RetryPolicy
from adapters.registry import build_adapter
from connector.sandbox import Sandbox
from connector.settings import Settings, Vendor, load_settings
from connector.store import Store
from connector.sync import run_sync, sync_plan

FAULT_KINDS = {
    "5xx": "{v}=503@0.3",
    "drop": "{v}=drop@0.2",
    "truncate": "{v}=truncate@0.2",
    "malformed": "{v}=malformed@0.3",
    "429 storm": "{v}=429(1)@0.3",
    "latency": "{v}=latency(0.005)",
    "mix": "{v}=503@0.08; {v}=drop@0.08; {v}=truncate@0.08; {v}=malformed@0.08; {v}=429(1)@0.08",
}
"""Fault kind → the sandbox's fault spec for vendor `{v}`."""
OPEN_LIMITS = {
    "hubspot_requests_per_10s": 100_000,
    "aircall_requests_per_minute": 1_000_000,
    "liveagent_requests_per_minute": 1_000_000,
}
"""Trials count faults, not rate limits."""
NOW = datetime(2026, 11, 4, tzinfo=UTC)


@dataclass(frozen=True)
class TrialResult:
    vendor: str
    kind: str
    fired: int
    """Faults the sandbox served."""
    retries: int
    failed_streams: int
    """Streams of the faulty run that gave up (their cursors kept)."""
    expected: int
    """Records (and identity links) a fault-free sync stores."""
    stored_after_faults: int
    stored: int
    """After the clean rerun."""
    lost: int
    duplicated: int
    """Records the faulty store holds that a fault-free one does not."""
    differing: int
    """Records in both whose content differs."""

    @property
    def ok(self) -> bool:
        return self.lost == self.duplicated == self.differing == 0 and self.stored == self.expected


def _settings(sandbox: Sandbox, vendor: Vendor) -> Settings:
    overrides: dict[str, Any] = {"sources": [vendor], "backfill_start": "2025-10-01"}
    for name, value in sandbox.settings_env().items():
        parts = name.removeprefix("HELPDESK_").lower().split("__")
        if len(parts) == 2:
            overrides.setdefault(parts[0], {})[parts[1]] = value
    for group in ("hubspot", "aircall", "liveagent"):
        overrides[group]["requests_per_minute" if group != "hubspot" else "requests_per_10s"] = 10**6
    overrides["hubspot"]["search_per_second"] = 10**6
    return load_settings(**overrides)


def _sync(sandbox: Sandbox, store: Store, vendor: Vendor) -> Any:
    settings = _settings(sandbox, vendor)
    adapter = build_adapter(vendor, settings, sync_plan(settings, now=NOW))
    client: Any = getattr(adapter, "api", None) or getattr(adapter, "client", None)
    client.retry = RetryPolicy(attempts=3, initial_wait=0, max_wait=0)
    client.sleep = lambda seconds: None
    return run_sync(settings, store, sources=[vendor], now=NOW, adapters={vendor: adapter})


def _count(digest: dict[str, dict[str, str]]) -> int:
    return sum(len(rows) for rows in digest.values())


def run_trial(vendor: Vendor, kind: str, *, seed: int = 16, size: int = 300) -> TrialResult:
    """A sync of `vendor` under fault `kind`, a clean rerun, and a fault-free sync to compare with."""
    server_log = logging.getLogger("werkzeug")
    level = server_log.level
    server_log.setLevel(logging.CRITICAL)  # a dropped connection is the trial's doing, not news
    try:
        return _trial(vendor, kind, seed=seed, size=size)
    finally:
        server_log.setLevel(level)


def _trial(vendor: Vendor, kind: str, *, seed: int, size: int) -> TrialResult:
    spec = FAULT_KINDS[kind].format(v=vendor.value)
    faulty = Store.open("sqlite://")
    with Sandbox(seed=seed, size=size, faults=spec, **OPEN_LIMITS) as sandbox:  # type: ignore[arg-type]
        sandbox.now = NOW
        first = _sync(sandbox, faulty, vendor)
        after_faults = _count(faulty.digest())
        fired = len(sandbox.faults[vendor.value].fired)
        sandbox.faults[vendor.value].rules = []  # the vendor recovers
        second = _sync(sandbox, faulty, vendor)
    clean = Store.open("sqlite://")
    with Sandbox(seed=seed, size=size, **OPEN_LIMITS) as healthy:  # type: ignore[arg-type]
        healthy.now = NOW
        _sync(healthy, clean, vendor)
    got, want = faulty.digest(), clean.digest()
    faulty.close()
    clean.close()
    lost = sum(len(set(want[t]) - set(got.get(t, {}))) for t in want)
    duplicated = sum(len(set(got[t]) - set(want.get(t, {}))) for t in got)
    differing = sum(
        1 for t in want for key, value in want[t].items() if key in got.get(t, {}) and got[t][key] != value
    )
    return TrialResult(
        vendor=vendor.value,
        kind=kind,
        fired=fired,
        retries=first.usage[vendor.value].retries + second.usage[vendor.value].retries,
        failed_streams=sum(1 for s in first.streams if s.error),
        expected=_count(want),
        stored_after_faults=after_faults,
        stored=_count(got),
        lost=lost,
        duplicated=duplicated,
        differing=differing,
    )
