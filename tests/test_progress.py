"""What a long sync says while it runs and when it ends: records of how many, the share of the range
read and the time left, and each vendor budget's pace against its published limit."""

from __future__ import annotations

import time

from adapters.governor import RateGovernor, VendorUsage
from adapters.windows import ReadProgress
from connector.sync import Progress, StreamReport, SyncReport, pace, summary_lines


def test_a_progress_line_gives_count_share_time_left_and_pace_against_the_limit() -> None:
    lines: list[str] = []
    progress = Progress(every=0.0, emit=lines.append)
    governor = RateGovernor.for_vendor("liveagent", limit=600, interval=60.0)  # 10/s published
    usage = governor.usage = VendorUsage(calls=100, by_budget={"default": 100}, started=time.monotonic() - 20)
    report = StreamReport("liveagent", "tickets", records=250, seconds=10.0)
    progress.update(report, governor, read=ReadProgress(0.25, 1000))
    line = lines[-1]
    assert line.startswith(
        "liveagent/tickets: 250 of 1,000 records (25/s), 25 % of the time range, ~30 s left"
    )
    assert "100 API calls (calls 5.0/s = 50 % of the 10/s limit)" in line
    # the next line's pace is of the calls since this one
    usage.calls, usage.by_budget = 130, {"default": 130}
    report.records, report.seconds = 400, 16.0
    progress._seen["liveagent"] = (time.monotonic() - 6.0, {"default": 100})
    progress.update(report, governor, read=ReadProgress(0.5), final=True)
    assert lines[-1].endswith(
        "130 API calls (calls 5.0/s = 50 % of the 10/s limit), 0 retries, 0 × 429 — done"
    )
    assert "of the time range" not in lines[-1]  # a finished read needs no estimate


def test_pace_is_judged_against_the_limit_only_over_a_long_enough_span() -> None:
    assert pace({"default": 10}, 2.0, {"default": 10.0}) == " (calls 5.0/s)"  # a burst, not a pace
    assert pace({"default": 80, "search": 38}, 10.0, {"default": 10.0, "search": 4.0}) == (
        " (calls 8.0/s = 80 % of the 10/s limit; searches 3.8/s = 95 % of the 4/s limit)"
    )
    assert pace({}, 10.0, {}) == "" and pace({"default": 5}, 0.0, {}) == ""


def test_the_summary_gives_each_vendors_pace_while_it_was_read() -> None:
    governor = RateGovernor.for_vendor("hubspot", limit=100, interval=10.0, search_per_second=4)
    governor.usage.calls, governor.usage.by_budget = 88, {"default": 50, "search": 38}
    governor.usage.active = 10.0
    report = SyncReport(usage={"hubspot": governor.usage}, governors={"hubspot": governor})
    assert summary_lines(report) == [
        "hubspot: 88 API calls in 10.0 s of reading (calls 5.0/s = 50 % of the 10/s limit; "
        "searches 3.8/s = 95 % of the 4/s limit), 0 retries, 0 × 429"
    ]
