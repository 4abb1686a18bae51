"""HubSpot through `hubspot-api-client`: owners, ticket pipelines, tickets, calls, contacts, feedback
submissions and closed-won deals, with their associations, into the common schema.

    >>> adapter = HubSpotAdapter(settings.hubspot, plan, currency=settings.currency)
    >>> for stream in adapter.streams(): ...

Every call goes through `HubSpotApi.call`: the governor's token first (search draws from its own budget
of 4/s instead of the general 10-second one, from which HubSpot exempts it), the SDK's
`*_with_http_info` variant so the quota headers feed the governor, and the shared retry policy and
status→error mapping. The SDK's own urllib3 retries are switched off (it would retry 429s by itself,
unseen by the governor).

Changed records are found by search on the modification date through the windowing engine (property
lists travel in the POST body, never in a URL); archived records are swept from `archived=true` lists
once a day (`hubspot.archived_sweep`), and contacts merged into others are folded into the survivor's
identity.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from hubspot.crm.associations.v4 import (
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicFetchAssociationsBatchRequest,
)
from hubspot.crm.objects import (
    BatchReadInputSimplePublicObjectId,
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectId,
)

from adapters import hubspot_mapping as mapping
from adapters.base import (
    Batch,
    OwnWrite,
    Refetched,
    SyncPlan,
    format_cursor,
    joined,
    map_each,
    windowed_batches,
)
from adapters.governor import RateGovernor
from adapters.hubspot_api import OWN_WRITE_PROPERTY, HubSpotApi, hubspot_api, sdk_model
from adapters.paging import (
    Fetched,
    HubSpotAfterPaginator,
    LastIdPaginator,
    PageRequest,
    paginate,
)
from adapters.records import epoch_ms, from_epoch_ms
from adapters.windows import Page, WindowedReader
from connector.errors import APIError, ConfigError
from connector.schema import Record
from connector.settings import HubSpotSettings

log = logging.getLogger(__name__)
SEARCH_LIMIT = 200
SEARCH_CAP = 10_000
BATCH_LIMIT = 100
LIST_LIMIT = 100


@dataclass(frozen=True)
class ObjectSpec:
    """One CRM object type as a stream reads it."""

    object_type: str
    stream: str
    entity: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    associations: tuple[str, ...] = ()
    modified_property: str = "hs_lastmodifieddate"
    sweep_archived: bool = False
    whole_history: bool = False
    """Read from the beginning on a first run, not from the backfill start (the customer base)."""


SPECS = {
    "tickets": ObjectSpec(
        "tickets", "tickets", "ticket",
        required=("createdate", "hs_lastmodifieddate", "hs_pipeline_stage"),
        optional=("subject", "content", "hs_pipeline", "source_type", "hs_ticket_priority",
                  "hs_ticket_category", "closed_date", "time_to_close", "time_to_first_agent_reply",
                  "hubspot_owner_id"),
        associations=("contacts",),
        sweep_archived=True,
    ),
    "calls": ObjectSpec(
        "calls", "calls", "call",
        required=("hs_timestamp", "hs_lastmodifieddate"),
        optional=("hs_call_direction", "hs_call_duration", "hs_call_status", "hs_call_disposition",
                  "hs_call_body", "hubspot_owner_id"),
        associations=("contacts", "tickets"),
        sweep_archived=True,
    ),
    "contacts": ObjectSpec(
        "contacts", "contacts", "contact",
        required=("createdate", "lastmodifieddate"),
        optional=("email", "phone", "firstname", "lastname", "company", "lifecyclestage",
                  "hs_lifecyclestage_customer_date", "hs_analytics_source", "hs_merged_object_ids"),
        modified_property="lastmodifieddate",
        sweep_archived=True,
        whole_history=True,
    ),
    "feedback_submissions": ObjectSpec(
        "feedback_submissions", "feedback_submissions", "survey_response",
        required=("hs_survey_type", "hs_value", "hs_lastmodifieddate"),
        optional=("hs_submission_timestamp", "hs_response_group", "hs_survey_channel", "hs_content"),
        associations=("contacts", "tickets"),
    ),
    "deals": ObjectSpec(
        "deals", "deals", "purchase",
        required=("dealstage", "closedate", "hs_lastmodifieddate"),
        optional=("amount", "deal_currency_code", "dealname"),
        associations=("contacts",),
    ),
}  # fmt: skip


class HubSpotAdapter:
    vendor = "hubspot"

    def __init__(
        self,
        config: HubSpotSettings,
        plan: SyncPlan,
        *,
        currency: str,
        governor: RateGovernor | None = None,
        api: HubSpotApi | None = None,
    ) -> None:
        config.require("hubspot")
        self.config = config
        self.currency = currency
        """A deal's currency when HubSpot gives none (`HELPDESK_CURRENCY`)."""
        self.plan = plan
        self.api = api or hubspot_api(config, governor)
        self.governor = self.api.governor
        self.reference = mapping.Reference()
        self._properties: dict[str, set[str]] = {}
        self.owners_read = False
        self._stages_loaded = False

    def close(self) -> None:
        return None

    def probe(self) -> None:
        """One cheap authenticated call, for `check --online`: the first owner."""
        self.api.call("default", self.api.client.crm.owners.owners_api.get_page_with_http_info, limit=1)

    def streams(self) -> Sequence[Any]:
        """Owners first (tickets and calls take their teams), contacts before what refers to them, and
        each archived sweep after its object's changes."""
        streams: list[Any] = [OwnersStream(self)]
        for name in ("contacts", "tickets", "calls", "feedback_submissions", "deals"):
            objects = ObjectStream(self, SPECS[name])
            streams.append(objects)
            if SPECS[name].sweep_archived:
                streams.append(ArchivedSweep(objects))
        return streams

    # --- reference data -----------------------------------------------------------------------------

    def properties(self, spec: ObjectSpec) -> list[str]:
        """The spec's properties this portal has: a missing required one stops the stream with a clear
        error, a missing optional one is left out with a warning."""
        if spec.object_type not in self._properties:
            result = self.api.call(
                "default", self.api.client.crm.properties.core_api.get_all_with_http_info, spec.object_type
            )
            self._properties[spec.object_type] = {p.name for p in result.results}
        present = self._properties[spec.object_type]
        lacking = [name for name in spec.required if name not in present]
        if lacking:
            raise APIError(
                f"the portal's {spec.object_type} lack the properties {', '.join(lacking)}; cannot sync them",
                vendor="hubspot",
            )
        for name in spec.optional:
            if name not in present:
                self.reference.warn_once(
                    f"property:{spec.object_type}:{name}",
                    f"hubspot: {spec.object_type} have no property {name!r}; "
                    "the figures that need it stay empty",
                )
        return [*spec.required, *(n for n in spec.optional if n in present), *self._extra(spec)]

    def _extra(self, spec: ObjectSpec) -> list[str]:
        churn = self.config.churn_property
        if spec.object_type == "contacts" and churn and churn in self._properties.get("contacts", set()):
            return [churn]
        if spec.object_type == "contacts" and churn:
            self.reference.warn_once(
                f"property:contacts:{churn}",
                f"hubspot: contacts have no property {churn!r} (HELPDESK_HUBSPOT__CHURN_PROPERTY); "
                "churn stays empty",
            )
        return []

    def owners(self, *, archived: bool) -> Iterator[Any]:
        owners_api = self.api.client.crm.owners.owners_api
        pages = self.api.paginate(
            "default",
            owners_api.get_page_with_http_info,
            paginator=HubSpotAfterPaginator(),
            limit=LIST_LIMIT,
            archived=archived,
        )
        for page in pages:
            yield from page.results or []

    def ensure_owner_teams(self) -> None:
        if not self.owners_read:
            for owner in self.owners(archived=False):
                team = mapping.primary_team(owner)
                if team:
                    self.reference.owner_teams[str(owner.id)] = team
            self.owners_read = True

    def ensure_stages(self) -> None:
        if self._stages_loaded:
            return
        pipelines = self.api.call(
            "default", self.api.client.crm.pipelines.pipelines_api.get_all_with_http_info, "tickets"
        )
        for pipeline in pipelines.results:
            for stage in pipeline.stages:
                state = (stage.metadata or {}).get("ticketState", "")
                self.reference.stages[str(stage.id)] = (str(state).upper(), stage.label, pipeline.label)
        self._stages_loaded = True

    def associate(self, object_type: str, ids: Sequence[str], targets: Sequence[str]) -> None:
        """Read the associations of `ids` in batches of 100 (v4), into the mapping's reference."""
        batch_api = self.api.client.crm.associations.v4.batch_api
        for target in targets:
            for n in range(0, len(ids), BATCH_LIMIT):
                chunk = ids[n : n + BATCH_LIMIT]
                request = BatchInputPublicFetchAssociationsBatchRequest(
                    inputs=[sdk_model(PublicFetchAssociationsBatchRequest, id=i) for i in chunk]
                )
                answer = self.api.call(
                    "default", batch_api.get_page_with_http_info, object_type, target, request
                )
                for result in answer.results or []:
                    linked = [str(t.to_object_id) for t in result.to or []]
                    self.reference.associations.setdefault(str(result._from.id), {})[target] = linked

    def prepare(self, spec: ObjectSpec) -> list[str]:
        """What reading `spec`'s objects needs first: its properties (returned), owners' teams for
        tickets and calls, pipeline stages for tickets."""
        properties = self.properties(spec)
        if spec.object_type in ("tickets", "calls"):
            self.ensure_owner_teams()
        if spec.object_type == "tickets":
            self.ensure_stages()
        return properties

    def read_by_ids(
        self, spec: ObjectSpec, properties: list[str], ids: Sequence[str], *, archived: bool
    ) -> list[Any]:
        """Objects by id, in POST batches of 100 (ids HubSpot does not have are left out)."""
        batch_api = self.api.client.crm.objects.batch_api
        found: list[Any] = []
        for n in range(0, len(ids), BATCH_LIMIT):
            request = BatchReadInputSimplePublicObjectId(
                properties=properties,
                inputs=[sdk_model(SimplePublicObjectId, id=i) for i in ids[n : n + BATCH_LIMIT]],
            )
            answer = self.api.call(
                "default", batch_api.read_with_http_info, spec.object_type, request, archived=archived
            )
            found += answer.results or []
        return found

    def refetch(self, object_type: str, ids: Sequence[str]) -> Refetched:
        """Objects named by webhook events, read by id: live ones, then the rest among the archived
        (a deletion event's object), mapped as the streams map them."""
        spec = SPECS.get(object_type)
        if spec is None:
            raise ConfigError(f"hubspot: webhook events about {object_type} are not followed")
        properties = self.prepare(spec)
        objects = ObjectStream(self, spec)
        live = self.read_by_ids(spec, properties, ids, archived=False)
        missing = sorted(set(ids) - {str(item.id) for item in live}, key=mapping.id_order)
        archived = self.read_by_ids(spec, properties, missing, archived=True) if missing else []
        gone = sorted(set(missing) - {str(item.id) for item in archived}, key=mapping.id_order)
        return Refetched(joined(objects.convert(live), objects.convert(archived, archived=True)), gone)

    def search_page(
        self, spec: ObjectSpec, properties: list[str], groups: list[list[Filter]], sort: str
    ) -> Any:
        """One page of a search whose filter `groups` are ORed (each group's filters ANDed)."""
        request = PublicObjectSearchRequest(
            filter_groups=[FilterGroup(filters=filters) for filters in groups],
            sorts=[{"propertyName": sort, "direction": "ASCENDING"}],
            properties=properties,
            limit=SEARCH_LIMIT,
        )
        return self.api.call(
            "search",
            self.api.client.crm.objects.search_api.do_search_with_http_info,
            spec.object_type,
            request,
        )


