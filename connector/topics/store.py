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
from connector.topics.discover import Discovery, discover

log = logging.getLogger(__name__)
DAYS_PER_MONTH = 30.44
"""A month of the learning window, in days (a window need not start on a month's first day)."""


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
    window = timedelta(days=round(DAYS_PER_MONTH * (months or settings.topic_months)))
    since = (now or datetime.now(UTC)) - window
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
