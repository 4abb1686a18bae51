"""The discovered topics for people (`helpdesk-kpi topics`), as a table or JSON.

Right after a discovery: each topic with its tickets and calls, share, language, most distinctive terms
and its most typical tickets (or calls). With `--period`: the stored topics' figures in that period — the
dashboard's topic columns (`writer.dashboard.TOPICS`: resolution, CSAT, change, share, calls, tickets),
the rising flag and the examples.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from connector.store.topics import TOPIC_KINDS, TopicKind
from connector.topics.discover import Discovery
from connector.writer.dashboard import TopicView


def topic_rows(
    found: Discovery, sizes: Mapping[int, Mapping[TopicKind, int]], examples: Mapping[str, str]
) -> list[dict[str, Any]]:
    """One dict a topic: `sizes` gives its tickets and calls (by number), `examples` the text shown of
    each example (by id)."""
    counts = {
        t.number: {kind: (sizes.get(t.number) or {}).get(kind, 0) for kind in TOPIC_KINDS}
        for t in found.topics
    }
    total = sum(c["ticket"] for c in counts.values()) or 1
    return [
        {
            "number": t.number,
            "label": t.label,
            "tickets": counts[t.number]["ticket"],
            "calls": counts[t.number]["call"],
            "share": round(100 * counts[t.number]["ticket"] / total, 1),
            "language": t.language,
            "terms": list(t.terms),
            "examples": [{"id": e, "text": examples.get(e, "")} for e in t.examples],
        }
        for t in found.topics
    ]


def render_json(rows: list[dict[str, Any]], found: Discovery) -> str:
    return json.dumps(
        {"topics": rows, "k": found.k, "silhouette": round(found.silhouette, 3)}, indent=2, ensure_ascii=False
    )


def render_table(rows: list[dict[str, Any]], found: Discovery) -> str:
    lines = [
        f"{found.k} topics (silhouette {found.silhouette:.3f}; "
        + ("number chosen from " + ", ".join(map(str, sorted(found.tried))) if found.tried else "number set")
        + ")",
        f"{'#':>3} {'tickets':>8} {'calls':>6} {'share':>6}  lang  topic",
    ]
    for row in rows:
        lines.append(
            f"{row['number']:>3} {row['tickets']:>8,} {row['calls']:>6,} {row['share']:>5.1f}%  "
            f"{row['language'] or '?':<4}  {row['label']}"
        )
        lines += [f"{'':>34}e.g. {e['text']}" for e in row["examples"] if e["text"]]
    return "\n".join(lines)


def period_json(view: TopicView, period: str) -> str:
    """The topics of `period` with their figures (by column heading; null: no figure) as JSON."""
    topics = [
        {
            "label": row.label,
            "rising": row.rising,
            "figures": {heading: value for heading, (_, value) in zip(view.headings, row.cells, strict=True)},
            "examples": list(row.examples),
        }
        for row in view.rows
    ]
    return json.dumps({"period": period, "topics": topics}, indent=2, ensure_ascii=False)


def period_table(view: TopicView, period: str) -> str:
    """The topics of `period` as text: a block a topic (▲n: the n-th rising fastest), its figures and
    examples."""
    if not view.rows:
        return f"{period}: no ticket or call with a topic"
    lines = [f"Topics of {period}, by tickets (▲ rising fastest):"]
    for row in view.rows:
        lines.append(f"{'▲' + str(row.rising) if row.rising else '':>3} {row.label}")
        lines.append(
            "    " + " · ".join(f"{h}: {text}" for h, (text, _) in zip(view.headings, row.cells, strict=True))
        )
        lines += [f"    e.g. {example}" for example in row.examples]
    return "\n".join(lines)
