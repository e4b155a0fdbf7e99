"""`newstrace analyze --engine spark --stages ingest,reuse` at scale, on Spark local[2] and on a standalone cluster.

    .venv/bin/python benchmarks/spark_scale.py --sizes 100000 300000 1000000 --masters local standalone \\
        --corpus-dir /work/scratch/spark --work-dir /work/scratch/spark/runs
    .venv/bin/python benchmarks/spark_scale.py --sizes 20000 --check-local --corpus-dir ... --work-dir ...

Corpora are `python -m newstrace.synth generate CORPUS_DIR/synth-N -n N --seed 13` (made when missing): the planted
families plus n-gram filler that shares no passage with anything, so every reuse pair beyond the planted ones is a
false positive. Each run is the CLI in a subprocess: `local` is `--spark-master local[2]`, `standalone` is
`scripts/spark-cluster.sh run` (a master and one 2-core worker on this machine, started and stopped per run, so
its wall time includes their start). Reported per run: wall seconds, the CLI's own stage timings, peak memory
(the summed RSS of the CLI's process tree, which holds the local-mode JVM and its Python workers, plus the
cluster daemons' trees, which hold the executor and its Python workers; sampled every second from /proc), pair
precision and recall against `truth.json` (`eval.synth_score.score_pairs`), the cost per article and its growth
against the smallest size, and the load average over the run (the machine is shared).

`--check-local`: the local engine, Spark local[2] and the standalone cluster on the same corpus; the contract files
(`articles.jsonl`, `reuse.jsonl`, `families.jsonl`, and `reuse.parquet`'s table) must be identical. Exit 1 if not.
Results are appended to WORK_DIR/spark_scale.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COMPARED = ("articles.jsonl", "reuse.jsonl", "families.jsonl")


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read().decode("ascii", "replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])  # after the command name, which may hold spaces
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


class PeakMemory:
    """Samples the summed RSS of the process trees under `roots()` every `every` seconds, in a thread."""

    def __init__(self, roots, every: float = 1.0):
        self.roots, self.every, self.peak = roots, every, 0
        self.loads: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            kids = _children()
            seen: set[int] = set()
            todo = list(self.roots())
            while todo:
                pid = todo.pop()
                if pid not in seen:
                    seen.add(pid)
                    todo.extend(kids.get(pid, []))
            self.peak = max(self.peak, sum(_rss(p) for p in seen))
            self.loads.append(os.getloadavg()[0])
            self._stop.wait(self.every)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def corpus(corpus_dir: Path, n: int) -> Path:
    folder = corpus_dir / f"synth-{n}"
    if not (folder / "truth.json").exists():
        print(f"generating {folder} ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "newstrace.synth", "generate", str(folder), "-n", str(n),
                        "--seed", "13"], check=True)
    return folder


def _pids(pid_dir: Path) -> list[int]:
    out = []
    for f in pid_dir.glob("*.pid"):
        try:
            out.append(int(f.read_text().strip()))
        except (OSError, ValueError):
            pass
    return out


def run_cli(folder: Path, out: Path, master: str, stages: str, work: Path, driver_memory: str,
            executor_memory: str) -> dict:
    """One `analyze` run in a subprocess; wall seconds, the CLI's timings line, peak memory and load."""
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ)
    common = [str(folder / "corpus.jsonl"), "--out", str(out), "--stages", stages, "--quiet"]
    cluster_pids = work / "cluster" / "pids"
    if master == "standalone":
        env.update(NT_SPARK_WORK=str(work / "cluster"), NT_SPARK_EXECUTOR_MEMORY=executor_memory,
                   NT_SPARK_DRIVER_MEMORY=driver_memory, PYTHON=sys.executable)
        cmd = [str(REPO / "scripts" / "spark-cluster.sh"), "run", *common]
    elif master == "engine-local":
        cmd = [str(BIN / "newstrace"), "analyze", *common, "--engine", "local", "--workers", "2"]
    else:
        local_dir = work / "local-dirs"
        local_dir.mkdir(parents=True, exist_ok=True)
        cmd = [str(BIN / "newstrace"), "analyze", *common, "--engine", "spark", "--spark-master", "local[2]",
               "--spark-conf", f"spark.driver.memory={driver_memory}", "--spark-conf", "spark.driver.maxResultSize=2g",
               "--spark-conf", f"spark.local.dir={local_dir}"]
    log = work / f"{out.name}.log"
    started = time.perf_counter()
    load_before = os.getloadavg()
    with log.open("w") as err:
        proc = subprocess.Popen(cmd, stdout=err, stderr=subprocess.STDOUT, env=env)
        with PeakMemory(lambda: [proc.pid, *(_pids(cluster_pids) if master == "standalone" else [])]) as mem:
            rc = proc.wait()
    wall = time.perf_counter() - started
    text = log.read_text(errors="replace")
    # the CLI's closing line, "N articles, P reuse pairs, F families (ingest 1.5s, spark 166.6s); wrote OUT",
    # which the terminal width may wrap
    summary = re.search(r"reuse pairs, \d+ families \(([^)]*)\)", text)
    timings = {k: float(v) for k, v in re.findall(r"(\w+) ([\d.]+)s", summary.group(1) if summary else "")}
    return {"rc": rc, "wall_s": round(wall, 1), "timings": timings, "peak_rss_gib": round(mem.peak / 2**30, 2),
            "load_start": round(load_before[0], 2), "load_mean": round(sum(mem.loads) / max(1, len(mem.loads)), 2),
            "log": str(log)}


