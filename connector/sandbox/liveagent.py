"""The LiveAgent part of the sandbox: API v3 tickets (with `_filters`, `_page`/`_perPage`, sorting),
ticket messages (paged) and SLA, ticket history and calls (`_filters` and cursor paging), agents,
departments, contacts and tags, behind the `apikey` header. Timestamps are `YYYY-MM-DD HH:MM:SS` (UTC
here).

Every key, parameter and code served here is listed with its source in `tests/contracts/liveagent.json`
(LiveAgent's generated API client QualityUnit/LiveAgent-api-python, Keboola's LiveAgent extractor and
NOTES.md); the contract tests fail on a key that is not there. JSON keys are not uniform: tickets,
messages and history are snake_case, calls camelCase. Conversations render the events a real one has
besides replies: a start-info group, tag groups, internal notes, transfer and resolve groups.

Cursor paging (`_cursor` in, the `next_page_cursor` response header out, no header on the last page) is
Keboola's reading of the contract; the adapter also stops on an empty page.
"""

from __future__ import annotations

import base64
import hmac
import itertools
import json
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from connector.sandbox.emulator import Emulator, json_response, serves
from connector.sandbox.limits import RollingWindow
from connector.sandbox.world import DEPARTMENTS, World, WorldConversation

PER_PAGE_MAX = 1000
CURSOR_PAGE = 100
DEFAULT_PER_PAGE = 10
"""`_perPage` when a request names none (the generated client's documented default)."""
TAGS = ("complaint", "positive", "negative", "technical", "vip")
GROUP_TYPES = {"E": ("3", "4"), "M": ("5", "4"), "C": ("C", "C"), "F": ("F", "F"), "T": ("W", "W")}
"""Message group type of the customer's and of the agent's messages per ticket channel: 3 incoming and 4
outgoing email, 5 offline (a contact form), C chat, F Facebook, W Twitter (MessageGroup.md)."""


def la_time(instant: datetime | None) -> str | None:
    """LiveAgent's timestamp form."""
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if instant is not None else None


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


