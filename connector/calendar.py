"""The business calendar: when the service desk is open, so durations can be measured in business time.

Opening hours are local wall-clock times in the configured zone; public holidays (the `holidays` package,
by country and optional subdivision) and extra closed dates close whole days. Open intervals are turned
into UTC instants day by day with zoneinfo, so a DST change is handled exactly: a `00:00-24:00` day lasts
23 or 25 hours on the days the clocks move, and `09:00-17:00` stays 8 hours.

    business_seconds(a, b) = Σ over open intervals I of |[a, b) ∩ I|

    >>> from zoneinfo import ZoneInfo
    >>> calendar = BusinessCalendar(WeeklyHours.parse("mon-fri 09:00-17:00"), ZoneInfo("Europe/Amsterdam"))
    >>> monday_10 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)       # 10:00 in Amsterdam
    >>> calendar.business_seconds(monday_10, monday_10 + timedelta(days=2)) / 3600   # Mon 10:00 → Wed 10:00
    16.0
"""

from __future__ import annotations

from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from connector.business_hours import WeeklyHours

if TYPE_CHECKING:
    from connector.settings import Settings

OpenInterval = tuple[datetime, datetime]
"""An open span as two UTC instants, `[start, end)`."""


@dataclass(frozen=True)
class BusinessCalendar:
    hours: WeeklyHours
    zone: ZoneInfo
    closed_dates: frozenset[date] = frozenset()
    holidays: Container[date] = field(default_factory=frozenset)
    """Anything answering `date in holidays` (a `holidays.HolidayBase` expands its years on demand)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> BusinessCalendar:
        public: Container[date] = frozenset()
        if settings.holiday_country:
            import holidays

            country, _, subdivision = settings.holiday_country.partition("-")
            public = holidays.country_holidays(country, subdiv=subdivision or None)
        return cls(settings.business_hours, settings.zone, frozenset(settings.closed_dates), public)

    def is_closed(self, day: date) -> bool:
        return day in self.closed_dates or day in self.holidays

    def open_intervals(self, start: datetime, end: datetime) -> Iterator[OpenInterval]:
        """Every open interval overlapping `[start, end)`, clipped to it, in UTC, in order."""
        if end <= start:
            return
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        last = end.astimezone(self.zone).date() + timedelta(days=1)
        while day <= last:
            if not self.is_closed(day):
                for open_seconds, close_seconds in self.hours.days[day.weekday()]:
                    opens = self._instant(day, open_seconds)
                    closes = self._instant(day, close_seconds)
                    clipped = (max(opens, start), min(closes, end))
                    if clipped[0] < clipped[1]:
                        yield clipped
            day += timedelta(days=1)

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Open time between two instants; negative when `end` precedes `start`."""
        if end < start:
            return -self.business_seconds(end, start)
        return sum((b - a).total_seconds() for a, b in self.open_intervals(start, end))

    def _instant(self, day: date, seconds: int) -> datetime:
        """Local wall-clock `seconds` after midnight of `day` (24:00 = next midnight), as a UTC instant."""
        local = datetime.combine(day + timedelta(days=seconds // 86400), time(), tzinfo=self.zone)
        local = local.replace(hour=seconds % 86400 // 3600, minute=seconds % 3600 // 60)
        return local.astimezone(UTC)
