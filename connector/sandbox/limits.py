"""Rolling-window rate limits, as the vendors enforce them (HubSpot: N requests per 10 s)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Admission:
    allowed: bool
    limit: int
    remaining: int
    retry_after: float
    """Seconds until the oldest request in the window leaves it (0 when allowed)."""


@dataclass
class RollingWindow:
    """At most `limit` requests in any `interval` seconds; thread-safe."""

    limit: int
    interval: float
    clock: Callable[[], float] = time.monotonic
    _times: deque[float] = field(default_factory=deque, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def admit(self) -> Admission:
        with self._lock:
            now = self.clock()
            while self._times and self._times[0] <= now - self.interval:
                self._times.popleft()
            if len(self._times) >= self.limit:
                wait = self._times[0] + self.interval - now
                return Admission(False, self.limit, 0, max(wait, 0.0))
            self._times.append(now)
            return Admission(True, self.limit, self.limit - len(self._times), 0.0)
