"""HubSpot CRM object types of the sandbox, rendered from the world with HubSpot's property names.

Each kind maps a world index to a HubSpot record (`id`, string-valued `properties`, created and updated
instants) and back; ids are large numbers per kind, as in real portals.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property

from connector.sandbox.world import World

ID_BASES = {
    "tickets": 5_000_000_000,
    "contacts": 1_000_000,
    "calls": 40_000_000_000,
    "feedback_submissions": 7_000_000,
    "deals": 9_000_000_000,
    "tasks": 60_000_000_000,
}


def iso(instant: datetime) -> str:
    """HubSpot's timestamp form: ISO 8601 in UTC with milliseconds and `Z`."""
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _iso_or_none(instant: datetime | None) -> str | None:
    return iso(instant) if instant is not None else None


def _ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


@dataclass(frozen=True)
class CrmRecord:
    id: str
    properties: dict[str, str | None]
    created_at: datetime
    updated_at: datetime


@dataclass
class ObjectKind:
    """One CRM object type: how many there are, how index `i` looks, which properties come by default
    and which property carries the modification time (contacts: `lastmodifieddate`). Writes made through
    the API are kept in `overlay` (world-backed types) or `rows` (custom objects), so tests can assert
    them and later reads see them."""

    name: str
    count: int
    render: Callable[[int], CrmRecord]
    default_properties: tuple[str, ...]
    modified_property: str = "hs_lastmodifieddate"
    id_base: int | None = None
    archived: Callable[[int], bool] = field(default=lambda index: False)
    """Archived records: listed only with `archived=true`, never found by search."""
    merged_into: Callable[[int], int | None] = field(default=lambda index: None)
    """A record merged into another: its id answers with the survivor; lists and search skip it."""
    overlay: dict[int, tuple[dict[str, str | None], datetime]] = field(default_factory=dict)
    _base: int = field(init=False, default=0)
    _unique: dict[str, dict[str, int]] = field(init=False, default_factory=dict)
    """Value → index of each unique property looked up so far: upserts find their record in O(1)."""

    def __post_init__(self) -> None:
        self._base = self.id_base if self.id_base is not None else ID_BASES[self.name]

    def record(self, index: int, *, written_before: datetime | None = None) -> CrmRecord:
        """Record `index` as it is now, or as a view that only sees writes made before `written_before`
        (HubSpot's search index lags behind writes)."""
        base = self.render(index)
        patch = self.overlay.get(index)
        if patch is None or (written_before is not None and patch[1] > written_before):
            return base
        properties, updated = patch
        return CrmRecord(base.id, {**base.properties, **properties}, base.created_at, updated)

    def listed(self, index: int, *, archived: bool = False) -> bool:
        """Whether a list call shows `index` (`archived=true` lists only archived records)."""
        return self.merged_into(index) is None and self.archived(index) == archived

    def update(self, index: int, properties: dict[str, str | None], at: datetime) -> CrmRecord:
        """Apply a write: the properties given change, the modification time moves to `at`."""
        before = self.record(index).properties
        earlier = self.overlay.get(index, ({}, at))[0]
        self.overlay[index] = ({**earlier, **properties, self.modified_property: iso(at)}, at)
        for name, lookup in self._unique.items():
            if name in properties:
                if lookup.get(str(before.get(name))) == index:
                    del lookup[str(before.get(name))]
                self._index_value(lookup, properties[name], index)
        return self.record(index)

    def find(self, property_name: str, value: str) -> int | None:
        """The index whose property equals `value` (a unique property), if any: the property's values
        are indexed on its first lookup and kept current by every write after it."""
        lookup = self._unique.get(property_name)
        if lookup is None:
            lookup = self._unique[property_name] = {}
            for i in range(self.count):
                self._index_value(lookup, self.record(i).properties.get(property_name), i)
        return lookup.get(value)

    @staticmethod
    def _index_value(lookup: dict[str, int], value: str | None, index: int) -> None:
        if value is not None:
            lookup.setdefault(value, index)

    def object_id(self, index: int) -> str:
        return str(self._base + index)

    def index_of(self, object_id: str) -> int | None:
        if not object_id.isdigit():
            return None
        index = int(object_id) - self._base
        return index if 0 <= index < self.count else None

    @cached_property
    def by_modified(self) -> tuple[array[int], array[int]]:
        """Indexes of the records as rendered (before any write) sorted by (modification time, index),
        and those times in epoch ms: what a search sorted on the modification date walks, bisectable by
        time. Written records are merged in by the search itself."""
        keyed = sorted((_ms(self.render(i).updated_at), i) for i in range(self.count))
        return array("q", (i for _, i in keyed)), array("q", (ms for ms, _ in keyed))


