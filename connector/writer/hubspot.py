"""Writing results back into HubSpot: the `helpdesk_kpis` properties on tickets and contacts, and KPI
snapshots as records of the custom object `helpdesk_kpi_snapshot`.

    >>> writer = HubSpotWriter(settings, store)
    >>> report = writer.push(values, kpi_rows)        # what `helpdesk-kpi push` does

- Properties and the snapshot schema are created idempotently: an existing property of the right type is
  left alone, one of another type stops the push with an error naming it (nothing is overwritten).
- Only values that differ from the last successful push (kept in the store's `pushed_value` table) are
  sent, in batches of at most 100 inputs. A 207 answer retries only the inputs that failed, once; those
  that still fail are reported, the others are recorded as pushed.
- A portal without custom objects (403/404 from the schemas API) gets a one-line explanation; the
  properties are still written.
- `dry_run` computes the same plan, prints each write it would make, and writes nothing (not even to
  the store).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from hubspot.crm.objects import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchReadInputSimplePublicObjectId,
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.properties import BatchInputPropertyCreate, PropertyGroupCreate
from hubspot.crm.schemas import ObjectSchemaEgg

from adapters.base import OWN_WRITE_STREAM, OwnWrite
from adapters.hubspot_api import OWN_WRITE_PROPERTY, HubSpotApi, hubspot_api, sdk_model
from adapters.hubspot_mapping import id_order
from connector.errors import APIError, AuthError, FatalAPIError, WriteBackError
from connector.settings import Settings
from connector.store import Store
from connector.writer.properties import GROUP, GROUP_LABEL, PROPERTIES, PropertySpec

log = logging.getLogger(__name__)
TARGET = "hubspot"
BATCH = 100
PROGRESS_EVERY = 5.0
"""Seconds between progress lines of a long write."""
SNAPSHOT_OBJECT = "helpdesk_kpi_snapshot"
SNAPSHOT_FIELDS = (
    ("snapshot_key", "Snapshot key", "string", "text"),
    ("kpi", "KPI", "string", "text"),
    ("kpi_name", "KPI name", "string", "text"),
    ("stat", "Statistic", "string", "text"),
    ("basis", "Basis", "string", "text"),
    ("period_start", "Period start", "datetime", "date"),
    ("period_end", "Period end", "datetime", "date"),
    ("cut", "Cut", "string", "text"),
    ("cut_value", "Cut value", "string", "text"),
    ("value", "Value", "number", "number"),
    ("unit", "Unit", "string", "text"),
    ("numerator", "Numerator", "number", "number"),
    ("denominator", "Denominator", "number", "number"),
    ("count", "Count", "number", "number"),
)


@dataclass
class PushReport:
    dry_run: bool = False
    groups_created: list[str] = field(default_factory=list)
    properties_created: list[str] = field(default_factory=list)
    schema_created: bool = False
    updates: dict[str, int] = field(default_factory=dict)
    """object type → inputs written (or that would be)."""
    write_calls: int = 0
    failed: list[str] = field(default_factory=list)
    snapshots: int = 0
    snapshot_note: str | None = None
    planned: list[str] = field(default_factory=list)
    """What a dry run would write, one line per write."""

    @property
    def ok(self) -> bool:
        return not self.failed

    def lines(self) -> list[str]:
        verb = "would write" if self.dry_run else "wrote"
        out = []
        if self.groups_created or self.properties_created:
            created = "would create" if self.dry_run else "created"
            out.append(
                f"hubspot: {created} {len(self.groups_created)} property groups and "
                f"{len(self.properties_created)} properties"
            )
        for object_type, n in sorted(self.updates.items()):
            out.append(f"hubspot: {verb} {n} {object_type} records")
        if not self.updates:
            out.append("hubspot: no property value changed since the last push")
        if self.snapshot_note:
            out.append(f"hubspot: {self.snapshot_note}")
        else:
            out.append(f"hubspot: {verb} {self.snapshots} KPI snapshots")
        out += [f"hubspot: FAILED {problem}" for problem in self.failed]
        return out


class HubSpotWriter:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        dry_run: bool = False,
        api: HubSpotApi | None = None,
        echo: Callable[[str], None] = print,
    ) -> None:
        self.api = api or hubspot_api(settings.hubspot)
        self.governor = self.api.governor
        self.store = store
        self.dry_run = dry_run
        self.echo = echo
        self.report = PushReport(dry_run=dry_run)
        self.write_id = _new_write_id()
        self._properties_ready = False
        self._snapshot_type: str | None = None
        """The snapshot object's objectTypeId once found or made: one schema listing per writer."""
        self._started: float | None = None
        self._last_line = 0.0

    # --- the whole push -----------------------------------------------------------------------------

    def push(
        self,
        values: Mapping[str, Mapping[str, Mapping[str, str | None]]],
        snapshots: Sequence[Mapping[str, Any]] = (),
    ) -> PushReport:
        """Ensure the properties, write the changed values, then the KPI snapshots."""
        self.write_properties(values)
        if snapshots:
            self.write_snapshots(snapshots)
        return self.report

    def write_properties(self, values: Mapping[str, Mapping[str, Mapping[str, str | None]]]) -> PushReport:
        """The changed property values (object type → id → property → value). The properties are
        ensured before the first write — once per writer, so a long-lived writer (the webhook worker's)
        checks them once — and not at all when nothing changed: an idle run costs no call here."""
        pending = {object_type: self._changed(object_type, by_id) for object_type, by_id in values.items()}
        if not any(pending.values()):
            return self.report
        if not self._properties_ready:
            for object_type, specs in PROPERTIES.items():
                self.ensure_properties(object_type, specs)
            self._properties_ready = True
        for object_type, changed in pending.items():
            self.write_values(object_type, changed)
        return self.report

    def new_report(self) -> PushReport:
        """Start counting afresh (a long-lived writer reports each round apart, each a write of its
        own)."""
        self.report = PushReport(dry_run=self.dry_run)
        self.write_id = _new_write_id()
        return self.report

    # --- properties ---------------------------------------------------------------------------------

    def ensure_properties(self, object_type: str, specs: Sequence[PropertySpec]) -> None:
        properties = self.api.client.crm.properties
        groups = self.api.call("default", properties.groups_api.get_all_with_http_info, object_type)
        if GROUP not in {g.name for g in groups.results}:
            self.report.groups_created.append(f"{object_type}.{GROUP}")
            self._plan(f"create property group {GROUP} on {object_type}")
            if not self.dry_run:
                self.api.call(
                    "default",
                    properties.groups_api.create_with_http_info,
                    object_type,
                    PropertyGroupCreate(name=GROUP, label=GROUP_LABEL),
                )
        existing = {
            p.name: p
            for p in self.api.call("default", properties.core_api.get_all_with_http_info, object_type).results
        }
        wrong = [
            f"{object_type}.{s.name} is {existing[s.name].type}, expected {s.type}"
            for s in specs
            if s.name in existing and existing[s.name].type != s.type
        ]
        if wrong:
            raise WriteBackError(
                "HubSpot already has properties of another type (rename or delete them; nothing was "
                "overwritten): " + "; ".join(wrong)
            )
        missing = [s for s in specs if s.name not in existing]
        if not missing:
            return
        self.report.properties_created += [f"{object_type}.{s.name}" for s in missing]
        self._plan(f"create {len(missing)} properties on {object_type}: {', '.join(s.name for s in missing)}")
        if self.dry_run:
            return
        inputs = [s.create_input() for s in missing]
        self.api.call(
            "default",
            properties.batch_api.create_with_http_info,
            object_type,
            BatchInputPropertyCreate(inputs=inputs),
        )

    # --- values -------------------------------------------------------------------------------------

    def write_values(self, object_type: str, changed: Sequence[tuple[str, dict[str, str | None]]]) -> None:
        """Write the `changed` values (see `_changed`), each record stamped with this write's id."""
        if not changed:
            return
        batch_api = self.api.client.crm.objects.batch_api
        written = 0
        latest: datetime | None = None
        try:
            for n in range(0, len(changed), BATCH):
                chunk = changed[n : n + BATCH]
                if self.dry_run:
                    for object_id, props in chunk:
                        self._plan(f"update {object_type} {object_id}: {_describe(props)}")
                    written += len(chunk)
                    continue
                stamped = [(i, {**p, OWN_WRITE_PROPERTY: self.write_id}) for i, p in chunk]
                succeeded, modified = self._batch_update(batch_api, object_type, stamped)
                latest = max(filter(None, (latest, modified)), default=None)
                self._remember(object_type, [(i, p) for i, p in chunk if i in succeeded])
                written += len(succeeded)
                self._progress(f"{object_type} records", n + len(chunk), len(changed))
        finally:  # even when a later batch failed: the records written so far are ours
            if latest is not None:
                self._mark_own_write(object_type, latest)
        self.report.updates[object_type] = self.report.updates.get(object_type, 0) + written

    def _mark_own_write(self, object_type: str, until: datetime) -> None:
        """Tell the next sync which records changed only by this write (see `adapters.base.OwnWrite`);
        a second write of the same id to the type moves `until` on."""
        stream = OWN_WRITE_STREAM + object_type
        earlier = self.store.cursor(TARGET, stream)
        mark = OwnWrite.parse(earlier) if earlier is not None else None
        if mark is not None and mark.write_id == self.write_id and mark.until > until:
            until = mark.until
        with self.store.transaction() as connection:
            self.store.set_cursor(connection, TARGET, stream, OwnWrite(self.write_id, until).dump())

    def _batch_update(
        self, batch_api: Any, object_type: str, chunk: Sequence[tuple[str, dict[str, str | None]]]
    ) -> tuple[set[str], datetime | None]:
        """Send one batch; retry the inputs a 207 names as failed once. Returns the ids written and
        HubSpot's latest modification time among them (its `updatedAt`, by HubSpot's clock)."""
        pending = dict(chunk)
        done: set[str] = set()
        latest: datetime | None = None
        for attempt in (1, 2):
            inputs = [sdk_model(SimplePublicObjectBatchInput, id=i, properties=p) for i, p in pending.items()]
            request = BatchInputSimplePublicObjectBatchInput(inputs=inputs)
            self.report.write_calls += 1
            answer = self.api.call("default", batch_api.update_with_http_info, object_type, request)
            failures = _failed_ids(answer)
            results = answer.results or []
            done |= {str(r.id) for r in results} | (set(pending) - set(failures))
            latest = max(filter(None, (latest, *(r.updated_at for r in results))), default=None)
            pending = {i: pending[i] for i in failures if i in pending}
            if not pending:
                break
            if attempt == 2:
                self.report.failed += [f"{object_type} {i}: {failures[i]}" for i in pending]
        return done, latest

    def _changed(
        self, object_type: str, by_id: Mapping[str, Mapping[str, str | None]]
    ) -> list[tuple[str, dict[str, str | None]]]:
        """The values that differ from what was last pushed (all of them for a record never pushed). A
        few records (a webhook's) are looked up by id, many by one scan of the object type."""
        last = self.store.pushed_values(TARGET, object_type, by_id.keys())
        unset = object()  # never pushed: an empty value need not be sent
        changed = []
        for object_id in sorted(by_id, key=id_order):
            props = {
                name: value
                for name, value in by_id[object_id].items()
                if last.get((object_id, name), None if value is None else unset) != value
            }
            if props:
                changed.append((object_id, props))
        return changed

    def _remember(self, object_type: str, written: Iterable[tuple[str, Mapping[str, str | None]]]) -> None:
        with self.store.transaction() as connection:
            self.store.remember_pushed(connection, TARGET, object_type, written)

    # --- snapshots ----------------------------------------------------------------------------------

    def write_snapshots(self, results: Sequence[Mapping[str, Any]]) -> None:
        """Upsert the snapshots whose values changed since they were last pushed; the schema is looked
        up (or created) only when there is one to write."""
        by_key = {str(r["snapshot_key"]): snapshot_properties(r) for r in results}
        changed = self._changed(SNAPSHOT_OBJECT, by_key)
        if not changed:
            return
        object_type = self.ensure_snapshot_schema()
        if object_type is None:
            return
        batch_api = self.api.client.crm.objects.batch_api
        for n in range(0, len(changed), BATCH):
            chunk = changed[n : n + BATCH]
            if self.dry_run:
                for key, props in chunk:
                    shown = {k: v for k, v in props.items() if k != "snapshot_key"}
                    self._plan(f"upsert {SNAPSHOT_OBJECT} {key}: {_describe(shown)}")
                self.report.snapshots += len(chunk)
                continue
            request = BatchInputSimplePublicObjectBatchInputUpsert(
                inputs=[
                    sdk_model(
                        SimplePublicObjectBatchInputUpsert,
                        id=key,
                        id_property="snapshot_key",
                        properties={**by_key[key]},
                    )
                    for key, _ in chunk
                ]
            )
            self.report.write_calls += 1
            answer = self.api.call("default", batch_api.upsert_with_http_info, object_type, request)
            failures = _failed_ids(answer)
            self.report.failed += [f"snapshot {key}: {why}" for key, why in failures.items()]
            written = [(key, by_key[key]) for key, _ in chunk if key not in failures]
            self._remember(SNAPSHOT_OBJECT, written)
            self.report.snapshots += len(written)
            self._progress("KPI snapshots", n + len(chunk), len(changed))

    def ensure_snapshot_schema(self) -> str | None:
        """The snapshot object's objectTypeId, created when missing; None (with a note) when the portal
        has no custom objects. A custom object is addressed by objectTypeId or fully qualified name
        (`p<portal>_helpdesk_kpi_snapshot`), never by its bare name: the schema is found by listing the
        portal's schemas and matching `name`."""
        try:
            existing = self._find_snapshot_schema()
        except AuthError:
            self._no_custom_objects()
            return None
        except FatalAPIError as exc:
            if exc.status != 404:
                raise
            self._no_custom_objects()
            return None
        if existing is not None:
            return existing
        self.report.schema_created = True
        self._plan(f"create custom object schema {SNAPSHOT_OBJECT}")
        if self.dry_run:
            return SNAPSHOT_OBJECT
        egg = ObjectSchemaEgg(
            name=SNAPSHOT_OBJECT,
            labels={"singular": "KPI snapshot", "plural": "KPI snapshots"},
            primary_display_property="snapshot_key",
            secondary_display_properties=["kpi", "value"],
            searchable_properties=["snapshot_key", "kpi"],
            required_properties=["snapshot_key"],
            properties=[
                {
                    "name": name,
                    "label": label,
                    "type": kind,
                    "fieldType": field_type,
                    "hasUniqueValue": name == "snapshot_key",
                }
                for name, label, kind, field_type in SNAPSHOT_FIELDS
            ],
            associated_objects=[],
        )
        schemas = self.api.client.crm.schemas.core_api
        try:
            created = self.api.call("default", schemas.create_with_http_info, egg)
        except AuthError:
            self._no_custom_objects()
            return None
        except APIError as exc:
            if exc.status == 404:
                self._no_custom_objects()
                return None
            if exc.status == 409:  # created meanwhile by another run: use that one
                self.report.schema_created = False
                found = self._find_snapshot_schema()
                if found is not None:
                    return found
            raise
        self._snapshot_type = str(created.object_type_id or created.fully_qualified_name)
        return self._snapshot_type

    def _find_snapshot_schema(self) -> str | None:
        """The objectTypeId of the portal's schema named `helpdesk_kpi_snapshot`, if there is one (listed
        once per writer: a schema, once there, stays)."""
        if self._snapshot_type is not None:
            return self._snapshot_type
        schemas = self.api.client.crm.schemas.core_api
        listing = self.api.call("default", schemas.get_all_with_http_info)
        for schema in listing.results or []:
            if schema.name == SNAPSHOT_OBJECT:
                self._snapshot_type = str(schema.object_type_id or schema.fully_qualified_name)
                break
        return self._snapshot_type

    def _no_custom_objects(self) -> None:
        self.report.snapshot_note = (
            "this portal has no custom objects (an Enterprise feature, or the app lacks the "
            "crm.schemas.custom scopes): KPI snapshots were not written; properties and the dashboard were"
        )
        self.report.schema_created = False

    def _progress(self, what: str, done: int, total: int) -> None:
        """A line every `PROGRESS_EVERY` seconds of a long write: how far, how fast."""
        now = time.monotonic()
        self._started = self._started or now
        if done < total and now - max(self._started, self._last_line) < PROGRESS_EVERY:
            return
        if done >= total and now - self._started < PROGRESS_EVERY:  # short: the summary says it
            self._started = None
            return
        self._last_line = now
        rate = done / (now - self._started) if now > self._started else 0.0
        self.echo(f"hubspot: {done:,} of {total:,} {what} written ({rate:,.0f}/s)")
        if done >= total:
            self._started = None

    # --- tasks --------------------------------------------------------------------------------------

    def create_tasks(self, tasks: Sequence[Mapping[str, str]]) -> list[str | None]:
        """One HubSpot task per property set, the ids in order (None where HubSpot refused one: the reason
        is in `report.failed`; a dry run plans them and creates none). One `POST /crm/v3/objects/tasks`
        each: a batch answer does not say which input made which task, and alerts are few.

        Made at most once: each attempt first searches the tasks for one with the same subject (an
        alert's subject names its rule, KPI, cut and period) and takes that one — the task an earlier
        attempt created when its answer was lost (a cut connection, a 502 after the write) is found
        instead of made again, once HubSpot's search has indexed it (seconds)."""
        ids: list[str | None] = []
        for properties in tasks:
            if self.dry_run:
                self._plan(f"create task: {_describe(dict(properties))}")
                ids.append(None)
                continue
            try:
                ids.append(self.api.retried(partial(self._find_or_create_task, properties)))
            except FatalAPIError as exc:
                self.report.failed.append(f"task {properties.get('hs_task_subject')}: {exc}")
                ids.append(None)
        return ids

    def _find_or_create_task(self, properties: Mapping[str, str]) -> str:
        """One attempt: the id of the task with this subject, created when there is none."""
        subject = properties["hs_task_subject"]
        request = PublicObjectSearchRequest(
            filter_groups=[
                FilterGroup(filters=[Filter(property_name="hs_task_subject", operator="EQ", value=subject)])
            ],
            properties=["hs_task_subject"],
            limit=1,
        )
        crm = self.api.client.crm.objects
        found = self.api.once("search", crm.search_api.do_search_with_http_info, "tasks", request)
        if found.results:
            return str(found.results[0].id)
        self.report.write_calls += 1
        created = self.api.once(
            "default",
            crm.basic_api.create_with_http_info,
            "tasks",
            sdk_model(SimplePublicObjectInputForCreate, properties=dict(properties), associations=[]),
        )
        return str(created.id)

    def snapshot_links(self, keys: Sequence[str]) -> dict[str, str]:
        """The address in HubSpot of each KPI snapshot record of `keys` that exists:
        `https://{uiDomain}/contacts/{portalId}/record/{objectTypeId}/{recordId}` (the record-page pattern
        of HubSpot's MCP server's `hubspot-get-link`; portal id and UI domain from the account details,
        the record ids by a batch read on `snapshot_key`). Empty on a dry run, without the snapshot
        object, or when HubSpot does not answer: a task without a link still names its snapshot key."""
        if self.dry_run or not keys:
            return {}
        try:
            object_type = self._find_snapshot_schema()
            if object_type is None:
                return {}
            account = self.api.get_json("default", "/account-info/v3/details")
            portal, domain = account.get("portalId"), account.get("uiDomain")
            if not portal or not domain:
                return {}
            batch_api = self.api.client.crm.objects.batch_api
            ids: dict[str, str] = {}
            unique = list(dict.fromkeys(keys))
            for n in range(0, len(unique), BATCH):
                request = BatchReadInputSimplePublicObjectId(
                    id_property="snapshot_key",
                    inputs=[SimplePublicObjectId(id=key) for key in unique[n : n + BATCH]],
                    properties=["snapshot_key"],
                    properties_with_history=[],
                )
                answer = self.api.call("default", batch_api.read_with_http_info, object_type, request)
                for record in answer.results or []:
                    key = (record.properties or {}).get("snapshot_key")
                    if key:
                        ids[str(key)] = str(record.id)
        except APIError as exc:
            log.warning("alert tasks get no snapshot links: %s", exc)
            return {}
        return {
            key: f"https://{domain}/contacts/{portal}/record/{object_type}/{rid}" for key, rid in ids.items()
        }

    def _plan(self, line: str) -> None:
        if self.dry_run:
            self.report.planned.append(line)
            self.echo(f"[dry run] {line}")


