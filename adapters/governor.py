"""One rate governor per vendor, shared by every stream of the process, so a steady sync stays under the
vendor's published limit instead of discovering it through 429s.

    >>> governor = RateGovernor.for_vendor("hubspot", limit=190, interval=10.0, search_per_second=4)
    >>> governor.acquire("search")       # waits for a token of the search budget alone
    >>> governor.observe(200, headers, "search")  # a 429 or an empty window drains the budget it came from

A named budget stands alone: HubSpot's CRM search is exempt from the ten-second limit and has its own
per-second one (`x-hubspot-rate-limit-exemptions: ten-secondly` in HubSpot's published specs; 4 per second
per token, HubSpot's changelog "CRM Search API Rate Limit Increase"), so a search neither spends nor
waits for the general budget, and a search 429 slows searches, not everything else. The daily quota is
tracked from `X-HubSpot-RateLimit-Daily-Remaining` where it is sent: OAuth-authenticated calls get no
daily headers (HubSpot's changelog "Rate limit headers will now appear for OAuth authenticated calls"),
and then there is no daily cap to keep a reserve of.

Each budget is a token bucket sized so that no sliding window of `interval` seconds can hold more than
`limit` requests: it refills at `pace · limit / interval` per second and holds at most
`(1 − pace) · limit` tokens, so a burst plus a full interval of refill equals the limit at most. With the
default pace of 0.93 a long sync runs at 93 % of the limit, and the 7 % left over absorbs clock skew
between us and the vendor.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from adapters.registry import headers_of
from connector.errors import QuotaExhaustedError


class TokenBucket:
    """`rate` tokens per second, at most `capacity` held; `acquire` blocks until one is there."""

    def __init__(
        self,
        rate: float,
        capacity: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("a token bucket needs a positive rate and room for one token")
        self.rate = rate
        self.capacity = capacity
        self.clock = clock
        self.sleep = sleep
        self.tokens = capacity
        self.updated = clock()
        self.waited = 0.0
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def reserve(self) -> float:
        """Take a token now or in the future; returns how long the caller must wait for it."""
        with self._lock:
            self._refill(self.clock())
            self.tokens -= 1
            return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def acquire(self) -> None:
        pause = self.reserve()
        if pause > 0:
            self.waited += pause
            self.sleep(pause)

    def drain(self) -> None:
        """Forget the saved-up tokens: the vendor says the window is nearly full."""
        with self._lock:
            self._refill(self.clock())
            self.tokens = min(self.tokens, 0.0)


def bucket_for(limit: float, interval: float, pace: float, **kwargs: Callable[..., object]) -> TokenBucket:
    """A bucket that keeps any sliding `interval` under `limit` requests (see the module docstring)."""
    capacity = max(1.0, (1 - pace) * limit)
    return TokenBucket(pace * limit / interval, capacity, **kwargs)  # type: ignore[arg-type]


@dataclass
class VendorUsage:
    """What a vendor's traffic cost, for progress lines, summaries and the benchmark."""

    calls: int = 0
    retries: int = 0
    throttled: int = 0
    """Answers with status 429."""
    by_budget: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    active: float = 0.0
    """Seconds the sync spent reading this vendor (its calls/s while active, not over the whole job)."""


class RateGovernor:
    """The budgets of one vendor: `default` for every call, plus named budgets (HubSpot's `search`) that
    a call of that kind draws from instead. Fed by the vendor's quota headers through `observe`."""

    def __init__(
        self,
        vendor: str,
        budgets: Mapping[str, TokenBucket],
        *,
        daily_reserve: int = 0,
        sleep: Callable[[float], None] = time.sleep,
        limits: Mapping[str, float] | None = None,
    ) -> None:
        if "default" not in budgets:
            raise ValueError("a governor needs a default budget")
        self.vendor = vendor
        self.budgets = dict(budgets)
        self.limits = dict(limits or {name: bucket.rate for name, bucket in budgets.items()})
        """Each budget's published limit in requests per second (the buckets pace a little below it),
        for reporting how much of it a run used."""
        self.daily_reserve = daily_reserve
        self.daily_remaining: int | None = None
        self.daily_limit: int | None = None
        self.usage = VendorUsage()
        self.sleep = sleep
        self._lock = threading.Lock()

    @classmethod
    def for_vendor(
        cls,
        vendor: str,
        *,
        limit: float,
        interval: float,
        pace: float = 0.93,
        search_per_second: float | None = None,
        daily_reserve: int = 0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> RateGovernor:
        budgets = {"default": bucket_for(limit, interval, pace, clock=clock, sleep=sleep)}
        limits = {"default": limit / interval}
        if search_per_second:
            budgets["search"] = bucket_for(search_per_second, 1.0, pace, clock=clock, sleep=sleep)
            limits["search"] = search_per_second
        return cls(vendor, budgets, daily_reserve=daily_reserve, sleep=sleep, limits=limits)

    def acquire(self, budget: str = "default") -> None:
        """Wait until a call of this kind may go out; stop before the daily quota's reserve is touched."""
        if (
            self.daily_remaining is not None
            and self.daily_reserve
            and self.daily_remaining <= self.daily_reserve
        ):
            raise QuotaExhaustedError(
                f"{self.vendor}: {self.daily_remaining} of the daily {self.daily_limit or '?'} requests "
                f"left, "
                f"which is the reserve kept for other integrations ({self.daily_reserve}); stopping. "
                "Cursors are saved: the next run continues from here."
            )
        self.budgets[budget if budget in self.budgets else "default"].acquire()
        with self._lock:
            self.usage.calls += 1
            self.usage.by_budget[budget] = self.usage.by_budget.get(budget, 0) + 1

    def observe(self, status: int, headers: Mapping[str, str], budget: str = "default") -> None:
        """Read an answer's quota headers: a 429 drains the budget the call was drawn from, a nearly empty
        ten-second window the general one (someone else shares the quota); the daily counters, where the
        vendor sends them, are kept for `acquire`."""
        drawn = budget if budget in self.budgets else "default"
        if status == 429:
            with self._lock:
                self.usage.throttled += 1
            self.budgets[drawn].drain()
        named = headers_of(self.vendor)
        remaining = _int(headers, *named.remaining)
        if remaining is not None and remaining <= 1:
            self.budgets["default"].drain()
        daily = _int(headers, named.daily_remaining) if named.daily_remaining else None
        if daily is not None:
            self.daily_remaining = daily
            self.daily_limit = _int(headers, named.daily_limit) if named.daily_limit else None

    def retried(self) -> None:
        with self._lock:
            self.usage.retries += 1


def _int(headers: Mapping[str, str], *names: str) -> int | None:
    for name in names:
        value = headers.get(name)
        if value is not None:
            try:
                return int(value)
            except ValueError:
                return None
    return None