class OwnersStream:
    """Owners → agents, active and archived (two short lists per run; owners have no modified filter)."""

    name = "owners"
    entities = ("agent",)

    def __init__(self, adapter: HubSpotAdapter) -> None:
        self.adapter = adapter

    def read(self, cursor: str | None) -> Iterator[Batch]:
        agents = []
        for archived in (False, True):
            for owner in self.adapter.owners(archived=archived):
                agents.append(mapping.owner_to_agent(owner, archived=archived))
                team = mapping.primary_team(owner)
                if team and not archived:
                    self.adapter.reference.owner_teams[str(owner.id)] = team
        self.adapter.owners_read = True
        yield Batch(agents, format_cursor(self.adapter.plan.now))


class _SearchQuery:
    """A CRM search on the modification date, as the windowing engine's query. With the connector's
    latest write to the object type (`own`), records that changed only because that write touched
    them are left out: three filter groups read the records it did not write (no write id of ours, or
    an earlier one's) and those it wrote that changed again after it."""

    vendor = "hubspot"
    page_size = SEARCH_LIMIT
    cap: int | None = SEARCH_CAP
    resolution = 1

    def __init__(
        self, adapter: HubSpotAdapter, spec: ObjectSpec, properties: list[str], own: OwnWrite | None = None
    ) -> None:
        self.adapter = adapter
        self.spec = spec
        self.properties = properties
        self.own = own

    def _groups(self, window: list[Filter], low: int) -> list[list[Filter]]:
        """`window` (filters on the modification date from `low` on) as filter groups, our own latest
        write left out."""
        if self.own is None or epoch_ms(self.own.until) < low:  # nothing of ours can echo here
            return [window]
        prop, mine = self.spec.modified_property, self.own.write_id
        return [
            # HubSpot does not say whether NEQ matches a record without the property: both groups
            [*window, Filter(property_name=OWN_WRITE_PROPERTY, operator="NOT_HAS_PROPERTY")],
            [*window, Filter(property_name=OWN_WRITE_PROPERTY, operator="NEQ", value=mine)],
            [
                *window,
                Filter(property_name=OWN_WRITE_PROPERTY, operator="EQ", value=mine),
                Filter(property_name=prop, operator="GT", value=str(epoch_ms(self.own.until))),
            ],
        ]

    def page(self, low: int, high: int) -> Page:
        prop = self.spec.modified_property
        window = [
            Filter(property_name=prop, operator="GTE", value=str(low)),
            Filter(property_name=prop, operator="LT", value=str(high)),
        ]
        answer = self.adapter.search_page(self.spec, self.properties, self._groups(window, low), prop)
        return Page(answer.results or [], total=answer.total)

    def ties(self, key: int) -> Iterator[Sequence[Any]]:

        def fetch(request: PageRequest) -> Fetched:
            window = [
                Filter(property_name=self.spec.modified_property, operator="EQ", value=str(key)),
                Filter(property_name="hs_object_id", operator="GT", value=request.params["after"]),
            ]
            groups = self._groups(window, key)
            return self.adapter.search_page(self.spec, self.properties, groups, "hs_object_id"), None

        first = PageRequest(params={"after": "0"})
        for answer, _ in paginate(fetch, first, LastIdPaginator(SEARCH_LIMIT)):
            if answer.results:
                yield answer.results

    def key(self, item: Any) -> int:
        value = item.properties.get(self.spec.modified_property)
        instant = mapping.instant(value) or item.updated_at
        return epoch_ms(instant)

    def ident(self, item: Any) -> str:
        return str(item.id)


