"""The workspace's calendar columns against `BusinessCalendar`, instant by instant.

Every timestamp in the workspace gets its business seconds (`_b`), its period (`_p`), whether the desk was
open (`_open`) and its local hour of the week (`_how`) from a packed list of calendar buckets. These tests
check each of them against the calendar computed directly in Python, for odd opening hours (minutes that
are not quarter hours), a DST switch, a public holiday, zones whose offset is not a whole hour, and
periods that do not start on a quarter hour (the workspace then falls back to one-minute buckets).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest

from connector.calendar import BusinessCalendar
from connector.kpis import open_workspace
from connector.kpis.workspace import BUCKET_MINUTES
from connector.periods import Grain, Period, split_periods
from connector.schema import Call, Ticket
from connector.settings import load_settings
from connector.store import Store

HOURS = "mon-fri 08:07-12:00 13:01-17:53, sat 10:00-10:14"
"""Opening hours on odd minutes: an open stretch may start and stop inside a quarter-hour bucket."""


def _instants(seed: int, start: datetime, days: int, n: int) -> list[datetime]:
    """`n` pseudo-random instants over `days` days, with seconds and microseconds."""
    rng = random.Random(seed)
    return [start + timedelta(seconds=rng.uniform(0, days * 86400)) for _ in range(n)]


def _check(url: str, zone: str, periods_for: str, expected_bucket: int) -> None:
    settings = load_settings(
        database_url=url, timezone=zone, business_hours=HOURS, holiday_country="NL", closed_dates="2026-03-18"
    )
    calendar = BusinessCalendar.from_settings(settings)
    begin = datetime(2026, 2, 20, tzinfo=UTC)
    created = _instants(1, begin, 60, 400)
    # ends a few minutes to three weeks later: inside one bucket, across buckets, over the DST switch
    resolved = [
        c + timedelta(seconds=random.Random(i).choice([5, 61, 700, 3600 * 5, 86400 * 21]))
        for i, c in enumerate(created)
    ]
    tickets = [
        Ticket(source="hubspot", source_id=str(i), created_at=c, resolved_at=r, status="closed")
        for i, (c, r) in enumerate(zip(created, resolved, strict=True))
    ]
    calls = [
        Call(source="aircall", source_id=str(i), started_at=c, direction="inbound", status="answered")
        for i, c in enumerate(created)
    ]
    if periods_for == "months":
        periods = split_periods(date(2026, 2, 1), date(2026, 5, 1), Grain.MONTH, settings.zone)
    else:  # periods starting seven minutes past the hour: no bucket larger than a minute fits them
        edges = [begin + timedelta(days=d, minutes=7) for d in range(0, 90, 30)]
        periods = [Period(a.date(), b.date(), a, b, Grain.RANGE) for a, b in pairwise(edges)]
    store = Store.open(url)
    with store.transaction() as tx:
        store.upsert(tx, [*tickets, *calls])
    workspace = open_workspace(store, settings, periods, now=datetime(2026, 11, 1, tzinfo=UTC))
    try:
        assert workspace.bucket_minutes == expected_bucket
        rows = workspace.rows(
            "SELECT created_at_e, created_at_b, resolved_at_b, created_at_p, created_at_how FROM tickets"
        )
        opened = dict(workspace.rows("SELECT started_at_e, started_at_open FROM calls"))
        period_open = dict(workspace.rows("SELECT pidx, open_seconds FROM period_open"))
    finally:
        workspace.close()
        store.close()
    by_epoch = {round(c.timestamp(), 6): (c, r) for c, r in zip(created, resolved, strict=True)}
    assert len(rows) == len(created)
    for created_e, created_b, resolved_b, pidx, how in rows:
        c, r = by_epoch[round(created_e, 6)]
        assert resolved_b - created_b == pytest.approx(calendar.business_seconds(c, r), abs=1e-5), (c, r)
        expected_p = next((i for i, p in enumerate(periods) if p.start <= c < p.end), None)
        assert pidx == expected_p, c
        local = c.astimezone(settings.zone)
        assert how == local.weekday() * 24 + local.hour, c
        minute = c.replace(second=0, microsecond=0)
        assert opened[created_e] == (calendar.business_seconds(minute, minute + timedelta(minutes=1)) > 0), c
    for i, p in enumerate(periods):
        assert period_open[i] == calendar.business_seconds(p.start, p.end)


@pytest.mark.parametrize(
    ("zone", "periods_for", "expected_bucket"),
    [
        ("Europe/Amsterdam", "months", BUCKET_MINUTES),  # DST switch on 2026-03-29
        ("Asia/Kathmandu", "months", BUCKET_MINUTES),  # UTC+05:45: local hours start at :15 UTC
        ("America/St_Johns", "months", BUCKET_MINUTES),  # UTC−03:30 / −02:30 with DST
        ("Europe/Amsterdam", "odd", 1),
    ],
)
def test_calendar_columns_match_the_business_calendar(
    database_url: str, zone: str, periods_for: str, expected_bucket: int
) -> None:
    _check(database_url, zone, periods_for, expected_bucket)


def test_instants_before_the_calendar_start_keep_exact_business_durations(database_url: str) -> None:
    """The calendar covers the periods and the load bounds; a ticket created years before them (still open
    then, or resolved in them) gets its business seconds from the open intervals directly, as negative
    offsets from the calendar's start, so `resolved_at_b − created_at_b` is still the open time between the
    two — for spans ending before the start, across it, and after it."""
    settings = load_settings(
        database_url=database_url, timezone="Europe/Amsterdam", business_hours=HOURS, holiday_country="NL"
    )
    calendar = BusinessCalendar.from_settings(settings)
    created = _instants(2, datetime(2023, 1, 1, tzinfo=UTC), 3 * 365, 300)
    rng = random.Random(3)
    latest = datetime(2026, 4, 15, tzinfo=UTC)  # within the calendar's end (a lookaround after the periods)
    resolved = [
        min(c + timedelta(seconds=rng.choice([5, 700, 86400 * 3, 86400 * 200, 86400 * 900])), latest)
        for c in created
    ]
    tickets = [
        Ticket(source="hubspot", source_id=str(i), created_at=c, resolved_at=r, status="closed")
        for i, (c, r) in enumerate(zip(created, resolved, strict=True))
    ]
    periods = split_periods(date(2026, 2, 1), date(2026, 5, 1), Grain.MONTH, settings.zone)
    store = Store.open(database_url)
    with store.transaction() as tx:
        store.upsert(tx, tickets)
    workspace = open_workspace(store, settings, periods, now=datetime(2026, 11, 1, tzinfo=UTC))
    try:
        start = datetime.fromtimestamp(workspace.first_minute * 60, UTC)
        rows = workspace.rows("SELECT created_at_e, created_at_b, resolved_at_b FROM tickets")
    finally:
        workspace.close()
        store.close()
    by_epoch = {round(c.timestamp(), 6): (c, r) for c, r in zip(created, resolved, strict=True)}
    assert len(rows) == len(created)
    assert sum(c < start for c in created) > 250 and sum(r < start for r in resolved) > 100
    assert sum(c < start <= r for c, r in zip(created, resolved, strict=True)) > 30
    for created_e, created_b, resolved_b in rows:
        c, r = by_epoch[round(created_e, 6)]
        assert resolved_b - created_b == pytest.approx(calendar.business_seconds(c, r), abs=1e-5), (c, r)
        assert created_b == pytest.approx(-calendar.business_seconds(c, start) if c < start else created_b)
