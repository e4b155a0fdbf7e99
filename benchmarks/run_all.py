"""`make bench`: run every benchmark in turn and collect the tables into benchmarks/results/latest.md.

    python benchmarks/run_all.py                 # everything (about an hour on 2 cores)
    python benchmarks/run_all.py --only pan13 synth_quality
    python benchmarks/run_all.py --quick         # smaller sizes, for a first look

Each benchmark is its own script with its own `--help`; this file only decides the arguments and gathers output.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def plan(shared: Path, quick: bool) -> dict[str, list[str]]:
    ptc = shared / "data" / "ptc-train"
    return {
        "ingest": ["ingest.py", "--pages", "100" if quick else "300", "--repeats", "3", "--shared", str(shared)],
        "pan13": ["pan13.py", "--data", str(shared / "data" / "pan13-train"), "--runs", "1" if quick else "3",
                  "--split", "--baseline-sample", "200", *(["--subset", "800"] if quick else [])],
        "synth_quality": ["synth_quality.py", "-n", "300" if quick else "1000", "--base", str(ptc / "train-articles")],
        "reuse_scale": ["reuse_scale.py", "--sizes", "--analyze",
                        *(["10000"] if quick else ["10000", "100000", "300000"]),
                        "--minhash", *(["10000"] if quick else ["10000", "100000"]),
                        "--query", "10000" if quick else "100000"],
        "e2e_datasketch": ["e2e_datasketch.py", "-n", "10000" if quick else "30000", "--runs", "1" if quick else "3",
                           "--workers", "2", "1"],
        "edits": ["edits.py", "--ptc", str(ptc / "train-articles"), "--pairs", "50"],
        "ptc_cv": ["ptc_cv.py", "--data", str(ptc), *(["--limit", "120"] if quick else [])],
        "ptc_cv_minilm": ["ptc_cv.py", "--data", str(ptc), "--minilm", *(["--limit", "120"] if quick else [])],
        "ptc_speed": ["ptc_speed.py"],
        "attributions": ["attributions.py", "--data", str(ptc / "train-articles")],
        "network_quality": ["network.py", "quality", "--seeds", "5" if quick else "20"],
        "network_speed": ["network.py", "speed", "--runs", "3"],
        "web_load": ["web_load.py", *(["--articles", "10000", "--urls", "600"] if quick else [])],
        "spark": ["spark.py", "--corpus", "demo"],
        "fuzz": ["fuzz.py", "--cases", "100" if quick else "1000"],
        "bombs": ["bombs.py", *(["--scale", "0.1"] if quick else [])],
        "crash": ["crash.py", "--kills", "5" if quick else "50"],
        "hostile": ["hostile.py"],
        "reader_speed": ["reader_speed.py"],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    ap.add_argument("--only", nargs="*", help="names of benchmarks to run")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "latest.md")
    args = ap.parse_args(argv)
    jobs = plan(args.shared, args.quick)
    names = args.only or list(jobs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    failed = []
    with args.out.open("w", encoding="utf-8") as report:
        report.write(f"# newstrace benchmarks ({time.strftime('%Y-%m-%d %H:%M')}, quick={args.quick})\n\n")
        for name in names:
            script, *rest = jobs[name]
            if not (HERE / script).exists():
                print(f"== {name}: {script} is missing, skipped", file=sys.stderr)
                continue
            print(f"== {name}", file=sys.stderr, flush=True)
            started = time.perf_counter()
            result = subprocess.run([sys.executable, str(HERE / script), *rest], capture_output=True, text=True)
            elapsed = time.perf_counter() - started
            report.write(f"## {name}\n\n`python benchmarks/{script} {' '.join(rest)}` ({elapsed:.0f} s)\n\n")
            report.write(result.stdout.strip() + "\n\n")
            print(result.stdout, flush=True)
            if result.returncode != 0:
                failed.append(name)
                report.write(f"FAILED (exit {result.returncode}):\n\n```\n{result.stderr[-3000:]}\n```\n\n")
                print(result.stderr[-3000:], file=sys.stderr)
    print(f"wrote {args.out}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
