"""Building small stores and computing KPIs over them, for the KPI tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypedDict

from connector.kpis import compute
from connector.kpis.results import KpiResult
from connector.periods import Grain, split_periods
from connector.schema import Call, Contact, Record, SurveyResponse, Ticket
from connector.settings import load_settings
from connector.store import Store
from connector.store.topics import TopicKind

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@dataclass
class Results:
    results: list[KpiResult]

    def find(
        self,
        kpi: str,
        stat: str = "value",
        *,
        basis: str = "calendar",
        cut: str = "overall",
        cut_value: str | None = None,
        period: int = 0,
    ) -> KpiResult:
        starts = sorted({r.period_start for r in self.results})
        matches = [
            r
            for r in self.results
            if (r.kpi, r.stat, r.basis, r.cut, r.cut_value) == (kpi, stat, basis, cut, cut_value)
            and r.period_start == starts[period]
        ]
        assert len(matches) == 1, f"{len(matches)} results for {kpi} {stat} {basis} {cut}={cut_value}"
        return matches[0]

    def value(self, kpi: str, stat: str = "value", **where: Any) -> float | None:
        return self.find(kpi, stat, **where).value


class Span(TypedDict):
    """The `start` and `end` (exclusive) dates `run` takes, as one value tests can spread."""

    start: date
    end: date


JAN: Span = {"start": date(2026, 1, 1), "end": date(2026, 2, 1)}


def run(
    database_url: str,
    records: Sequence[Record],
    *,
    start: date,
    end: date,
    grain: Grain = Grain.RANGE,
    cuts: Sequence[str] = ("overall",),
    kpis: Sequence[str] | None = None,
    now: datetime = NOW,
    merged_tickets: Sequence[tuple[str, str]] = (),
    topics: Mapping[str, str] | None = None,
    call_topics: Mapping[str, str] | None = None,
    **settings: Any,
) -> Results:
    """Store `records` (and the (merged-away, surviving) ticket pairs `merged_tickets`, and ticket id →
    topic label `topics` and call id → topic label `call_topics` as a discovery would have kept them) in
    a fresh store at `database_url` and compute the KPIs."""
    config = load_settings(database_url=database_url, **settings)
    store = Store.open(database_url)
    try:
        with store.transaction() as tx:
            store.upsert(tx, list(records))
            for away, survivor in merged_tickets:
                store.fold(tx, "ticket", away, survivor)
        if topics or call_topics:
            store_topics(store, topics or {}, call_topics)
        periods = split_periods(start, end, grain, config.zone)
        return Results(compute(store, config, periods, cuts=cuts, kpi_ids=kpis, now=now))
    finally:
        store.close()


def store_topics(store: Store, topics: Mapping[str, str], calls: Mapping[str, str] | None = None) -> None:
    """Keep ticket id → topic label (and call id → topic label) as the last discovery (topics numbered
    by size, as discovery does)."""
    calls = calls or {}
    sizes: dict[str, int] = {}
    for label in [*topics.values(), *calls.values()]:
        sizes[label] = sizes.get(label, 0) + 1
    numbers = {label: n for n, label in enumerate(sorted(sizes, key=lambda x: (-sizes[x], x)), start=1)}
    rows = [
        {"number": n, "label": label, "terms": label.split(" / "), "language": "en", "size": sizes[label],
         "examples": [i for i, t in topics.items() if t == label][:3], "discovered_at": NOW}
        for label, n in numbers.items()
    ]  # fmt: skip
    assigned: dict[TopicKind, list[tuple[str, int]]] = {
        "ticket": [(record_id, numbers[label]) for record_id, label in topics.items()],
        "call": [(record_id, numbers[label]) for record_id, label in calls.items()],
    }
    store.replace_topics(rows, assigned)


def at(text: str) -> datetime:
    """An instant from ISO text; a text without offset is taken as UTC."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


_counter = iter(range(1, 10**9))


def ticket(created: str, **fields: Any) -> Ticket:
    fields.setdefault("status", "resolved" if "resolved_at" in fields else "open")
    fields.setdefault("source", "hubspot")
    return Ticket(source_id=str(fields.pop("source_id", next(_counter))), created_at=at(created), **fields)


def resolved(created: str, replied: timedelta, closed: timedelta, **fields: Any) -> Ticket:
    """A ticket its agent first answered `replied` after its creation and resolved `closed` after it."""
    start = at(created)
    return ticket(created, first_agent_reply_at=start + replied, resolved_at=start + closed, **fields)


def call(started: str, **fields: Any) -> Call:
    fields.setdefault("direction", "inbound")
    fields.setdefault("status", "answered")
    fields.setdefault("source", "aircall")
    return Call(source_id=str(fields.pop("source_id", next(_counter))), started_at=at(started), **fields)


def survey(kind: str, score: float, submitted: str, **fields: Any) -> SurveyResponse:
    fields.setdefault("source", "hubspot")
    return SurveyResponse(
        source_id=str(fields.pop("source_id", next(_counter))),
        kind=kind,
        score=score,
        submitted_at=at(submitted),
        **fields,
    )


def customer(since: str, churned: str | None = None, **fields: Any) -> Contact:
    fields.setdefault("source", "hubspot")
    return Contact(
        source_id=str(fields.pop("source_id", next(_counter))),
        customer_since=at(since),
        churned_at=at(churned) if churned else None,
        **fields,
    )


def plus(instant: str, **delta: float) -> str:
    return (at(instant) + timedelta(**delta)).isoformat()