class ObjectStream:
    """One CRM object type: changed records by search, their associations, the archived sweep."""

    def __init__(self, adapter: HubSpotAdapter, spec: ObjectSpec) -> None:
        self.adapter = adapter
        self.spec = spec
        self.name = spec.stream
        self.entities = (spec.entity,)
        self.reader: WindowedReader | None = None

    def read(self, cursor: str | None) -> Iterator[Batch]:
        plan = self.adapter.plan
        properties = self.adapter.prepare(self.spec)
        query = _SearchQuery(self.adapter, self.spec, properties, plan.own_write(self.spec.object_type))
        self.reader = WindowedReader(query)
        start = epoch_ms(plan.start(cursor, whole_history=self.spec.whole_history))
        yield from windowed_batches(self.reader, start, epoch_ms(plan.now), self.convert, from_epoch_ms)

    def convert(self, items: Sequence[Any], *, archived: bool = False) -> Batch:
        """A batch of mapped records (cursor left to the caller), associations read first."""
        if not items:
            return Batch([])
        ids = [str(item.id) for item in items]
        if self.spec.associations:
            self.adapter.associate(self.spec.object_type, ids, self.spec.associations)
        rejected: list[str] = []
        records = map_each(items, lambda item: self._map(item, archived=archived), rejected)
        merged = [
            ("contact", f"hubspot:{m}", f"hubspot:{item.id}")
            for item in items
            if self.spec.object_type == "contacts"
            for m in mapping.merged_ids(item)
        ]
        for object_id in ids:  # associations are read per batch; keep memory flat
            self.adapter.reference.associations.pop(object_id, None)
        return Batch(records, None, merged, rejected)

    def _map(self, item: Any, *, archived: bool) -> Record | None:
        reference = self.adapter.reference
        kind = self.spec.object_type
        if kind == "tickets":
            return mapping.ticket(item, reference, archived=archived)
        if kind == "calls":
            return mapping.call(item, reference, archived=archived)
        if kind == "contacts":
            return mapping.contact(
                item,
                reference,
                churn_property=self.adapter.config.churn_property or "",
                archived=archived,
            )
        if kind == "feedback_submissions":
            return mapping.feedback(item, reference)
        return mapping.deal(
            item,
            reference,
            won_stages=set(self.adapter.config.won_deal_stages),
            currency=self.adapter.currency,
        )


