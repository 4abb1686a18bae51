"""The one windowing engine every incremental stream reads through (HubSpot search, LiveAgent tickets,
Aircall calls).

A stream's records carry a time key (HubSpot `hs_lastmodifieddate` in ms, LiveAgent `date_changed` and
Aircall `started_at` in s). The engine reads `[start, end)` of that key so that nothing is lost and
nothing read twice counts twice:

- **Windows.** The range is read window by window. The first page of a window is also its probe: when
  the vendor reports a total at or above its result cap (HubSpot search and Aircall listings stop at
  10,000), the window is halved before anything is read from it, and widened again after a window that
  fitted. Each finished window is a safe point for the cursor.
- **Keyset pages.** Inside a window every page is a fresh query from the last key seen (`key >= last`),
  never an offset: an offset page skips a record whenever another one leaves the window between two
  pages (it was modified meanwhile), and offsets stop at the cap. Records already seen at the boundary
  key are dropped, so a record is yielded once per run.
- **Ties.** When a whole page shares one key (a bulk edit or import stamps thousands of records with one
  `hs_lastmodifieddate`), the key cannot advance: the engine asks the stream for every record of that
  exact key ordered by id (`ties`), then continues after it.

`chunks()` yields `Chunk(items, done_until)`: `done_until` is a key below which everything has been
yielded, which is what a cursor may be set to once the chunk is committed. The caller re-reads an
overlap behind the cursor on the next run (late and eventually consistent records) and de-duplicates by
id through the store's upsert.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from connector.errors import FatalAPIError


@dataclass(frozen=True)
class Page:
    """One answer of a windowed query: items ascending by key, and the query's total when the vendor
    reports it."""

    items: Sequence[Any]
    total: int | None = None


class WindowedQuery(Protocol):
    """What a stream tells the engine about its vendor query."""

    vendor: str
    page_size: int
    """Items per page: a shorter page is the window's last."""
    cap: int | None
    """Results one query can reach (None: unlimited)."""
    resolution: int
    """The smallest step of the key (1 for ms or s keys)."""

    def page(self, low: int, high: int) -> Page:
        """The first `page_size` items with `low <= key < high`, ascending by key."""

    def ties(self, key: int) -> Iterator[Sequence[Any]]:
        """Every item whose key is exactly `key`, in pages, in a stable order (by id)."""

    def key(self, item: Any) -> int: ...

    def ident(self, item: Any) -> str: ...


@dataclass(frozen=True)
class ReadProgress:
    """How far a read has come, for progress lines: the share of its key range read and, when the vendor
    reports one, how many items the whole range holds."""

    share: float
    expected: int | None = None


@dataclass(frozen=True)
class Chunk:
    items: Sequence[Any]
    done_until: int
    """Every item with a key below this has been yielded."""


class WindowedReader:
    """Reads `[start, end)` of a query's key as described in the module docstring."""

    def __init__(self, query: WindowedQuery, *, max_window: int | None = None) -> None:
        self.query = query
        self.max_window = max_window
        self.windows = 0
        self.halvings = 0
        self.tie_runs = 0
        self.start = self.end = 0
        self.expected: int | None = None
        """The vendor's count of the whole range (from the first probe, when the vendor gives totals)."""

    def progress(self, done_until: int) -> ReadProgress:
        """The share of `[start, end)` read up to `done_until`, and the vendor's count when known."""
        span = self.end - self.start
        share = 1.0 if span <= 0 else min(1.0, max(0.0, (done_until - self.start) / span))
        return ReadProgress(share, self.expected)

    def chunks(self, start: int, end: int) -> Iterator[Chunk]:
        self.start, self.end = start, end
        low = start
        width = min(end - start, self.max_window or end - start)
        while low < end:
            high = min(end, low + max(width, self.query.resolution))
            first = self.query.page(low, high)
            if (low, high) == (start, end) and first.total is not None:
                self.expected = first.total
            if self._over_cap(first) and high - low > self.query.resolution:
                width = max(self.query.resolution, (high - low) // 2)
                self.halvings += 1
                continue
            self.windows += 1
            yield from self._window(low, high, first)
            yield Chunk((), high)
            low = high
            if not self._over_cap(first):
                width = min(width * 2, self.max_window or width * 2)

    def _over_cap(self, page: Page) -> bool:
        cap = self.query.cap
        return cap is not None and page.total is not None and page.total >= cap

    def _window(self, low: int, high: int, page: Page) -> Iterator[Chunk]:
        """Keyset pages through one window, starting from its probe."""
        cursor = low
        seen_at_cursor: set[str] = set()
        while True:
            fresh = [
                item
                for item in page.items
                if not (self.query.key(item) == cursor and self.query.ident(item) in seen_at_cursor)
            ]
            self._check_order(page.items, low, high)
            if fresh:
                last = self.query.key(fresh[-1])
                if last != cursor:
                    seen_at_cursor = set()
                    cursor = last
                seen_at_cursor.update(self.query.ident(i) for i in fresh if self.query.key(i) == cursor)
                yield Chunk(fresh, cursor)
            if len(page.items) < self.query.page_size:
                return
            if not fresh:  # a full page of one key, all seen: the key cannot advance by itself
                self.tie_runs += 1
                for tied in self.query.ties(cursor):
                    unseen = [i for i in tied if self.query.ident(i) not in seen_at_cursor]
                    seen_at_cursor.update(self.query.ident(i) for i in unseen)
                    if unseen:
                        yield Chunk(unseen, cursor)
                cursor += self.query.resolution
                seen_at_cursor = set()
                if cursor >= high:
                    return
            page = self.query.page(cursor, high)

    def _check_order(self, items: Sequence[Any], low: int, high: int) -> None:
        keys = [self.query.key(item) for item in items]
        if any(b < a for a, b in itertools.pairwise(keys)) or any(not low <= k < high for k in keys):
            raise FatalAPIError(
                f"a windowed page is not ascending within [{low}, {high}): the vendor ignored the sort or "
                "the filter, and reading on could lose records",
                vendor=self.query.vendor,
            )
