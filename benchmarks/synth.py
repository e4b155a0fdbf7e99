"""Generates a synthetic news-reuse corpus and prints its statistics (DESIGN.md §4).

    .venv/bin/python benchmarks/synth.py -n 500                         # quality-size corpus
    .venv/bin/python benchmarks/synth.py -n 100000 --overlap 20000      # scale run + filler 8-gram check

`--overlap N` counts word 8-grams shared by two different documents among the first N fillers, and between
those fillers and the planted (non-filler) articles: both should be 0 or nearly so. The lead wires the
analyze + score run on top of this (`python -m newstrace.synth score TRUTH ANALYZE_DIR`).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from newstrace.synth.generate import generate
from newstrace.tokens import tokenize


def _grams(text: str, n: int = 8) -> set[int]:
    w = tokenize(text).words
    return {hash(tuple(w[i : i + n])) for i in range(len(w) - n + 1)}


def overlap(corpus: Path, truth: dict, n_fill: int) -> tuple[int, int]:
    planted = {a["id"]: a for a in truth["articles"]}
    outlets = {o["outlet"]: o for o in truth["outlets"]}
    fill_h: list[np.ndarray] = []
    plant: set[int] = set()
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            text = r["text"]
            o = outlets[r["outlet"]]
            for bp in (o["header"], o["footer"]):  # boilerplate repeats by design; it is not reuse
                if bp:
                    text = text.replace(bp, " ")
            if r["id"] in planted:
                plant |= _grams(text)
            elif len(fill_h) < n_fill:
                fill_h.append(np.fromiter(_grams(text), dtype=np.int64))
    allf = np.concatenate(fill_h) if fill_h else np.zeros(0, dtype=np.int64)
    _, counts = np.unique(allf, return_counts=True)
    with_planted = int(np.isin(allf, np.fromiter(plant, dtype=np.int64)).sum()) if plant else 0
    return int((counts > 1).sum()), with_planted


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--n-articles", type=int, default=500)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", type=Path, default=None, help="keep the corpus here (default: a temp folder)")
    ap.add_argument("--overlap", type=int, default=0, help="check 8-gram overlap among this many fillers")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        t0 = time.perf_counter()
        corpus = generate(out, n_articles=args.n_articles, seed=args.seed)
        secs = time.perf_counter() - t0
        truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
        size = corpus.stat().st_size
        roles = Counter(a["role"] for a in truth["articles"])
        roles["filler"] = truth["meta"]["n_filler"]
        rows = [("articles", args.n_articles), ("seconds to generate", f"{secs:.1f}"),
                ("corpus MB", f"{size / 1e6:.1f}"), ("mean KB / article", f"{size / args.n_articles / 1e3:.2f}")]
        rows += [(f"role {k}", v) for k, v in sorted(roles.items())]
        nets = Counter(o["network"] or "independent" for o in truth["outlets"])
        rows += [(f"outlets {k}", v) for k, v in sorted(nets.items())]
        rows += [("families", len(truth["families"])), ("true pairs", len(truth["pairs"])),
                 ("true passages", sum(len(p["passages"]) for p in truth["pairs"])),
                 ("planted outlet edges", len(truth["edges"])), ("hard negatives", len(truth["hard_negatives"]))]
        rows += [(f"systematic {k}", v) for k, v in sorted(Counter(s["kind"] for s in truth["systematic"]).items())]
        ops = Counter(o["op"] for a in truth["articles"] for o in a["operations"])
        rows += [(f"operation {k}", v) for k, v in sorted(ops.items())]
        if args.overlap:
            t1 = time.perf_counter()
            ff, fp = overlap(corpus, truth, args.overlap)
            rows += [(f"8-grams shared among {args.overlap} fillers", ff), ("8-grams fillers share with planted", fp),
                     ("overlap check seconds", f"{time.perf_counter() - t1:.1f}")]
        w = max(len(k) for k, _ in rows)
        print(f"| {'statistic':<{w}} | value |\n|{'-' * (w + 2)}|-------|")
        for k, v in rows:
            print(f"| {k:<{w}} | {v} |")


if __name__ == "__main__":
    main()
