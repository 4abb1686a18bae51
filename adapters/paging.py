"""Paginators: small, one per paging style, each guarding against a vendor that repeats a cursor.

A paginator looks at a page's body and response and says what to ask for next (`None` = done):

    >>> paginator = NextLinkPaginator()
    >>> paginator.advance(body, response)   # Aircall: the full URL of the next page, or None

`HubSpotAfterPaginator` (`paging.next.after`), `NextLinkPaginator` (Aircall's `meta.next_page_link`),
`HeaderCursorPaginator` (LiveAgent's `next_page_cursor` header, stopping on an empty page too) and
`PageNumberPaginator` (LiveAgent's `_page`, until a short page).
"""

from __future__ import annotations

from typing import Any

import requests

from connector.errors import PaginationLoopError


class _LoopGuard:
    def __init__(self, vendor: str) -> None:
        self.vendor = vendor
        self.seen: set[str] = set()

    def check(self, cursor: str) -> str:
        if cursor in self.seen:
            raise PaginationLoopError(f"cursor {cursor!r} repeated; stopping", vendor=self.vendor)
        self.seen.add(cursor)
        return cursor


class HubSpotAfterPaginator:
    """HubSpot lists and searches: the next page's `after` is `paging.next.after`."""

    def __init__(self) -> None:
        self.guard = _LoopGuard("hubspot")

    def advance(self, body: Any, response: requests.Response | None = None) -> str | None:
        after = ((body or {}).get("paging") or {}).get("next", {}).get("after")
        return self.guard.check(str(after)) if after else None


class NextLinkPaginator:
    """Aircall: `meta.next_page_link` is the full URL of the next page."""

    def __init__(self) -> None:
        self.guard = _LoopGuard("aircall")

    def advance(self, body: Any, response: requests.Response | None = None) -> str | None:
        link = ((body or {}).get("meta") or {}).get("next_page_link")
        return self.guard.check(str(link)) if link else None


class HeaderCursorPaginator:
    """LiveAgent's cursor-paged lists: the next `_cursor` comes in the `next_page_cursor` header; an
    empty page ends the list even if a cursor came with it (the contract is not published)."""

    def __init__(self, header: str = "next_page_cursor") -> None:
        self.header = header
        self.guard = _LoopGuard("liveagent")

    def advance(self, body: Any, response: requests.Response | None = None) -> str | None:
        if not body or response is None:
            return None
        cursor = response.headers.get(self.header)
        return self.guard.check(cursor) if cursor else None


class PageNumberPaginator:
    """LiveAgent's page-numbered lists: ask for page n + 1 until a page comes back shorter than asked."""

    def __init__(self, per_page: int, first: int = 1) -> None:
        self.per_page = per_page
        self.page = first

    def advance(self, body: Any, response: requests.Response | None = None) -> int | None:
        if not isinstance(body, list) or len(body) < self.per_page:
            return None
        self.page += 1
        return self.page
