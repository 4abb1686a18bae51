"""Business calendar (exact across DST, weekends, holidays, long spans) and reporting periods."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.business_hours import WeeklyHours
from connector.calendar import BusinessCalendar
from connector.periods import Grain, split_periods
from connector.settings import load_settings

AMS = ZoneInfo("Europe/Amsterdam")
OFFICE = BusinessCalendar(WeeklyHours.parse("mon-fri 09:00-17:00"), AMS)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=AMS)


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        ("2026-01-05T10:00", "2026-01-07T10:00", 16),  # Mon 10:00 → Wed 10:00
        ("2026-01-09T16:00", "2026-01-12T10:00", 2),  # Fri 16:00 → Mon 10:00: the weekend is closed
        ("2026-01-10T10:00", "2026-01-11T18:00", 0),  # entirely in a weekend
        ("2026-01-05T07:00", "2026-01-05T08:00", 0),  # before opening
        ("2026-01-05T16:30", "2026-01-05T18:00", 0.5),
        ("2026-03-27T16:00", "2026-03-30T10:00", 2),  # across the spring DST change (29 March)
        ("2026-10-23T16:00", "2026-10-26T10:00", 2),  # across the autumn DST change (25 October)
        ("2026-01-01T00:00", "2027-01-01T00:00", 261 * 8),  # a whole year: 261 weekdays
    ],
)
def test_business_seconds_between_two_instants(start: str, end: str, hours: float) -> None:
    assert OFFICE.business_seconds(local(start), local(end)) == hours * 3600


def test_round_the_clock_day_lasts_23_and_25_hours_on_dst_days() -> None:
    always = BusinessCalendar(WeeklyHours.parse("mon-sun 00:00-24:00"), AMS)
    spring = always.business_seconds(local("2026-03-29T00:00"), local("2026-03-30T00:00"))
    autumn = always.business_seconds(local("2026-10-25T00:00"), local("2026-10-26T00:00"))
    assert (spring, autumn) == (23 * 3600, 25 * 3600)


def test_public_holidays_and_closed_dates_are_closed() -> None:
    calendar = BusinessCalendar.from_settings(
        load_settings(timezone="Europe/Amsterdam", holiday_country="NL", closed_dates="2026-04-28")
    )
    # Monday 27 April 2026 is King's Day; Tuesday 28 April is an extra closed date
    week = calendar.business_seconds(local("2026-04-27T00:00"), local("2026-05-02T00:00"))
    assert week == 3 * 8 * 3600


def test_negative_span_is_negative() -> None:
    assert OFFICE.business_seconds(local("2026-01-05T12:00"), local("2026-01-05T10:00")) == -2 * 3600


instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=200, deadline=None)
@given(a=instants, b=instants, c=instants)
def test_business_time_never_exceeds_calendar_time_and_adds_up(a: datetime, b: datetime, c: datetime) -> None:
    a, b, c = sorted((a, b, c))
    ab, bc = OFFICE.business_seconds(a, b), OFFICE.business_seconds(b, c)
    assert 0 <= ab <= (b - a).total_seconds()
    assert OFFICE.business_seconds(a, c) == pytest.approx(ab + bc)


def test_months_start_at_local_midnight() -> None:
    months = split_periods(date(2026, 1, 1), date(2026, 4, 1), Grain.MONTH, AMS)
    assert [p.label for p in months] == ["2026-01", "2026-02", "2026-03"]
    assert months[0].start == datetime(2025, 12, 31, 23, 0, tzinfo=UTC)
    assert months[2].end == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)  # CEST from 29 March
    assert all(p.end == q.start for p, q in itertools.pairwise(months))


@pytest.mark.parametrize(
    ("grain", "labels"),
    [
        (Grain.DAY, ["2026-01-30", "2026-01-31", "2026-02-01"]),
        (Grain.WEEK, ["2026-W05"]),
        (Grain.MONTH, ["2026-01", "2026-02"]),
        (Grain.QUARTER, ["2026-Q1"]),
        (Grain.RANGE, ["2026-01-30..2026-02-02"]),
    ],
)
def test_grains_split_and_clip_to_the_range(grain: Grain, labels: list[str]) -> None:
    periods = split_periods(date(2026, 1, 30), date(2026, 2, 2), grain, ZoneInfo("UTC"))
    assert [p.label for p in periods] == labels
    assert periods[0].first_day == date(2026, 1, 30) and periods[-1].end_day == date(2026, 2, 2)


def test_quarters_of_a_year_and_previous_period() -> None:
    quarters = split_periods(date(2026, 1, 1), date(2027, 1, 1), Grain.QUARTER, ZoneInfo("UTC"))
    assert [p.label for p in quarters] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert quarters[0].previous(ZoneInfo("UTC")).label == "2025-Q4"
    assert quarters[0].end - quarters[0].start == timedelta(days=90)


def test_empty_range_is_an_error() -> None:
    with pytest.raises(ValueError, match="must be after"):
        split_periods(date(2026, 1, 2), date(2026, 1, 2), Grain.DAY, ZoneInfo("UTC"))
