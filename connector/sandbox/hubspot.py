"""The HubSpot part of the sandbox: the CRM v3 endpoints the connector reads, with HubSpot's paths,
payload shapes, bearer auth, paging, search semantics (including the 10,000-result cap) and rate-limit
headers. Payloads must deserialize through `hubspot-api-client`'s generated models (contract tests).

Implemented: owners, ticket pipelines; tickets, contacts, calls, feedback submissions, deals and custom
objects: list, get, search, batch read / update / upsert (custom objects also batch create);
properties and property groups (read, create); custom object schemas (read, create); associations v4
batch read; the account's details (portal id and UI domain). Writes are kept (`writes`, and in the
records) so tests can assert them.
"""

from __future__ import annotations

import hmac
import json
import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.wrappers import Request, Response

from connector.sandbox.emulator import Emulator, json_response, serves
from connector.sandbox.faults import partial_failures
from connector.sandbox.hubspot_objects import CrmRecord, HubSpotQuirks, ObjectKind, StoredKind, crm_kinds, iso
from connector.sandbox.hubspot_schema import PORTAL_ID, PropertyRegistry, RegistryError, SchemaRegistry
from connector.sandbox.limits import RollingWindow
from connector.sandbox.world import World

LIST_LIMIT = 100
BATCH_LIMIT = 100
SEARCH_LIMIT = 200
SEARCH_CAP = 10_000
UI_DOMAIN = "app.hubspot.com"
"""The UI domain the sandbox's account details give (HubSpot's own for North-American hosted accounts)."""
"""HubSpot search returns at most 10,000 results per query; asking past that is a 400."""
SEARCH_GROUPS, SEARCH_GROUP_FILTERS, SEARCH_FILTERS = 5, 10, 25
"""Search's filter limits since 2024-08-26 (HubSpot developer changelog, "Expanded filtering capabilities
and error messaging in HubSpot's Search API")."""

STAGES = (
    ("1", "New", "OPEN"),
    ("2", "Waiting on contact", "OPEN"),
    ("3", "Waiting on us", "OPEN"),
    ("4", "Closed", "CLOSED"),
)


