"""Systematic-edit precision on the synthetic benchmark, split by pair relation and finding kind.

`newstrace.eval.synth_score` counts every systematic finding on every true pair, but the truth plants edits on
direct pairs only; on an indirect pair (origin -> copy of a copy, or two siblings) the inherited edits are real
yet unplanted. This script reports both figures from an `analyze --out` folder, per finding kind.

    python -m newstrace.synth generate /tmp/syn -n 300
    newstrace analyze /tmp/syn/corpus.jsonl --out /tmp/syn-out --stages ingest,reuse,edits --quiet
    python benchmarks/edits_synth.py /tmp/syn/truth.json /tmp/syn-out
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path

from newstrace.eval.synth_score import norm_phrase, score_systematic


def _key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("truth", type=Path)
    ap.add_argument("out", type=Path)
    args = ap.parse_args(argv)
    truth = json.loads(args.truth.read_text(encoding="utf-8"))
    rows = [json.loads(x) for x in (args.out / "edits.jsonl").read_text(encoding="utf-8").splitlines() if x]
    planted: dict[tuple[str, str], set[str]] = defaultdict(set)
    for s in truth["systematic"]:
        for t in (s.get("copy_text"), s.get("source_text"), s.get("phrase")):
            if norm_phrase(t):
                planted[_key(s["source"], s["copy"])].add(norm_phrase(t))
    relation = {_key(p["source"], p["copy"]): "direct" if p["direct"] else "indirect" for p in truth["pairs"]}
    n: Counter = Counter()
    hit: Counter = Counter()
    for row in rows:
        rel = relation.get(_key(row["source"], row["copy"]))
        if rel is None:
            continue
        for f in row["systematic"]:
            ok = bool({norm_phrase(f["copy_text"]), norm_phrase(f["source_text"])}
                      & planted[_key(row["source"], row["copy"])])
            for k in ((rel, f["kind"]), (rel, "all")):
                n[k] += 1
                hit[k] += ok
    sc = score_systematic(truth, rows)
    print(f"scorer: recall {sc['recall']:.3f} ({sc['recalled']}/{sc['planted']}), precision {sc['precision']:.3f} "
          f"({sc['predicted_on_true_pairs']} predicted)")
    print("| pairs | kind | predicted | match a planted phrase | precision |\n|---|---|---|---|---|")
    for rel, kind in sorted(n):
        print(f"| {rel} | {kind} | {n[rel, kind]} | {hit[rel, kind]} | {hit[rel, kind] / n[rel, kind]:.3f} |")


if __name__ == "__main__":
    main()
