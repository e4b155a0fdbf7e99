"""Precision and recall of `find_attributions` against hand annotations of PTC training articles.

Usage:
    .venv/bin/python benchmarks/attributions.py [--gold DIR] [--data ../shared/data/ptc-train/train-articles]
        [--limit N] [--errors]

Two annotated sets: `annotations/attributions/` (30 articles, the development set the rules were revised on; the
default) and `annotations/attributions-heldout/` (15 other articles, annotated before the rules were revised and
never used for tuning: its figure is the honest one). `--errors` lists misses and false alarms; use it on the
development set only, so the held-out set stays unseen by the rules.

A predicted attribution matches a gold one when their character spans overlap and, in the kind-aware score, their
kinds are equal. Precision is the share of predictions that match some gold span, recall the share of gold spans
matched by some prediction; per-kind rows restrict both sides to that kind (for the kind-agnostic row the kind is
ignored). Sentence-level "no source at all" predictions (cue None) are not scored: the annotations mark explicit
attributions only (see annotations/attributions/README.md); their count is printed for reference. Also printed:
the median time per 3 KB of text.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from newstrace.model import Attribution
from newstrace.signals.attribution import find_attributions

HERE = Path(__file__).resolve().parent
ANNOTATIONS = HERE / "annotations" / "attributions"
DEFAULT_DATA = HERE.parent.parent / "shared" / "data" / "ptc-train" / "train-articles"
KINDS = ("named", "anonymous", "unattributed")


def load_gold(folder: Path = ANNOTATIONS) -> dict[str, list[Attribution]]:
    gold: dict[str, list[Attribution]] = {}
    for path in sorted(folder.glob("article*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        gold[doc["id"]] = [Attribution(**row) for row in doc["attributions"]]
    return gold


def _overlaps(a: Attribution, b: Attribution) -> bool:
    return a.start < b.end and b.start < a.end


def score(
    gold: dict[str, list[Attribution]], pred: dict[str, list[Attribution]], kind: str | None, aware: bool
) -> dict[str, float]:
    """Overlap precision/recall over all articles; `kind` restricts to one kind, `aware` requires equal kinds."""
    tp_p = n_p = tp_g = n_g = 0
    for doc, gs in gold.items():
        ps = pred.get(doc, [])
        gk = [g for g in gs if kind is None or g.kind == kind]
        pk = [p for p in ps if kind is None or p.kind == kind]
        # Matching against the full other side keeps the per-kind-agnostic rows honest: a gold "named" span found
        # as "anonymous" counts for the agnostic recall of named, not for its kind-aware recall.
        g_all = gs if not aware else gk
        p_all = ps if not aware else pk
        n_p += len(pk)
        n_g += len(gk)
        tp_p += sum(any(_overlaps(p, g) and (not aware or p.kind == g.kind) for g in g_all) for p in pk)
        tp_g += sum(any(_overlaps(p, g) and (not aware or p.kind == g.kind) for p in p_all) for g in gk)
    prec = tp_p / n_p if n_p else 0.0
    rec = tp_g / n_g if n_g else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"P": prec, "R": rec, "F1": f1, "pred": n_p, "gold": n_g}


def _print_errors(gold: dict[str, list[Attribution]], pred: dict[str, list[Attribution]], data: Path, out) -> None:
    for doc, gs in gold.items():
        text = (data / f"{doc}.txt").read_text(encoding="utf-8")
        ps = pred.get(doc, [])
        for g in gs:
            hits = [p for p in ps if _overlaps(p, g)]
            if not any(p.kind == g.kind for p in hits):
                got = hits[0].kind if hits else "-"
                print(f"MISS {doc} {g.kind:<12} got {got:<12} {text[g.start:g.end]!r}", file=out)
        for p in ps:
            hits = [g for g in gs if _overlaps(p, g)]
            if not any(p.kind == g.kind for g in hits):
                print(f"FA   {doc} {p.kind:<12} {text[p.start:p.end]!r}", file=out)


def run(
    data: Path, limit: int | None = None, out=sys.stdout, gold_dir: Path = ANNOTATIONS, errors: bool = False
) -> dict[str, dict[str, float]]:
    gold = load_gold(gold_dir)
    if limit:
        gold = dict(list(gold.items())[:limit])
    pred: dict[str, list[Attribution]] = {}
    unsourced = 0
    per_3kb: list[float] = []
    for doc in gold:
        text = (data / f"{doc}.txt").read_text(encoding="utf-8")
        t0 = time.perf_counter()
        atts = find_attributions(text)
        per_3kb.append((time.perf_counter() - t0) * 1000 * 3000 / max(len(text), 1))
        pred[doc] = [a for a in atts if a.cue is not None]
        unsourced += sum(a.cue is None for a in atts)
    results: dict[str, dict[str, float]] = {}
    if errors:
        _print_errors(gold, pred, data, out)
    print(f"{gold_dir.name}: {len(gold)} articles; {unsourced} sentence-level unsourced claims (not scored); "
          f"median {statistics.median(per_3kb):.2f} ms per 3 KB", file=out)
    print(f"{'variant':<12} {'kind':<13} {'P':>6} {'R':>6} {'F1':>6} {'pred':>5} {'gold':>5}", file=out)
    for aware in (True, False):
        for kind in (None, *KINDS):
            r = score(gold, pred, kind, aware)
            name = "kind-aware" if aware else "any-kind"
            results[f"{name}/{kind or 'all'}"] = r
            print(f"{name:<12} {kind or 'all':<13} {r['P']:6.3f} {r['R']:6.3f} {r['F1']:6.3f} "
                  f"{r['pred']:5d} {r['gold']:5d}", file=out)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of PTC article<ID>.txt files")
    ap.add_argument("--limit", type=int, default=None, help="score only the first N annotated articles")
    ap.add_argument("--gold", type=Path, default=ANNOTATIONS,
                    help="folder of annotation JSON files (default: the development set)")
    ap.add_argument("--errors", action="store_true", help="list misses and false alarms (development set only)")
    args = ap.parse_args()
    if not args.data.is_dir():
        sys.exit(f"no PTC articles at {args.data}")
    if not args.gold.is_dir():
        sys.exit(f"no annotations at {args.gold}")
    run(args.data, args.limit, gold_dir=args.gold, errors=args.errors)


if __name__ == "__main__":
    main()
