"""Benchmark of the webhook path: a bounded burst of signed HubSpot ticket events (10 % of them delivered
twice) over loopback to `helpdesk-kpi serve` (waitress, background worker) on a store already holding
1,000,000 tickets, with the sandbox's HubSpot at its real rate limits.

    python bench/webhooks.py                             # 2,000 events, 1M tickets in the store
    python bench/webhooks.py --events 500 --store-tickets 100000
    python bench/webhooks.py --rate 100                  # sent at 100 events/s instead of all at once

Before the burst, each event's ticket gets a new `time_to_first_agent_reply` in the sandbox, so the event
really changes a figure; the events are sent from a process of their own (the load generator apart from
the emulated HubSpot); the bench notes when the sandbox's HubSpot receives the recomputed property
(`helpdesk_frt_calendar_seconds`) with the expected value. Prints events/s accepted, p50/p99 latency to
the 2xx, p50/p99 time from sending to the pushed property, and events stored vs unique events sent (they
must be equal: a duplicate is recorded once, nothing is lost).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from hubspot.utils.signature import Signature
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.kpis import fill
from connector.sandbox import Sandbox
from connector.store import Store
from connector.store.tables import webhook_event

SECRET = "bench-client-secret"  # noqa: S105 — the sandbox app's, signs the bench's events
PROPERTY = "helpdesk_frt_calendar_seconds"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=2_000, help="unique events sent")
    parser.add_argument("--duplicates", type=float, default=0.10, help="share of events delivered twice")
    parser.add_argument(
        "--store-tickets", type=int, default=1_000_000, help="tickets in the store beforehand"
    )
    parser.add_argument("--senders", type=int, default=8, help="concurrent connections sending")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="events/s to send at (0: as fast as possible)"
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the last property")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch, Sandbox(seed=5, size=args.events + 100) as sandbox:
        url = f"sqlite:///{Path(scratch) / 'bench.db'}"
        fill(url, args.store_tickets / 1_000_000)
        tickets = sandbox.hubspot.kinds["tickets"]
        pushed: dict[int, float] = {}
        expected: dict[int, str] = {}
        original_update = tickets.update

        def noting_update(index: int, properties: dict[str, str | None], at: datetime) -> Any:
            if properties.get(PROPERTY) is not None and properties.get(PROPERTY) == expected.get(index):
                pushed.setdefault(index, time.monotonic())  # CLOCK_MONOTONIC: one clock for every process
            return original_update(index, properties, at)

        tickets.update = noting_update  # type: ignore[method-assign]
        for index in range(args.events):  # each ticket really changes: its recomputed figure is known
            reply = 60_000 * (index + 1)
            tickets.update(index, {"time_to_first_agent_reply": str(reply)}, datetime.now(UTC))
            expected[index] = str(reply // 1000)
        port = _free_port()
        env = sandbox.settings_env() | {
            "HELPDESK_DATABASE_URL": url,
            "HELPDESK_SOURCES": "hubspot",
            "HELPDESK_HUBSPOT__CLIENT_SECRET": SECRET,
            "HELPDESK_LOG_LEVEL": "WARNING",
        }
        server = _serve(env, port)
        calls_before = len(sandbox.hubspot.requests)
        try:
            base = f"http://127.0.0.1:{port}/webhooks/hubspot"
            rng = random.Random(5)  # noqa: S311 — which events repeat, not a secret
            first_id = int(tickets.object_id(0))
            events = [_event(n, first_id + n) for n in range(args.events)]
            deliveries = events + rng.sample(events, int(args.events * args.duplicates))
            rng.shuffle(deliveries)
            bodies = [(e["objectId"] - first_id, json.dumps([e]).encode()) for e in deliveries]
            # the load generator runs in a process of its own, apart from the emulated HubSpot
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as generator:
                sent, burst = generator.submit(_send_all, base, bodies, args.senders, args.rate).result()
            deadline = time.monotonic() + args.timeout
            while len(pushed) < args.events and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            server.terminate()
            server.wait(timeout=15)
        calls = len(sandbox.hubspot.requests) - calls_before
        store = Store.open(url)
        with store.engine.connect() as connection:
            stored = connection.execute(select(func.count()).select_from(webhook_event)).scalar_one()
        store.close()

    latencies = [took for _, _, took in sent]
    sent_at: dict[int, float] = {}
    for index, started, _ in sorted(sent, key=lambda row: row[1]):
        sent_at.setdefault(index, started)
    to_property = [pushed[i] - sent_at[i] for i in pushed if i in sent_at]
    print(f"store: {args.store_tickets:,} tickets before the burst; sandbox HubSpot at its real limits")
    print(
        f"burst: {len(deliveries):,} requests ({args.events:,} unique events, {len(deliveries) - args.events:,} "
        f"duplicates) from {args.senders} connections in {burst:.2f} s — {len(deliveries) / burst:,.0f} events/s"
        + (f" (paced at {args.rate:,.0f}/s)" if args.rate else " (as fast as they are answered)")
    )
    print(f"latency to the 2xx: p50 {_ms(latencies, 50)}, p99 {_ms(latencies, 99)}")
    budget = 0.93 * 100 / 10  # the governor's pace of HubSpot's default 100 requests / 10 s
    print(
        f"HubSpot API calls: {calls} ({100 * calls / args.events:.1f} per 100 events; rounds grow with the "
        f"backlog): at the connector's {budget:.1f} calls/s, {budget * args.events / max(calls, 1):,.0f} "
        "events/s pushed at most at this mix"
    )
    print(
        f"time to the pushed property: p50 {_ms(to_property, 50)}, p99 {_ms(to_property, 99)} "
        f"({len(to_property):,} of {args.events:,} properties seen)"
    )
    print(
        f"stored events: {stored:,}; unique events sent: {args.events:,} — {'equal' if stored == args.events else 'NOT EQUAL'}"
    )
    if stored != args.events or len(to_property) != args.events:
        sys.exit(1)


def _send_all(
    base: str, bodies: list[tuple[int, bytes]], senders: int, rate: float
) -> tuple[list[tuple[int, float, float]], float]:
    """The load generator: each body signed and POSTed from `senders` connections (paced at `rate` a
    second when given); returns (ticket index, sent at, seconds to the 2xx) per request and the burst's
    length."""
    sent: list[tuple[int, float, float]] = []
    lock = threading.Lock()
    local = threading.local()
    began = time.monotonic()

    def one(numbered: tuple[int, tuple[int, bytes]]) -> None:
        n, (index, body) = numbered
        if rate:
            time.sleep(max(0.0, began + n / rate - time.monotonic()))
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        headers = _signed(base, body)
        started = time.monotonic()
        session.post(base, data=body, headers=headers, timeout=10).raise_for_status()
        took = time.monotonic() - started
        with lock:
            sent.append((index, started, took))

    with ThreadPoolExecutor(senders) as pool:
        list(pool.map(one, enumerate(bodies)))
    return sent, time.monotonic() - began


def _event(n: int, object_id: int) -> dict[str, Any]:
    return {"eventId": 10_000 + n, "subscriptionId": 1, "portalId": 62515, "appId": 1,
            "occurredAt": int(time.time() * 1000), "subscriptionType": "ticket.propertyChange",
            "attemptNumber": 0, "objectId": object_id, "propertyName": "time_to_first_agent_reply",
            "changeSource": "CRM"}  # fmt: skip


def _signed(url: str, body: bytes) -> dict[str, str]:
    """HubSpot's v3 headers for `body` sent to `url`, signed by the SDK's own `Signature`."""
    stamp = str(int(time.time() * 1000))
    signature = Signature.get_signature(SECRET, body.decode(), "v3", http_uri=url, timestamp=stamp)
    return {"Content-Type": "application/json", "X-HubSpot-Request-Timestamp": stamp,
            "X-HubSpot-Signature-v3": signature}  # fmt: skip


def _ms(values: list[float], percentile: int) -> str:
    if not values:
        return "n/a"
    if len(values) == 1:
        return f"{values[0] * 1000:.0f} ms"
    return f"{statistics.quantiles(values, n=100, method='inclusive')[percentile - 1] * 1000:.0f} ms"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(env: dict[str, str], port: int) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    script = str(Path(sys.executable).with_name("helpdesk-kpi"))
    server = subprocess.Popen([script, "serve", "--port", str(port)], env=clean | env, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except requests.ConnectionError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("serve did not start within 60 s")


if __name__ == "__main__":
    main()
