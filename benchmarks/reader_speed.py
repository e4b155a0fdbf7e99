"""CPU time of the JSONL and CSV readers alone (`read_file`, no store): what the reading guards cost.

Builds a JSONL file and a CSV file of `--records` synthetic records (seeded) and reports the median CPU seconds of
`--repeats` full reads of each. To compare two versions, run it under each and compare the figures, for example:

    python benchmarks/reader_speed.py                               # this checkout
    PYTHONPATH=../main/src python benchmarks/reader_speed.py        # another checkout's newstrace
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

WORDS = "council harbour minister report officials statement week region market storm repairs budget vote".split()


def build(folder: Path, n: int, seed: int) -> tuple[Path, Path]:
    rnd = random.Random(seed)
    rows = [{"id": f"r{i}", "url": f"https://o{i % 50}.example/{i}", "published": "2025-03-04T08:00:00Z",
             "title": f"T {i}", "text": " ".join(rnd.choice(WORDS) for _ in range(500))} for i in range(n)]
    jsonl, table = folder / "records.jsonl", folder / "records.csv"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    with table.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return jsonl, table


def main(argv: list[str] | None = None) -> int:
    import newstrace
    from newstrace.ingest.sources import read_file

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=40_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="reader-speed-") as tmp:
        files = build(Path(tmp), args.records, args.seed)
        print(f"newstrace from {Path(newstrace.__file__).parent}")
        print("| file | records | median CPU s | µs a record |")
        print("|---|---:|---:|---:|")
        for path in files:
            times = []
            for _ in range(args.repeats):
                started = time.process_time()
                n = sum(1 for _ in read_file(path))
                times.append(time.process_time() - started)
            cpu = statistics.median(times)
            print(f"| {path.suffix[1:]} | {n} | {cpu:.3f} | {1e6 * cpu / n:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
