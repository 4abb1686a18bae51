"""The job layer alone, as a scheduler or the webhook host calls it: typed reports, progress through a
callback, nothing printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.jobs import JobReport, run_job
from connector.sandbox import Sandbox
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
    assert any("— done" in line for line in heard)  # progress went to the callback
    printed = capsys.readouterr()
    assert printed.out == ""  # and nothing to standard output
