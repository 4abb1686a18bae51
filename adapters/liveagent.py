"""LiveAgent (API v3) through a `requests` session: agents (their departments as teams), contacts, tickets
with their messages, SLA and assignment history, and calls, into the common schema.

Every key, parameter and code read here is listed with its source in `tests/contracts/liveagent.json`
(LiveAgent's generated client QualityUnit/LiveAgent-api-python, Keboola's extractor, NOTES.md); the
contract tests fail on a key that is not there. The JSON is not uniform: tickets, messages and history
are snake_case, calls camelCase.

Changed tickets are found with `_filters` on `date_changed` (second resolution) through the windowing
engine; for each one the adapter reads its message groups (paged), its SLA when it was resolved
(`first_resolve`: the first resolution of a reopened ticket) and its assignment history (transfers between
agents and departments → `transfer_count`, escalation). Calls are read by `dateCreated` windows through
the same engine (as Keboola's extractor filters them), re-reading `HELPDESK_LIVEAGENT__REREAD` behind the
cursor because a call is answered and finished after it was created; no `_cursor` is kept between runs
(its lifetime is not published).
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import requests

from adapters.base import (
    Batch,
    CallWindowStream,
    ListingStream,
    Refetched,
    RequestsAdapter,
    SyncPlan,
    windowed_batches,
)
from adapters.governor import RateGovernor
from adapters.http import LIST, OBJECT, HeaderKeyAuth
from adapters.paging import HeaderCursorPaginator, PageNumberPaginator
from adapters.records import build, build_agent, build_person, from_epoch_seconds, plain_text
from adapters.windows import Page, WindowedReader
from connector.errors import ConfigError, FatalAPIError, RecordValidationError
from connector.schema import Agent, Call, Contact, Message, Record, Ticket
from connector.settings import LiveAgentSettings

log = logging.getLogger(__name__)
SOURCE = "liveagent"
TICKET_PAGE = 100
LIST_PAGE = 500
"""Rows per page of page-numbered lists, message groups included (Keboola's size; the default is 10)."""
CURSOR_PAGE = 500

Warn = Callable[[str, str], None]

STATUSES = {
    "I": "new", "N": "new", "T": "open", "P": "open", "C": "open", "A": "pending", "W": "pending",
    "R": "resolved", "L": "closed", "X": "closed", "B": "closed",
}  # fmt: skip
"""Ticket status codes → status; X (deleted) and B (spam) are also marked archived."""
GONE = {"X", "B"}
CHANNELS = {
    "E": "email", "B": "chat", "M": "form", "I": "chat", "C": "phone", "W": "phone",
    "F": "social:facebook", "A": "social:facebook", "T": "social:twitter", "Q": "web", "S": "web",
}  # fmt: skip
"""Ticket `channel_type` codes → channel."""
CONVERSATION_GROUPS = {
    "M": "form", "5": "form", "C": "chat", "8": "chat", "P": "phone", "V": "phone", "3": "email",
    "4": "email", "O": "email", "Q": "email", "7": "email", "F": "social:facebook", "W": "social:twitter",
    "Y": "social:twitter", "6": "social:whatsapp",
}  # fmt: skip
"""Message group types that carry the conversation itself → the channel of their messages: M offline
(legacy) and 5 offline, C chat, 8 instant message, P call, V outgoing call, 3 incoming and 4 outgoing
email, O forward, Q forward reply, 7 received answer, F Facebook, W Twitter, Y retweet, 6 WhatsApp."""
INTERNAL_GROUPS = {"1", "I", "U", "Z"}
"""Agents talking among themselves: internal call, internal, internal offline, internal collapsed."""
EVENT_GROUPS = {"S", "T", "R", "J", "X", "B", "G", "A", "K", "L", "2"}
"""LiveAgent's own records of what happened: start info, transfer, resolve, postpone, delete, spam, tag,
knowledge-base start, knowledge base, split, merged. Never a reply, whoever triggered them."""
RESOLVE_GROUP = "R"
"""The message group LiveAgent adds when a ticket is resolved (QualityUnit/LiveAgent-api-python's message
group types; shared/specs/NOTES.md)."""
REPLY_MESSAGES = {"M", "Y", "V"}
"""Message types that are someone's words to the other side: message, message (legacy), voice."""
INTERNAL_MESSAGES = {"I", "N", "L", "1"}
"""Message types only agents see: internal, note, note file, internal voice."""


def _instant(value: Any) -> datetime | None:
    """LiveAgent's `YYYY-MM-DD HH:MM:SS`, taken as UTC (the form Keboola's extractor filters with; the
    response form is not published, so ISO 8601 with an offset is accepted too). Anything else stops the
    stream with an error naming the value: reading on would misplace every record in time."""
    if not value:
        return None
    text = str(value)
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise FatalAPIError(
            f"timestamp {text!r} is neither LiveAgent's 'YYYY-MM-DD HH:MM:SS' nor ISO 8601 with an offset",
            vendor=SOURCE,
        )
    return parsed.astimezone(UTC)


def _stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _ref(value: Any) -> str | None:
    return f"{SOURCE}:{value}" if value not in (None, "") else None


def message_role(group_type: str, message_type: str) -> tuple[bool, bool]:
    """(is a message between people, is public) for a message of `message_type` in a group of
    `group_type`. The rule: a public reply is a message of type M, Y or V in a conversation group; I, N,
    L and internal groups are internal; event groups (a transfer, a resolution, a tag…) and the other
    message types (headers, files, quoted text, system lines) are LiveAgent's own records."""
    if group_type in EVENT_GROUPS:
        return False, False
    if group_type in INTERNAL_GROUPS:
        return message_type in REPLY_MESSAGES | INTERNAL_MESSAGES, False
    if message_type in INTERNAL_MESSAGES:
        return True, False
    return message_type in REPLY_MESSAGES, True


def map_messages(
    ticket_id: str, groups: list[dict[str, Any]], agents: set[str], warn: Warn | None = None
) -> list[Message]:
    """Every message of a ticket. A message between people (see `message_role`) is the agent's when its
    user is one of the agents, else the customer's; anything else — events, headers, files, quoted text —
    is the system's. So transfers, resolutions and tags never count as an agent's reply, and internal
    notes are the agent's but never public (the KPIs count public agent and customer messages only)."""
    records = []
    for group in groups:
        group_type = str(group.get("type") or "")
        known = (
            group_type in CONVERSATION_GROUPS or group_type in INTERNAL_GROUPS or group_type in EVENT_GROUPS
        )
        if not known and warn is not None:
            warn(f"group:{group_type}", f"liveagent: unknown message group type {group_type!r}; not a reply")
        for message in group.get("messages") or []:
            user = message.get("userid") or group.get("userid")
            message_type = str(message.get("type") or "")
            spoken, public = message_role(group_type, message_type) if known else (False, False)
            if not spoken:
                author = "system"
            elif user in agents:
                author = "agent"
            else:
                author = "customer"
            records.append(
                build(
                    SOURCE,
                    Message,
                    str(message.get("id")),
                    {
                        "ticket_id": f"{SOURCE}:{ticket_id}",
                        "author_type": author,
                        "agent_id": _ref(user) if author == "agent" else None,
                        "channel": CONVERSATION_GROUPS.get(group_type),
                        "created_at": _instant(message.get("datecreated") or group.get("datecreated")),
                        "is_public": public,
                        "group_type": group_type,
                        "message_type": message_type,
                    },
                )
            )
    return records


def first_customer_text(groups: Sequence[dict[str, Any]], agents: set[str]) -> str | None:
    """The text of the customer's first public message (a message between people, see `message_role`,
    whose user is no agent): the ticket's description, which topic discovery reads. Markup is reduced to
    its text whatever the message's `format` (its codes are in no source at hand)."""
    earliest: tuple[str, str] | None = None
    for group in groups:
        group_type = str(group.get("type") or "")
        for message in group.get("messages") or []:
            user = message.get("userid") or group.get("userid")
            spoken, public = message_role(group_type, str(message.get("type") or ""))
            text = message.get("message")
            if not (spoken and public) or user in agents or not isinstance(text, str) or not text.strip():
                continue
            at = str(message.get("datecreated") or group.get("datecreated") or "")
            if earliest is None or at < earliest[0]:
                earliest = (at, text)
    return plain_text(earliest[1]) if earliest else None


def resolutions(groups: Sequence[dict[str, Any]]) -> list[datetime]:
    """When the ticket was resolved, oldest first: its resolve events (message groups of type `R`)."""
    times = (_instant(g.get("datecreated")) for g in groups if str(g.get("type") or "") == RESOLVE_GROUP)
    return sorted(t for t in times if t is not None)


def map_ticket(
    item: dict[str, Any],
    *,
    messages: Sequence[Message],
    sla: dict[str, Any] | None,
    history: list[dict[str, Any]],
    departments: dict[str, str],
    warn: Warn,
    tags: dict[str, str] | None = None,
    resolved_at: Sequence[datetime] = (),
    description: str | None = None,
) -> Ticket:
    """Status and channel from their codes; the first agent reply is the first public agent message
    (see `map_messages`; only when no messages were read, the SLA's first_answer); the first resolution
    from the SLA's first_resolve when it was read, else from the resolve events (`resolved_at`, see
    `resolutions`): the first of them when there were several — the ticket was reopened — else
    date_resolved itself (one resolution; its event may be stamped a second apart); transfers from
    the assignment history (a change of agent or department between consecutive rows), escalated when a
    transfer moved the ticket to another department; tag ids resolved to their names through `tags`
    (a value that is no known id is kept as it is: it may be a name already)."""
    code = str(item.get("status") or "")
    status = STATUSES.get(code)
    if status is None:
        warn(f"status:{code}", f"liveagent: unknown ticket status code {code!r}; taken as open")
        status = "open"
    channel_code = str(item.get("channel_type") or "")
    channel = CHANNELS.get(channel_code)
    if channel is None:
        if channel_code:
            warn(
                f"channel:{channel_code}", f"liveagent: unknown channel code {channel_code!r}; channel other"
            )
        channel = "other"
    created = _instant(item.get("date_created"))
    resolved = _instant(item.get("date_resolved")) if status in ("resolved", "closed") else None
    if sla is not None:
        first_resolved = _instant(sla.get("first_resolve")) or resolved
    else:
        first_resolved = resolved_at[0] if len(resolved_at) > 1 else resolved
    if first_resolved and resolved and first_resolved > resolved:
        first_resolved = resolved
    agent_replies = [
        m.created_at
        for m in messages
        if m.author_type == "agent" and m.is_public and created and m.created_at >= created
    ]
    if agent_replies:
        first_reply: datetime | None = min(agent_replies)
    else:
        first_reply = None if messages else _instant((sla or {}).get("first_answer"))
    rows = sorted(history, key=lambda r: r.get("date_from") or "")
    transfers = [
        (before, after)
        for before, after in itertools.pairwise(rows)
        if (before.get("agent_id"), before.get("department_id"))
        != (after.get("agent_id"), after.get("department_id"))
    ]
    escalation = next((a for b, a in transfers if a.get("department_id") != b.get("department_id")), None)
    names = tags or {}
    ticket_tags = [names.get(str(t), str(t)) for t in item.get("tags") or []]
    department = departments.get(str(item.get("departmentid")))
    return build(
        SOURCE,
        Ticket,
        str(item.get("id")),
        {
            "subject": item.get("subject"),
            "description": description,
            "channel": channel,
            "status": status,
            "tags": ticket_tags,
            "contact_id": _ref(item.get("owner_contactid")),
            "agent_id": _ref(item.get("agentid")),
            "team": department,
            "created_at": created,
            "first_agent_reply_at": first_reply
            if first_reply and created and first_reply >= created
            else None,
            "first_resolved_at": first_resolved,
            "resolved_at": resolved,
            "closed_at": resolved if status == "closed" else None,
            "reopen_count": 1 if first_resolved and resolved and first_resolved < resolved else 0,
            "escalated": escalation is not None,
            "escalation_at": _instant(escalation.get("date_from")) if escalation else None,
            "transfer_count": len(transfers),
            "is_complaint": "complaint" in {t.lower() for t in ticket_tags},
            "updated_at": _instant(item.get("date_changed")),
            "archived": code in GONE,
            "code": item.get("code"),
            "status_code": code,
            "channel_code": channel_code,
            "assigned_seconds": sum(int(r.get("elapsed_time") or 0) for r in rows) or None,
        },
    )


def map_call(item: dict[str, Any]) -> Call:
    """A `/calls` item (camelCase, CallListItem): wait = dateAnswered − dateCreated (unanswered: until
    dateFinished), talk = callDuration (seconds, a string) of an answered call; the customer's number is
    fromNumber of an incoming call, toNumber of an outgoing one."""
    started = _instant(item.get("dateCreated"))
    answered = _instant(item.get("dateAnswered"))
    ended = _instant(item.get("dateFinished"))
    kind = item.get("type")
    direction = {"I": "inbound", "O": "outbound", "T": "internal"}.get(str(kind), "internal")
    number = item.get("fromNumber") if direction == "inbound" else item.get("toNumber")
    until = answered or ended
    duration = item.get("callDuration")
    return build(
        SOURCE,
        Call,
        str(item.get("id")),
        {
            "direction": direction,
            "status": "answered" if answered else "missed",
            "started_at": started,
            "answered_at": answered,
            "ended_at": ended,
            "wait_seconds": (until - started).total_seconds() if started and until else None,
            "talk_seconds": float(duration) if answered and duration not in (None, "") else None,
            "ticket_id": _ref(item.get("ticketId")),
            "phone_number": number or None,
        },
    )


def map_agent(item: dict[str, Any], teams: dict[str, list[str]]) -> Agent:
    """An agent; its teams are the departments that list it in their `agent_ids`."""
    agent_id, active = str(item.get("id")), item.get("status", "A") == "A"
    name, email, role = item.get("name"), item.get("email"), item.get("role")
    return build_agent(SOURCE, agent_id, name, email, teams.get(agent_id, []), active=active, role=role)


def map_contact(item: dict[str, Any]) -> Contact:
    emails = [e for e in item.get("emails") or [] if e]
    phones = [p for p in item.get("phones") or [] if p]
    names = (item.get("firstname"), item.get("lastname"))
    return build_person(
        SOURCE, str(item.get("id")), names, emails, phones, created_at=_instant(item.get("date_created"))
    )


class LiveAgentAdapter(RequestsAdapter[LiveAgentSettings]):
    vendor = SOURCE

    def __init__(
        self, config: LiveAgentSettings, plan: SyncPlan, *, governor: RateGovernor | None = None
    ) -> None:
        super().__init__(config, plan, governor=governor)
        self._departments: list[dict[str, Any]] | None = None
        self._tags: dict[str, str] | None = None
        self._agents: set[str] | None = None
        self.warned: set[str] = set()

    def auth(self, config: LiveAgentSettings) -> HeaderKeyAuth:
        """The API key in the `apikey` header."""
        assert config.api_key
        return HeaderKeyAuth("apikey", config.api_key)

    def probe(self) -> None:
        """One cheap authenticated call, for `check --online`: the first agent."""
        self.client.get_json("/agents", params={"_page": 1, "_perPage": 1}, expect=LIST)

    def streams(self) -> Sequence[Any]:
        return [
            ListingStream("agents", ("agent",), self.plan, lambda: self.pages("/agents"), self._agent),
            ListingStream("contacts", ("contact",), self.plan, lambda: self.pages("/contacts"), map_contact),
            TicketsStream(self),
            CallsStream(self),
        ]

    def refetch(self, object_type: str, ids: Sequence[str]) -> Refetched:
        """Tickets named by webhook events, each by `GET /tickets/{id}` with its messages, SLA and
        history as a sync reads them (a 404: no longer there)."""
        if object_type != "tickets":
            raise ConfigError(f"liveagent: webhook events about {object_type} are not followed")
        return self.refetch_each(ids, "/tickets/{id}", OBJECT, TicketsStream(self).ticket_records)

    def _agent(self, item: dict[str, Any]) -> Agent:
        return map_agent(item, self.agent_teams())

    def warn(self, key: str, message: str) -> None:
        if key not in self.warned:
            self.warned.add(key)
            log.warning(message)

    def pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[list[Any]]:
        """Every page of a page-numbered list."""
        query = {**(params or {}), "_page": 1, "_perPage": LIST_PAGE}
        for body, _ in self.client.paginate(path, query, PageNumberPaginator(LIST_PAGE), expect=LIST):
            if body:
                yield list(body)

    def department_rows(self) -> list[dict[str, Any]]:
        """`/departments`, read once per run."""
        if self._departments is None:
            body, _ = self.client.get_json("/departments", expect=LIST)
            self._departments = [d for d in body or [] if isinstance(d, dict)]
        return self._departments

    def departments(self) -> dict[str, str]:
        """department id → name."""
        return {str(d.get("department_id")): str(d.get("name")) for d in self.department_rows()}

    def agent_teams(self) -> dict[str, list[str]]:
        """agent id → names of the departments whose `agent_ids` list it (an agent carries none)."""
        teams: dict[str, list[str]] = {}
        for department in self.department_rows():
            for agent in department.get("agent_ids") or []:
                teams.setdefault(str(agent), []).append(str(department.get("name")))
        return teams

    def tag_names(self) -> dict[str, str]:
        """tag id → name (`/tags`, once per run): tickets carry tag ids."""
        if self._tags is None:
            body, _ = self.client.get_json("/tags", expect=LIST)
            self._tags = {str(t.get("id")): str(t.get("name")) for t in body or [] if isinstance(t, dict)}
        return self._tags

    def message_groups(self, ticket_id: str) -> list[dict[str, Any]]:
        """Every message group of a ticket, page by page (the endpoint pages, 10 groups by default)."""
        return [group for page in self.pages(f"/tickets/{ticket_id}/messages") for group in page]

    def agent_ids(self) -> set[str]:
        """Who counts as an agent when reading message authors (one agent listing per run)."""
        if self._agents is None:
            self._agents = {str(a.get("id")) for page in self.pages("/agents") for a in page}
        return self._agents


class DateWindowQuery:
    """A LiveAgent list filtered on one date column and sorted by it, as the windowing engine's query:
    `GET /tickets` on `date_changed`, `GET /calls` on `dateCreated` (Keboola's columns). The rest of one
    second's rows (the engine's ties) come by page number where the list is page-numbered (tickets), by the
    `next_page_cursor` the answer hands back where it is cursor-paged (calls)."""

    vendor = SOURCE
    cap: int | None = None
    resolution = 1

    def __init__(
        self, adapter: LiveAgentAdapter, path: str, column: str, page_size: int, *, cursor: bool
    ) -> None:
        self.adapter = adapter
        self.path, self.column, self.page_size, self.cursor = path, column, page_size, cursor

    def _params(self, low: int, high: int) -> dict[str, Any]:
        filters = [
            [self.column, "D>=", _stamp(datetime.fromtimestamp(low, UTC))],
            [self.column, "D<", _stamp(datetime.fromtimestamp(high, UTC))],
        ]
        return {"_filters": json.dumps(filters), "_sortField": self.column, "_sortDir": "ASC",
                "_perPage": self.page_size}  # fmt: skip

    def _get(self, params: dict[str, Any]) -> tuple[list[Any], requests.Response]:
        body, response = self.adapter.client.get_json(self.path, params=params, expect=LIST)
        return list(body or []), response

    def page(self, low: int, high: int) -> Page:
        return Page(self._get(self._params(low, high))[0])

    def ties(self, key: int) -> Iterator[Sequence[Any]]:
        """One second's rows (a ticket changed meanwhile leaves the second; the overlap of the next run
        reads it again)."""
        paginator = HeaderCursorPaginator() if self.cursor else PageNumberPaginator(self.page_size)
        for body, _ in self.adapter.client.paginate(
            self.path, self._params(key, key + 1), paginator, expect=LIST
        ):
            if body:
                yield list(body)

    def key(self, item: Any) -> int:
        moment = _instant(item.get(self.column))
        return int(moment.timestamp()) if moment else 0

    def ident(self, item: Any) -> str:
        return str(item.get("id"))


class TicketsStream:
    name = "tickets"
    entities = ("ticket", "message")

    def __init__(self, adapter: LiveAgentAdapter) -> None:
        self.adapter = adapter
        self.reader: WindowedReader | None = None
        self.history: dict[str, list[dict[str, Any]]] | None = None
        """Every conversation's assignment rows, read in bulk on a backfill (None: read per ticket)."""

    def read(self, cursor: str | None) -> Iterator[Batch]:
        plan = self.adapter.plan
        start = plan.start(cursor)
        if cursor is None or plan.full:
            self.history = self.all_history()
        self.reader = WindowedReader(
            DateWindowQuery(self.adapter, "/tickets", "date_changed", TICKET_PAGE, cursor=False)
        )
        yield from windowed_batches(
            self.reader, int(start.timestamp()), int(plan.now.timestamp()), self.convert, from_epoch_seconds
        )

    def convert(self, items: Sequence[dict[str, Any]]) -> Batch:
        """Each conversation's ticket and messages; one that breaks the schema is rejected whole."""
        rejected: list[str] = []
        records: list[Record] = []
        for item in items:
            try:
                records += self.ticket_records(item)
            except RecordValidationError as exc:
                rejected.append(str(exc))
        return Batch(records, rejected=rejected)

    def all_history(self) -> dict[str, list[dict[str, Any]]]:
        """The whole assignment history, cursor-paged in pages of 500: on a backfill that is one call per
        ~450 tickets instead of one per ticket (an incremental run asks per changed ticket)."""
        rows: dict[str, list[dict[str, Any]]] = {}
        pages = self.adapter.client.paginate(
            "/tickets/history", {"_perPage": CURSOR_PAGE}, HeaderCursorPaginator(), expect=LIST
        )
        for body, _ in pages:
            for row in body or []:
                keep = {
                    "agent_id": row.get("agent_id"),
                    "department_id": row.get("department_id"),
                    "date_from": row.get("date_from"),
                    "elapsed_time": row.get("elapsed_time"),
                }
                rows.setdefault(str(row.get("conversation_id")), []).append(keep)
        return rows

    def ticket_records(self, item: dict[str, Any]) -> list[Record]:
        """The ticket and its messages: a call per page of its message groups (one, for all but the
        longest conversations) and one for its history unless a backfill read the whole history already.
        The SLA (`/tickets/{id}/sla`) is asked only for a resolved ticket whose message groups hold no
        resolve event or no message at all: its first_resolve and first_answer are otherwise read from
        the groups already fetched (see `map_ticket`)."""
        adapter = self.adapter
        ticket_id = str(item.get("id"))
        groups = adapter.message_groups(ticket_id)
        messages = map_messages(ticket_id, groups, adapter.agent_ids(), adapter.warn)
        resolved_at = resolutions(groups)
        description = first_customer_text(groups, adapter.agent_ids())
        sla = None
        if item.get("date_resolved") and (not messages or not resolved_at):
            sla, _ = adapter.client.get_json(f"/tickets/{ticket_id}/sla", expect=OBJECT)
        if self.history is not None:
            history: Any = self.history.get(ticket_id, [])
        else:
            history, _ = adapter.client.get_json(f"/tickets/{ticket_id}/history", expect=LIST)
        ticket = map_ticket(
            item,
            messages=messages,
            sla=sla if isinstance(sla, dict) else None,
            history=list(history or []),
            departments=adapter.departments(),
            warn=adapter.warn,
            tags=adapter.tag_names(),
            resolved_at=resolved_at,
            description=description,
        )
        return [ticket, *messages]


class CallsStream(CallWindowStream[LiveAgentAdapter]):
    """Calls by `dateCreated` windows, read with the cursor paging of `/calls`."""

    def query(self) -> DateWindowQuery:
        return DateWindowQuery(self.adapter, "/calls", "dateCreated", CURSOR_PAGE, cursor=True)

    def mapper(self) -> Callable[[Any], Call]:
        return map_call
