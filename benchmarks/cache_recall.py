"""Precision and recall of the similarity cache on the labelled prompt pairs, per threshold.

    .venv/bin/python benchmarks/cache_recall.py                 # thresholds 0.80 ... 0.99
    .venv/bin/python benchmarks/cache_recall.py --show 0.95     # and the pairs at 0.95
    .venv/bin/python benchmarks/cache_recall.py --vectorizer semantic   # 0.50 ... 0.95

The pairs are ``tests/data/cache_pairs.yaml``: paraphrases (the stored answer is right for
the second prompt) and near misses (it is wrong). For each threshold a fresh in-memory
``StreamingCache`` with the default vectorizer (or, with ``--vectorizer semantic``, the
semantic extra's WordLlama vectorizer and the guard's meaning level) stores the first prompt
of every pair and looks up the second, exactly as a call would. Recall is the share of
paraphrases that hit; precision the share of hits that were paraphrases. ``--show``
lists, at one threshold, the paraphrases that missed (with the guard's reason) and any
near miss that hit.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from cache_pairs import Outcome, evaluate, load_pairs

from llm_dispatch.cache import Vectorizer, check
from llm_dispatch.cache.meaning_guard import check_meaning

THRESHOLDS = [0.80, 0.85, 0.90, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99]
SEMANTIC_THRESHOLDS = [0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90, 0.95]


def row(outcome: Outcome) -> str:
    right, wrong = len(outcome.hit_paraphrases), len(outcome.hit_near_misses)
    return (
        f"| {outcome.threshold:.2f} | {right} / {outcome.paraphrases} | "
        f"{wrong} / {outcome.near_misses} | {outcome.recall:.1%} | {outcome.precision:.1%} |"
    )


def show(outcome: Outcome, *, semantic: bool) -> None:
    paraphrases, _ = load_pairs()
    print(f"\nParaphrases missed at {outcome.threshold:.2f}:")
    for pair in paraphrases:
        if pair not in outcome.hit_paraphrases:
            verdict = (check_meaning if semantic else check)(pair.first, pair.second)
            why = verdict.reason if not verdict.ok else "below the threshold"
            print(f"  [{pair.kind}] {pair.first!r} / {pair.second!r}: {why}")
    print(f"\nNear misses hit at {outcome.threshold:.2f}: {len(outcome.hit_near_misses)}")
    for pair in outcome.hit_near_misses:
        print(f"  [{pair.kind}, {pair.trap}] {pair.first!r} / {pair.second!r}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--thresholds", type=float, nargs="+")
    parser.add_argument("--show", type=float, help="list the misses at this threshold")
    parser.add_argument("--vectorizer", choices=["hashing", "semantic"], default="hashing")
    args = parser.parse_args()
    semantic = args.vectorizer == "semantic"
    vectorizer: Vectorizer | None = None
    if semantic:
        from llm_dispatch.cache import WordLlamaVectorizer

        vectorizer = WordLlamaVectorizer()
    thresholds = args.thresholds or (SEMANTIC_THRESHOLDS if semantic else THRESHOLDS)
    print("| threshold | paraphrases hit | near misses hit | recall | precision |")
    print("| --- | --- | --- | --- | --- |")
    for threshold in thresholds:
        print(row(await evaluate(threshold, vectorizer)))
    if args.show is not None:
        show(await evaluate(args.show, vectorizer), semantic=semantic)


if __name__ == "__main__":
    asyncio.run(main())
