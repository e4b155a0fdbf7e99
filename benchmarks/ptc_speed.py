"""Inference time of the technique model, per 3 KB of text, against a baseline model file in the same process.

    .venv/bin/python benchmarks/ptc_speed.py --data ../shared/data/ptc-train [--baseline OLD.npz --baseline-src DIR]

Prints the median CPU milliseconds per 3 KB over every 4th PTC article, for the shipped model and (optionally)
for an older model run by an older copy of the package (`--baseline-src` holds its `newstrace/`), alternating
rounds so that load on a shared machine hits both alike.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time


def _per_3kb(detect, model, texts: list[str]) -> float:
    out = []
    for t in texts:
        c = time.process_time()
        detect(t, model)
        out.append((time.process_time() - c) * 1000 / (len(t.encode("utf-8")) / 3072))
    return statistics.median(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/data/ptc-train")
    ap.add_argument("--baseline", help="an older model file")
    ap.add_argument("--baseline-src", help="folder holding the older newstrace package that reads --baseline")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    from newstrace.signals import train as T
    from newstrace.signals.techniques import detect_techniques, load_model

    texts = [a.text for a in T.load_ptc(args.data)[::4]]
    runs = [("shipped", detect_techniques, load_model())]
    if args.baseline and args.baseline_src:
        # load the old package under its own name: copy its module objects aside before restoring ours
        saved = {k: v for k, v in sys.modules.items() if k == "newstrace" or k.startswith("newstrace.")}
        for k in saved:
            del sys.modules[k]
        sys.path.insert(0, args.baseline_src)
        old = importlib.import_module("newstrace.signals.techniques")
        runs.append(("baseline", old.detect_techniques, old.load_model(args.baseline)))
        sys.path.pop(0)
        sys.modules.update(saved)
    for _name, detect, model in runs:  # warm caches
        detect(texts[0], model)
    res: dict[str, list[float]] = {name: [] for name, _, _ in runs}
    for _ in range(args.rounds):
        for name, detect, model in runs:
            res[name].append(_per_3kb(detect, model, texts))
    print(f"{len(texts)} PTC articles, {args.rounds} rounds: median CPU ms per 3 KB")
    for name, vals in res.items():
        print(f"  {name:10s} {statistics.median(vals):6.2f}")
    if "baseline" in res:
        print(f"  ratio shipped/baseline {statistics.median(res['shipped']) / statistics.median(res['baseline']):.2f}")


if __name__ == "__main__":
    main()