class HubSpotEmulator(Emulator):
    """A WSGI application answering HubSpot's API paths from a `World`."""

    def __init__(
        self,
        world: World,
        *,
        token: str,
        requests_per_10s: int = 190,
        base_url: str = "",
        custom_objects: bool = True,
        quirks: HubSpotQuirks | None = None,
        daily_limit: int = 500_000,
        search_per_second: int = 5,
        auth: str = "private_app",
    ) -> None:
        super().__init__()
        if auth not in ("private_app", "oauth"):
            raise ValueError("auth is 'private_app' or 'oauth'")
        self.world = world
        self.token = token
        self.base_url = base_url
        self.auth = auth
        """'oauth': answers carry no X-HubSpot-RateLimit-Daily* headers (OAuth calls have no daily cap)."""
        self.window = RollingWindow(requests_per_10s, 10.0)
        self.search_window = RollingWindow(search_per_second, 1.0)
        """CRM search's own per-second limit; search is exempt from the ten-second window."""
        self.daily_limit = daily_limit
        self.daily_used = 0
        """Requests counted against the portal's daily quota (the sandbox's day lasts as long as it runs)."""
        self.quirks = quirks or HubSpotQuirks()
        self.kinds = crm_kinds(world, self.quirks)
        self.properties = PropertyRegistry(self.kinds)
        self.schemas = SchemaRegistry(self.kinds, self.properties, enabled=custom_objects)
        self.searches: list[tuple[str, Any]] = []
        """Every search (object type, JSON body), for tests to assert how the connector searched."""
        self.writes: list[tuple[str, str, Any]] = []
        """Every write request (method, path, JSON body), for tests to assert what the connector wrote."""

    # --- WSGI -------------------------------------------------------------------------------------

    def record(self, request: Request) -> None:
        super().record(request)
        if request.method == "POST" and request.path.endswith("/search"):
            self.searches.append((request.path.split("/")[-2], _json_body(request)))
        if request.method in ("POST", "PATCH", "PUT") and not request.path.endswith(
            ("/search", "/batch/read")
        ):
            self.writes.append((request.method, request.path, _json_body(request)))

    def handle(self, request: Request) -> Response:
        if not self._authorised(request):
            return error(
                401,
                "Authentication credentials not found. This API supports OAuth 2.0 and private app "
                "access tokens.",
                category="INVALID_AUTHENTICATION",
            )
        search = request.method == "POST" and request.path.endswith("/search")
        exempt = search or request.path.startswith("/crm/v4/associations/")
        # CRM search and v4 association batch reads are exempt from the ten-second limit (HubSpot's
        # specs: x-hubspot-rate-limit-exemptions: ten-secondly); search has its own per-second one
        admission = (self.search_window if search else self.window).admit() if search or not exempt else None
        self.daily_used += 1
        if self.daily_used > self.daily_limit:
            response = _rate_limited("DAILY", "daily")
        elif admission is not None and not admission.allowed:
            response = (
                _rate_limited("SECONDLY", "secondly")
                if search
                else _rate_limited("TEN_SECONDLY_ROLLING", "ten_secondly_rolling")
            )
            response.headers["Retry-After"] = str(max(1, round(admission.retry_after)))
        else:
            try:
                response = self.route(request)
            except RegistryError as exc:
                response = error(exc.status, exc.message, category=exc.category)
            except HTTPException as exc:
                response = error(exc.code or 500, exc.description or "error", category="OBJECT_NOT_FOUND")
        if not exempt:
            assert admission is not None
            response.headers["X-HubSpot-RateLimit-Max"] = str(admission.limit)
            response.headers["X-HubSpot-RateLimit-Remaining"] = str(admission.remaining)
            response.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = "10000"
        if self.auth == "private_app":
            response.headers["X-HubSpot-RateLimit-Daily"] = str(self.daily_limit)
            response.headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(
                max(0, self.daily_limit - self.daily_used)
            )
        return response

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, credential = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(credential.encode(), self.token.encode())

    # --- account, owners and pipelines --------------------------------------------------------------

    @serves("GET", "/account-info/v3/details")
    def _account_details(self, request: Request) -> Response:
        """`GET /account-info/v3/details`: every field HubSpot's reference marks required (account
        information API, "Retrieve account details")."""
        return json_response(
            {
                "portalId": PORTAL_ID,
                "accountType": "STANDARD",
                "timeZone": "Europe/Amsterdam",
                "companyCurrency": "EUR",
                "additionalCurrencies": [],
                "utcOffset": "+01:00",
                "utcOffsetMilliseconds": 3_600_000,
                "uiDomain": UI_DOMAIN,
                "dataHostingLocation": "na1",
            }
        )

    @serves("GET", "/crm/v3/owners")
    @serves("GET", "/crm/v3/owners/")
    def _owners(self, request: Request) -> Response:
        limit = _bounded_int(request.args.get("limit"), default=100, maximum=LIST_LIMIT)
        start = _cursor(request.args.get("after"))
        if request.args.get("archived", "false").lower() == "true":  # no owner of the world has left
            return json_response({"results": []})
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

    @serves("GET", "/crm/v3/pipelines/tickets")
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

    @serves("GET", "/crm/v3/objects/<object_type>")
    def _list_objects(self, request: Request, object_type: str) -> Response:
        kind = self._kind(object_type)
        limit = _bounded_int(request.args.get("limit"), default=10, maximum=LIST_LIMIT)
        start = _cursor(request.args.get("after"))
        archived = request.args.get("archived", "false").lower() == "true"
        names = _property_names(request.args.getlist("properties"))
        indexes: list[int] = []
        position = start
        while position < kind.count and len(indexes) <= limit:  # one more than a page: is there a next?
            if kind.listed(position, archived=archived):
                indexes.append(position)
            position += 1
        page, more = indexes[:limit], len(indexes) > limit
        results = [self._object_json(kind, kind.record(i), names, archived=archived) for i in page]
        following = page[-1] + 1 if more else kind.count
        return json_response(self._page(results, following, kind.count, request.path))

    @serves("GET", "/crm/v3/objects/<object_type>/<object_id>")
    def _get_object(self, request: Request, object_type: str, object_id: str) -> Response:
        kind = self._kind(object_type)
        index = kind.index_of(object_id)
        archived = request.args.get("archived", "false").lower() == "true"
        if index is not None:
            index = kind.merged_into(index) if kind.merged_into(index) is not None else index
        if index is None or (kind.archived(index) and not archived):
            raise NotFound(f"Object not found.  objectId are usually numeric.  {object_id}")
        names = _property_names(request.args.getlist("properties"))
        return json_response(
            self._object_json(kind, kind.record(index), names, archived=kind.archived(index))
        )

    @serves("POST", "/crm/v3/objects/<object_type>/batch/read")
    def _batch_read(self, request: Request, object_type: str) -> Response:
        kind = self._kind(object_type)
        body = _json_object(request)
        inputs = body.get("inputs") or []
        if len(inputs) > BATCH_LIMIT:
            return error(400, f"Batch input limit is {BATCH_LIMIT}.", category="VALIDATION_ERROR")
        names = _property_names(body.get("properties") or [])
        id_property = body.get("idProperty") or "hs_object_id"
        if id_property != "hs_object_id":
            self._check_unique(object_type, id_property)
        found, missing = [], []
        for item in inputs:
            index = (
                kind.index_of(str(item.get("id", "")))
                if id_property == "hs_object_id"
                else kind.find(id_property, str(item.get("id")))
            )
            if index is None:
                missing.append(str(item.get("id")))
            else:
                found.append(self._object_json(kind, kind.record(index), names))
        not_found = {
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "message": "Could not get some objects, they may be deleted or not exist.",
            "context": {"ids": missing},
        }
        return batch_answer(found, [not_found] if missing else [])

    @serves("POST", "/crm/v3/objects/<object_type>/search")
    def _search_objects(self, request: Request, object_type: str) -> Response:
        kind = self._kind(object_type)
        body = _json_object(request)
        limit = _bounded_int(body.get("limit"), default=10, maximum=SEARCH_LIMIT)
        start = _cursor(body.get("after"))
        if start >= SEARCH_CAP:
            return error(400, f"Cannot page past {SEARCH_CAP} results.", category="VALIDATION_ERROR")
        names = _property_names(body.get("properties") or [])
        matches = self._search_matches(kind, body)
        page = matches[start : min(start + limit, SEARCH_CAP)]
        payload: dict[str, Any] = {
            "total": len(matches),
            "results": [self._object_json(kind, self._search_view(kind, i), names) for i in page],
        }
        following = start + limit
        if following < len(matches):  # past the cap the cursor is still given; using it is the 400
            payload["paging"] = {"next": {"after": str(following)}}
        return json_response(payload)

    def _search_view(self, kind: ObjectKind, index: int) -> CrmRecord:
        """What search sees of a record: writes younger than the search lag are not indexed yet."""
        lag = self.quirks.search_lag
        return kind.record(index, written_before=datetime.now(UTC) - timedelta(seconds=lag) if lag else None)

    def _search_matches(self, kind: ObjectKind, body: dict[str, Any]) -> list[int]:
        """Matching indexes in the order the search's sorts ask (by modification date, the sort incremental
        syncs use, or by object id): the records as rendered (`_rendered_matches`), then the written ones
        as search sees them (`_written_matches`); archived and merged-away ones never match."""
        groups = _search_groups(body)
        entries = self._rendered_matches(kind, groups) + self._written_matches(kind, groups)
        sorts = [s for s in body.get("sorts") or [] if isinstance(s, dict)]
        descending = any(s.get("direction", "ASCENDING") == "DESCENDING" for s in sorts)
        by_object_id = any(s.get("propertyName") == "hs_object_id" for s in sorts)
        entries.sort(key=(lambda e: e[1]) if by_object_id else None, reverse=descending)
        return [index for _, index in entries]

    def _rendered_matches(
        self, kind: ObjectKind, groups: list[list[dict[str, Any]]]
    ) -> list[tuple[int, int]]:
        """(modified ms, index) of the records never written that match. A query filtering only on the
        modification date (and ids) bisects the sorted times; any other checks each record within the
        modification dates some group can match."""
        order, times = kind.by_modified
        written = set(kind.overlay)
        only_dates = len(groups) <= 1 and all(
            f.get("propertyName") in (kind.modified_property, "hs_object_id") for f in (groups or [[]])[0]
        )
        if only_dates:
            by_id = [f for f in (groups or [[]])[0] if f.get("propertyName") == "hs_object_id"]
            low, high = _date_range(groups[0] if groups else [], kind.modified_property, times)

            def matches(index: int) -> bool:
                return all(_matches({"hs_object_id": kind.object_id(index)}, f) for f in by_id)

        else:
            ranges = [_date_range(filters, kind.modified_property, times) for filters in groups or [[]]]
            low, high = min(r[0] for r in ranges), max(r[1] for r in ranges)

            def matches(index: int) -> bool:
                return _matches_any(kind.record(index).properties, groups)

        return [
            (times[p], order[p])
            for p in range(low, high)
            if order[p] not in written and kind.listed(order[p]) and matches(order[p])
        ]

    def _written_matches(self, kind: ObjectKind, groups: list[list[dict[str, Any]]]) -> list[tuple[int, int]]:
        """(modified ms, index) of the written records that match, as search sees them (its lag)."""
        entries = []
        for index in kind.overlay:
            if kind.listed(index):
                view = self._search_view(kind, index)
                if _matches_any(view.properties, groups):
                    entries.append((int(view.updated_at.timestamp() * 1000), index))
        return entries

    def _object_json(
        self, kind: ObjectKind, record: CrmRecord, names: list[str] | None, *, archived: bool = False
    ) -> dict[str, Any]:
        wanted = names if names is not None else list(kind.default_properties)
        payload: dict[str, Any] = {
            "id": record.id,
            "properties": {name: record.properties.get(name) for name in wanted},
            "createdAt": iso(record.created_at),
            "updatedAt": iso(record.updated_at),
            "archived": archived,
        }
        if archived:
            payload["archivedAt"] = iso(record.updated_at)
        return payload

    # --- writes -------------------------------------------------------------------------------------

    def _batch_inputs(self, request: Request) -> list[dict[str, Any]]:
        body = _json_body(request)
        if body is None or not isinstance(body.get("inputs"), list):
            raise RegistryError(400, "VALIDATION_ERROR", 'Invalid input JSON: expected {"inputs": [...]}')
        if len(body["inputs"]) > BATCH_LIMIT:
            raise RegistryError(400, "VALIDATION_ERROR", f"Batch input limit is {BATCH_LIMIT}.")
        return list(body["inputs"])

    def _check_unique(self, object_type: str, id_property: str) -> None:
        """Records are looked up by `id_property` only when it is a unique-value property (HubSpot's 400)."""
        definition = self.properties.object_properties(object_type).get(id_property)
        if definition is None or not definition.get("hasUniqueValue"):
            raise RegistryError(400, "VALIDATION_ERROR", f"{id_property} is not a unique-value property")

    def _item_values(self, object_type: str, item: dict[str, Any]) -> dict[str, str | None]:
        """A batch item's property values, checked against the type's properties."""
        return self._check_properties(object_type, item.get("properties") or {})

    def _created(self, kind: StoredKind, values: dict[str, str | None], now: datetime) -> dict[str, Any]:
        """A new record of `kind` with `values`, as HubSpot answers its creation."""
        return self._object_json(kind, kind.create(values, now), list(values))

    def _check_properties(self, object_type: str, values: dict[str, Any]) -> dict[str, str | None]:
        known = self.properties.object_properties(object_type)
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise RegistryError(
                400,
                "VALIDATION_ERROR",
                f"Property values were not valid: {', '.join(unknown)} do(es) not exist",
            )
        return {name: None if value is None else str(value) for name, value in values.items()}

    def _batch_response(
        self, results: list[dict[str, Any]], missing: list[str], failed: list[str] | None = None
    ) -> Response:
        """HubSpot's batch answer: 200 when every input succeeded, else 207 with one error per input that
        does not exist (`OBJECT_NOT_FOUND`) or failed for now (`INTERNAL_ERROR`, from a fault switch)."""
        errors = [("OBJECT_NOT_FOUND", object_id, "does not exist") for object_id in missing]
        errors += [
            ("INTERNAL_ERROR", object_id, "could not be written now (sandbox fault)")
            for object_id in failed or []
        ]
        return batch_answer(
            results,
            [
                {
                    "status": "error",
                    "category": category,
                    "message": f"Object {object_id} {why}",
                    "context": {"ids": [object_id]},
                }
                for category, object_id, why in errors
            ],
        )

    @serves("POST", "/crm/v3/objects/<object_type>/batch/update")
    def _batch_update(self, request: Request, object_type: str) -> Response:
        kind = self._kind(object_type)
        now = datetime.now(UTC)
        inputs = self._batch_inputs(request)
        checked = [(item, self._item_values(object_type, item)) for item in inputs]
        failing = partial_failures(request, inputs)
        results, missing, failed = [], [], []
        for position, (item, values) in enumerate(checked):
            index = kind.index_of(str(item.get("id", "")))
            if index is None:
                missing.append(str(item.get("id")))
            elif position in failing:
                failed.append(str(item.get("id")))
            else:
                results.append(self._object_json(kind, kind.update(index, values, now), list(values)))
        return self._batch_response(results, missing, failed)

    @serves("POST", "/crm/v3/objects/<object_type>/batch/upsert")
    def _batch_upsert(self, request: Request, object_type: str) -> Response:
        kind = self._kind(object_type)
        now = datetime.now(UTC)
        results = []
        for item in self._batch_inputs(request):
            id_property = item.get("idProperty") or "hs_object_id"
            self._check_unique(object_type, id_property)
            values = self._check_properties(
                object_type, {**(item.get("properties") or {}), id_property: item.get("id")}
            )
            index = kind.find(id_property, str(item.get("id")))
            if index is None:
                if not isinstance(kind, StoredKind):
                    raise RegistryError(400, "VALIDATION_ERROR", "Upsert can only create custom objects here")
                record, new = kind.create(values, now), True
            else:
                record, new = kind.update(index, values, now), False
            results.append({**self._object_json(kind, record, list(values)), "new": new})
        return self._batch_response(results, [])

    @serves("POST", "/crm/v3/objects/<object_type>")
    def _create_object(self, request: Request, object_type: str) -> Response:
        """`POST /crm/v3/objects/{objectType}`: one record of a type whose records exist only as written."""
        kind = self._creatable_kind(object_type)
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
            raise RegistryError(400, "VALIDATION_ERROR", "the body needs a properties object")
        values = self._check_properties(object_type, body["properties"])
        if object_type == "tasks" and not values.get("hs_timestamp"):
            raise RegistryError(400, "VALIDATION_ERROR", "hs_timestamp is required for a task")
        now = datetime.now(UTC)
        return json_response(self._created(kind, values, now), 201)

    @serves("POST", "/crm/v3/objects/<object_type>/batch/create")
    def _batch_create(self, request: Request, object_type: str) -> Response:
        kind = self._creatable_kind(object_type)
        now = datetime.now(UTC)
        inputs = self._batch_inputs(request)
        created = [self._created(kind, self._item_values(object_type, item), now) for item in inputs]
        return batch_answer(created, status=201)

    # --- properties, groups, schemas, associations ---------------------------------------------------

    @serves("GET", "/crm/v3/properties/<object_type>")
    def _list_properties(self, request: Request, object_type: str) -> Response:
        return json_response({"results": list(self.properties.object_properties(object_type).values())})

    @serves("GET", "/crm/v3/properties/<object_type>/<name>")
    def _get_property(self, request: Request, object_type: str, name: str) -> Response:
        found = self.properties.object_properties(object_type).get(name)
        if found is None:
            raise RegistryError(404, "OBJECT_NOT_FOUND", f"Unable to find property {name}")
        return json_response(found)

    @serves("POST", "/crm/v3/properties/<object_type>")
    def _create_property(self, request: Request, object_type: str) -> Response:
        return json_response(self.properties.create(object_type, _json_body(request) or {}), 201)

    @serves("POST", "/crm/v3/properties/<object_type>/batch/create")
    def _create_properties(self, request: Request, object_type: str) -> Response:
        results, errors = [], []
        for spec in self._batch_inputs(request):
            try:
                results.append(self.properties.create(object_type, spec))
            except RegistryError as exc:
                errors.append({"status": "error", "category": exc.category, "message": exc.message,
                               "context": {"name": [str(spec.get("name"))]}})  # fmt: skip
        return batch_answer(results, errors, status=201)

    @serves("GET", "/crm/v3/properties/<object_type>/groups")
    def _list_groups(self, request: Request, object_type: str) -> Response:
        self.properties.object_properties(object_type)
        return json_response({"results": list(self.properties.groups[object_type].values())})

    @serves("POST", "/crm/v3/properties/<object_type>/groups")
    def _create_group(self, request: Request, object_type: str) -> Response:
        return json_response(self.properties.create_group(object_type, _json_body(request) or {}), 201)

    @serves("GET", "/crm-object-schemas/v3/schemas")
    def _list_schemas(self, request: Request) -> Response:
        return json_response({"results": list(self.schemas.schemas.values())})

    @serves("POST", "/crm-object-schemas/v3/schemas")
    def _create_schema(self, request: Request) -> Response:
        return json_response(self.schemas.create(_json_body(request) or {}), 201)

    @serves("GET", "/crm-object-schemas/v3/schemas/<object_type>")
    def _get_schema(self, request: Request, object_type: str) -> Response:
        return json_response(self.schemas.get(object_type))

    @serves("POST", "/crm/v4/associations/<from_type>/<to_type>/batch/read")
    def _associations(self, request: Request, from_type: str, to_type: str) -> Response:
        source, target = self._kind(from_type), self._kind(to_type)
        results = []
        for item in self._batch_inputs(request):
            index = source.index_of(str(item.get("id", "")))
            if index is None:
                continue
            linked = associated(self.world, source.name, target.name, index)
            results.append(
                {
                    "from": {"id": source.object_id(index)},
                    "to": [
                        {
                            "toObjectId": int(target.object_id(i)),
                            "associationTypes": [
                                {"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}
                            ],
                        }
                        for i, type_id in linked
                    ],
                }
            )  # fmt: skip
        return batch_answer(results)

    def _creatable_kind(self, object_type: str) -> StoredKind:
        """The kind of `object_type` when records can be created in it: those that exist only as written
        (the world's own records are generated, not created)."""
        kind = self._kind(object_type)
        if not isinstance(kind, StoredKind):
            raise RegistryError(
                400, "VALIDATION_ERROR", "Creating world records is not supported by the sandbox"
            )
        return kind

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


ASSOCIATION_TYPES = {
    ("tickets", "contacts"): 16,
    ("calls", "contacts"): 194,
    ("deals", "contacts"): 3,
    ("feedback_submissions", "contacts"): 1118,
    ("feedback_submissions", "tickets"): 1120,
}


def associated(world: World, source: str, target: str, index: int) -> list[tuple[int, int]]:
    """(target index, association type id) of the records `source` record `index` is associated with."""
    type_id = ASSOCIATION_TYPES.get((source, target))
    if type_id is None:
        return []
    if source == "tickets":
        target_index = world.ticket_customer(index)
    elif source == "calls":
        target_index = world.call(index).customer_index
    elif source == "deals":
        target_index = world.deal(index).customer_index
    else:
        survey = world.survey(index)
        target_index = survey.customer_index if target == "contacts" else survey.ticket_index
    return [(target_index, type_id)]


def _search_groups(body: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """A search's filter groups (ORed; each group's filters ANDed), within HubSpot's limits."""
    groups = [group.get("filters", []) for group in body.get("filterGroups") or []]
    if (
        len(groups) > SEARCH_GROUPS
        or any(len(filters) > SEARCH_GROUP_FILTERS for filters in groups)
        or sum(map(len, groups)) > SEARCH_FILTERS
    ):
        raise RegistryError(
            400,
            "VALIDATION_ERROR",
            f"Search allows {SEARCH_GROUPS} filter groups of up to {SEARCH_GROUP_FILTERS} filters, "
            f"{SEARCH_FILTERS} filters in all.",
        )
    return groups


def _matches_any(properties: dict[str, Any], groups: list[list[dict[str, Any]]]) -> bool:
    """No groups, or every filter of some group matches."""
    return not groups or any(all(_matches(properties, f) for f in filters) for filters in groups)


def _date_range(filters: list[dict[str, Any]], modified: str, times: Sequence[float]) -> tuple[int, int]:
    """The positions in the sorted modification `times` that one filter group's conditions on the
    modification date leave (as rendered; written records are checked apart)."""
    low, high = 0, len(times)
    for spec in filters:
        if spec.get("propertyName") != modified:
            continue
        bound = _comparable(str(spec.get("value", "")))
        operator = spec.get("operator")
        if not isinstance(bound, float):
            continue
        if operator in ("GT", "GTE"):
            low = max(low, bisect_right(times, bound) if operator == "GT" else bisect_left(times, bound))
        elif operator == "EQ":
            low, high = max(low, bisect_left(times, bound)), min(high, bisect_right(times, bound))
        elif operator in ("LT", "LTE"):
            high = min(high, bisect_left(times, bound) if operator == "LT" else bisect_right(times, bound))
    return low, high


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


def _json_object(request: Request) -> dict[str, Any]:
    """The request's JSON object; anything else is HubSpot's 400 for unreadable input."""
    body = _json_body(request)
    if body is None:
        raise RegistryError(400, "VALIDATION_ERROR", "Invalid input JSON on line 1")
    return body


def _rate_limited(policy: str, name: str) -> Response:
    """HubSpot's 429 body for one limit policy."""
    return json_response(
        {
            "status": "error",
            "message": f"You have reached your {name} limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": str(uuid.uuid4()),
            "policyName": policy,
        },
        429,
    )


def batch_answer(
    results: list[dict[str, Any]], errors: list[dict[str, Any]] | None = None, *, status: int = 200
) -> Response:
    """HubSpot's answer to a batch call: `COMPLETE`, the results and when it started and completed
    (the same instant here); with `errors`, 207 Multi-Status and their number, else `status`."""
    now = iso(datetime.now(UTC))
    payload: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
    if errors:
        return json_response(payload | {"errors": errors, "numErrors": len(errors)}, 207)
    return json_response(payload, status)


def error(status: int, message: str, *, category: str) -> Response:
    """HubSpot's error body: status, message, correlationId, category."""
    return json_response(
        {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category},
        status,
    )
