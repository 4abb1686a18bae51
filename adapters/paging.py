"""Paging, once: `paginate` asks for page after page, and a paginator — one per paging style — reads the
next cursor from a page (`advance`, `None` = done; a cursor already given is a `PaginationLoopError`) and
puts it into the next request (`update`):

    >>> first = PageRequest("/calls", {"per_page": 50})
    >>> for body, response in paginate(client.fetch, first, NextLinkPaginator()):
    ...     yield body["calls"]

`HubSpotAfterPaginator` (`paging.next.after`, on JSON bodies and SDK pages alike), `LastIdPaginator`
(HubSpot searches keyed by `hs_object_id`: the last id of a full page), `NextLinkPaginator` (Aircall's
`meta.next_page_link`), `HeaderCursorPaginator` (LiveAgent's `next_page_cursor` header, stopping on an
empty page too) and `PageNumberPaginator` (LiveAgent's `_page`, until a short page; the same full page
twice is a loop).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import requests

from connector.errors import PaginationLoopError


@dataclass(frozen=True)
class PageRequest:
    """What one page is asked with: a path or full URL and its query parameters (for an SDK call, its
    keyword arguments)."""

    path: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)

    def with_params(self, **params: Any) -> PageRequest:
        return replace(self, params={**self.params, **params})


Fetched = tuple[Any, requests.Response | None]
"""A page's body and the HTTP response it came in (None through an SDK)."""


class Paginator(Protocol):
    def advance(self, body: Any, response: requests.Response | None = None) -> Any:
        """The next page's cursor, or None when this page was the last."""

    def update(self, request: PageRequest, cursor: Any) -> PageRequest:
        """The request for the page `cursor` names."""


def paginate(
    fetch: Callable[[PageRequest], Fetched], request: PageRequest, paginator: Paginator
) -> Iterator[Fetched]:
    """Every page of one list, first to last: each `fetch`ed, then the paginator says what comes next."""
    while True:
        body, response = fetch(request)
        yield body, response
        cursor = paginator.advance(body, response)
        if cursor is None:
            return
        request = paginator.update(request, cursor)


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
    """HubSpot lists: the next page's `after` is `paging.next.after` (a JSON body or an SDK page)."""

    def __init__(self) -> None:
        self.guard = _LoopGuard("hubspot")

    def advance(self, body: Any, response: requests.Response | None = None) -> str | None:
        if isinstance(body, dict):
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
        else:
            following = getattr(getattr(body, "paging", None), "next", None)
            after = getattr(following, "after", None)
        return self.guard.check(str(after)) if after else None

    def update(self, request: PageRequest, cursor: str) -> PageRequest:
        return request.with_params(after=cursor)


class LastIdPaginator:
    """HubSpot searches paged by object id (`hs_object_id GT after`, sorted by it): a full page's last id
    is the next `after`; a shorter page is the last. An id that does not grow is a loop."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.guard = _LoopGuard("hubspot")

    def advance(self, body: Any, response: requests.Response | None = None) -> str | None:
        results = list(getattr(body, "results", None) or [])
        return self.guard.check(str(results[-1].id)) if len(results) >= self.limit else None

    def update(self, request: PageRequest, cursor: str) -> PageRequest:
        return request.with_params(after=cursor)


class NextLinkPaginator:
    """Aircall: `meta.next_page_link` is the full URL of the next page."""

    def __init__(self) -> None:
        self.guard = _LoopGuard("aircall")

    def advance(self, body: Any, response: requests.Response | None = None) -> str | None:
        link = ((body or {}).get("meta") or {}).get("next_page_link")
        return self.guard.check(str(link)) if link else None

    def update(self, request: PageRequest, cursor: str) -> PageRequest:
        return PageRequest(cursor)  # the link carries the whole query


class HeaderCursorPaginator:
    """LiveAgent's cursor-paged lists: the next `_cursor` comes in the `next_page_cursor` header; an
    empty page ends the list even if a cursor came with it (the contract is not published)."""

    def __init__(self, header: str = "next_page_cursor", param: str = "_cursor") -> None:
        self.header = header
        self.param = param
        self.guard = _LoopGuard("liveagent")

    def advance(self, body: Any, response: requests.Response | None = None) -> str | None:
        if not body or response is None:
            return None
        cursor = response.headers.get(self.header)
        return self.guard.check(cursor) if cursor else None

    def update(self, request: PageRequest, cursor: str) -> PageRequest:
        return request.with_params(**{self.param: cursor})


class PageNumberPaginator:
    """Page-numbered lists (LiveAgent's `_page`, Aircall's `page`): ask for page n + 1 until a page comes
    back shorter than asked, or past `max_page`. The rows of a page are the body (`items` picks them out
    of an envelope)."""

    def __init__(
        self,
        per_page: int,
        first: int = 1,
        param: str = "_page",
        *,
        items: Callable[[Any], Any] = lambda body: body,
        max_page: int | None = None,
        vendor: str = "liveagent",
    ) -> None:
        self.per_page = per_page
        self.page = first
        self.param = param
        self.items = items
        self.max_page = max_page
        self.guard = _LoopGuard(vendor)

    def advance(self, body: Any, response: requests.Response | None = None) -> int | None:
        rows = self.items(body) if body is not None else None
        if not isinstance(rows, list) or len(rows) < self.per_page:
            return None
        if self.max_page is not None and self.page >= self.max_page:
            return None
        # a vendor that ignores the page number answers the same page again: never-ending
        self.guard.check(hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest())
        self.page += 1
        return self.page

    def update(self, request: PageRequest, cursor: int) -> PageRequest:
        return request.with_params(**{self.param: cursor})
