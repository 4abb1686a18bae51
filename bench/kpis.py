"""Benchmark of the KPI calculator on a store of realistic size.

Fills a store with 1,000,000 tickets, 1,000,000 calls, 200,000 survey responses and 50,000 contacts per
year of history (deterministic: every value is a hash of the row number; the last year is 2025; still
open: half the tickets of the last two weeks and one in 500 of any age, as in a desk keeping up), then
times two computations with every cut and every KPI in the catalogue: the full year 2025 by month, and
the two months a scheduled `run` computes (November and December 2025). Each is measured in its own child
process (so the data generation does not count): seconds, rows per second, peak memory.

    python bench/kpis.py                          # SQLite, plus PostgreSQL if CONNECTOR_TEST_POSTGRES_URL is set
    python bench/kpis.py --years 3 --runs 5       # 3M tickets over three years; five runs of each
    python bench/kpis.py --postgres-url postgresql://user@127.0.0.1:5432/db --scale 0.1

The generator writes through DuckDB's scanner straight into the store's tables (validating a million
records through pydantic would time the generator, not the calculator).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from sqlalchemy import text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connector.kpis.workspace import attach_store
from connector.store import Store
from connector.store.engine import create_store_engine

YEAR_SECONDS = 365 * 86400
SIZES = {"ticket": 1_000_000, "call": 1_000_000, "survey_response": 200_000, "contact": 50_000}


def _h(n: int) -> str:
    """A deterministic pseudo-random unsigned integer per row and stream."""
    return f"CAST(hash(i * 31 + {n}) % 1000000007 AS BIGINT)"


def fill(url: str, scale: float, years: int = 1) -> dict[str, int]:
    store = Store.open(url)
    schema = None
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect() as connection:
            schema = connection.execute(text("SELECT current_schema()")).scalar_one()
    store.close()
    sizes = {name: max(1, int(n * scale * (years if name != "contact" else 1))) for name, n in SIZES.items()}
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    prefix = attach_store(con, url, schema, read_only=False)
    start = f"TIMESTAMP '{2025 - (years - 1)}-01-01 00:00:00'"
    span = years * YEAR_SECONDS
    # open today: half the tickets of the last two weeks, and a stale one in 500 of any age
    still_open = f"({_h(7)} % {span} >= {span - 14 * 86400} AND {_h(3)} % 2 = 0 OR {_h(3)} % 500 = 0)"
    bookkeeping = "'{}' AS raw, '' AS content_hash, now()::TIMESTAMP AS ingested_at"
    t0 = time.perf_counter()
    con.execute(
        f"""INSERT INTO {prefix}.ticket BY NAME
        SELECT *, created_at AS updated_at FROM (
        SELECT 'hubspot:' || i AS id, 'hubspot' AS source, CAST(i AS VARCHAR) AS source_id, 'Ticket ' || i AS subject,
            ['email', 'chat', 'phone', 'form', 'social:facebook'][1 + {_h(1)} % 5] AS channel,
            CASE WHEN {still_open} THEN 'open' ELSE 'closed' END AS status,
            ['low', 'medium', 'high', 'urgent'][1 + {_h(2)} % 4] AS priority,
            'category-' || ({_h(4)} % 12) AS category, '[]' AS tags,
            'hubspot:c' || ({_h(5)} % {sizes["contact"]}) AS contact_id,
            'hubspot:a' || ({_h(6)} % 150) AS agent_id, 'team-' || ({_h(6)} % 150 % 10) AS team,
            {start} + to_seconds(CAST({_h(7)} % {span} AS BIGINT)) AS created_at,
            CASE WHEN {_h(8)} % 20 = 0 THEN NULL ELSE created_at + to_seconds(CAST({_h(9)} % 172800 AS BIGINT)) END
                AS first_agent_reply_at,
            CASE WHEN {still_open} THEN NULL ELSE created_at + to_seconds(CAST(172800 + {_h(10)} % 604800 AS BIGINT)) END
                AS resolved_at,
            resolved_at AS first_resolved_at, resolved_at AS closed_at,
            CAST({_h(11)} % 20 = 0 AS INTEGER) AS reopen_count, {_h(12)} % 10 = 0 AS escalated,
            CASE WHEN {_h(12)} % 10 = 0 THEN created_at + INTERVAL 1 HOUR END AS escalation_at,
            CAST({_h(13)} % 8 = 0 AS INTEGER) AS transfer_count, {_h(14)} % 25 = 0 AS is_complaint,
            CASE WHEN {_h(15)} % 3 = 0 THEN CAST({_h(15)} % 3600 AS DOUBLE) END AS handle_seconds,
            {bookkeeping}
        FROM range({sizes["ticket"]}) r(i))"""
    )
    con.execute(
        f"""INSERT INTO {prefix}.call BY NAME
        SELECT 'aircall:' || i AS id, 'aircall' AS source, CAST(i AS VARCHAR) AS source_id,
            CASE WHEN {_h(21)} % 5 = 0 THEN 'outbound' ELSE 'inbound' END AS direction,
            ['answered', 'answered', 'answered', 'answered', 'answered', 'answered', 'abandoned', 'missed',
             'voicemail', 'answered'][1 + {_h(22)} % 10] AS status,
            CASE WHEN {_h(22)} % 10 = 6 THEN (['abandoned_in_classic', 'short_abandoned'])[1 + {_h(23)} % 2] END
                AS missed_reason,
            {start} + to_seconds(CAST({_h(24)} % {span} AS BIGINT)) AS started_at,
            CASE WHEN {_h(22)} % 10 IN (0, 1, 2, 3, 4, 5, 9) THEN started_at + to_seconds(CAST({_h(25)} % 300 AS BIGINT)) END
                AS answered_at,
            started_at + to_seconds(CAST(300 + {_h(26)} % 900 AS BIGINT)) AS ended_at,
            CAST({_h(25)} % 300 AS DOUBLE) AS wait_seconds, CAST({_h(26)} % 900 AS DOUBLE) AS talk_seconds,
            CAST({_h(27)} % 60 AS DOUBLE) AS hold_seconds, CAST({_h(28)} % 120 AS DOUBLE) AS wrap_up_seconds,
            'aircall:u' || ({_h(29)} % 80) AS agent_id, 'phone-' || ({_h(29)} % 80 % 6) AS team,
            'hubspot:c' || ({_h(30)} % {sizes["contact"]}) AS contact_id, started_at AS updated_at,
            {bookkeeping}
        FROM range({sizes["call"]}) r(i)"""
    )
    con.execute(
        f"""INSERT INTO {prefix}.survey_response BY NAME
        SELECT 'hubspot:s' || i AS id, 'hubspot' AS source, 's' || i AS source_id,
            ['csat', 'nps', 'ces'][1 + {_h(41)} % 3] AS kind,
            CASE kind WHEN 'nps' THEN 0 ELSE 1 END AS scale_min,
            CASE kind WHEN 'nps' THEN 10 WHEN 'csat' THEN 5 ELSE 7 END AS scale_max,
            scale_min + {_h(42)} % CAST(scale_max - scale_min + 1 AS BIGINT) AS score,
            {start} + to_seconds(CAST({_h(43)} % {span} AS BIGINT)) AS submitted_at,
            'hubspot:' || ({_h(44)} % {sizes["ticket"]}) AS ticket_id,
            CASE WHEN {_h(45)} % 4 = 0 THEN submitted_at + INTERVAL 1 DAY END AS responded_at,
            {bookkeeping}
        FROM range({sizes["survey_response"]}) r(i)"""
    )
    con.execute(
        f"""INSERT INTO {prefix}.contact BY NAME
        SELECT 'hubspot:c' || i AS id, 'hubspot' AS source, 'c' || i AS source_id,
            TIMESTAMP '2020-01-01' + to_seconds(CAST({_h(51)} % (6 * {YEAR_SECONDS}) AS BIGINT)) AS customer_since,
            CASE WHEN {_h(52)} % 10 = 0 THEN customer_since + to_seconds(CAST({_h(53)} % (2 * {YEAR_SECONDS}) AS BIGINT)) END
                AS churned_at,
            customer_since AS created_at, '{{}}' AS attributes,
            {bookkeeping}
        FROM range({sizes["contact"]}) r(i)"""
    )
    con.close()
    print(
        f"filled {url.split('?')[0].split('@')[-1]}: {sizes} in {time.perf_counter() - t0:.1f}s", flush=True
    )
    return sizes


SPANS = {"year": ("2025-01-01", "2026-01-01"), "two months": ("2025-11-01", "2026-01-01")}
"""What is computed, by month: the full year, and the two months a scheduled run computes."""


def compute_step(url: str, span: str = "year") -> dict[str, float]:
    """Run in a child process: open the store and compute `span` by month with every cut."""
    from datetime import date

    from connector.kpis import ALL_CUTS, compute
    from connector.periods import Grain, split_periods
    from connector.settings import load_settings

    settings = load_settings(database_url=url, timezone="Europe/Amsterdam", holiday_country="NL")
    store = Store.open(url)
    first, last = (date.fromisoformat(day) for day in SPANS[span])
    periods = split_periods(first, last, Grain.MONTH, settings.zone)
    started = time.perf_counter()
    results = compute(store, settings, periods, cuts=ALL_CUTS)
    seconds = time.perf_counter() - started
    store.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "figures": len(results), "peak_mb": peak_mb}


def measure(url: str, scale: float, years: int, runs: int) -> None:
    sizes = fill(url, scale, years)
    rows = sum(sizes.values())
    backend = make_url(url).get_backend_name()
    for span in SPANS:
        seconds, peaks = [], []
        for _ in range(runs):
            child = subprocess.run(
                [sys.executable, __file__, "--compute-only", url, "--span", span],
                capture_output=True,
                text=True,
                check=True,
            )
            figures = json.loads(child.stdout.strip().splitlines()[-1])
            seconds.append(figures["seconds"])
            peaks.append(figures["peak_mb"])
            print(
                f"{backend:<10} {span} by month ({years}-year store, 7 cuts, all KPIs): {figures['seconds']:.2f} s, "
                f"{rows / figures['seconds']:,.0f} store rows/s, peak {figures['peak_mb']:,.0f} MB, "
                f"{figures['figures']:,} figures",
                flush=True,
            )
        if runs > 1:
            print(
                f"{backend:<10} {span}: median {statistics.median(seconds):.2f} s (min {min(seconds):.2f}, "
                f"max {max(seconds):.2f}) over {runs} runs; peak memory {min(peaks):,.0f}–{max(peaks):,.0f} MB",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full sizes (default 1.0)")
    parser.add_argument("--postgres-url", default=os.environ.get("CONNECTOR_TEST_POSTGRES_URL"))
    parser.add_argument("--years", type=int, default=1, help="years of history in the store (default 1)")
    parser.add_argument("--runs", type=int, default=1, help="computations of each span (default 1)")
    parser.add_argument("--compute-only", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--span", choices=sorted(SPANS), default="year", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.compute_only:
        print(json.dumps(compute_step(args.compute_only, args.span)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        measure(f"sqlite:///{Path(scratch) / 'bench.db'}", args.scale, args.years, args.runs)
    if args.postgres_url:
        schema = f"bench_{int(time.time())}"
        engine = create_store_engine(args.postgres_url)
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            url = make_url(args.postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
            measure(url.render_as_string(hide_password=False), args.scale, args.years, args.runs)
        finally:
            with engine.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            engine.dispose()
    else:
        print("postgresql: skipped (give --postgres-url or set CONNECTOR_TEST_POSTGRES_URL)")


if __name__ == "__main__":
    main()
