"""PAN 2013 text alignment: plagdet and speed of `newstrace.reuse.align`, against a difflib baseline.

    .venv/bin/python benchmarks/pan13.py                      # all 5,185 training pairs
    .venv/bin/python benchmarks/pan13.py --subset 500 --baseline-sample 200 --json out.json
    .venv/bin/python benchmarks/pan13.py --baseline-sample 0 --split     # also each half of a seeded split

`--split` scores the same run on the two halves of a seeded random split of the pairs: the aligner's defaults
were tuned on the `tune` half only, so the `held-out` half shows how well they carry over.

Timing covers reading the files and aligning every pair in batch (`align_many`, a process pool). The baseline
aligns a sample of the same pairs with difflib.SequenceMatcher on word sequences (matching blocks merged along the
copy with the same gap rule) and is scored on that sample beside our aligner on the same sample.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from difflib import SequenceMatcher
from pathlib import Path

from newstrace.eval.plagdet import PAN13_SUBCORPORA, Case, PanPair, PlagdetResult, plagdet, read_pan13
from newstrace.model import Passage
from newstrace.reuse.align import AlignParams, align_many
from newstrace.tokens import tokenize

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "pan13-train"


def read_texts(pairs: Sequence[PanPair]) -> list[tuple[str, str]]:
    cache: dict[Path, str] = {}

    def text(p: Path) -> str:
        if p not in cache:
            cache[p] = p.read_text(encoding="utf-8")
        return cache[p]

    return [(text(p.source_path), text(p.copy_path)) for p in pairs]


def difflib_align(source: str, copy: str, gap: int = 30, min_block: int = 3, min_words: int = 15) -> list[Passage]:
    """Baseline: one monotone matching of the word sequences, blocks merged when both gaps are small."""
    st, ct = tokenize(source), tokenize(copy)
    sm = SequenceMatcher(None, ct.words, st.words, autojunk=False)
    blocks = [b for b in sm.get_matching_blocks() if b.size >= min_block]
    runs: list[list[int]] = []  # [c0, c1, s0, s1] in words, end exclusive
    for b in blocks:
        if runs and b.a - runs[-1][1] <= gap and 0 <= b.b - runs[-1][3] <= gap:
            runs[-1][1], runs[-1][3] = b.a + b.size, b.b + b.size
        else:
            runs.append([b.a, b.a + b.size, b.b, b.b + b.size])
    return [
        Passage(st.starts[s0], st.ends[s1 - 1], ct.starts[c0], ct.ends[c1 - 1])
        for c0, c1, s0, s1 in runs
        if c1 - c0 >= min_words and s1 - s0 >= min_words
    ]


def _difflib_star(args: tuple[str, str]) -> list[Passage]:
    return difflib_align(*args)


def detections(pairs: Sequence[PanPair], results: Sequence[list[Passage]]) -> list[Case]:
    return [
        Case(p.key, x.copy_start, x.copy_end, x.source_start, x.source_end)
        for p, found in zip(pairs, results, strict=True)
        for x in found
    ]


def score_table(pairs: Sequence[PanPair], results: Sequence[list[Passage]]) -> dict[str, PlagdetResult]:
    table: dict[str, PlagdetResult] = {}
    for sub in PAN13_SUBCORPORA:
        idx = [i for i, p in enumerate(pairs) if p.subcorpus == sub]
        if idx:
            sp = [pairs[i] for i in idx]
            table[sub] = plagdet([c for p in sp for c in p.cases], detections(sp, [results[i] for i in idx]))
    table["overall"] = plagdet([c for p in pairs for c in p.cases], detections(pairs, results))
    return table


def print_table(title: str, table: dict[str, PlagdetResult]) -> None:
    print(f"\n{title}")
    print(f"{'sub-corpus':28} {'cases':>6} {'dets':>6} {'prec':>6} {'rec':>6} {'gran':>6} {'plagdet':>7}")
    for name, r in table.items():
        if r.cases == 0:  # no truth: only the number of (false) detections means anything
            print(f"{name:28} {r.cases:6d} {r.detections:6d} {'-':>6} {'-':>6} {'-':>6} {'-':>7}")
        else:
            print(
                f"{name:28} {r.cases:6d} {r.detections:6d} {r.precision:6.3f} {r.recall:6.3f} "
                f"{r.granularity:6.3f} {r.plagdet:7.3f}"
            )


def split_pairs(pairs: Sequence[PanPair], seed: int) -> set[tuple[str, str]]:
    """(sub-corpus, key) of the `tune` half of a seeded random split of `pairs`, all pairs in `read_pan13`
    order (the rest is held out)."""
    idx = list(range(len(pairs)))
    random.Random(seed).shuffle(idx)
    return {(pairs[i].subcorpus, pairs[i].key) for i in idx[: len(idx) // 2]}


def main(argv: Sequence[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="pan13-train folder")
    ap.add_argument("--subset", type=int, default=0, help="random sample of N pairs (0 = all)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--runs", type=int, default=1, help="timed runs of our aligner; the median is reported")
    ap.add_argument("--baseline-sample", type=int, default=200, help="pairs for the difflib baseline (0 = skip)")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--split", action="store_true", help="also score the tune / held-out halves")
    ap.add_argument("--split-seed", type=int, default=2013, help="seed of the tune / held-out split")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args(argv)

    pairs = read_pan13(args.data)
    if not pairs:
        raise SystemExit(f"no PAN pairs under {args.data}")
    tune = split_pairs(pairs, args.split_seed)
    rng = random.Random(args.seed)
    if args.subset and args.subset < len(pairs):
        pairs = sorted(rng.sample(pairs, args.subset), key=lambda p: p.key)

    params = AlignParams()
    times: list[float] = []
    results: list[list[Passage]] = []
    for _ in range(max(1, args.runs)):
        t0 = time.perf_counter()
        texts = read_texts(pairs)
        results = align_many(texts, params, workers=args.workers)
        times.append(time.perf_counter() - t0)
    wall = statistics.median(times)
    ours = score_table(pairs, results)
    print_table(f"newstrace align ({len(pairs)} pairs, {args.workers} workers)", ours)
    print(f"wall {wall:.1f} s (median of {len(times)}: {', '.join(f'{t:.1f}' for t in times)}), "
          f"{len(pairs) / wall:.0f} pairs/s")
    out: dict = {
        "pairs": len(pairs),
        "workers": args.workers,
        "params": params.__dict__,
        "wall_s": wall,
        "wall_runs_s": times,
        "ours": {k: v.__dict__ for k, v in ours.items()},
    }

    if args.split:
        for name, keep in (("tune", True), ("held-out", False)):
            idx = [i for i, p in enumerate(pairs) if ((p.subcorpus, p.key) in tune) == keep]
            half = score_table([pairs[i] for i in idx], [results[i] for i in idx])
            print_table(f"{name} half ({len(idx)} pairs, split seed {args.split_seed})", half)
            out[name] = {k: v.__dict__ for k, v in half.items()}

    if args.baseline_sample:
        k = min(args.baseline_sample, len(pairs))
        idx = sorted(rng.sample(range(len(pairs)), k))
        sample = [pairs[i] for i in idx]
        t0 = time.perf_counter()
        texts = read_texts(sample)
        with ProcessPoolExecutor(max_workers=args.workers) as ex:
            base = list(ex.map(_difflib_star, texts, chunksize=4))
        bwall = time.perf_counter() - t0
        t0 = time.perf_counter()
        ours_s = align_many(read_texts(sample), params, workers=args.workers)
        owall = time.perf_counter() - t0
        base_t, ours_t = score_table(sample, base), score_table(sample, ours_s)
        print_table(f"difflib baseline ({k} sampled pairs)", base_t)
        print_table(f"newstrace align, same {k} pairs", ours_t)
        print(f"sample wall: difflib {bwall:.1f} s ({k / bwall:.1f} pairs/s), newstrace {owall:.1f} s "
              f"({k / owall:.1f} pairs/s), speed-up x{bwall / owall:.1f}")
        out["baseline"] = {
            "sample": k,
            "difflib_wall_s": bwall,
            "ours_wall_s": owall,
            "difflib": {k2: v.__dict__ for k2, v in base_t.items()},
            "ours": {k2: v.__dict__ for k2, v in ours_t.items()},
        }
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")
    return out


if __name__ == "__main__":
    main()
