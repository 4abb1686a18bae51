"""Weekly opening hours, written in the compact form admins type into `HELPDESK_BUSINESS_HOURS`.

Grammar: clauses separated by commas; each clause is a day or day range followed by one or more time
ranges. Days are `mon tue wed thu fri sat sun`; a range may wrap (`fri-mon`). Times are `HH:MM`, and
`24:00` ends a day. Days not named are closed.

    >>> hours = WeeklyHours.parse("mon-fri 09:00-12:00 13:00-17:00, sat 10:00-14:00")
    >>> hours.seconds_per_week() / 3600
    39.0
    >>> str(hours)
    'mon-fri 09:00-12:00 13:00-17:00, sat 10:00-14:00'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME_RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")

Interval = tuple[int, int]
"""Seconds since local midnight: `[start, end)`."""


@dataclass(frozen=True)
class WeeklyHours:
    """Opening intervals for each ISO weekday (index 0 = Monday), sorted and non-overlapping."""

    days: tuple[tuple[Interval, ...], ...]

    @classmethod
    def parse(cls, text: str) -> WeeklyHours:
        """Parse the compact form; raises ValueError naming the clause that is wrong."""
        days: list[list[Interval]] = [[] for _ in DAY_NAMES]
        clauses = [c.strip() for c in text.split(",") if c.strip()]
        if not clauses:
            raise ValueError("no opening hours given (e.g. 'mon-fri 09:00-17:00')")
        for clause in clauses:
            day_part, *range_parts = clause.lower().split()
            if not range_parts:
                raise ValueError(f"{clause!r}: expected a day range and at least one time range")
            for day in _parse_days(day_part, clause):
                days[day].extend(_parse_time_range(part, clause) for part in range_parts)
        for index, intervals in enumerate(days):
            intervals.sort()
            for (_, end), (next_start, _) in pairwise(intervals):
                if next_start < end:
                    raise ValueError(f"opening hours overlap on {DAY_NAMES[index]}")
        return cls(tuple(tuple(intervals) for intervals in days))

    def seconds_per_week(self) -> int:
        return sum(end - start for intervals in self.days for start, end in intervals)

    def __str__(self) -> str:
        clauses: list[str] = []
        index = 0
        while index < len(self.days):
            intervals = self.days[index]
            last = index
            while last + 1 < len(self.days) and self.days[last + 1] == intervals:
                last += 1
            if intervals:
                day_part = DAY_NAMES[index] if last == index else f"{DAY_NAMES[index]}-{DAY_NAMES[last]}"
                clauses.append(" ".join([day_part, *(_format_interval(i) for i in intervals)]))
            index = last + 1
        return ", ".join(clauses)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def validate(value: Any) -> WeeklyHours:
            if isinstance(value, WeeklyHours):
                return value
            if isinstance(value, str):
                return cls.parse(value)
            raise ValueError("expected opening hours such as 'mon-fri 09:00-17:00'")

        return core_schema.no_info_plain_validator_function(
            validate, serialization=core_schema.plain_serializer_function_ser_schema(str)
        )


def _parse_days(text: str, clause: str) -> list[int]:
    first, _, last = text.partition("-")
    try:
        start = DAY_NAMES.index(first)
        end = DAY_NAMES.index(last) if last else start
    except ValueError:
        raise ValueError(f"{clause!r}: unknown day {text!r}; use {', '.join(DAY_NAMES)}") from None
    return [(start + offset) % 7 for offset in range((end - start) % 7 + 1)]


def _parse_time_range(text: str, clause: str) -> Interval:
    match = _TIME_RANGE.match(text)
    if not match:
        raise ValueError(f"{clause!r}: {text!r} is not a time range like 09:00-17:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if m1 > 59 or m2 > 59 or h1 > 23 or h2 > 24 or (h2 == 24 and m2 != 0):
        raise ValueError(f"{clause!r}: {text!r} is not a valid time range")
    start, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
    if end <= start:
        raise ValueError(f"{clause!r}: {text!r} ends before it starts")
    return start, end


def _format_interval(interval: Interval) -> str:
    start, end = interval
    return f"{start // 3600:02d}:{start % 3600 // 60:02d}-{end // 3600:02d}:{end % 3600 // 60:02d}"
