"""Discovering the topics of the store's tickets and calls and keeping them: what `helpdesk-kpi topics`
and `run` do.

>>> found = discover_and_store(settings, store)      # the last HELPDESK_TOPIC_MONTHS of tickets and calls
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.schema import Call, Ticket
from connector.settings import Settings
from connector.store import Store
from connector.store.topics import TOPIC_KINDS, TopicKind
from connector.topics.discover import Discovery, assign, discover, require_extra

log = logging.getLogger(__name__)
DAYS_PER_MONTH = 30.44
"""A month of the learning window, in days (a window need not start on a month's first day)."""


def refresh_topics(
    settings: Settings,
    store: Store,
    *,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> str:
    """What `run` does for topics (`HELPDESK_TOPIC_REFRESH_DAYS`): a new discovery when the last one is
    that old or there is none; otherwise the tickets and calls of the learning window that have no topic
    yet get the known topic nearest their words (`discover.assign`). Returns the line saying what it did."""
    moment = now or datetime.now(UTC)
    known = store.topics()
    last = max((t["discovered_at"] for t in known), default=None)
    if last is None or moment - last >= timedelta(days=settings.topic_refresh_days):
        found = discover_and_store(settings, store, now=moment, progress=progress)
        sizes = store.topic_sizes().values()
        tickets, calls = (sum(size[kind] for size in sizes) for kind in TOPIC_KINDS)
        return f"topics: {len(found.topics)} discovered over {tickets} tickets and {calls} calls"
    require_extra()
    documents = Documents.read(store, _learning_start(settings, moment), unassigned=True)
    numbers = assign(documents.texts, [(t["number"], t["terms"]) for t in known])
    given = documents.assigned(numbers)
    for kind, pairs in given.items():
        store.add_topics(kind, pairs)
    counts = {kind: len(pairs) for kind, pairs in given.items()}
    left = len(documents.texts) - sum(counts.values())
    return (
        f"topics: {counts['ticket']} new ticket(s) and {counts['call']} call(s) given one of {len(known)} "
        f"known topics ({left} matched none)"
    )


@dataclass
class Documents:
    """The texts topics are found in, tickets first then calls, with each one's kind and record id."""

    kinds: list[TopicKind] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, store: Store, since: datetime, *, unassigned: bool = False) -> Documents:
        documents = cls()
        for kind in TOPIC_KINDS:
            for record_id, text in store.topic_texts(kind, since, unassigned=unassigned):
                documents.kinds.append(kind)
                documents.ids.append(record_id)
                documents.texts.append(text)
        return documents

    def assigned(self, numbers: Sequence[int | None]) -> dict[TopicKind, list[tuple[str, int]]]:
        """Per kind, (record id, topic number) of the documents `numbers` gave a topic."""
        given: dict[TopicKind, list[tuple[str, int]]] = {kind: [] for kind in TOPIC_KINDS}
        for kind, record_id, number in zip(self.kinds, self.ids, numbers, strict=True):
            if number is not None:
                given[kind].append((record_id, number))
        return given


def _learning_start(settings: Settings, now: datetime, months: int | None = None) -> datetime:
    """The start of the learning window: `months` (`HELPDESK_TOPIC_MONTHS` unless given) before `now`."""
    return now - timedelta(days=round(DAYS_PER_MONTH * (months or settings.topic_months)))


def discover_and_store(
    settings: Settings,
    store: Store,
    *,
    months: int | None = None,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> Discovery:
    """The topics of the tickets created and the calls with notes started in the last `months`
    (`HELPDESK_TOPIC_MONTHS` unless given), kept in the store in place of the last discovery; every such
    ticket and call gets its topic. Examples are tickets where a topic has any (they have subjects)."""
    moment = now or datetime.now(UTC)
    documents = Documents.read(store, _learning_start(settings, moment, months))
    found = discover(
        documents.ids,
        documents.texts,
        count=settings.topic_count,
        seed=settings.topic_seed,
        progress=progress,
        exemplary=[kind == "ticket" for kind in documents.kinds],
    )
    rows: list[dict[str, Any]] = [
        {
            "number": t.number,
            "label": t.label,
            "terms": list(t.terms),
            "language": t.language,
            "size": t.size,
            "examples": list(t.examples),
            "discovered_at": moment,
        }
        for t in found.topics
    ]
    given = documents.assigned(found.assigned)
    store.replace_topics(rows, given)
    log.info(
        "topics: %d topics over %d tickets and %d calls kept",
        len(rows),
        len(given["ticket"]),
        len(given["call"]),
    )
    return found


def example_texts(store: Store, ids: Sequence[str], characters: int) -> dict[str, str]:
    """Example id → what shows of it: a ticket's subject (else the start of its first message), or a
    call's notes (☎ first), cut to `characters`. A topic's examples are ticket ids, or call ids when the
    topic had no ticket; an id is looked up as a ticket first."""
    texts = {t.id: t.subject or t.description or "" for t in store.records(Ticket, ids)}
    left = [i for i in ids if i not in texts]
    if left:
        texts |= {c.id: f"☎ {c.notes or ''}" for c in store.records(Call, left)}
    return {i: t if len(t) <= characters else t[: characters - 1].rstrip() + "…" for i, t in texts.items()}
