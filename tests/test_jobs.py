"""The job layer alone, as a scheduler or the webhook host calls it: typed reports, progress through a
callback, nothing printed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from connector.jobs import JobReport, run_job
from connector.sandbox import Sandbox
from connector.schema import Ticket
from connector.store import Store
from tests.sync_helpers import sandbox_settings


def test_run_job_reports_each_step_and_prints_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    limits = {"hubspot_requests_per_10s": 100_000, "aircall_requests_per_minute": 1_000_000,
              "liveagent_requests_per_minute": 1_000_000}  # fmt: skip
    with Sandbox(seed=27, size=80, **limits) as sandbox:  # type: ignore[arg-type]
        settings = sandbox_settings(sandbox, monkeypatch, database_url=f"sqlite:///{tmp_path / 'job.db'}")
        heard: list[str] = []
        report = run_job(settings, out=tmp_path / "report", months=2, dry_run=False, emit=heard.append)
    assert isinstance(report, JobReport) and report.ok, report.lines
    assert report.sync is not None and report.sync.ok and report.sync.records > 0
    assert report.figures > 0 and report.push is not None and report.push.ok
    assert report.dashboard is not None and report.dashboard.exists()
    assert set(report.usage) == {"hubspot", "liveagent", "aircall"}
    # the tickets' topics were found, so the figures have them
    assert any(line.startswith("topics: ") and "discovered over" in line for line in report.lines), (
        report.lines
    )
    store = Store.open(settings.database_url)
    assert any(r["cut"] == "topic" for r in store.kpi_results())
    store.close()
    assert any("— done" in line for line in heard)  # progress went to the callback
    printed = capsys.readouterr()
    assert printed.out == ""  # and nothing to standard output


IDLE_RUN_CALLS = {"hubspot": 13, "liveagent": 2, "aircall": 2}
"""What a run costs when nothing changed since the last one (the README states the same)."""


@pytest.mark.slow
def test_an_idle_second_run_reads_nothing_the_first_wrote_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run, then run again: the first run's property writes moved the modification date of every
    ticket and contact it wrote, yet the second run reads none of them back (its searches leave out
    records whose only change is our write), writes no property and no snapshot (the running month
    stays out of HubSpot), and costs only the cursor checks the README states per vendor. A record
    someone changes after our write is read again."""
    limits = {"hubspot_requests_per_10s": 100_000, "aircall_requests_per_minute": 1_000_000,
              "liveagent_requests_per_minute": 1_000_000}  # fmt: skip
    with Sandbox(seed=28, size=300, **limits) as sandbox:  # type: ignore[arg-type]
        settings = sandbox_settings(sandbox, monkeypatch, database_url=f"sqlite:///{tmp_path / 'idle.db'}")
        first = run_job(settings, out=tmp_path / "r", months=2, dry_run=False, emit=lambda line: None)
        assert first.ok and first.push is not None, first.lines
        assert first.push.updates["tickets"] > 100 and first.push.updates["contacts"] > 50
        assert first.push.snapshots > 0
        second = run_job(settings, out=tmp_path / "r", months=2, dry_run=False, emit=lambda line: None)
        assert second.ok and second.sync is not None and second.push is not None, second.lines
        read = {(s.vendor, s.stream): s.records for s in second.sync.streams}
        assert read[("hubspot", "tickets")] == 0 and read[("hubspot", "contacts")] == 0, read
        assert second.push.updates == {} and second.push.snapshots == 0 and second.push.write_calls == 0
        assert {vendor: usage.calls for vendor, usage in second.usage.items()} == IDLE_RUN_CALLS
        # someone edits a ticket we wrote: the next run reads it (and only it)
        tickets = sandbox.hubspot.kinds["tickets"]
        tickets.update(5, {"subject": "Edited after our write"}, datetime.now(UTC))
        third = run_job(settings, out=tmp_path / "r", months=2, dry_run=False, emit=lambda line: None)
        assert third.sync is not None
        read = {(s.vendor, s.stream): s.records for s in third.sync.streams}
        assert read[("hubspot", "tickets")] == 1, read
    store = Store.open(settings.database_url)
    edited = store.get(Ticket, f"hubspot:{tickets.object_id(5)}")
    store.close()
    assert edited is not None and edited.subject == "Edited after our write"


def test_the_readme_states_the_idle_run_calls() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    stated = (
        f"{IDLE_RUN_CALLS['hubspot']} HubSpot calls, {IDLE_RUN_CALLS['liveagent']} LiveAgent calls and "
        f"{IDLE_RUN_CALLS['aircall']} Aircall calls"
    )
    assert stated in " ".join(readme.split()), stated


def test_an_unreadable_own_write_mark_is_ignored_not_fatal(tmp_path: Path) -> None:
    """A damaged mark costs a re-read of that write's records, never the sync or the push."""
    from adapters.base import OWN_WRITE_STREAM, OwnWrite
    from connector.settings import load_settings
    from connector.sync import sync_plan

    mark = OwnWrite("w1", datetime(2026, 12, 1, tzinfo=UTC))
    assert OwnWrite.parse(mark.dump()) == mark
    assert OwnWrite.parse("not json") is None and OwnWrite.parse('{"write_id": "w1"}') is None
    store = Store.open(f"sqlite:///{tmp_path / 'marks.db'}")
    with store.transaction() as connection:
        store.set_cursor(connection, "hubspot", OWN_WRITE_STREAM + "tickets", mark.dump())
        store.set_cursor(connection, "hubspot", OWN_WRITE_STREAM + "contacts", "{broken")
    plan = sync_plan(load_settings(), store=store)
    store.close()
    assert plan.own_writes == {"tickets": mark}