def score(folder: Path, out: Path) -> dict:
    from newstrace.eval.synth_score import score_pairs

    truth = json.loads((folder / "truth.json").read_text("utf-8"))
    with (out / "reuse.jsonl").open(encoding="utf-8") as fh:
        reuse = [json.loads(line) for line in fh if line.strip()]
    return score_pairs(truth, reuse)


def check_local(args: argparse.Namespace) -> int:
    import pyarrow.parquet as pq

    n = args.sizes[0]
    folder = corpus(args.corpus_dir, n)
    outs = {}
    for master in ("engine-local", "local", "standalone"):
        out = args.work_dir / f"check-{n}-{master}"
        res = run_cli(folder, out, master, args.stages, args.work_dir, args.driver_memory, args.executor_memory)
        print(f"{master:<13} rc={res['rc']} wall={res['wall_s']}s {res['timings']}", flush=True)
        if res["rc"] != 0:
            print(f"failed: see {res['log']}")
            return 1
        outs[master] = out
    base = outs["engine-local"]
    same = True
    for master in ("local", "standalone"):
        diff = [f for f in COMPARED if (base / f).read_bytes() != (outs[master] / f).read_bytes()]
        if not pq.read_table(base / "reuse.parquet").equals(pq.read_table(outs[master] / "reuse.parquet")):
            diff.append("reuse.parquet")
        lines = {f: sum(1 for _ in (base / f).open()) for f in COMPARED}
        print(f"local engine vs spark {master}: {'identical' if not diff else 'DIFFERENT: ' + ','.join(diff)} "
              f"({lines})")
        same = same and not diff
    _append(args.work_dir, {"check_local": n, "identical": same, "commit": _commit()})
    if not args.keep:
        for out in outs.values():
            shutil.rmtree(out, ignore_errors=True)
    return 0 if same else 1


def _commit() -> str:
    done = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip()


def _append(work: Path, row: dict) -> None:
    with (work / "spark_scale.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    ap.add_argument("--masters", nargs="+", choices=("local", "standalone"), default=["local", "standalone"])
    ap.add_argument("--corpus-dir", type=Path, required=True, help="holds synth-N/ (generated when missing)")
    ap.add_argument("--work-dir", type=Path, required=True, help="outputs, logs, shuffle files, results")
    ap.add_argument("--stages", default="ingest,reuse")
    ap.add_argument("--driver-memory", default="6g")
    ap.add_argument("--executor-memory", default="8g")
    ap.add_argument("--check-local", action="store_true", help="local engine vs Spark local vs standalone")
    ap.add_argument("--keep", action="store_true", help="keep the analyze outputs")
    args = ap.parse_args()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    if args.check_local:
        return check_local(args)
    rows = []
    for n in args.sizes:
        folder = corpus(args.corpus_dir, n)
        for master in args.masters:
            out = args.work_dir / f"out-{n}-{master}"
            res = run_cli(folder, out, master, args.stages, args.work_dir, args.driver_memory, args.executor_memory)
            row = {"n": n, "master": master, **res, "commit": _commit()}
            if res["rc"] == 0:
                pairs = score(folder, out)
                row.update(pairs=pairs["predicted"], true=pairs["true"], precision=round(pairs["precision"], 4),
                           recall=round(pairs["recall"], 4))
            if not args.keep:
                shutil.rmtree(out, ignore_errors=True)
            _append(args.work_dir, row)
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(table(rows))
    return 0 if all(r["rc"] == 0 for r in rows) else 1


def table(rows: list[dict]) -> str:
    first = {}
    for r in sorted(rows, key=lambda r: r["n"]):
        if r["rc"] == 0:
            first.setdefault(r["master"], r)
    out = ["| articles | master | wall s | ingest s | spark s | peak RSS GiB | pairs | P | R | ms/article | "
           "growth vs smallest | load |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["rc"] != 0:
            out.append(f"| {r['n']:,} | {r['master']} | failed (rc {r['rc']}) after {r['wall_s']} | | | "
                       f"{r['peak_rss_gib']} | | | | | | {r['load_mean']} |")
            continue
        per = 1000 * r["wall_s"] / r["n"]
        base = first[r["master"]]
        growth = per / (1000 * base["wall_s"] / base["n"])
        t = r["timings"]
        out.append(f"| {r['n']:,} | {r['master']} | {r['wall_s']} | {t.get('ingest', '')} | {t.get('spark', '')} | "
                   f"{r['peak_rss_gib']} | {r['pairs']} | {r['precision']} | {r['recall']} | {per:.2f} | "
                   f"{growth:.2f}x | {r['load_mean']} |")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
