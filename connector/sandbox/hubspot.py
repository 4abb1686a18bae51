"""The HubSpot part of the sandbox: the CRM v3 endpoints the connector reads, with HubSpot's paths,
payload shapes, bearer auth, paging, search semantics (including the 10,000-result cap) and rate-limit
headers. Payloads must deserialize through `hubspot-api-client`'s generated models (contract tests).

Implemented so far: owners, ticket pipelines, and for tickets, contacts, calls, feedback submissions
and deals: list, get, search and batch read.
"""

from __future__ import annotations

import hmac
import json
import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from connector.sandbox.hubspot_objects import CrmRecord, ObjectKind, crm_kinds, iso
from connector.sandbox.limits import RollingWindow
from connector.sandbox.world import World

LIST_LIMIT = 100
BATCH_LIMIT = 100
SEARCH_LIMIT = 200
SEARCH_CAP = 10_000
"""HubSpot search returns at most 10,000 results per query; asking past that is a 400."""

STAGES = (
    ("1", "New", "OPEN"),
    ("2", "Waiting on contact", "OPEN"),
    ("3", "Waiting on us", "OPEN"),
    ("4", "Closed", "CLOSED"),
)


class HubSpotEmulator:
    """A WSGI application answering HubSpot's API paths from a `World`."""

    def __init__(self, world: World, *, token: str, requests_per_10s: int = 190, base_url: str = "") -> None:
        self.world = world
        self.token = token
        self.base_url = base_url
        self.window = RollingWindow(requests_per_10s, 10.0)
        self.requests: list[tuple[str, str]] = []
        self.kinds = crm_kinds(world)
        self.url_map = Map(
            [
                Rule("/crm/v3/owners", endpoint="owners", methods=["GET"]),
                Rule("/crm/v3/owners/", endpoint="owners", methods=["GET"]),
                Rule("/crm/v3/pipelines/tickets", endpoint="pipelines", methods=["GET"]),
                Rule("/crm/v3/objects/<object_type>", endpoint="list_objects", methods=["GET"]),
                Rule("/crm/v3/objects/<object_type>/search", endpoint="search_objects", methods=["POST"]),
                Rule("/crm/v3/objects/<object_type>/batch/read", endpoint="batch_read", methods=["POST"]),
                Rule("/crm/v3/objects/<object_type>/<object_id>", endpoint="get_object", methods=["GET"]),
            ],
            strict_slashes=False,
        )

    # --- WSGI -------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        self.requests.append((request.method, request.full_path))
        response = self._dispatch(request)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        if not self._authorised(request):
            return error(
                401,
                "Authentication credentials not found. This API supports OAuth 2.0 and private app "
                "access tokens.",
                category="INVALID_AUTHENTICATION",
            )
        admission = self.window.admit()
        if not admission.allowed:
            response = json_response(
                {
                    "status": "error",
                    "message": "You have reached your ten_secondly_rolling limit.",
                    "errorType": "RATE_LIMIT",
                    "correlationId": str(uuid.uuid4()),
                    "policyName": "TEN_SECONDLY_ROLLING",
                },
                429,
            )
            response.headers["Retry-After"] = str(max(1, round(admission.retry_after)))
        else:
            try:
                endpoint, arguments = self.url_map.bind_to_environ(request.environ).match()
                response = getattr(self, f"_{endpoint}")(request, **arguments)
            except HTTPException as exc:
                response = error(exc.code or 500, exc.description or "error", category="OBJECT_NOT_FOUND")
        response.headers["X-HubSpot-RateLimit-Max"] = str(admission.limit)
        response.headers["X-HubSpot-RateLimit-Remaining"] = str(admission.remaining)
        response.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = "10000"
        return response

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, credential = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(credential.encode(), self.token.encode())

    # --- owners and pipelines -----------------------------------------------------------------------

    def _owners(self, request: Request) -> Response:
        limit = _bounded_int(request.args.get("limit"), default=100, maximum=LIST_LIMIT)
        start = _cursor(request.args.get("after"))
        indexes = range(start, min(start + limit, self.world.agent_count))
        results = [self._owner(i) for i in indexes]
        return json_response(self._page(results, start + limit, self.world.agent_count, request.path))

    def _owner(self, index: int) -> dict[str, Any]:
        agent = self.world.agent(index)
        return {
            "id": str(100 + index),
            "email": agent.email,
            "type": "PERSON",
            "firstName": agent.first_name,
            "lastName": agent.last_name,
            "userId": 9000 + index,
            "userIdIncludingInactive": 9000 + index,
            "createdAt": iso(agent.created_at),
            "updatedAt": iso(agent.created_at),
            "archived": False,
            "teams": [{"id": str(10 + index % 3), "name": agent.team, "primary": True}],
        }

    def _pipelines(self, request: Request) -> Response:
        created = iso(self.world.start)
        stages = [
            {
                "id": stage_id,
                "label": label,
                "displayOrder": order,
                "metadata": {"ticketState": state, "isClosed": str(state == "CLOSED").lower()},
                "createdAt": created,
                "updatedAt": created,
                "archived": False,
                "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
            }
            for order, (stage_id, label, state) in enumerate(STAGES)
        ]
        pipeline = {
            "id": "0",
            "label": "Support Pipeline",
            "displayOrder": 0,
            "createdAt": created,
            "updatedAt": created,
            "archived": False,
            "stages": stages,
        }
        return json_response({"results": [pipeline]})

    # --- CRM objects --------------------------------------------------------------------------------

    def _list_objects(self, request: Request, object_type: str) -> Response:
        kind = self._kind(object_type)
        limit = _bounded_int(request.args.get("limit"), default=10, maximum=LIST_LIMIT)
        start = _cursor(request.args.get("after"))
        names = _property_names(request.args.getlist("properties"))
        indexes = range(start, min(start + limit, kind.count))
        results = [self._object_json(kind, kind.record(i), names) for i in indexes]
        return json_response(self._page(results, start + limit, kind.count, request.path))

    def _get_object(self, request: Request, object_type: str, object_id: str) -> Response:
        kind = self._kind(object_type)
        index = kind.index_of(object_id)
        if index is None:
            raise NotFound(f"Object not found.  objectId are usually numeric.  {object_id}")
        names = _property_names(request.args.getlist("properties"))
        return json_response(self._object_json(kind, kind.record(index), names))

    def _batch_read(self, request: Request, object_type: str) -> Response:
        kind = self._kind(object_type)
        body = _json_body(request)
        if body is None:
            return error(400, "Invalid input JSON on line 1", category="VALIDATION_ERROR")
        inputs = body.get("inputs") or []
        if len(inputs) > BATCH_LIMIT:
            return error(400, f"Batch input limit is {BATCH_LIMIT}.", category="VALIDATION_ERROR")
        names = _property_names(body.get("properties") or [])
        found, missing = [], []
        for item in inputs:
            index = kind.index_of(str(item.get("id", "")))
            if index is None:
                missing.append(str(item.get("id")))
            else:
                found.append(self._object_json(kind, kind.record(index), names))
        started = iso(datetime.now(UTC))
        payload: dict[str, Any] = {
            "status": "COMPLETE",
            "results": found,
            "startedAt": started,
            "completedAt": started,
        }
        if missing:
            payload["errors"] = [
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": "Could not get some objects, they may be deleted or not exist.",
                    "context": {"ids": missing},
                }
            ]
            payload["numErrors"] = 1
            return json_response(payload, 207)
        return json_response(payload)

    def _search_objects(self, request: Request, object_type: str) -> Response:
        kind = self._kind(object_type)
        body = _json_body(request)
        if body is None:
            return error(400, "Invalid input JSON on line 1", category="VALIDATION_ERROR")
        limit = _bounded_int(body.get("limit"), default=10, maximum=SEARCH_LIMIT)
        start = _cursor(body.get("after"))
        if start >= SEARCH_CAP:
            return error(400, f"Cannot page past {SEARCH_CAP} results.", category="VALIDATION_ERROR")
        names = _property_names(body.get("properties") or [])
        matches = list(self._search_matches(kind, body))
        page = matches[start : min(start + limit, SEARCH_CAP)]
        payload: dict[str, Any] = {
            "total": len(matches),
            "results": [self._object_json(kind, kind.record(i), names) for i in page],
        }
        following = start + limit
        if following < min(len(matches), SEARCH_CAP):
            payload["paging"] = {"next": {"after": str(following)}}
        return json_response(payload)

    def _search_matches(self, kind: ObjectKind, body: dict[str, Any]) -> Iterator[int]:
        """Matching indexes in modification order (the sort incremental syncs use). A query filtering
        only on the modification date is answered by bisecting the sorted times; any other filter is
        checked record by record."""
        groups = [group.get("filters", []) for group in body.get("filterGroups") or []]
        descending = any(
            (s.get("direction") if isinstance(s, dict) else "ASCENDING") == "DESCENDING"
            for s in body.get("sorts") or []
        )
        order, times = kind.by_modified
        if len(groups) <= 1 and all(
            f.get("propertyName") == kind.modified_property for f in (groups or [[]])[0]
        ):
            low, high = 0, len(order)
            for spec in groups[0] if groups else []:
                bound = _comparable(str(spec.get("value", "")))
                operator = spec.get("operator")
                if operator in ("GT", "GTE") and isinstance(bound, float):
                    low = max(
                        low, bisect_right(times, bound) if operator == "GT" else bisect_left(times, bound)
                    )
                elif operator in ("LT", "LTE") and isinstance(bound, float):
                    high = min(
                        high, bisect_left(times, bound) if operator == "LT" else bisect_right(times, bound)
                    )
            selected = range(high - 1, low - 1, -1) if descending else range(low, high)
            yield from (order[position] for position in selected)
            return
        for index in reversed(order) if descending else order:
            properties = kind.record(index).properties
            if any(all(_matches(properties, f) for f in filters) for filters in groups):
                yield index

    def _object_json(self, kind: ObjectKind, record: CrmRecord, names: list[str] | None) -> dict[str, Any]:
        wanted = names if names is not None else list(kind.default_properties)
        return {
            "id": record.id,
            "properties": {name: record.properties.get(name) for name in wanted},
            "createdAt": iso(record.created_at),
            "updatedAt": iso(record.updated_at),
            "archived": False,
        }

    def _kind(self, object_type: str) -> ObjectKind:
        kind = self.kinds.get(object_type)
        if kind is None:
            raise NotFound(f"Unable to infer object type from: {object_type}")
        return kind

    def _page(self, results: list[dict[str, Any]], following: int, total: int, path: str) -> dict[str, Any]:
        payload: dict[str, Any] = {"results": results}
        if following < total:
            payload["paging"] = {
                "next": {"after": str(following), "link": f"{self.base_url}{path}?after={following}"}
            }
        return payload


