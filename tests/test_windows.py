"""The windowing engine alone, against an in-memory vendor with a result cap and a page size."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from adapters.windows import Page, WindowedReader
from connector.errors import FatalAPIError


class FakeQuery:
    """Items are (key, id) pairs; pages come from the first `page_size` matches, like a search that only
    hands out its first page (so the engine's keyset paging is what reaches everything)."""

    vendor = "fake"
    resolution = 1

    def __init__(self, items: list[tuple[int, str]], *, page_size: int = 5, cap: int | None = 20) -> None:
        self.items = items
        self.page_size = page_size
        self.cap = cap
        self.calls = 0
        self.tie_calls = 0
        self.on_page: Any = None

    def page(self, low: int, high: int) -> Page:
        self.calls += 1
        if self.on_page:
            self.on_page(self)
        matches = sorted((k, i) for k, i in self.items if low <= k < high)
        return Page(matches[: self.page_size], total=len(matches))

    def ties(self, key: int) -> Iterator[Sequence[Any]]:
        tied = sorted(((k, i) for k, i in self.items if k == key), key=lambda item: item[1])
        for n in range(0, len(tied), self.page_size):
            self.tie_calls += 1
            yield tied[n : n + self.page_size]

    def key(self, item: Any) -> int:
        return int(item[0])

    def ident(self, item: Any) -> str:
        return str(item[1])


def read(query: FakeQuery, start: int, end: int) -> tuple[list[tuple[int, str]], list[int]]:
    items: list[tuple[int, str]] = []
    cursors: list[int] = []
    for chunk in WindowedReader(query).chunks(start, end):
        items.extend(chunk.items)
        cursors.append(chunk.done_until)
    return items, cursors


def test_every_item_once_past_the_cap_and_cursors_never_go_back() -> None:
    data = [(k, f"id{k:04d}") for k in range(0, 300, 2)]  # 150 items, cap 20
    query = FakeQuery(data)
    items, cursors = read(query, 0, 300)
    assert sorted(items) == sorted(data)
    assert cursors == sorted(cursors)
    assert cursors[-1] == 300


def test_windows_are_halved_when_the_probe_reports_the_cap() -> None:
    query = FakeQuery([(k, str(k)) for k in range(100)])
    reader = WindowedReader(query)
    list(reader.chunks(0, 100))
    assert reader.halvings >= 2  # 100 → 50 → 25 → 12 fits under 20
    assert reader.windows >= 5


def test_a_bulk_edit_sharing_one_key_is_read_by_id() -> None:
    bulk = [(50, f"b{n:03d}") for n in range(57)]  # more than the cap on a single key
    data = [(k, f"a{k}") for k in range(40)] + bulk + [(k, f"c{k}") for k in range(51, 60)]
    query = FakeQuery(data)
    reader = WindowedReader(query)
    items = [item for chunk in reader.chunks(0, 60) for item in chunk.items]
    assert sorted(items) == sorted(data)
    assert len(items) == len(data)
    assert reader.tie_runs == 1
    assert query.tie_calls == 12  # 57 tied items in pages of 5


def test_a_record_leaving_the_window_mid_read_does_not_make_another_one_skipped() -> None:
    """Offset paging loses the record that slides across the page boundary; keyset paging does not."""
    data = [(k, f"id{k}") for k in range(12)]
    query = FakeQuery(data, cap=None)

    def modify_once(q: FakeQuery) -> None:
        if q.calls == 2:  # after the first page: id1 is modified and moves past the end
            q.items = [(99, i) if i == "id1" else (k, i) for k, i in q.items]
            q.on_page = None

    query.on_page = modify_once
    items, _ = read(query, 0, 12)
    assert {i for _, i in items} == {f"id{k}" for k in range(12)}


def test_window_end_is_exclusive_and_empty_ranges_read_nothing() -> None:
    query = FakeQuery([(0, "a"), (10, "b")])
    assert read(query, 0, 10)[0] == [(0, "a")]
    assert read(query, 5, 5) == ([], [])


def test_a_vendor_ignoring_the_sort_is_an_error_not_silent_loss() -> None:
    class Unsorted(FakeQuery):
        def page(self, low: int, high: int) -> Page:
            return Page([(3, "x"), (1, "y")], total=2)

    with pytest.raises(FatalAPIError, match="not ascending"):
        read(Unsorted([]), 0, 10)


def test_a_read_says_how_far_it_has_come_and_how_many_the_vendor_counts() -> None:
    """The first probe of the whole range gives the vendor's count (kept even when it is over the cap
    and the range gets halved); the share is of the key range read."""
    data = [(k, f"id{k:04d}") for k in range(0, 300, 2)]
    reader = WindowedReader(FakeQuery(data))
    shares = []
    for chunk in reader.chunks(100, 300):
        progress = reader.progress(chunk.done_until)
        assert progress.expected == 100  # keys 100..298 step 2
        shares.append(progress.share)
    assert shares == sorted(shares) and shares[-1] == 1.0 and 0 < shares[0] < 0.2
    assert reader.progress(50).share == 0.0 and reader.progress(500).share == 1.0
    uncounted = FakeQuery(data)
    uncounted.page = lambda low, high: Page(FakeQuery.page(uncounted, low, high).items)  # type: ignore[method-assign]
    silent = WindowedReader(uncounted)
    assert all(silent.progress(c.done_until).expected is None for c in silent.chunks(0, 300))
