"""The rate governor alone, on a fake clock: no sliding window exceeds the limit, search has its own
budget, quota headers tighten the pace, and the daily reserve stops the sync."""

from __future__ import annotations

import pytest

from adapters.governor import RateGovernor
from connector.errors import QuotaExhaustedError


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sent: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def send(governor: RateGovernor, clock: FakeClock, n: int, budget: str = "default") -> None:
    for _ in range(n):
        governor.acquire(budget)
        clock.sent.append(clock.now)


def max_in_window(times: list[float], interval: float) -> int:
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= interval - 1e-9:
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest.mark.parametrize(("limit", "interval"), [(100, 10.0), (190, 10.0), (60, 60.0), (180, 60.0)])
def test_no_sliding_window_exceeds_the_limit_and_the_pace_is_near_it(limit: int, interval: float) -> None:
    clock = FakeClock()
    governor = RateGovernor.for_vendor("v", limit=limit, interval=interval, clock=clock, sleep=clock.sleep)
    send(governor, clock, limit * 10)
    assert max_in_window(clock.sent, interval) <= limit
    achieved = len(clock.sent) / (clock.sent[-1] + interval / limit) * interval / limit
    assert achieved >= 0.9


def test_search_draws_from_its_own_budget_alone() -> None:
    """HubSpot exempts CRM search from the ten-second limit and gives it its own per-second one: 40
    searches keep to 4/s and leave the general budget whole, and a search 429 slows searches only."""
    clock = FakeClock()
    governor = RateGovernor.for_vendor(
        "hubspot", limit=100, interval=10.0, search_per_second=4, clock=clock, sleep=clock.sleep
    )
    send(governor, clock, 40, "search")
    assert max_in_window(clock.sent, 1.0) <= 4
    assert governor.usage.by_budget == {"search": 40} and governor.usage.calls == 40
    general = governor.budgets["default"]
    assert general.tokens == general.capacity  # untouched by the searches
    before = clock.now
    send(governor, clock, 3, "default")  # within the general budget's burst: no wait
    assert clock.now == before
    governor.observe(429, {"Retry-After": "1"}, "search")
    assert governor.budgets["search"].tokens <= 0 and general.tokens > 0
    governor.observe(429, {}, "default")
    assert general.tokens <= 0


def test_without_daily_headers_there_is_no_daily_cap() -> None:
    """OAuth-authenticated HubSpot calls carry no X-HubSpot-RateLimit-Daily* headers: the governor paces by
    the ten-second headers alone and never stops for a daily reserve it cannot know."""
    clock = FakeClock()
    governor = RateGovernor.for_vendor(
        "hubspot", limit=100, interval=10.0, daily_reserve=1000, clock=clock, sleep=clock.sleep
    )
    for _ in range(2000):
        governor.acquire()
        governor.observe(200, {"X-HubSpot-RateLimit-Max": "100", "X-HubSpot-RateLimit-Remaining": "50"})
    assert governor.daily_remaining is None and governor.usage.calls == 2000


def test_a_nearly_empty_vendor_window_drains_the_bucket() -> None:
    clock = FakeClock()
    governor = RateGovernor.for_vendor("aircall", limit=60, interval=60.0, clock=clock, sleep=clock.sleep)
    governor.acquire()
    governor.observe(200, {"X-AircallApi-Remaining": "1"})
    before = clock.now
    governor.acquire()
    assert clock.now - before >= 60 / (0.93 * 60) - 1e-9  # waited a full token's refill


def test_429s_are_counted_and_the_daily_reserve_stops_with_a_clear_message() -> None:
    clock = FakeClock()
    governor = RateGovernor.for_vendor(
        "hubspot", limit=100, interval=10.0, daily_reserve=1000, clock=clock, sleep=clock.sleep
    )
    governor.observe(429, {})
    assert governor.usage.throttled == 1
    governor.observe(
        200, {"X-HubSpot-RateLimit-Daily": "250000", "X-HubSpot-RateLimit-Daily-Remaining": "1001"}
    )
    governor.acquire()
    governor.observe(
        200, {"X-HubSpot-RateLimit-Daily": "250000", "X-HubSpot-RateLimit-Daily-Remaining": "1000"}
    )
    with pytest.raises(QuotaExhaustedError, match="1000 of the daily 250000 requests left"):
        governor.acquire()