def snapshot_properties(result: Mapping[str, Any]) -> dict[str, str | None]:
    """A KPI result row as the snapshot record's property values."""

    def text(value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        if isinstance(value, float):
            return f"{value:.10g}"
        return str(value)

    return {
        "snapshot_key": text(result["snapshot_key"]),
        "kpi": text(result["kpi"]),
        "kpi_name": text(result["name"]),
        "stat": text(result["stat"]),
        "basis": text(result["basis"]),
        "period_start": text(result["period_start"]),
        "period_end": text(result["period_end"]),
        "cut": text(result["cut"]),
        "cut_value": text(result["cut_value"]),
        "value": text(result["value"]),
        "unit": text(result["unit"]),
        "numerator": text(result["numerator"]),
        "denominator": text(result["denominator"]),
        "count": text(result["count"]),
    }


def _new_write_id() -> str:
    """A write's id: the moment it began, to the microsecond, and a random suffix (two hosts may write
    in the same microsecond)."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S.%fZ}-{secrets.token_hex(3)}"


def _failed_ids(answer: Any) -> dict[str, str]:
    """id → message for each input a 207 answer names as failed."""
    failed: dict[str, str] = {}
    for error in getattr(answer, "errors", None) or []:
        ids = (error.context or {}).get("ids") or []
        for object_id in ids:
            failed[str(object_id)] = f"{error.category}: {error.message}"
    return failed


def _describe(props: Mapping[str, str | None]) -> str:
    return ", ".join(f"{name}={'∅' if value is None else value}" for name, value in props.items())