class ArchivedSweep:
    """Archived (deleted) records of one object type, marked `archived` in the store.

    HubSpot lists them only with `archived=true` and search never finds them, so no modified-since read
    can see a deletion. The sweep lists their ids (one short property in the URL), reads them in POST
    batches and maps them with `archived` set. It runs when its cursor (the time of the last sweep) is
    older than `hubspot.archived_sweep` (default a day), or on `--full`."""

    def __init__(self, objects: ObjectStream) -> None:
        self.objects = objects
        self.name = f"{objects.name}:archived"
        self.entities = objects.entities

    def read(self, cursor: str | None) -> Iterator[Batch]:
        adapter, spec = self.objects.adapter, self.objects.spec
        plan = adapter.plan
        if not plan.due(cursor, adapter.config.archived_sweep):
            return
        properties = adapter.prepare(spec)
        basic = adapter.api.client.crm.objects.basic_api
        pages = adapter.api.paginate(
            "default", basic.get_page_with_http_info, spec.object_type, paginator=HubSpotAfterPaginator(),
            limit=LIST_LIMIT, properties=["hs_object_id"], archived=True,
        )  # fmt: skip
        for page in pages:
            ids = [str(item.id) for item in page.results or []]
            if ids:
                full = adapter.read_by_ids(spec, properties, ids, archived=True)
                yield self.objects.convert(full, archived=True)
        yield Batch([], format_cursor(plan.now))