class StoredKind(ObjectKind):
    """A custom object type created through the schemas API: its records exist only as written."""

    def __init__(self, name: str, id_base: int, default_properties: tuple[str, ...]) -> None:
        self.rows: list[CrmRecord] = []
        super().__init__(name, 0, self._row, default_properties, id_base=id_base)

    def _row(self, index: int) -> CrmRecord:
        return self.rows[index]

    def create(self, properties: dict[str, str | None], at: datetime) -> CrmRecord:
        object_id = self.object_id(len(self.rows))
        stamped = {
            **properties,
            "hs_object_id": object_id,
            "hs_lastmodifieddate": iso(at),
            "hs_createdate": iso(at),
        }
        self.rows.append(CrmRecord(object_id, stamped, at, at))
        self.count = len(self.rows)
        for name, lookup in self._unique.items():
            self._index_value(lookup, stamped.get(name), self.count - 1)
        self.__dict__.pop("by_modified", None)  # new rows enter the sorted view
        return self.rows[-1]


@dataclass(frozen=True)
class HubSpotQuirks:
    """Real-portal behaviour that loses data in naive connectors, each switchable."""

    search_lag: float = 0.0
    """Seconds before a write becomes visible to search (HubSpot search is eventually consistent)."""
    bulk_update: int = 0
    """This many tickets share one `hs_lastmodifieddate`, as after a bulk edit or import."""
    archived_fraction: float = 0.0
    """Share of tickets and contacts that are archived."""
    merged_fraction: float = 0.0
    """Share of contacts merged into the contact before them (`hs_merged_object_ids`)."""


def _share(world: World, kind: str, index: int, fraction: float) -> bool:
    """A deterministic `fraction` of the indexes of `kind`."""
    return fraction > 0 and world._rng(f"quirk:{kind}", index).random() < fraction


