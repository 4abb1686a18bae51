"""Benchmark of topic discovery: how well the topics recover known themes, and how long a million tickets take.

Builds a labelled corpus from the sandbox's themes (eight web-shop themes and vague questions, Dutch and
English, 5 % of words mistyped, 15 % of texts mentioning a second issue), discovers the topics with the
defaults (`count=0`: the number chosen by silhouette) and prints:

- quality: purity against the themes (each topic's most common theme counts as right), adjusted Rand index
  and normalised mutual information against theme × language (Dutch and English are separate topics);
- time: word clean-up, fit (sample and the choice of the number), assignment of every text; peak memory.

Targets (stated in the README, met by the figures in the closing note): purity ≥ 0.90 and adjusted Rand
≥ 0.85 on the 1M corpus; a million tickets within ten minutes on two cores.

    python bench/topics.py                 # 1,000,000 texts
    python bench/topics.py --size 20000    # a quick look
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connector.sandbox.themes import labelled_corpus, purity
from connector.topics import discover as discovery


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=1_000_000, help="texts in the corpus (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--typo-rate", type=float, default=0.05)
    args = parser.parse_args()
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    started = time.perf_counter()
    corpus = list(labelled_corpus(args.size, seed=args.seed + 1, typo_rate=args.typo_rate))
    ids = [str(n) for n in range(len(corpus))]
    texts = [c.text for c in corpus]
    print(f"corpus: {len(corpus):,} texts built in {time.perf_counter() - started:.1f} s")
    marks: list[tuple[str, float]] = []
    clock = time.perf_counter()

    def progress(line: str) -> None:
        marks.append((line, time.perf_counter() - clock))

    found = discovery.discover(ids, texts, seed=args.seed, progress=progress)
    seconds = time.perf_counter() - clock
    choose = next((t for line, t in marks if "texts assigned" in line), seconds)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    themes = [c.theme for c in corpus]
    both = [f"{c.theme}/{c.language}" for c in corpus]
    flat = [a or 0 for a in found.assigned]
    print(f"topics: {found.k} (silhouette {found.silhouette:.3f}; tried {sorted(found.tried)})")
    print(f"purity against the themes: {purity(found.assigned, themes):.3f}")
    print(f"adjusted Rand against theme x language: {adjusted_rand_score(both, flat):.3f}")
    print(
        f"normalised mutual information against theme x language: {normalized_mutual_info_score(both, flat):.3f}"
    )
    print(f"unassigned: {sum(a is None for a in found.assigned):,}")
    print(
        f"time: {seconds:.1f} s in all ({len(corpus) / seconds:,.0f} texts/s); up to the first assigned batch {choose:.1f} s"
    )
    print(f"peak memory: {peak:,.0f} MB")
    for topic in found.topics:
        print(f"  {topic.number:>2} {topic.size:>8,} {topic.language or '?'}  {topic.label}")


if __name__ == "__main__":
    main()
