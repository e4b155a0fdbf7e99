"""Load test of `newstrace serve` on a large synthetic store: p50/p95/p99 latency per page.

Builds (or reuses) a store of N random articles with families, reuse pairs, edits and signals rows, serves it
with uvicorn in a subprocess on a free loopback port, warms every page once, then runs a bounded load: C
concurrent clients sharing a fixed number of requests, spread evenly over the pages. Target: p95 <= 100 ms.

python benchmarks/web_load.py                          # 100k articles, 20 clients, 2000 requests python
benchmarks/web_load.py --articles 20000 --requests 600"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import numpy as np

WORDS = ("government minister said police report attack border town officials claimed sources analysts "
         "village workers depot blast explosion talks crossing river farmers union strike port convoy grain "
         "trader energy prices households winter security forces brigade militants terrorists "
         "investigators").split()


def build_store(path: Path, n: int, seed: int) -> None:
    from newstrace.model import Article, Family, Passage, ReusePair
    from newstrace.store import Store

    rng = random.Random(seed)
    t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    outlets = [f"outlet{i:03d}.example" for i in range(150)]
    with Store(path) as store:
        batch: list[Article] = []
        for i in range(n):
            text = "\n".join(" ".join(rng.choices(WORDS, k=40)) + "." for _ in range(6))
            batch.append(Article(id=f"a{i:06d}", text=text, url=f"https://{outlets[i % 150]}/{i}",
                                 outlet=outlets[rng.randrange(150)], published=t0 + timedelta(minutes=7 * i),
                                 title=" ".join(rng.choices(WORDS, k=7)).capitalize()))
            if len(batch) == 10_000:
                store.add_articles(batch)
                batch = []
        store.add_articles(batch)
        pairs, families, edits, signals = [], [], [], []
        for f in range(n // 20):  # a family per 20 articles, 2-6 members
            members = sorted(rng.sample(range(n), rng.randint(2, 6)))
            ids = [f"a{m:06d}" for m in members]
            families.append(Family(f"F{f:05d}", ids[0], ids))
            for k in range(1, len(ids)):
                pairs.append(ReusePair(ids[k - 1], ids[k], 0.9, "dated", [Passage(0, 200, 0, 200)]))
                spans = [[10, 30], [60, 80]]
                sys_rows = [{"kind": "insert", "source_text": "", "copy_text": ", backed by X,", "count": 2,
                             "copy_spans": spans}]
                ed = [{"kind": "insert", "source_start": 10, "source_end": 10, "copy_start": a, "copy_end": b,
                       "source_text": "", "copy_text": ", backed by X,"} for a, b in spans]
                edits.append((ids[k - 1], ids[k], json.dumps(ed), json.dumps(sys_rows)))
                signals.append((ids[k], json.dumps([{"technique": "Loaded_Language", "start": 0, "end": 20,
                                                     "score": 0.7}]), json.dumps([]),
                                json.dumps([{"phrase": ", backed by X,", "anchor": "brigade", "count": 3,
                                             "spans": spans, "seams": []}]), json.dumps(None)))
        store.replace_reuse(pairs, families)
        for table, rows in (("edits", edits), ("signals", signals)):
            import pyarrow as pa

            cols = ["source", "copy", "edits", "systematic"] if table == "edits" else \
                ["id", "techniques", "attributions", "injections", "sourcing"]
            store.con.register("_rows", pa.table({c: [r[i] for r in rows] for i, c in enumerate(cols)}))
            store.con.execute(f"DELETE FROM {table}")
            key = "source, copy" if table == "edits" else "id"
            store.con.execute(f"INSERT INTO {table} SELECT DISTINCT ON ({key}) * FROM _rows")
            store.con.unregister("_rows")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pages(db: Path, seed: int, n: int) -> dict[str, list[str]]:
    """Each page name with the URLs to draw from (random ids for the per-item pages)."""
    import duckdb

    rng = random.Random(seed)
    con = duckdb.connect(str(db), read_only=True)
    fams = [r[0] for r in con.execute("SELECT family FROM families USING SAMPLE 200 ROWS").fetchall()]
    prs = con.execute("SELECT source, copy FROM reuse_pairs USING SAMPLE 200 ROWS").fetchall()
    con.close()
    arts = [f"a{rng.randrange(n):06d}" for _ in range(200)]
    return {
        "overview /": ["/"],
        "families": ["/families", "/families?page=7"],
        "family": [f"/family/{f}" for f in fams],
        "family.json": [f"/family/{f}.json" for f in fams],
        "pair": [f"/pair?source={s}&copy={c}" for s, c in prs],
        "articles": ["/articles", "/articles?page=40"],
        "articles?q=": [f"/articles?q={w}" for w in WORDS[:20]],
        "article": [f"/article/{a}" for a in arts],
        "article.json": [f"/article/{a}.json" for a in arts],
        "outlets": ["/outlets"],
        "network": ["/network"],
    }


def run_load(
    base: str, table: dict[str, list[str]], clients: int, requests: int, seed: int
) -> dict[str, list]:
    rng = random.Random(seed)
    names = list(table)
    jobs = [(names[i % len(names)], rng.choice(table[names[i % len(names)]])) for i in range(requests)]
    rng.shuffle(jobs)
    lock = threading.Lock()
    timings: dict[str, list[float]] = {n: [] for n in names}
    failures: list[str] = []

    def worker() -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            while True:
                with lock:
                    if not jobs:
                        return
                    name, url = jobs.pop()
                t = time.perf_counter()
                r = client.get(url)
                dt = time.perf_counter() - t
                with lock:
                    timings[name].append(dt)
                    if r.status_code != 200:
                        failures.append(f"{r.status_code} {url}")

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"timings": timings, "failures": failures}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, default=Path("/tmp/newstrace-web-load.duckdb"))
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()

    if args.rebuild and args.db.exists():
        args.db.unlink()
    if not args.db.exists():
        t = time.perf_counter()
        build_store(args.db, args.articles, args.seed)
        took = time.perf_counter() - t
        print(f"built {args.db} ({args.articles} articles) in {took:.1f}s", file=sys.stderr)
    import duckdb

    n = duckdb.connect(str(args.db), read_only=True).execute("SELECT count(*) FROM articles").fetchall()[0][0]
    port = free_port()
    code = ("import uvicorn, sys; from newstrace.web.app import create_app; "
            f"uvicorn.run(create_app({str(args.db)!r}), host='127.0.0.1', port={port}, log_level='warning')")
    server = subprocess.Popen([sys.executable, "-c", code], env={**os.environ})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                httpx.get(base + "/favicon.ico", timeout=2)
                break
            except httpx.HTTPError:
                if time.time() > deadline or server.poll() is not None:
                    raise SystemExit("server did not start") from None
                time.sleep(0.3)
        table = pages(args.db, args.seed, n)
        warm = time.perf_counter()
        for urls in table.values():  # first hits fill the app's caches (overview, network, outlets)
            httpx.get(base + urls[0], timeout=300)
        print(f"warm-up {time.perf_counter() - warm:.1f}s", file=sys.stderr)
        started = time.perf_counter()
        res = run_load(base, table, args.clients, args.requests, args.seed)
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(10)
    print(f"{n} articles, {args.clients} clients, {args.requests} requests in {wall:.1f}s "
          f"({args.requests / wall:.0f} req/s); failures: {len(res['failures'])}")
    print(f"{'page':<14} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name, ts in res["timings"].items():
        a = np.array(ts) * 1000
        print(f"{name:<14} {len(a):>5} {np.percentile(a, 50):>8.1f} {np.percentile(a, 95):>8.1f} "
              f"{np.percentile(a, 99):>8.1f}")
    if res["failures"]:
        print("failures:", res["failures"][:5])


if __name__ == "__main__":
    main()