class LiveAgentEmulator(Emulator):
    """A WSGI application answering LiveAgent's `/api/v3` paths (mounted there) from a `World`."""

    def __init__(self, world: World, *, api_key: str, requests_per_minute: int = 180) -> None:
        super().__init__()
        self.world = world
        self.api_key = api_key
        self.window = RollingWindow(requests_per_minute, 60.0)
        self.changes: dict[int, tuple[dict[str, Any], datetime]] = {}
        """Tickets changed through `change` (tests): fields over the world's, and the change time."""

    def handle(self, request: Request) -> Response:
        key = request.headers.get("apikey", "")
        if not hmac.compare_digest(key.encode(), self.api_key.encode()):
            return _error(401, "Invalid API key")
        admission = self.window.admit()
        if not admission.allowed:
            limited = _error(429, "Too many requests")
            limited.headers["Retry-After"] = str(max(1, round(admission.retry_after)))
            return limited
        try:
            return self.route(request)
        except HTTPException as exc:
            return _error(exc.code or 500, exc.description or exc.name)

    # --- tickets ------------------------------------------------------------------------------------

    def change(self, index: int, at: datetime, **fields: Any) -> None:
        """Change ticket `index` at `at` (its `date_changed`), as an agent's edit in LiveAgent would."""
        earlier = self.changes.get(index, ({}, at))[0]
        self.changes[index] = ({**earlier, **fields}, at)

    def _ticket_json(self, conversation: WorldConversation) -> dict[str, Any]:
        ticket = self._world_ticket_json(conversation)
        change = self.changes.get(conversation.index)
        if change is not None:
            ticket |= change[0] | {"date_changed": la_time(change[1])}
        return ticket

    def _world_ticket_json(self, conversation: WorldConversation) -> dict[str, Any]:
        agent = conversation.agent_index
        return {
            "id": _ticket_id(conversation.index),
            "code": conversation.code,
            "owner_contactid": f"c{conversation.customer_index:06d}",
            "owner_email": f"customer{conversation.customer_index}@example.org",
            "owner_name": f"Customer{conversation.customer_index} Example",
            "departmentid": _department_id(conversation.department_index),
            "agentid": _agent_id(agent) if agent is not None else None,
            "tags": [_tag_id(TAGS.index(tag)) for tag in conversation.tags],
            "subject": conversation.subject,
            "status": conversation.status,
            "channel_type": conversation.channel_type,
            "date_created": la_time(conversation.created_at),
            "date_changed": la_time(conversation.changed_at),
            "date_resolved": la_time(conversation.resolved_at),
            "date_due": None,
            "date_deleted": None,
            "last_activity": la_time(conversation.messages[-1][1]),
            "last_activity_public": la_time(conversation.messages[-1][1]),
            "custom_fields": [],
        }

    @serves("GET", "/tickets")
    def _tickets(self, request: Request) -> Response:
        """Tickets by `_filters`, sorted and paged. Filters on `date_changed` (the incremental sync's) are
        answered from a sorted index without rendering every ticket; other filters render and check."""
        try:
            filters = json.loads(request.args.get("_filters") or "[]")
        except json.JSONDecodeError:
            return _error(400, "_filters is not valid JSON")
        field = request.args.get("_sortField") or "date_created"
        descending = (request.args.get("_sortDir") or "ASC").upper() == "DESC"
        per_page = max(1, min(_int(request.args.get("_perPage"), 10), PER_PAGE_MAX))
        page = max(1, _int(request.args.get("_page"), 1))
        indexed = all(
            isinstance(f, list)
            and len(f) == 3
            and f[0] == "date_changed"
            and f[1] in ("D>", "D>=", "D<", "D<=")
            for f in filters
        )
        if indexed and field in ("date_changed", "date_created"):
            # `YYYY-MM-DD HH:MM:SS` sorts as it reads, so the date filters are bounds on the sorted stamps
            index = self._changed_index
            if self.changes:
                index = sorted(
                    [(stamp, i) for stamp, i in index if i not in self.changes]
                    + [(la_time(at) or "", i) for i, (_, at) in self.changes.items()]
                )
            stamps = [stamp for stamp, _ in index]
            low, high = 0, len(stamps)
            for _, operator, value in filters:
                if operator in ("D>", "D>="):
                    low = max(low, (bisect_right if operator == "D>" else bisect_left)(stamps, value))
                else:
                    high = min(high, (bisect_left if operator == "D<" else bisect_right)(stamps, value))
            selected = [i for _, i in index[low:high]]
            if field == "date_created":
                selected.sort()  # conversations are created in index order
            if descending:
                selected.reverse()
            chunk = selected[(page - 1) * per_page : page * per_page]
            return json_response([self._ticket_json(self.world.conversation(i)) for i in chunk])
        tickets = [
            self._ticket_json(self.world.conversation(i)) for i in range(self.world.conversation_count)
        ]
        tickets = [t for t in tickets if all(_matches(t, f) for f in filters)]
        tickets.sort(key=lambda t: (t.get(field) is None, t.get(field) or "", t["id"]), reverse=descending)
        return json_response(tickets[(page - 1) * per_page : page * per_page])

    @cached_property
    def _changed_stamps(self) -> list[str]:
        return [
            la_time(self.world.conversation(i).changed_at) or "" for i in range(self.world.conversation_count)
        ]

    @cached_property
    def _changed_index(self) -> list[tuple[str, int]]:
        return sorted((stamp, index) for index, stamp in enumerate(self._changed_stamps))

    def _conversation(self, ticket_id: str) -> WorldConversation | None:
        index = _index_of(ticket_id)
        if index is None or not 0 <= index < self.world.conversation_count:
            return None
        return self.world.conversation(index)

    @serves("GET", "/tickets/<ticket_id>")
    def _ticket(self, request: Request, ticket_id: str) -> Response:
        conversation = self._conversation(ticket_id)
        return (
            json_response(self._ticket_json(conversation))
            if conversation
            else _error(404, "Ticket not found")
        )

    @serves("GET", "/tickets/<ticket_id>/messages")
    def _messages(self, request: Request, ticket_id: str) -> Response:
        """The conversation's message groups in time order, paged by `_page`/`_perPage` (10 by default)."""
        conversation = self._conversation(ticket_id)
        if conversation is None:
            return _error(404, "Ticket not found")
        groups = message_groups(conversation)
        per_page = max(1, min(_int(request.args.get("_perPage"), DEFAULT_PER_PAGE), PER_PAGE_MAX))
        page = max(1, _int(request.args.get("_page"), 1))
        return json_response(groups[(page - 1) * per_page : page * per_page])

    @serves("GET", "/tickets/<ticket_id>/sla")
    def _sla(self, request: Request, ticket_id: str) -> Response:
        conversation = self._conversation(ticket_id)
        if conversation is None:
            return _error(404, "Ticket not found")
        first_answer = next((at for author, at, _ in conversation.messages if author == "agent"), None)
        return json_response(
            {
                "conversationid": ticket_id,
                "sla_level_id": "default",
                "first_answer": la_time(first_answer),
                "first_assign": la_time(conversation.created_at),
                "first_resolve": la_time(conversation.first_resolved_at),
                "next_answer": None,
            }
        )

    @serves("GET", "/tickets/history")
    def _history(self, request: Request) -> Response:
        """Assignment history, conversation by conversation, streamed from the cursor (which names the
        conversation to resume at), so a world of millions of tickets pages in bounded time and memory.
        A page ends at a conversation boundary: it may hold one row more than `_perPage`."""
        try:
            filters = json.loads(request.args.get("_filters") or "[]")
        except json.JSONDecodeError:
            return _error(400, "_filters is not valid JSON")
        if filters:
            return _error(400, "The sandbox serves the whole history only; read one ticket's by its path")
        start, size = _cursor_position(request)
        if start is None:
            return _error(400, "Invalid _cursor")
        rows: list[dict[str, Any]] = []
        conversation = start
        while conversation < self.world.conversation_count and len(rows) < size:
            rows += self._history_rows(self.world.conversation(conversation))
            conversation += 1
        response = json_response(rows)
        if conversation < self.world.conversation_count:
            response.headers["next_page_cursor"] = _encode_cursor(conversation)
        return response

    @serves("GET", "/tickets/<ticket_id>/history")
    def _ticket_history(self, request: Request, ticket_id: str) -> Response:
        conversation = self._conversation(ticket_id)
        if conversation is None:
            return _error(404, "Ticket not found")
        return json_response(self._history_rows(conversation))

    def _history_rows(self, current: WorldConversation) -> list[dict[str, Any]]:
        return [
            {
                "id": f"{_ticket_id(current.index)}-h{n}",
                "conversation_id": _ticket_id(current.index),
                "conversation_code": current.code,
                "department_id": _department_id(department),
                "department_name": DEPARTMENTS[department],
                "agent_id": _agent_id(agent) if agent is not None else None,
                "status": current.status,
                "date_from": la_time(began),
                "date_to": la_time(ended),
                "elapsed_time": str(int((ended - began).total_seconds())) if ended else None,
            }
            for n, (department, agent, began, ended) in enumerate(current.assignments)
        ]

    # --- other lists --------------------------------------------------------------------------------

    @serves("GET", "/calls")
    def _calls(self, request: Request) -> Response:
        """Calls that reached LiveAgent (every fourth of the world's), in camelCase (CallListItem), by
        `dateCreated` through `_filters` (the adapter's windows), ascending, cursor-paged."""
        try:
            filters = json.loads(request.args.get("_filters") or "[]")
        except json.JSONDecodeError:
            return _error(400, "_filters is not valid JSON")
        low, high = 0, (self.world.call_count + 3) // 4
        starts = self.world.call_starts
        for spec in filters if isinstance(filters, list) else []:
            if not (isinstance(spec, list) and len(spec) == 3 and spec[0] == "dateCreated"):
                return _error(400, f"Unsupported filter {spec!r}")
            operator, bound = spec[1].removeprefix("D"), int(_parse_time(spec[2]).timestamp())
            # calls start in index order; LiveAgent's are the world's calls 0, 4, 8, …
            if operator in (">", ">="):
                world = (bisect_right if operator == ">" else bisect_left)(starts, bound)
                low = max(low, (world + 3) // 4)
            elif operator in ("<", "<="):
                world = (bisect_left if operator == "<" else bisect_right)(starts, bound)
                high = min(high, (world + 3) // 4)
            else:
                return _error(400, f"Unsupported operator {spec[1]!r}")
        offset, size = _cursor_position(request)
        if offset is None:
            return _error(400, "Invalid _cursor")
        first = low + offset
        rows = [self._call_json(position * 4) for position in range(first, min(first + size + 1, high))]
        return _cursor_answer(rows, offset, size)

    def _call_json(self, index: int) -> dict[str, Any]:
        call = self.world.call(index)
        customer = f"+316{call.customer_index:08d}"
        inbound = call.direction == "inbound"
        return {
            "id": f"la-call-{index}",
            "ticketId": _ticket_id(index % self.world.conversation_count),
            "type": "I" if inbound else "O",
            "fromNumber": customer if inbound else LINE_NUMBER,
            "fromName": f"Customer{call.customer_index} Example" if inbound else None,
            "toNumber": LINE_NUMBER if inbound else customer,
            "toName": None if inbound else f"Customer{call.customer_index} Example",
            "viaNumber": LINE_NUMBER,
            "dateCreated": la_time(call.started_at),
            "dateAnswered": la_time(call.answered_at),
            "dateFinished": la_time(call.ended_at),
            "callDuration": str(int((call.ended_at - (call.answered_at or call.ended_at)).total_seconds())),
        }

    @serves("GET", "/agents")
    def _agents(self, request: Request) -> Response:
        """Agents as Agent.md lists them: no departments (membership is on the department)."""
        agents = []
        for i in range(self.world.agent_count):
            agent = self.world.agent(i)
            agents.append(
                {
                    "id": _agent_id(i),
                    "name": f"{agent.first_name} {agent.last_name}",
                    "email": agent.email,
                    "role": "owner" if i == 0 else "agent",
                    "avatar_url": None,
                    "online_status": "F",
                    "status": "A",
                    "gender": "X",
                }
            )
        return _paged(request, agents)

    @serves("GET", "/departments")
    def _departments(self, request: Request) -> Response:
        """Departments with their members (`agent_ids`): agents alternate between the two support
        departments, and every fourth agent is in Social too."""
        members: list[list[str]] = [[] for _ in DEPARTMENTS]
        for i in range(self.world.agent_count):
            members[i % 2].append(_agent_id(i))
            if i % 4 == 0:
                members[2].append(_agent_id(i))
        return json_response(
            [
                {
                    "department_id": _department_id(n),
                    "name": name,
                    "agent_count": len(members[n]),
                    "online_status": "F",
                    "agent_ids": members[n],
                    "mailaccount_id": None,
                }
                for n, name in enumerate(DEPARTMENTS)
            ]
        )

    @serves("GET", "/contacts")
    def _contacts(self, request: Request) -> Response:
        contacts = [
            {
                "id": f"c{i:06d}",
                "firstname": f"Customer{i}",
                "lastname": "Example",
                "emails": [f"customer{i}@example.org"],
                "phones": [f"+316{i:08d}"],
                "date_created": la_time(self.world.start),
            }
            for i in range(self.world.customer_count)
        ]
        return _paged(request, contacts)

    @serves("GET", "/tags")
    def _tags(self, request: Request) -> Response:
        return json_response(
            [
                {
                    "id": _tag_id(n),
                    "name": name,
                    "color": "FFFFFF",
                    "background_color": "336699",
                    "is_public": "Y",
                }
                for n, name in enumerate(TAGS)
            ]
        )


LINE_NUMBER = "+31200000000"
"""The company's phone line in the sandbox."""


def message_groups(conversation: WorldConversation) -> list[dict[str, Any]]:
    """A conversation as LiveAgent renders it: a start-info group, the customer's and agents' messages
    in the channel's group types, tag, internal-note, transfer and resolve groups, in time order."""
    incoming, outgoing = GROUP_TYPES[conversation.channel_type]
    customer = f"c{conversation.customer_index:06d}"
    events: list[tuple[datetime, str, str, str]] = [(conversation.created_at, "S", "S", "system00")]
    # (time, group type, message type, user); the customer's first message is the conversation's text
    for author, at, agent in conversation.messages:
        if author == "system":  # a resolution
            events.append((at, "R", "S", "system00"))
        elif author == "agent":
            events.append((at, outgoing, "M", _agent_id(agent) if agent is not None else "system00"))
        else:
            events.append((at, incoming, "M", customer))
    first_agent = conversation.assignments[0][1]
    if conversation.tags and first_agent is not None:
        events.append((conversation.created_at + timedelta(seconds=30), "G", "G", _agent_id(first_agent)))
    for at, agent in conversation.notes:
        events.append((at, "I", "N", _agent_id(agent)))
    for before, after in itertools.pairwise(conversation.assignments):
        if before[1] is not None:
            events.append((after[2], "T", "R", _agent_id(before[1])))
    events.sort(key=lambda event: event[0])
    first_customer = _first(events, customer)
    return [
        {
            "id": f"{conversation.code}-g{n}",
            "parent_id": None,
            "userid": user,
            "user_full_name": None,
            "type": group_type,
            "status": "V",
            "datecreated": la_time(at),
            "datefinished": la_time(at),
            "sort_order": n,
            "messages": [
                {
                    "id": f"{conversation.code}-m{n}",
                    "userid": user,
                    "type": message_type,
                    "datecreated": la_time(at),
                    "format": "T",
                    "message": conversation.description if n == first_customer else f"message {n + 1}",
                    "visibility": None,
                }
            ],
        }
        for n, (at, group_type, message_type, user) in enumerate(events)
    ]


def _first(events: list[tuple[datetime, str, str, str]], user: str) -> int | None:
    """The position of `user`'s first event."""
    return next((n for n, event in enumerate(events) if event[3] == user), None)


def _ticket_id(index: int) -> str:
    return f"la{index:07x}"


def _index_of(ticket_id: str) -> int | None:
    try:
        return int(ticket_id.removeprefix("la"), 16) if ticket_id.startswith("la") else None
    except ValueError:
        return None


def _agent_id(index: int) -> str:
    return f"ag{index:05d}"


def _department_id(index: int) -> str:
    return f"dep{index:03d}"


def _tag_id(index: int) -> str:
    return f"tg{index:03d}"


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "D>": lambda a, b: a is not None and _parse_time(a) > _parse_time(b),
    "D<": lambda a, b: a is not None and _parse_time(a) < _parse_time(b),
    "D>=": lambda a, b: a is not None and _parse_time(a) >= _parse_time(b),
    "D<=": lambda a, b: a is not None and _parse_time(a) <= _parse_time(b),
}


def _matches(ticket: dict[str, Any], spec: Any) -> bool:
    """One `_filters` entry: `[field, operator, value]`."""
    if not isinstance(spec, list) or len(spec) != 3:
        return True
    field, operator, value = spec
    check = _OPERATORS.get(operator)
    return check(ticket.get(field), value) if check else True


def _int(value: Any, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def _paged(request: Request, items: list[Any]) -> Response:
    per_page = max(1, min(_int(request.args.get("_perPage"), 10), PER_PAGE_MAX))
    page = max(1, _int(request.args.get("_page"), 1))
    return json_response(items[(page - 1) * per_page : page * per_page])


def _cursor_position(request: Request) -> tuple[int | None, int]:
    """(row position the `_cursor` points at, page size); position None for a cursor we never issued."""
    cursor = request.args.get("_cursor")
    size = max(1, min(_int(request.args.get("_perPage"), CURSOR_PAGE), PER_PAGE_MAX))
    try:
        return (int(base64.urlsafe_b64decode(cursor.encode()).decode()) if cursor else 0), size
    except ValueError:
        return None, size


def _cursor_answer(rows: list[Any], start: int, size: int) -> Response:
    """A page of `size` rows; `rows` holds one more when another page follows, announced by the
    `next_page_cursor` header."""
    response = json_response(rows[:size])
    if len(rows) > size:
        response.headers["next_page_cursor"] = _encode_cursor(start + size)
    return response


def _encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(str(position).encode()).decode()


def _error(status: int, message: str) -> Response:
    return json_response({"message": message}, status)