def crm_kinds(world: World, quirks: HubSpotQuirks | None = None) -> dict[str, ObjectKind]:
    quirks = quirks or HubSpotQuirks()
    kinds: dict[str, ObjectKind] = {}
    bulk_first = max(0, world.size // 2 - quirks.bulk_update // 2)
    bulk_range = range(bulk_first, bulk_first + quirks.bulk_update)
    bulk_at = (
        max(world.ticket(i).modified_at for i in bulk_range if i < world.size) + timedelta(hours=1)
        if quirks.bulk_update
        else None
    )

    def merged_into(index: int) -> int | None:
        return index - 1 if index > 0 and _share(world, "merged", index, quirks.merged_fraction) else None

    def ticket(index: int) -> CrmRecord:
        t = world.ticket(index)
        if bulk_at is not None and index in bulk_range:
            t = replace(t, modified_at=bulk_at)
        stage = "4" if t.is_closed else ("3" if t.first_reply_at is None else "2")
        properties = {
            "subject": t.subject,
            "content": t.description,
            "hs_pipeline": "0",
            "hs_pipeline_stage": stage,
            "hs_ticket_category": t.category.upper().replace("-", "_"),
            "hs_ticket_priority": t.priority,
            "source_type": t.channel,
            "createdate": iso(t.created_at),
            "hs_lastmodifieddate": iso(t.modified_at),
            "closed_date": _iso_or_none(t.closed_at),
            "time_to_close": str(_ms(t.closed_at) - _ms(t.created_at)) if t.closed_at else None,
            "time_to_first_agent_reply": str(_ms(t.first_reply_at) - _ms(t.created_at))
            if t.first_reply_at
            else None,
            "hubspot_owner_id": str(100 + t.owner_index) if t.owner_index is not None else None,
            "hs_object_id": kinds["tickets"].object_id(index),
        }
        return CrmRecord(kinds["tickets"].object_id(index), properties, t.created_at, t.modified_at)

    def contact(index: int) -> CrmRecord:
        c = world.customer(index)
        stage = "customer" if c.customer_since else "lead"
        properties = {
            "email": c.email,
            "phone": c.phone,
            "firstname": c.first_name,
            "lastname": c.last_name,
            "company": c.company,
            "createdate": iso(c.created_at),
            "lastmodifieddate": iso(c.modified_at),
            "lifecyclestage": stage,
            "hs_lifecyclestage_customer_date": _iso_or_none(c.customer_since),
            "churn_date": _iso_or_none(c.churned_at),
            "hs_analytics_source": c.acquisition_source,
            "hs_merged_object_ids": ";".join(
                kinds["contacts"].object_id(i)
                for i in (index + 1,)
                if i < world.customer_count and merged_into(i) == index
            )
            or None,
            "hs_object_id": kinds["contacts"].object_id(index),
        }
        return CrmRecord(kinds["contacts"].object_id(index), properties, c.created_at, c.modified_at)

    def call(index: int) -> CrmRecord:
        c = world.call(index)
        duration_ms = _ms(c.ended_at) - _ms(c.answered_at) if c.answered_at else 0
        properties = {
            "hs_timestamp": iso(c.started_at),
            "hs_call_direction": c.direction.upper(),
            "hs_call_duration": str(duration_ms),
            "hs_call_status": "COMPLETED" if c.answered_at else "NO_ANSWER",
            "hs_call_disposition": None,
            "hs_call_body": c.note.message if c.note else None,
            "hubspot_owner_id": str(100 + c.agent_index) if c.agent_index is not None else None,
            "hs_createdate": iso(c.started_at),
            "hs_lastmodifieddate": iso(c.ended_at),
            "hs_object_id": kinds["calls"].object_id(index),
        }
        return CrmRecord(kinds["calls"].object_id(index), properties, c.started_at, c.ended_at)

    def feedback(index: int) -> CrmRecord:
        s = world.survey(index)
        group = None
        if s.kind == "NPS":
            group = "promoter" if s.value >= 9 else "passive" if s.value >= 7 else "detractor"
        properties = {
            "hs_survey_type": s.kind,
            "hs_value": str(s.value),
            "hs_response_group": group,
            "hs_survey_channel": "EMAIL",
            "hs_submission_timestamp": iso(s.submitted_at),
            "hs_content": None,
            "hs_createdate": iso(s.submitted_at),
            "hs_lastmodifieddate": iso(s.submitted_at),
            "hs_object_id": kinds["feedback_submissions"].object_id(index),
        }
        return CrmRecord(
            kinds["feedback_submissions"].object_id(index), properties, s.submitted_at, s.submitted_at
        )

    def deal(index: int) -> CrmRecord:
        d = world.deal(index)
        properties: dict[str, str | None] = {
            "dealname": f"Order {index + 1}",
            "amount": f"{d.amount:.2f}",
            "deal_currency_code": "EUR",
            "dealstage": "closedwon" if d.won else "closedlost",
            "pipeline": "default",
            "closedate": iso(d.closed_at),
            "createdate": iso(d.closed_at),
            "hs_lastmodifieddate": iso(d.closed_at),
            "hs_object_id": kinds["deals"].object_id(index),
        }
        return CrmRecord(kinds["deals"].object_id(index), properties, d.closed_at, d.closed_at)

    kinds["tickets"] = ObjectKind(
        "tickets",
        world.size,
        ticket,
        ("subject", "content", "hs_pipeline", "hs_pipeline_stage", "hs_ticket_category", "hs_ticket_priority",
         "createdate", "hs_lastmodifieddate", "hs_object_id"),
        archived=lambda index: _share(world, "archived-ticket", index, quirks.archived_fraction),
    )  # fmt: skip
    kinds["contacts"] = ObjectKind(
        "contacts",
        world.customer_count,
        contact,
        ("email", "firstname", "lastname", "createdate", "lastmodifieddate", "hs_object_id"),
        modified_property="lastmodifieddate",
        archived=lambda index: _share(world, "archived-contact", index, quirks.archived_fraction),
        merged_into=merged_into,
    )
    kinds["calls"] = ObjectKind(
        "calls", world.call_count, call, ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")
    )
    kinds["feedback_submissions"] = ObjectKind(
        "feedback_submissions",
        world.survey_count,
        feedback,
        (
            "hs_survey_type",
            "hs_value",
            "hs_submission_timestamp",
            "hs_createdate",
            "hs_lastmodifieddate",
            "hs_object_id",
        ),
    )
    kinds["deals"] = ObjectKind(
        "deals",
        world.deal_count,
        deal,
        ("dealname", "amount", "dealstage", "closedate", "createdate", "hs_lastmodifieddate", "hs_object_id"),
    )
    # tasks exist only as the connector writes them (its alerts)
    kinds["tasks"] = StoredKind(
        "tasks", ID_BASES["tasks"], ("hs_task_subject", "hs_timestamp", "hs_task_status", "hs_object_id")
    )
    return kinds
