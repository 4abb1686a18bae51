"""Aircall (Public API v1) through a `requests` session: users → agents (with their teams), contacts, and
calls into the common schema.

Aircall has no modified-since filter: calls are read in `from`/`to` windows on their creation time
(UNIX seconds) through the windowing engine, and every run re-reads the recent past
(`aircall.reread`, default 48 h) so tags, comments and other late fields arrive; the store's upsert
keeps one version per call. Contacts and users have no time filter either: they are re-listed when the
last listing is older than a day (or on `--full`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from adapters.base import CallWindowStream, ListingStream, Refetched, RequestsAdapter
from adapters.http import BasicAuth, Shape
from adapters.paging import NextLinkPaginator, PageNumberPaginator
from adapters.records import build, build_agent, build_person, plain_text
from adapters.windows import Page
from connector.errors import ConfigError
from connector.schema import Agent, Call, Contact
from connector.settings import AircallSettings

log = logging.getLogger(__name__)
SOURCE = "aircall"
PER_PAGE = 50
LISTING_CAP = 10_000
CALLS = Shape(dict, "calls")
"""A `/calls` answer: an object holding the calls (and `meta`)."""
CALL = Shape(dict, "call", holds=dict)
"""A `/calls/{id}` answer: an object holding the call."""
WEBHOOK = Shape(dict, "webhook", holds=dict)
"""A `POST /webhooks` answer: an object holding the webhook."""
ABANDONED_REASONS = {"short_abandoned", "abandoned_in_ivr", "abandoned_in_classic"}


def _instant(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value not in (None, "") else None


def map_call(item: dict[str, Any], user_teams: dict[str, str]) -> Call:
    """wait = answered_at − started_at (for an unanswered call: until it ended); talk = ended_at −
    answered_at; unanswered calls are abandoned when the caller hung up (`missed_call_reason`
    short_abandoned, abandoned_in_ivr, abandoned_in_classic), voicemail when one was left, else missed."""
    started = _instant(item.get("started_at"))
    answered = _instant(item.get("answered_at"))
    ended = _instant(item.get("ended_at"))
    reason = item.get("missed_call_reason")
    if answered is not None:
        status = "answered"
    elif reason in ABANDONED_REASONS:
        status = "abandoned"
    elif item.get("voicemail"):
        status = "voicemail"
    else:
        status = "missed"
    until = answered or ended
    user = item.get("user") or {}
    contact = item.get("contact") or {}
    phones = contact.get("phone_numbers") or []
    direction = item.get("direction")
    return build(
        SOURCE,
        Call,
        str(item.get("id")),
        {
            "direction": direction if direction in ("inbound", "outbound") else "internal",
            "status": status,
            "missed_reason": reason,
            "started_at": started,
            "answered_at": answered,
            "ended_at": ended,
            "wait_seconds": (until - started).total_seconds() if until and started else None,
            "talk_seconds": (ended - answered).total_seconds() if ended and answered else None,
            "agent_id": f"{SOURCE}:{user['id']}" if user.get("id") is not None else None,
            "team": _team(item, user_teams, user),
            "contact_id": f"{SOURCE}:{contact['id']}" if contact.get("id") is not None else None,
            "phone_number": (item.get("raw_digits") or (phones[0].get("value") if phones else None)) or None,
            "notes": _notes(item.get("comments")),
            "tags": [t.get("name") for t in item.get("tags") or [] if isinstance(t, dict)],
            "comments": len(item.get("comments") or []),
            "number": (item.get("number") or {}).get("name"),
            "archived": bool(item.get("archived")),
        },
    )


def _notes(comments: Any) -> str | None:
    """The comments' `content` as plain text, oldest (`posted_at`) first, blank-line-joined; None without
    any. A comment that is not an object or has no text is passed over."""
    if not isinstance(comments, list):
        return None
    written = [c for c in comments if isinstance(c, dict) and isinstance(c.get("content"), str)]
    written.sort(key=lambda c: posted if isinstance(posted := c.get("posted_at"), int) else 0)
    texts = [plain_text(c["content"]) for c in written]
    return "\n\n".join(t for t in texts if t) or None


def _team(item: dict[str, Any], user_teams: dict[str, str], user: dict[str, Any]) -> str | None:
    """The team the call was routed to (`teams`, first named), else the answering user's first team."""
    for team in item.get("teams") or []:
        if isinstance(team, dict) and team.get("name"):
            return str(team["name"])
    return user_teams.get(str(user.get("id"))) if user else None


def map_user(item: dict[str, Any], teams: list[str]) -> Agent:
    active = item.get("availability_status") != "deactivated"
    return build_agent(SOURCE, str(item.get("id")), item.get("name"), item.get("email"), teams, active=active)


def map_contact(item: dict[str, Any]) -> Contact:
    emails = [e.get("value") for e in item.get("emails") or [] if e.get("value")]
    phones = [p.get("value") for p in item.get("phone_numbers") or [] if p.get("value")]
    names = (item.get("first_name"), item.get("last_name"))
    return build_person(
        SOURCE, str(item.get("id")), names, emails, phones, company=item.get("company_name") or None
    )


