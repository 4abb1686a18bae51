"""Reporting periods: half-open `[start, end)` ranges of local time, split by a grain.

Boundaries are local midnights in the configured zone (a month in Amsterdam starts at 00:00 Amsterdam
time, which is 23:00 or 22:00 UTC the day before), turned into UTC instants for comparison with stored
timestamps. Weeks are ISO weeks (Monday first).

    >>> from zoneinfo import ZoneInfo
    >>> months = split_periods(date(2026, 1, 1), date(2026, 4, 1), Grain.MONTH, ZoneInfo("UTC"))
    >>> [p.label for p in months]
    ['2026-01', '2026-02', '2026-03']
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Grain(StrEnum):
    RANGE = "range"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"


@dataclass(frozen=True)
class Period:
    """One reporting period: local dates `[first_day, end_day)` and the same range as UTC instants."""

    first_day: date
    end_day: date
    start: datetime
    end: datetime
    grain: Grain

    @property
    def label(self) -> str:
        if self.grain is Grain.MONTH:
            return f"{self.first_day:%Y-%m}"
        if self.grain is Grain.QUARTER:
            return f"{self.first_day.year}-Q{(self.first_day.month - 1) // 3 + 1}"
        if self.grain is Grain.WEEK:
            year, week, _ = self.first_day.isocalendar()
            return f"{year}-W{week:02d}"
        if self.grain is Grain.DAY:
            return self.first_day.isoformat()
        return f"{self.first_day.isoformat()}..{self.end_day.isoformat()}"

    def previous(self, zone: ZoneInfo) -> Period:
        """The period of the same grain just before this one (same length for a range)."""
        if self.grain is Grain.RANGE:
            first = self.first_day - (self.end_day - self.first_day)
            return make_period(first, self.first_day, self.grain, zone)
        return make_period(_step(self.first_day, self.grain, -1), self.first_day, self.grain, zone)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """00:00 of `day` in `zone`, as a UTC instant."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def make_period(first_day: date, end_day: date, grain: Grain, zone: ZoneInfo) -> Period:
    return Period(first_day, end_day, local_midnight(first_day, zone), local_midnight(end_day, zone), grain)


def split_periods(first_day: date, end_day: date, grain: Grain, zone: ZoneInfo) -> list[Period]:
    """`[first_day, end_day)` as one range or cut at the grain's boundaries; partial periods at either
    edge are kept (clipped to the range) so nothing in the range is left out."""
    if end_day <= first_day:
        raise ValueError(f"the end ({end_day}) must be after the start ({first_day})")
    if grain is Grain.RANGE:
        return [make_period(first_day, end_day, grain, zone)]
    periods = []
    boundary = _floor(first_day, grain)
    while boundary < end_day:
        following = _step(boundary, grain, 1)
        periods.append(make_period(max(boundary, first_day), min(following, end_day), grain, zone))
        boundary = following
    return periods


def _floor(day: date, grain: Grain) -> date:
    if grain is Grain.WEEK:
        return day - timedelta(days=day.weekday())
    if grain is Grain.MONTH:
        return day.replace(day=1)
    if grain is Grain.QUARTER:
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return day


def _step(day: date, grain: Grain, steps: int) -> date:
    if grain is Grain.DAY:
        return day + timedelta(days=steps)
    if grain is Grain.WEEK:
        return day + timedelta(weeks=steps)
    months = {Grain.MONTH: 1, Grain.QUARTER: 3}[grain] * steps
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
