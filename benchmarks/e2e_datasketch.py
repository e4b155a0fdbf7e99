"""End to end against datasketch: `newstrace analyze --stages ingest,reuse` and a MinHashLSH pipeline, one run.

    python benchmarks/e2e_datasketch.py -n 30000 --runs 3 --workers 2 1

A seeded synthetic corpus (`python -m newstrace.synth generate OUT -n N --seed 13`, filler on: the articles that
pad the corpus to N are n-gram prose) is generated once and cached under `--corpus-dir`. Then, interleaved, each
run times in a child process:

- newstrace: `newstrace analyze corpus.jsonl --out DIR --stages ingest,reuse --workers W --quiet`, as a new user
  would run it (start-up, JSONL parsing, store writes, candidates, alignment and the contract files included);
- datasketch: read the same JSONL, word 5-gram shingles of each text (lower-cased `\\w+` words), a 128-permutation
  `MinHash` per document, `MinHashLSH(threshold=0.5)`, every document inserted and then queried, each unordered
  pair emitted once.

Wall seconds, user+sys CPU seconds and peak RSS (the largest process of the child's tree, from `wait4`) are taken
per child. Both pair sets are scored against the synth truth's pairs (`newstrace.eval.synth_score.score_pairs`:
unordered pair precision, recall, F1). Medians over `--runs` are printed, with the ratio datasketch / newstrace.
Every newstrace run's output files (all but the store) are hashed: they must be byte-identical across runs and
across `--workers` values.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SKIP_HASH = {"newstrace.duckdb", "newstrace.duckdb.wal"}


def _child(cmd: list[str]) -> dict:
    """Run `cmd`; wall seconds, user+sys CPU of it and its waited-for descendants, peak RSS in MB, stderr."""
    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fo, stderr=fe, text=True)
        _, status, ru = os.wait4(proc.pid, 0)  # reaps the child itself, so its rusage is ours to read
        wall = time.perf_counter() - t0
        fo.seek(0)
        fe.seek(0)
        out, err = fo.read(), fe.read()
    code = proc.returncode = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({code}):\n{err[-3000:]}")
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss_mb": ru.ru_maxrss / 1024, "stdout": out,
            "stderr": err}


def ensure_corpus(n: int, seed: int, corpus_dir: Path, extra: list[str]) -> Path:
    tag = "-".join([f"synth-{n}-s{seed}", *[e.strip("-") for e in extra]])
    out = corpus_dir / tag
    if not (out / "truth.json").is_file():
        out.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "newstrace.synth", "generate", str(out), "-n", str(n),
                        "--seed", str(seed), *extra], check=True, stdout=subprocess.DEVNULL)
        print(f"generated {out} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return out


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:16]
            for p in sorted(folder.iterdir()) if p.is_file() and p.name not in SKIP_HASH}


def run_newstrace(corpus: Path, workers: int, tmp: Path, tag: str) -> tuple[dict, list[dict], dict[str, str]]:
    out = tmp / f"nt-{tag}"
    exe = Path(sys.executable).with_name("newstrace")
    cmd = [str(exe), "analyze", str(corpus), "--out", str(out), "--stages", "ingest,reuse", "--workers",
           str(workers), "--quiet"]
    m = _child(cmd)
    log = re.search(r"\((ingest [^)]*)\)", " ".join(m["stderr"].split()))
    m["stages"] = log.group(1) if log else ""
    rows = [json.loads(line) for line in (out / "reuse.jsonl").read_text(encoding="utf-8").splitlines() if line]
    digest = _digest(out)
    for p in out.iterdir():  # free the disk between runs; only the digests are kept
        p.unlink()
    out.rmdir()
    return m, rows, digest


def run_datasketch(corpus: Path, tmp: Path, tag: str) -> tuple[dict, list[dict]]:
    pairs_path = tmp / f"ds-{tag}.jsonl"
    m = _child([sys.executable, str(Path(__file__).resolve()), "--datasketch-child", str(corpus), str(pairs_path)])
    rows = [json.loads(line) for line in pairs_path.read_text(encoding="utf-8").splitlines() if line]
    pairs_path.unlink()
    return m, rows


def datasketch_child(corpus: Path, out: Path, num_perm: int = 128, threshold: float = 0.5, n: int = 5) -> None:
    """The baseline pipeline, as a datasketch user writes it (runs in its own process)."""
    from datasketch import MinHash, MinHashLSH

    word = re.compile(r"\w+")
    ids: list[str] = []
    sketches: list[MinHash] = []
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            words = word.findall(rec["text"].lower())
            shingles = {" ".join(words[i : i + n]).encode("utf-8") for i in range(max(1, len(words) - n + 1))}
            mh = MinHash(num_perm=num_perm)
            mh.update_batch(list(shingles))
            ids.append(rec["id"])
            sketches.append(mh)
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    for i, mh in zip(ids, sketches, strict=True):
        lsh.insert(i, mh)
    pairs: set[tuple[str, str]] = set()
    for i, mh in zip(ids, sketches, strict=True):
        for j in lsh.query(mh):
            if j != i:
                pairs.add((i, j) if i < j else (j, i))
    with out.open("w", encoding="utf-8") as fh:
        for a, b in sorted(pairs):
            fh.write(json.dumps({"source": a, "copy": b}) + "\n")


def _median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--n-articles", type=int, default=30000)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, nargs="+", default=[2], help="newstrace --workers values to run")
    ap.add_argument("--corpus-dir", type=Path, default=Path(tempfile.gettempdir()) / "newstrace-e2e")
    ap.add_argument("--no-datasketch", action="store_true", help="newstrace only (profiling, output checks)")
    ap.add_argument("--synth-args", default="", help="extra `synth generate` options, e.g. '--realism web'")
    ap.add_argument("--json", type=Path, default=None, help="also write the raw figures here")
    ap.add_argument("--datasketch-child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.datasketch_child:
        datasketch_child(*args.datasketch_child)
        return

    from newstrace.eval.synth_score import score_pairs

    folder = ensure_corpus(args.n_articles, args.seed, args.corpus_dir, args.synth_args.split())
    corpus, truth = folder / "corpus.jsonl", json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    results: dict[str, list[dict]] = {f"newstrace --workers {w}": [] for w in args.workers}
    if not args.no_datasketch:
        results["datasketch MinHashLSH"] = []
    digests: dict[str, list[dict[str, str]]] = {}
    with tempfile.TemporaryDirectory(prefix="nt-e2e-") as td:
        tmp = Path(td)
        for r in range(args.runs):
            for w in args.workers:
                m, rows, digest = run_newstrace(corpus, w, tmp, f"{r}-{w}")
                m.update(score_pairs(truth, rows))
                digests.setdefault(f"workers {w}", []).append(digest)
                results[f"newstrace --workers {w}"].append(m)
                print(f"run {r + 1} newstrace -w{w}: {m['wall']:.1f} s wall, {m['cpu']:.1f} s CPU, "
                      f"{m['rss_mb']:.0f} MB, F1 {m['f1']:.3f}; {m['stages']}", file=sys.stderr)
            if not args.no_datasketch:
                m, rows = run_datasketch(corpus, tmp, str(r))
                m.update(score_pairs(truth, rows))
                results["datasketch MinHashLSH"].append(m)
                print(f"run {r + 1} datasketch: {m['wall']:.1f} s wall, {m['cpu']:.1f} s CPU, "
                      f"{m['rss_mb']:.0f} MB, F1 {m['f1']:.3f}", file=sys.stderr)

    load = os.getloadavg()
    print(f"\n{args.n_articles} articles (seed {args.seed}{', ' + args.synth_args if args.synth_args else ''}), "
          f"medians of {args.runs} runs, load average now {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}\n")
    print("| pipeline | wall s | CPU s | peak RSS MB | pairs | P | R | F1 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, rows in results.items():
        rss = max(r["rss_mb"] for r in rows)
        print(f"| {name} | {_median(rows, 'wall'):.1f} | {_median(rows, 'cpu'):.1f} | {rss:.0f}"
              f" | {rows[0]['predicted']} | {rows[0]['precision']:.3f} | {rows[0]['recall']:.3f} | "
              f"{rows[0]['f1']:.3f} |")
    if "datasketch MinHashLSH" in results:
        ds = results["datasketch MinHashLSH"]
        print()
        for w in args.workers:
            nt = results[f"newstrace --workers {w}"]
            print(f"datasketch / newstrace --workers {w}: wall {_median(ds, 'wall') / _median(nt, 'wall'):.2f}x, "
                  f"CPU {_median(ds, 'cpu') / _median(nt, 'cpu'):.2f}x")
    flat = [d for ds in digests.values() for d in ds]
    same = all(d == flat[0] for d in flat)
    print(f"\nnewstrace outputs byte-identical across {len(flat)} runs and --workers {args.workers}: {same}")
    if not same:
        for k, ds in digests.items():
            for d in ds:
                print(f"  {k}: {d}")
    print(f"files hashed: {', '.join(sorted(flat[0]))}")
    for name, rows in results.items():
        if name.startswith("newstrace"):
            print(f"{name} stage log (run 1): {rows[0]['stages']}")
    if args.json:
        args.json.write_text(json.dumps({k: [{x: v for x, v in r.items() if x not in ("stdout", "stderr")}
                                             for r in rows] for k, rows in results.items()}, indent=1))
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