def _matches(properties: dict[str, str | None], spec: dict[str, Any]) -> bool:
    """One search filter. Dates compare as epoch milliseconds, as HubSpot's search does."""
    value = properties.get(spec.get("propertyName", ""))
    operator = spec.get("operator", "EQ")
    if operator == "HAS_PROPERTY":
        return value is not None
    if operator == "NOT_HAS_PROPERTY":
        return value is None
    if value is None:
        return False
    left, right = _comparable(value), _comparable(str(spec.get("value", "")))
    comparisons: dict[str, Callable[[Any, Any], bool]] = {
        "EQ": lambda a, b: a == b,
        "NEQ": lambda a, b: a != b,
        "GT": lambda a, b: a > b,
        "GTE": lambda a, b: a >= b,
        "LT": lambda a, b: a < b,
        "LTE": lambda a, b: a <= b,
    }
    if operator == "BETWEEN":
        high = _comparable(str(spec.get("highValue", "")))
        return bool(left >= right and left <= high)
    return comparisons.get(operator, comparisons["EQ"])(left, right)


def _comparable(text: str) -> Any:
    """Numbers and timestamps as epoch-ms numbers; anything else as text."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000
    except ValueError:
        return text


def _bounded_int(value: Any, *, default: int, maximum: int) -> int:
    try:
        number = int(value) if value is not None else default
    except (TypeError, ValueError):
        number = default
    return max(1, min(number, maximum))


def _cursor(value: Any) -> int:
    try:
        return max(0, int(value)) if value is not None else 0
    except (TypeError, ValueError):
        return 0


def _property_names(values: Iterable[str]) -> list[str] | None:
    names = [name.strip() for value in values for name in str(value).split(",") if name.strip()]
    return names or None


def _json_body(request: Request) -> dict[str, Any] | None:
    try:
        body = json.loads(request.get_data(as_text=True) or "{}")
    except json.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def error(status: int, message: str, *, category: str) -> Response:
    """HubSpot's error body: status, message, correlationId, category."""
    return json_response(
        {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category},
        status,
    )
