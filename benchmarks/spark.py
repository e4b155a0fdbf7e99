"""Local `analyze` against `run_spark` on the same corpus: wall time per stage, and whether the files are identical.

    .venv/bin/python benchmarks/spark.py --corpus demo
    .venv/bin/python benchmarks/spark.py --corpus synth --n 200 --families spark

`demo` is examples/corpus (Spark reads the articles the local ingest kept, as HTML and WARC are extracted at
ingest); `synth` is `synth.generate` over the PTC train articles (seed 13), read by Spark as raw JSONL. Spark runs
in `local[2]`; the first Spark run includes the JVM's warm-up, so a second (warm) run is timed too.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PTC = REPO.parent / "shared" / "data" / "ptc-train" / "train-articles"
FILES = ("articles.jsonl", "reuse.jsonl", "families.jsonl", "edits.jsonl", "fingerprints.jsonl", "signals.jsonl",
         "sourcing.jsonl")


def _local(inputs: list[Path], out: Path, stages: list[str], workers: int) -> dict[str, float]:
    from newstrace.pipeline import Run, analyze
    from newstrace.store import Store

    with Store(":memory:") as store:
        run = analyze(Run(store=store, inputs=inputs, out_dir=out, workers=workers), stages)
    return dict(run.timings)


def _same(a: Path, b: Path) -> list[str]:
    return [f for f in FILES if (a / f).exists() and (a / f).read_bytes() != (b / f).read_bytes()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", choices=("demo", "synth"), default="demo")
    ap.add_argument("--n", type=int, default=200, help="synthetic corpus size")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--stages", default="ingest,reuse,edits", help="signals needs the shipped technique model")
    ap.add_argument("--families", choices=("driver", "spark"), default="driver")
    ap.add_argument("--runs", type=int, default=2, help="Spark runs in one session (the first is cold)")
    ap.add_argument("--workers", type=int, default=2, help="local engine processes")
    ap.add_argument("--master", default="local[2]")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="nt-spark-bench-"))
    try:
        return _bench(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _bench(args: argparse.Namespace, tmp: Path) -> int:
    from newstrace.spark import local_session, run_spark

    stages = [s for s in args.stages.split(",") if s]
    if args.corpus == "demo":
        inputs = [REPO / "examples" / "corpus"]
    else:
        from newstrace.synth.generate import generate

        inputs = [generate(tmp / "synth", n_articles=args.n, seed=args.seed, base_dir=PTC)]
    t = time.perf_counter()
    local_t = _local(inputs, tmp / "local", stages, args.workers)
    local_total = time.perf_counter() - t
    source = tmp / "local" / "articles.jsonl" if args.corpus == "demo" else inputs[0]

    t = time.perf_counter()
    spark = local_session(args.master, shuffle_partitions=4)
    spark.sparkContext.setLogLevel("ERROR")
    session_s = time.perf_counter() - t
    runs = []
    for k in range(args.runs):
        t = time.perf_counter()
        res = run_spark(source, tmp / f"spark{k}", stages, spark=spark, families=args.families)
        runs.append((time.perf_counter() - t, res, _same(tmp / "local", tmp / f"spark{k}")))
    spark.stop()

    print(f"corpus={args.corpus} n={res.lines.get('articles.jsonl')} pairs={res.lines.get('reuse.jsonl')} "
          f"stages={','.join(stages)} families={args.families} master={args.master}")
    print(f"{'engine':<14}{'total s':>9}  per stage (s)                               identical")
    print(f"{'local':<14}{local_total:>9.2f}  {_fmt(local_t):<44}")
    print(f"{'spark session':<14}{session_s:>9.2f}")
    for k, (secs, r, diff) in enumerate(runs):
        label = "spark cold" if k == 0 else f"spark warm{k}"
        print(f"{label:<14}{secs:>9.2f}  {_fmt(r.timings):<44} {'yes' if not diff else 'NO: ' + ','.join(diff)}")
    if len(runs) > 2:
        print(f"median warm: {statistics.median(s for s, _, _ in runs[1:]):.2f} s")
    return 0 if all(not d for _, _, d in runs) else 1


def _fmt(timings: dict[str, float]) -> str:
    return " ".join(f"{k}={v:.2f}" for k, v in timings.items())


if __name__ == "__main__":
    sys.exit(main())
