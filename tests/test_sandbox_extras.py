"""The demo's extra records (costs, QA reviews, SERVQUAL and eNPS answers, new customers): valid for the
importer, deterministic for a seed and an end, inside the world's year, naming the sandbox's own agents
and customers."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

from connector.importer import RejectedLine, parse_line
from connector.sandbox.extras import extra_records
from connector.sandbox.hubspot_objects import ID_BASES
from connector.sandbox.liveagent import _agent_id
from connector.sandbox.world import World

END = datetime(2026, 12, 3, tzinfo=UTC)


def test_extras_are_valid_deterministic_and_inside_the_world() -> None:
    world = World(seed=4, size=300, end=END)
    records = extra_records(world)
    assert records == extra_records(World(seed=4, size=300, end=END))
    assert records != extra_records(World(seed=5, size=300, end=END))
    parsed = [parse_line(n, json.dumps(r)) for n, r in enumerate(records, start=1)]
    assert [p for p in parsed if isinstance(p, RejectedLine)] == []
    kinds = Counter(str(r.get("kind") or r["type"]) for r in records)
    assert {"service_cost", "quality_review", "servqual", "enps", "contact"} <= set(kinds)
    assert kinds["service_cost"] == 13  # every month of the year to the world's end, the running one too
    for record in records:
        moment = record.get("reviewed_at") or record.get("submitted_at") or record.get("customer_since")
        if moment:
            assert world.start <= datetime.fromisoformat(moment.replace("Z", "+00:00")) < world.end
    agents = {f"liveagent:{_agent_id(i)}" for i in range(world.agent_count)}
    customers = {f"hubspot:{ID_BASES['contacts'] + i}" for i in range(world.customer_count)}
    assert {r["agent_id"] for r in records if "agent_id" in r} <= agents
    assert {r["contact_id"] for r in records if "contact_id" in r} | {
        r["referred_by"] for r in records if "referred_by" in r
    } <= customers
