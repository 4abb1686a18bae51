"""Reliability table: for each vendor and each kind of fault the sandbox can serve, a sync under the fault,
then a clean rerun, compared table by table (ids and content hashes) with a fault-free sync of the same
world.

    python bench/reliability.py                 # every vendor × fault kind, 300-ticket world
    python bench/reliability.py --size 1000

Columns: faults the sandbox fired, retries, streams of the faulty run that gave up (cursor kept), records
expected (fault-free sync), stored after the faulty run, stored after the rerun, lost, duplicated and
differing (in both but with other content). The tests (tests/test_sync_faults.py) assert the last three
are 0 for every row; this prints the figures.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connector.sandbox.trials import FAULT_KINDS, run_trial
from connector.settings import Vendor


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=300)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    header = (
        f"{'vendor':<10} {'fault':<10} {'fired':>6} {'retries':>7} {'failed':>6} {'expected':>8} "
        f"{'after':>7} {'stored':>7} {'lost':>5} {'dup':>4} {'diff':>5} {'s':>5}"
    )
    print(header)
    print("-" * len(header))
    bad = 0
    for vendor in Vendor:
        for kind in FAULT_KINDS:
            started = time.monotonic()
            r = run_trial(vendor, kind, seed=args.seed, size=args.size)
            bad += not r.ok
            print(
                f"{r.vendor:<10} {r.kind:<10} {r.fired:>6} {r.retries:>7} {r.failed_streams:>6} {r.expected:>8} "
                f"{r.stored_after_faults:>7} {r.stored:>7} {r.lost:>5} {r.duplicated:>4} {r.differing:>5} "
                f"{time.monotonic() - started:>5.1f}",
                flush=True,
            )
    print(f"\n{bad} trial(s) with lost, duplicated or differing records")


if __name__ == "__main__":
    main()
