"""Benchmark of the sync job: 100,000 HubSpot tickets, 100,000 Aircall calls and 5,000 LiveAgent
conversations (with their messages) from the sandbox, with the vendors' rate limits switched on.

    python bench/sync.py                                   # SQLite file store
    python bench/sync.py --tickets 20000 --calls 20000 --conversations 2500     # smaller
    python bench/sync.py --postgres-url postgresql://user@127.0.0.1:5432/db

Rate limits run on a **scaled clock**: both the sandbox's enforcement and the connector's governor use
the vendor's limit over an interval divided by `--*-scale` (HubSpot 100 requests / 10 s at scale 5 is
100 / 2 s), so a run takes minutes instead of an hour while the ratio of achieved request rate to the
limit — what the governor controls — keeps its meaning. Figures per vendor: records, records/s (scaled
and real-time equivalent), API calls per 1,000 records, retries, 429s, achieved rate ÷ limit (of the calls
the ten-second window counts: HubSpot's search is exempt from it) and searches per second at real time
(HubSpot's own search limit is 5/s; the governor's budget is 4/s). LiveAgent's records are its tickets
(conversations) and their messages; its calls per 1,000 are per 1,000 tickets, the figure its limit
(180 / min) makes the long pole: a backfill needs one call per ticket for its messages, plus the list
pages and the whole assignment history in bulk.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.governor import RateGovernor
from adapters.registry import build_adapter
from connector.sandbox import Sandbox
from connector.sandbox.limits import RollingWindow
from connector.settings import Vendor, load_settings
from connector.store import Store
from connector.sync import Progress, StreamReport, run_sync, sync_plan

HUBSPOT_LIMIT, HUBSPOT_INTERVAL, HUBSPOT_SEARCH_PER_SECOND = 100, 10.0, 4.0
AIRCALL_LIMIT, AIRCALL_INTERVAL = 60, 60.0
LIVEAGENT_LIMIT, LIVEAGENT_INTERVAL = 180, 60.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument(
        "--hubspot-scale", type=float, default=5.0, help="time compression of HubSpot's limit"
    )
    parser.add_argument(
        "--aircall-scale", type=float, default=60.0, help="time compression of Aircall's limit"
    )
    parser.add_argument("--conversations", type=int, default=5_000, help="LiveAgent tickets")
    parser.add_argument(
        "--liveagent-scale", type=float, default=60.0, help="time compression of LiveAgent's limit"
    )
    parser.add_argument("--postgres-url", default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        url = args.postgres_url or f"sqlite:///{Path(scratch) / 'bench.db'}"
        store = Store.open(url)
        print(
            f"store: {store.engine.dialect.name}; sandbox with {args.tickets:,} tickets, {args.calls:,} calls, "
            f"{args.conversations:,} LiveAgent conversations"
        )
        figures = []
        figures.append(run_vendor(store, Vendor.HUBSPOT, args.tickets, args.hubspot_scale, ["ticket"]))
        figures.append(run_vendor(store, Vendor.AIRCALL, args.calls, args.aircall_scale, ["call"]))
        # the world has half as many LiveAgent conversations as HubSpot tickets
        figures.append(
            run_vendor(store, Vendor.LIVEAGENT, 2 * args.conversations, args.liveagent_scale, ["ticket"])
        )
        store.close()
    print()
    header = (
        f"{'vendor':<9} {'records':>8} {'seconds':>8} {'rec/s':>8} {'rec/s@1x':>9} {'calls':>6} "
        f"{'/1k rec':>8} {'retries':>7} {'429s':>5} {'rate/limit':>10} {'search/s@1x':>10}"
    )
    print(header)
    print("-" * len(header))
    for line in figures:
        print(line)
    print("(/1k rec: API calls per 1,000 records; LiveAgent's per 1,000 tickets, messages read with them)")


def run_vendor(store: Store, vendor: Vendor, size: int, scale: float, entities: list[str]) -> str:
    with Sandbox(
        seed=42, size=size, hubspot_requests_per_10s=HUBSPOT_LIMIT, aircall_requests_per_minute=AIRCALL_LIMIT
    ) as sandbox:
        for name, value in sandbox.settings_env().items():
            os.environ[name] = value
        os.environ["HELPDESK_BACKFILL_START"] = "2025-10-01"
        settings = load_settings()
        now = sandbox.world.end + timedelta(days=3)
        plan = sync_plan(settings, now=now)
        if vendor is Vendor.HUBSPOT:
            limit, interval = HUBSPOT_LIMIT, HUBSPOT_INTERVAL / scale
            sandbox.hubspot.window = RollingWindow(HUBSPOT_LIMIT, interval)
            sandbox.hubspot.search_window = RollingWindow(5, 1.0 / scale)  # search: 5/s, apart from the 10 s
            governor = RateGovernor.for_vendor(
                "hubspot", limit=limit, interval=interval, search_per_second=HUBSPOT_SEARCH_PER_SECOND * scale
            )
        elif vendor is Vendor.AIRCALL:
            limit, interval = AIRCALL_LIMIT, AIRCALL_INTERVAL / scale
            sandbox.aircall.window = RollingWindow(AIRCALL_LIMIT, interval)
            sandbox.now = now
            governor = RateGovernor.for_vendor("aircall", limit=limit, interval=interval)
        else:
            limit, interval = LIVEAGENT_LIMIT, LIVEAGENT_INTERVAL / scale
            sandbox.liveagent.window = RollingWindow(LIVEAGENT_LIMIT, interval)
            governor = RateGovernor.for_vendor("liveagent", limit=limit, interval=interval)
        adapter = build_adapter(vendor, settings, plan, governor=governor)
        # the sandbox's own sorted indexes are built before the clock starts: they are its cost, not ours
        _ = sandbox.world.call_starts, sandbox.hubspot.kinds["tickets"].by_modified
        print(
            f"{vendor.value}: limit {limit} / {interval:g} s (scale {scale:g} of {limit} / {interval * scale:g} s)"
        )
        started = time.monotonic()
        report = run_sync(
            settings,
            store,
            sources=[vendor],
            entities=entities,
            now=now,
            adapters={vendor: adapter},
            progress=Progress(every=10.0, emit=print),
        )
        elapsed = time.monotonic() - started
    if not report.ok:
        print(f"{vendor.value} FAILED: {report.failures}")
    usage = report.usage[vendor.value]
    records = sum(s.records for s in report.streams if isinstance(s, StreamReport))
    per = records
    if vendor is Vendor.LIVEAGENT:  # calls per 1,000 tickets: messages are read with their ticket
        per = sum(
            sum(s.counts.by_entity.get("ticket", {}).values())
            for s in report.streams
            if s.stream == "tickets"
        )
    searches = usage.by_budget.get("search", 0)
    # HubSpot's search is exempt from the ten-second limit: the ratio is of the calls that window counts
    ratio = ((usage.calls - searches) / elapsed) / (limit / interval)
    search_pace = searches / elapsed / scale
    return (
        f"{vendor.value:<9} {records:>8,} {elapsed:>8.1f} {records / elapsed:>8.0f} {records / elapsed / scale:>9.1f} "
        f"{usage.calls:>6} {usage.calls / max(per, 1) * 1000:>8.1f} {usage.retries:>7} {usage.throttled:>5} "
        f"{ratio:>10.1%} {search_pace:>10.2f}"
    )


if __name__ == "__main__":
    main()
