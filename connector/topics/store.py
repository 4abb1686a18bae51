"""Discovering the topics of the store's tickets and keeping them: what `helpdesk-kpi topics` runs.

>>> found = discover_and_store(settings, store)      # the last HELPDESK_TOPIC_MONTHS of tickets
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.settings import Settings
from connector.store import Store
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
    that old or there is none; otherwise the tickets of the learning window that have no topic yet get
    the known topic nearest their words (`discover.assign`). Returns the line saying what it did."""
    moment = now or datetime.now(UTC)
    known = store.topics()
    last = max((t["discovered_at"] for t in known), default=None)
    if last is None or moment - last >= timedelta(days=settings.topic_refresh_days):
        found = discover_and_store(settings, store, now=moment, progress=progress)
        return f"topics: {len(found.topics)} discovered over {sum(t.size for t in found.topics)} tickets"
    require_extra()
    ids: list[str] = []
    texts: list[str] = []
    for ticket_id, text in store.ticket_texts(_learning_start(settings, moment), unassigned=True):
        ids.append(ticket_id)
        texts.append(text)
    numbers = assign(texts, [(t["number"], t["terms"]) for t in known])
    given = [(i, n) for i, n in zip(ids, numbers, strict=True) if n is not None]
    store.add_ticket_topics(given)
    left = len(ids) - len(given)
    return f"topics: {len(given)} new ticket(s) given one of {len(known)} known topics ({left} matched none)"


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
    """The topics of the tickets created in the last `months` (`HELPDESK_TOPIC_MONTHS` unless given),
    kept in the store in place of the last discovery; every such ticket gets its topic."""
    since = _learning_start(settings, now or datetime.now(UTC), months)
    ids: list[str] = []
    texts: list[str] = []
    for ticket_id, text in store.ticket_texts(since):
        ids.append(ticket_id)
        texts.append(text)
    found = discover(ids, texts, count=settings.topic_count, seed=settings.topic_seed, progress=progress)
    moment = now or datetime.now(UTC)
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
    assigned = [(i, n) for i, n in zip(ids, found.assigned, strict=True) if n is not None]
    store.replace_topics(rows, assigned)
    log.info("topics: %d topics over %d tickets kept", len(rows), len(assigned))
    return found
