"""Processing recorded webhook events: the changed objects re-read from their vendor by id (a payload's
values are never trusted), upserted, the record-level figures of the tickets and customers they touch
recomputed from just their rows (`connector.kpis.scope`), and only the HubSpot properties whose values
changed pushed.

    >>> processor = EventProcessor(settings, store)
    >>> processor.process(deadline=time.monotonic() + 3.5)   # inside a webhook request
    >>> processor.drain()                                    # `helpdesk-kpi drain`, the start of `run`

- Out of order: an event whose `occurred_at` is older than the newest already processed for the same
  object changes nothing (outcome `stale`); its re-read could only find the state already stored.
- Many events about one object in a round mean one re-read.
- Failure: a vendor read, the store or a push that fails leaves the round's events pending, with one
  more attempt counted and the reason; the next round or `drain` finishes them. Nothing accepted is lost,
  and re-processing is harmless (upserts by id, pushes of changed values only).
- Deadline: no vendor read starts after it; what is left stays pending for the next round.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from adapters.base import Adapter, Batch
from adapters.registry import build_adapter
from connector.errors import ConnectorError, WebhookPayloadError
from connector.kpis.scope import RecordScope
from connector.schema import Contact, Record, Ticket
from connector.settings import Settings, Vendor, WriteTarget
from connector.store import Store, UpsertCounts
from connector.sync import apply_batch, sync_plan
from connector.webhooks.events import hubspot_merges

log = logging.getLogger(__name__)
ROUND = 250
"""Events taken per round."""
COMMIT = 100
"""Records upserted per transaction."""
Key = tuple[str, str, str]
"""(vendor, object type, object id)."""
MERGED_KINDS = {"tickets": "ticket", "contacts": "contact"}
"""HubSpot object types whose merge events the store keeps (`Store.fold`), as the store names them."""


@dataclass
class ProcessReport:
    """What processing did, counted in events (and in records and HubSpot writes)."""

    applied: int = 0
    stale: int = 0
    gone: int = 0
    failed: int = 0
    left: int = 0
    """Events not started before the deadline (still pending)."""
    reads: int = 0
    """Objects re-read from their vendor."""
    records: UpsertCounts = field(default_factory=UpsertCounts)
    pushed: dict[str, int] = field(default_factory=dict)
    """HubSpot object type → records whose properties were written."""
    errors: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.applied + self.stale + self.gone

    @property
    def ok(self) -> bool:
        return not self.failed

    def add(self, other: ProcessReport) -> None:
        for name in ("applied", "stale", "gone", "failed", "left", "reads"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.records.merge(other.records)
        for object_type, n in other.pushed.items():
            self.pushed[object_type] = self.pushed.get(object_type, 0) + n
        self.errors += other.errors

    def lines(self) -> list[str]:
        pushed = ", ".join(f"{n} {t}" for t, n in sorted(self.pushed.items())) or "nothing changed"
        out = [
            f"webhooks: {self.done} events processed ({self.applied} applied, {self.stale} stale, "
            f"{self.gone} about objects gone), {self.reads} objects re-read; HubSpot: {pushed}"
        ]
        if self.failed or self.left:
            out.append(f"webhooks: {self.failed + self.left} events left pending (drain finishes them)")
        out += [f"webhooks: FAILED {problem}" for problem in self.errors]
        return out


@dataclass(frozen=True)
class _Event:
    vendor: str
    event_id: str
    key: Key
    occurred_at: datetime | None
    received_at: datetime
    merges: tuple[tuple[str, str], ...] = ()
    """(merged-away id, surviving id) pairs a merge event names (`hubspot_merges`)."""


class EventProcessor:
    """Processes pending events round by round; keeps its vendor adapters (and their rate governors)
    and HubSpot writer between rounds, so a server pays for reference data (owners, stages, teams,
    property checks) once."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        adapters: dict[str, Adapter] | None = None,
        now: Callable[[], datetime] | None = None,
        emit: Callable[[str], None] = log.info,
    ) -> None:
        self.settings = settings
        self.store = store
        self.adapters: dict[str, Adapter] = dict(adapters or {})
        self.now = now or (lambda: datetime.now(UTC))
        self.emit = emit
        self._writer: Any = None

    def close(self) -> None:
        for adapter in self.adapters.values():
            adapter.close()
        self.adapters.clear()

    # --- rounds -------------------------------------------------------------------------------------

    def drain(self, *, deadline: float | None = None) -> ProcessReport:
        """Every pending event, round by round; events that fail are tried once per drain."""
        total = ProcessReport()
        after: tuple[datetime, str, str] | None = None
        while deadline is None or time.monotonic() < deadline:
            rows = self.store.pending_webhook_events(limit=ROUND, after=after)
            if not rows:
                break
            last = rows[-1]
            after = (last["received_at"], last["source"], last["event_id"])
            report = self._round([_event(row) for row in rows], deadline)
            total.add(report)
            self.emit(
                f"webhooks: {total.done} events processed, {total.failed} failed, "
                f"{total.reads} objects re-read"
            )
            if report.left:
                break
        return total

    def process(self, *, deadline: float | None = None) -> ProcessReport:
        """One round: the oldest pending events (at most `ROUND`)."""
        rows = self.store.pending_webhook_events(limit=ROUND)
        return self._round([_event(row) for row in rows], deadline)

    def _round(self, events: Sequence[_Event], deadline: float | None) -> ProcessReport:
        report = ProcessReport()
        if not events:
            return report
        with self.store.exclusive("webhooks"):
            latest = self.store.latest_processed({e.key for e in events})
            # a merge is a fact, not a state to re-read: never stale
            stale = [
                e
                for e in events
                if not e.merges and e.occurred_at and e.key in latest and e.occurred_at < latest[e.key]
            ]
            live = [e for e in events if e not in set(stale)] if stale else list(events)
            self._finish(stale, "stale", report)
            by_type: dict[tuple[str, str], list[_Event]] = defaultdict(list)
            for event in live:
                by_type[event.key[:2]].append(event)
            scope_tickets: set[str] = set()
            scope_contacts: set[str] = set()
            read: list[tuple[list[_Event], set[str]]] = []
            for (vendor, object_type), group in by_type.items():
                if deadline is not None and time.monotonic() >= deadline:
                    report.left += len(group)
                    continue
                try:
                    gone = self._apply(vendor, object_type, group, report, scope_tickets, scope_contacts)
                except ConnectorError as exc:
                    self._fail(group, str(exc), report)
                    continue
                except Exception as exc:  # an answer no check foresaw, or a bug: these wait, the rest go on
                    log.debug("webhook processing traceback", exc_info=True)
                    self._fail(group, f"{vendor}: {type(exc).__name__}: {exc}", report)
                    continue
                read.append((group, gone))
            if not read:
                return report
            try:
                self._push(RecordScope(frozenset(scope_tickets), frozenset(scope_contacts)), report)
            except ConnectorError as exc:
                self._fail([e for group, _ in read for e in group], f"push: {exc}", report)
                return report
            for group, gone in read:
                self._finish([e for e in group if e.key[2] in gone], "gone", report)
                self._finish([e for e in group if e.key[2] not in gone], "applied", report)
        return report

    # --- steps --------------------------------------------------------------------------------------

    def _apply(
        self,
        vendor: str,
        object_type: str,
        events: Sequence[_Event],
        report: ProcessReport,
        tickets: set[str],
        contacts: set[str],
    ) -> set[str]:
        """Re-read the objects of `events`, upsert them; note the HubSpot tickets and the customers
        (contact identities, before and after) whose figures they touch. Returns the ids gone."""
        merged = [
            (MERGED_KINDS[object_type], f"{vendor}:{away}", f"{vendor}:{survivor}")
            for e in events
            for away, survivor in e.merges
            if object_type in MERGED_KINDS
        ]
        ids = sorted({e.key[2] for e in events} | {survivor for e in events for _, survivor in e.merges})
        refetched = self._adapter(vendor).refetch(object_type, ids)
        report.reads += len(ids)
        for problem in refetched.batch.rejected:
            log.error("%s: webhook object skipped: %s", vendor, problem)
        records = list(refetched.batch.records)
        customers = _customers(records) | _customers(self._stored_versions(records))
        for n in range(0, max(1, len(records)), COMMIT):  # short transactions: the app records meanwhile
            last = n + COMMIT >= len(records)
            part = Batch(records[n : n + COMMIT], merged=[*refetched.batch.merged, *merged] if last else ())
            with self.store.transaction() as connection:
                report.records.merge(apply_batch(self.store, connection, part))
        tickets.update(r.id for r in records if isinstance(r, Ticket) and r.source == "hubspot")
        contacts.update(self.store.identities_of("contact", customers).values())
        return set(refetched.gone)

    def _stored_versions(self, records: Iterable[Record]) -> list[Record]:
        by_model: dict[type[Record], list[str]] = defaultdict(list)
        for record in records:
            by_model[type(record)].append(record.id)
        return [old for model, ids in by_model.items() for old in self.store.records(model, ids)]

    def _push(self, scope: RecordScope, report: ProcessReport) -> None:
        """The scope's record figures → the HubSpot properties whose values changed."""
        targets = set(self.settings.write_back)
        if (
            not scope
            or WriteTarget.HUBSPOT_PROPERTIES not in targets
            or Vendor.HUBSPOT not in self.settings.sources
        ):
            return
        from connector.writer.properties import record_values

        values = record_values(self.store, self.settings, now=self.now(), scope=scope)
        writer = self._hubspot_writer()
        writer.new_report()
        pushed = writer.write_properties(values)
        if pushed.failed:
            raise ConnectorError("HubSpot refused " + "; ".join(pushed.failed[:3]))
        for object_type, n in pushed.updates.items():
            report.pushed[object_type] = report.pushed.get(object_type, 0) + n

    # --- parts --------------------------------------------------------------------------------------

    def _adapter(self, vendor: str) -> Adapter:
        if vendor not in self.adapters:
            self.adapters[vendor] = build_adapter(Vendor(vendor), self.settings, sync_plan(self.settings))
        return self.adapters[vendor]

    def _hubspot_writer(self) -> Any:
        if self._writer is None:
            from connector.writer.hubspot import HubSpotWriter

            adapter = self.adapters.get("hubspot")
            self._writer = HubSpotWriter(
                self.settings,
                self.store,
                dry_run=self.settings.dry_run,
                api=getattr(adapter, "api", None),
                echo=self.emit,
            )
        return self._writer

    def _finish(self, events: Sequence[_Event], outcome: str, report: ProcessReport) -> None:
        if not events:
            return
        self.store.finish_webhook_events([(e.vendor, e.event_id, outcome) for e in events])
        setattr(report, outcome, getattr(report, outcome) + len(events))

    def _fail(self, events: Sequence[_Event], problem: str, report: ProcessReport) -> None:
        log.error("webhook events left pending: %s", problem)
        self.store.fail_webhook_events([(e.vendor, e.event_id) for e in events], problem)
        report.failed += len(events)
        report.errors.append(problem)


def _event(row: dict[str, Any]) -> _Event:
    return _Event(
        row["source"],
        row["event_id"],
        (row["source"], row["object_type"] or "", row["object_id"] or ""),
        row["occurred_at"],
        row["received_at"],
        _merges(row),
    )


def _merges(row: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The merges a recorded event names. Events are checked when received; one recorded before merges
    were read and malformed is processed as a plain change (its object is re-read)."""
    envelope = row.get("payload")  # {"kind", "body"}: `Store.record_webhook_events`
    body = envelope.get("body") if isinstance(envelope, dict) else None
    if row["source"] != "hubspot" or not isinstance(body, dict):
        return ()
    try:
        return tuple(hubspot_merges(body))
    except WebhookPayloadError as exc:
        log.warning("hubspot: webhook event %s: its merge is not read: %s", row["event_id"], exc)
        return ()


def _customers(records: Iterable[Record]) -> set[str]:
    """Contact record ids whose figures the records feed: each record's contact, or the contact itself."""
    found: set[str] = set()
    for record in records:
        if isinstance(record, Contact):
            found.add(record.id)
        contact = getattr(record, "contact_id", None)
        if contact:
            found.add(str(contact))
    return found
