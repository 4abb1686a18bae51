"""The Aircall part of the sandbox: Public API v1 calls, users, teams, contacts and the webhook registry,
with HTTP Basic auth,
page/per_page paging and its `meta` envelope, the 10,000-item listing limit, `from`/`to` filters on
creation time (UNIX seconds) and the `X-AircallApi-*` rate-limit headers. Payload keys stay within the
field names of `shared/specs/aircall/` (contract tests).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from connector.sandbox.emulator import Emulator, json_response, serves
from connector.sandbox.limits import RollingWindow
from connector.sandbox.world import World, WorldCall

PER_PAGE_MAX = 50
LISTING_CAP = 10_000
"""Aircall lists at most 10,000 items per query; narrow it with from/to."""


def unix(instant: Any) -> int | None:
    return int(instant.timestamp()) if instant is not None else None


class AircallEmulator(Emulator):
    """A WSGI application answering Aircall's `/v1` paths (mounted at `/v1`) from a `World`."""

    def __init__(
        self,
        world: World,
        *,
        api_id: str,
        api_token: str,
        requests_per_minute: int = 60,
        base_url: str = "",
        clock: Callable[[], datetime] | None = None,
        history_days: float | None = None,
        late_tags_seconds: float = 0.0,
    ) -> None:
        super().__init__()
        self.world = world
        self.api_id = api_id
        self.api_token = api_token
        self.base_url = base_url
        self.clock = clock or (lambda: world.end)
        self.history_days = history_days
        """Calls older than this many days (by the clock) are gone, as on plans with limited history."""
        self.late_tags_seconds = late_tags_seconds
        """A call's tags and comments show only this long after it ended (they are added after hang-up)."""
        self.window = RollingWindow(requests_per_minute, 60.0)
        self.webhooks: list[dict[str, Any]] = []
        """Webhooks registered through the API, with the token Aircall puts in each delivery."""

    def handle(self, request: Request) -> Response:
        if not self._authorised(request):
            return _error(401, "Unauthorized", "Check your API ID and API token")
        admission = self.window.admit()
        reset = str(int(time.time() + (admission.retry_after or 60)))
        if not admission.allowed:
            response = _error(429, "Too Many Requests", "Wait until the X-AircallApi-Reset time")
            response.headers["Retry-After"] = str(max(1, round(admission.retry_after)))
        else:
            try:
                response = self.route(request)
            except HTTPException as exc:
                response = _error(exc.code or 500, exc.name, exc.description or "")
        response.headers["X-AircallApi-Limit"] = str(admission.limit)
        response.headers["X-AircallApi-Remaining"] = str(admission.remaining)
        response.headers["X-AircallApi-Reset"] = reset
        return response

    def _authorised(self, request: Request) -> bool:
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return False
        return hmac.compare_digest(user.encode(), self.api_id.encode()) and hmac.compare_digest(
            password.encode(), self.api_token.encode()
        )

    # --- endpoints ----------------------------------------------------------------------------------

    @serves("GET", "/calls")
    def _calls(self, request: Request) -> Response:
        low = _int(request.args.get("from"))
        high = _int(request.args.get("to"))
        starts = self.world.call_starts
        if self.history_days is not None:
            oldest = int((self.clock() - timedelta(days=self.history_days)).timestamp())
            low = max(low or 0, oldest)
        first = bisect_left(starts, low) if low is not None else 0
        last = bisect_right(starts, high) if high is not None else len(starts)
        indexes = list(range(first, max(first, last)))
        if request.args.get("order", "asc") == "desc":
            indexes.reverse()
        return self._listing(request, "calls", indexes, lambda i: self._call(self.world.call(i)))

    def _call(self, call: WorldCall) -> dict[str, Any]:
        duration = int((call.ended_at - (call.answered_at or call.started_at)).total_seconds())
        return {
            "id": 900_000 + call.index,
            "direction": call.direction,
            "status": call.status,
            "missed_call_reason": call.missed_call_reason,
            "started_at": unix(call.started_at),
            "answered_at": unix(call.answered_at),
            "ended_at": unix(call.ended_at),
            "duration": duration,
            "voicemail": None,
            "recording": None,
            "asset": None,
            "user": self._user(call.agent_index, brief=True) if call.agent_index is not None else None,
            "contact": self._contact(call.customer_index),
            "archived": False,
            "assigned_to": None,
            "transferred_to": None,
            "transferred_from": None,
            "cost": "0.0",
            "number": {
                "id": 1,
                "name": "Support NL",
                "digits": "+31 20 000 0000",
                "country": "NL",
                "time_zone": "Europe/Amsterdam",
            },
            "tags": [{"id": 10 + n, "name": name} for n, name in enumerate(call.tags)]
            if self._settled(call)
            else [],
            "comments": self._comments(call) if self._settled(call) else [],
            "raw_digits": _dialled(call.customer_index),
            "country_code_a2": "NL",
            "direct_link": f"{self.base_url}/v1/calls/{900_000 + call.index}",
            "pricing_type": "pay_as_you_go" if call.direction == "outbound" else None,
            "teams": [self._team_brief(call.agent_index)]
            if call.agent_index is not None and call.direction == "inbound"
            else [],
        }

    @staticmethod
    def _comments(call: WorldCall) -> list[dict[str, Any]]:
        """The agent's note as the call's one comment, posted a minute after hang-up."""
        if call.note is None:
            return []
        posted = int(call.ended_at.timestamp()) + 60
        return [{"id": 70_000_000 + call.index, "content": call.note.message, "posted_at": posted}]

    @cached_property
    def _team_names(self) -> list[str]:
        """Every agent's team name, by agent index, and the sorted names (team ids follow that order)."""
        return [self.world.agent(i).team for i in range(self.world.agent_count)]

    def _team_brief(self, agent_index: int) -> dict[str, Any]:
        """A team as a call carries it: the answering agent's team (inbound calls are routed to a team)."""
        name = self._team_names[agent_index]
        return {"id": 40 + sorted(set(self._team_names)).index(name), "name": name}

    def _settled(self, call: WorldCall) -> bool:
        return call.ended_at + timedelta(seconds=self.late_tags_seconds) <= self.clock()

    @serves("GET", "/calls/<int:call_id>")
    def _single_call(self, request: Request, call_id: int) -> Response:
        index = call_id - 900_000
        too_old = (
            self.history_days is not None
            and 0 <= index < self.world.call_count
            and (self.world.call(index).started_at < self.clock() - timedelta(days=self.history_days))
        )
        if not 0 <= index < self.world.call_count or too_old:
            return _error(404, "Not found", "Call not found")
        return json_response({"call": self._call(self.world.call(index))})

    @serves("GET", "/users")
    def _users(self, request: Request) -> Response:
        return self._listing(request, "users", list(range(self.world.agent_count)), lambda i: self._user(i))

    def _user(self, index: int, *, brief: bool = False) -> dict[str, Any]:
        agent = self.world.agent(index)
        user: dict[str, Any] = {
            "id": 500 + index,
            "name": f"{agent.first_name} {agent.last_name}",
            "email": agent.email,
        }
        if not brief:
            user |= {
                "available": True,
                "availability_status": "available",
                "created_at": agent.created_at.isoformat().replace("+00:00", "Z"),
                "time_zone": "Europe/Amsterdam",
                "language": "nl-NL",
                "state": "always_opened",
            }
        return user

    @serves("GET", "/teams")
    def _teams(self, request: Request) -> Response:
        teams = sorted({self.world.agent(i).team for i in range(self.world.agent_count)})
        members = {
            team: [
                self._user(i, brief=True)
                for i in range(self.world.agent_count)
                if self.world.agent(i).team == team
            ]
            for team in teams
        }
        return self._listing(
            request,
            "teams",
            list(range(len(teams))),
            lambda n: {"id": 40 + n, "name": teams[n], "users": members[teams[n]]},
        )

    @serves("GET", "/contacts")
    def _contacts(self, request: Request) -> Response:
        return self._listing(request, "contacts", list(range(self.world.customer_count)), self._contact)

    def _contact(self, index: int) -> dict[str, Any]:
        return {
            "id": 700_000 + index,
            "first_name": f"Customer{index}",
            "last_name": "Example",
            "company_name": None,
            "phone_numbers": [{"id": 1, "label": "Mobile", "value": f"+316{index:08d}"}],
            "emails": [{"id": 1, "label": "Work", "value": f"customer{index}@example.org"}],
        }

    @serves("GET", "/webhooks")
    def _webhooks(self, request: Request) -> Response:
        return self._listing(request, "webhooks", list(range(len(self.webhooks))), lambda n: self.webhooks[n])

    @serves("POST", "/webhooks")
    def _create_webhook(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data(as_text=True) or "{}")
        except json.JSONDecodeError:
            return _error(400, "Bad Request", "Body is not JSON")
        if not isinstance(body, dict) or not str(body.get("url", "")).startswith(("http://", "https://")):
            return _error(400, "Bad Request", "url is required and must be an http(s) URL")
        number = len(self.webhooks) + 1
        webhook = {
            "webhook_id": f"wh-{number:04d}",
            "direct_link": f"{self.base_url}/v1/webhooks/wh-{number:04d}",
            "url": body["url"],
            "custom_name": body.get("custom_name"),
            "events": list(body.get("events") or ["call.created", "call.ended"]),
            "active": True,
            "token": hashlib.sha256(f"{self.api_token}:{number}".encode()).hexdigest()[:32],
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        }
        self.webhooks.append(webhook)
        return json_response({"webhook": webhook}, 201)

    @serves("DELETE", "/webhooks/<webhook_id>")
    def _delete_webhook(self, request: Request, webhook_id: str) -> Response:
        before = len(self.webhooks)
        self.webhooks = [w for w in self.webhooks if w["webhook_id"] != webhook_id]
        return (
            Response(status=204)
            if len(self.webhooks) < before
            else _error(404, "Not found", "Webhook not found")
        )

    def _listing(
        self, request: Request, key: str, indexes: list[int], render: Callable[[int], Any]
    ) -> Response:
        per_page = max(1, min(_int(request.args.get("per_page")) or 20, PER_PAGE_MAX))
        page = max(1, _int(request.args.get("page")) or 1)
        start = (page - 1) * per_page
        if start >= LISTING_CAP:
            return _error(
                400, "Bad Request", f"Only the first {LISTING_CAP} items can be listed: use from and to"
            )
        total = len(indexes)
        chunk = indexes[start : start + per_page]
        last_page = min(math.ceil(total / per_page), LISTING_CAP // per_page)

        def link(number: int) -> str:
            query = {k: v for k, v in request.args.items() if k != "page"} | {
                "page": str(number),
                "per_page": str(per_page),
            }
            return f"{self.base_url}/v1/{key}?{urlencode(query)}"

        meta = {
            "count": len(chunk),
            "total": total,
            "current_page": page,
            "per_page": per_page,
            "next_page_link": link(page + 1) if page < last_page else None,
            "previous_page_link": link(page - 1) if page > 1 else None,
        }
        return json_response({key: [render(i) for i in chunk], "meta": meta})


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _dialled(customer: int) -> str:
    """The customer's number as the caller's network presented it (`raw_digits`): spaced, E.164 digits."""
    digits = f"{customer:08d}"
    return f"+31 6 {digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}"


def _error(status: int, error: str, troubleshoot: str) -> Response:
    return json_response({"error": error, "troubleshoot": troubleshoot}, status)
