"""Running the sync job against a sandbox, for the sync tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

import pytest

from connector.sandbox import Sandbox
from connector.schema import Record
from connector.settings import Settings, Vendor, load_settings
from connector.store import Store
from connector.sync import SyncReport, run_sync

FAST = {
    "HELPDESK_HUBSPOT__REQUESTS_PER_10S": "100000",
    "HELPDESK_HUBSPOT__SEARCH_PER_SECOND": "100000",
    "HELPDESK_AIRCALL__REQUESTS_PER_MINUTE": "1000000",
    "HELPDESK_LIVEAGENT__REQUESTS_PER_MINUTE": "1000000",
}
"""Governor limits far above what the test sandboxes enforce: tests count calls, they do not wait."""


def module_sandbox(**options: Any) -> Callable[[], Iterator[Sandbox]]:
    """A module-scoped `sandbox` fixture: one sandbox built with `options` serves all the module's tests
    (assign it to the name `sandbox` in the module)."""

    @pytest.fixture(scope="module")
    def sandbox() -> Iterator[Sandbox]:
        with Sandbox(**options) as running:
            yield running

    return sandbox


def sandbox_settings(sandbox: Sandbox, monkeypatch: Any, **extra: str) -> Settings:
    """Settings pointing at `sandbox` (through the environment, as a deployment would set them)."""
    env = sandbox.settings_env() | FAST | {"HELPDESK_BACKFILL_START": "2025-10-01"}
    env |= {f"HELPDESK_{key.upper()}": value for key, value in extra.items()}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings()


def sync(
    settings: Settings,
    store: Store,
    vendor: str,
    *,
    now: datetime,
    entities: Sequence[str] | None = None,
    full: bool = False,
) -> SyncReport:
    return run_sync(settings, store, sources=[Vendor(vendor)], entities=entities, full=full, now=now)


def stream_records(report: SyncReport, stream: str) -> int:
    return sum(s.records for s in report.streams if s.stream == stream)


def stored_counts(store: Store, *entities: type[Record]) -> dict[str, int]:
    """How many records of each entity the store holds, by entity name (a readable assertion diff)."""
    return {entity.__name__: len(store.records(entity)) for entity in entities}
