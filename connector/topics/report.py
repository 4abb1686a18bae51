"""The discovered topics for people (`helpdesk-kpi topics`): a table or JSON, each topic with its size,
share, language, most distinctive terms and the subjects of its most typical tickets."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from connector.topics.discover import Discovery


def topic_rows(found: Discovery, subjects: Mapping[str, str]) -> list[dict[str, Any]]:
    """One dict a topic; `subjects` gives the example tickets' subjects (by id)."""
    total = sum(t.size for t in found.topics) or 1
    return [
        {
            "number": t.number,
            "label": t.label,
            "tickets": t.size,
            "share": round(100 * t.size / total, 1),
            "language": t.language,
            "terms": list(t.terms),
            "examples": [{"ticket": e, "subject": subjects.get(e, "")} for e in t.examples],
        }
        for t in found.topics
    ]


def render_json(found: Discovery, subjects: Mapping[str, str]) -> str:
    return json.dumps(
        {"topics": topic_rows(found, subjects), "k": found.k, "silhouette": round(found.silhouette, 3)},
        indent=2,
        ensure_ascii=False,
    )


def render_table(found: Discovery, subjects: Mapping[str, str]) -> str:
    lines = [
        f"{found.k} topics (silhouette {found.silhouette:.3f}; "
        + ("number chosen from " + ", ".join(map(str, sorted(found.tried))) if found.tried else "number set")
        + ")",
        f"{'#':>3} {'tickets':>8} {'share':>6}  lang  topic",
    ]
    for row in topic_rows(found, subjects):
        lines.append(
            f"{row['number']:>3} {row['tickets']:>8,} {row['share']:>5.1f}%  {row['language'] or '?':<4}  "
            f"{row['label']}"
        )
        lines += [f"{'':>27}e.g. {e['subject']}" for e in row["examples"] if e["subject"]]
    return "\n".join(lines)