class AircallAdapter(RequestsAdapter[AircallSettings]):
    vendor = SOURCE

    _teams: dict[str, list[str]] | None = None
    """Each user's teams by user id, read when a stream first needs them (once per adapter)."""

    def auth(self, config: AircallSettings) -> BasicAuth:
        """The company's API id and token as HTTP Basic credentials."""
        assert config.api_id and config.api_token
        return BasicAuth(config.api_id, config.api_token)

    def probe(self) -> None:
        """One cheap authenticated call, for `check --online`: the first user."""
        self.client.get_json("/users", params={"per_page": 1}, expect=Shape(dict, "users"))

    def streams(self) -> Sequence[Any]:
        return [
            ListingStream(
                "users", ("agent",), self.plan, lambda: self.listing("/users", "users"), self._agent
            ),
            ListingStream(
                "contacts",
                ("contact",),
                self.plan,
                lambda: self.listing("/contacts", "contacts"),
                map_contact,
            ),
            CallsStream(self),
        ]

    def refetch(self, object_type: str, ids: Sequence[str]) -> Refetched:
        """Calls named by webhook events, each by `GET /calls/{id}` (a 404: no longer there)."""
        if object_type != "calls":
            raise ConfigError(f"aircall: webhook events about {object_type} are not followed")
        teams = self.call_teams()
        return self.refetch_each(ids, "/calls/{id}", CALL, lambda body: [map_call(body["call"], teams)])

    def webhooks(self) -> list[dict[str, Any]]:
        """The account's webhooks (`GET /webhooks`)."""
        return [hook for page in self.listing("/webhooks", "webhooks") for hook in page]

    def create_webhook(self, url: str, events: Sequence[str], name: str) -> dict[str, Any]:
        """`POST /webhooks`: a webhook sending `events` to `url`; Aircall's answer holds its token."""
        request = {"custom_name": name, "url": url, "events": list(events)}
        body, _ = self.client.request_json("POST", "/webhooks", json=request, expect=WEBHOOK)
        return dict(body["webhook"])

    def call_teams(self) -> dict[str, str]:
        """user id → the team a call they answer is counted under (their first team)."""
        return {user: names[0] for user, names in self.user_teams().items() if names}

    def _agent(self, user: dict[str, Any]) -> Agent:
        return map_user(user, self.user_teams().get(str(user.get("id")), []))

    def listing(self, path: str, key: str, params: dict[str, Any] | None = None) -> Iterator[list[Any]]:
        """Every page of a `meta`-paged list."""
        query = {"per_page": PER_PAGE, **(params or {})}
        for body, _ in self.client.paginate(path, query, NextLinkPaginator(), expect=Shape(dict, key)):
            yield list(body.get(key) or [])

    def user_teams(self) -> dict[str, list[str]]:
        """user id → names of the teams the user is in (one `/teams` listing per run)."""
        if self._teams is None:
            self._teams = {}
            for page in self.listing("/teams", "teams"):
                for team in page:
                    for user in team.get("users") or []:
                        self._teams.setdefault(str(user.get("id")), []).append(str(team.get("name")))
        return self._teams


class _CallsQuery:
    """`GET /calls?from&to&order=asc` as the windowing engine's query (keys: UNIX seconds)."""

    vendor = SOURCE
    page_size = PER_PAGE
    cap: int | None = LISTING_CAP
    resolution = 1

    def __init__(self, adapter: AircallAdapter) -> None:
        self.adapter = adapter

    def _params(self, low: int, high: int, page: int = 1) -> dict[str, Any]:
        # Aircall's `to` is inclusive: the window [low, high) ends at high - 1
        return {"from": low, "to": high - 1, "order": "asc", "per_page": PER_PAGE, "page": page}

    def page(self, low: int, high: int) -> Page:
        body, _ = self.adapter.client.get_json("/calls", params=self._params(low, high), expect=CALLS)
        return Page(list(body.get("calls") or []), total=(body.get("meta") or {}).get("total"))

    def ties(self, key: int) -> Iterator[Sequence[Any]]:
        """One second's calls, by page number: creation time never changes, so offsets are stable."""
        paginator = PageNumberPaginator(
            PER_PAGE,
            param="page",
            items=lambda body: list(body.get("calls") or []),
            max_page=LISTING_CAP // PER_PAGE,
            vendor="aircall",
        )
        for body, _ in self.adapter.client.paginate(
            "/calls", self._params(key, key + 1), paginator, expect=CALLS
        ):
            calls = list(body.get("calls") or [])
            if calls:
                yield calls

    def key(self, item: Any) -> int:
        return int(item["started_at"])

    def ident(self, item: Any) -> str:
        return str(item["id"])


class CallsStream(CallWindowStream[AircallAdapter]):
    def query(self) -> _CallsQuery:
        return _CallsQuery(self.adapter)

    def mapper(self) -> Callable[[Any], Call]:
        teams = self.adapter.call_teams()
        return lambda item: map_call(item, teams)
