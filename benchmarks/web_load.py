"""Load test of `newstrace serve` on a large synthetic store: p50/p95/p99 latency per page, cold and warm.

Builds (or reuses) a store of N random articles with families, reuse pairs, edits and signals rows, and draws
a realistic mix of U distinct URLs (articles, families, pairs, their .json twins, list pages, searches, the
overview and network). For each client count it starts a fresh server (uvicorn in a subprocess on a free
loopback port, so its page cache starts empty), then runs two passes over the same URLs in shuffled order:
cold (every URL requested for the first time) and warm (each a second time). Target: p95 <= 100 ms with 20
clients.

The load generator is a raw asyncio HTTP/1.1 client with one keep-alive connection per client: it shares the
machine's cores with the server, so it must cost little. Every phase stops at `--max-seconds`.

python benchmarks/web_load.py                                   # 100k articles, 2,000 URLs, 1 and 20 clients
python benchmarks/web_load.py --articles 10000 --urls 600 --clients 20 --workers 2"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
from collections import deque
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

WORDS = (
    "government minister said police report attack border town officials claimed sources analysts "
    "village workers depot blast explosion talks crossing river farmers union strike port convoy grain "
    "trader energy prices households winter security forces brigade militants terrorists "
    "investigators"
).split()


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
            batch.append(
                Article(
                    id=f"a{i:06d}",
                    text=text,
                    url=f"https://{outlets[i % 150]}/{i}",
                    outlet=outlets[rng.randrange(150)],
                    published=t0 + timedelta(minutes=7 * i),
                    title=" ".join(rng.choices(WORDS, k=7)).capitalize(),
                )
            )
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
                sys_rows = [
                    {
                        "kind": "insert",
                        "source_text": "",
                        "copy_text": ", backed by X,",
                        "count": 2,
                        "copy_spans": spans,
                    }
                ]
                ed = [
                    {
                        "kind": "insert",
                        "source_start": 10,
                        "source_end": 10,
                        "copy_start": a,
                        "copy_end": b,
                        "source_text": "",
                        "copy_text": ", backed by X,",
                    }
                    for a, b in spans
                ]
                edits.append((ids[k - 1], ids[k], json.dumps(ed), json.dumps(sys_rows)))
                signals.append(
                    (
                        ids[k],
                        json.dumps([{"technique": "Loaded_Language", "start": 0, "end": 20, "score": 0.7}]),
                        json.dumps([]),
                        json.dumps(
                            [
                                {
                                    "phrase": ", backed by X,",
                                    "anchor": "brigade",
                                    "count": 3,
                                    "spans": spans,
                                    "seams": [],
                                }
                            ]
                        ),
                        json.dumps(None),
                    )
                )
        store.replace_reuse(pairs, families)
        for table, rows in (("edits", edits), ("signals", signals)):
            import pyarrow as pa

            cols = (
                ["source", "copy", "edits", "systematic"]
                if table == "edits"
                else ["id", "techniques", "attributions", "injections", "sourcing"]
            )
            store.con.register("_rows", pa.table({c: [r[i] for r in rows] for i, c in enumerate(cols)}))
            store.con.execute(f"DELETE FROM {table}")
            key = "source, copy" if table == "edits" else "id"
            store.con.execute(f"INSERT INTO {table} SELECT DISTINCT ON ({key}) * FROM _rows")
            store.con.unregister("_rows")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def url_mix(db: Path, n_urls: int, seed: int) -> list[tuple[str, str]]:
    """`n_urls` distinct (page name, URL) pairs in a fixed proportion: many articles, families and pairs, some
    list pages and searches, and the corpus-wide pages a few times each (they are one URL apiece)."""
    import duckdb

    rng = random.Random(seed)
    share = {
        "article": 0.26,
        "article.json": 0.10,
        "family": 0.16,
        "family.json": 0.06,
        "pair": 0.18,
        "pair.json": 0.04,
        "articles": 0.06,
        "articles?q=": 0.08,
        "families": 0.04,
    }
    want = {k: max(1, int(v * n_urls)) for k, v in share.items()}
    con = duckdb.connect(str(db), read_only=True)
    n_art = con.execute("SELECT count(*) FROM articles").fetchall()[0][0]
    fams = [
        r[0]
        for r in con.execute(
            f"SELECT family FROM families ORDER BY hash(family || '{seed}') "
            f"LIMIT {want['family'] + want['family.json']}"
        ).fetchall()
    ]
    prs = con.execute(
        f"SELECT source, copy FROM reuse_pairs ORDER BY hash(source || copy || '{seed}') "
        f"LIMIT {want['pair'] + want['pair.json']}"
    ).fetchall()
    ids = [
        r[0]
        for r in con.execute(
            f"SELECT id FROM articles ORDER BY hash(id || '{seed}') "
            f"LIMIT {want['article'] + want['article.json']}"
        ).fetchall()
    ]
    n_fam = con.execute("SELECT count(*) FROM families").fetchall()[0][0]
    con.close()
    urls = [("article", f"/article/{a}") for a in ids[: want["article"]]]
    urls += [("article.json", f"/article/{a}.json") for a in ids[want["article"] :]]
    urls += [("family", f"/family/{f}") for f in fams[: want["family"]]]
    urls += [("family.json", f"/family/{f}.json") for f in fams[want["family"] :]]
    urls += [("pair", f"/pair?source={s}&copy={c}") for s, c in prs[: want["pair"]]]
    urls += [("pair.json", f"/pair.json?source={s}&copy={c}") for s, c in prs[want["pair"] :]]
    pages = max(1, n_art // 50)
    urls += [
        ("articles", f"/articles?page={p}")
        for p in rng.sample(range(1, pages + 1), min(pages, want["articles"]))
    ]
    queries = [(w, p) for w in WORDS for p in range(1, 6)] + [
        (f"{a} {b}", 1) for a in WORDS[:12] for b in WORDS[:12]
    ]
    urls += [
        ("articles?q=", f"/articles?q={q.replace(' ', '+')}&page={p}")
        for q, p in rng.sample(queries, min(len(queries), want["articles?q="]))
    ]
    fpages = max(1, n_fam // 50)
    urls += [
        ("families", f"/families?page={p}")
        for p in rng.sample(range(1, fpages + 1), min(fpages, want["families"]))
    ]
    urls += [
        ("overview /", "/"),
        ("index.json", "/index.json"),
        ("outlets", "/outlets"),
        ("outlets.json", "/outlets.json"),
        ("network", "/network"),
        ("network.json", "/network.json"),
    ]
    return urls[:n_urls] if len(urls) > n_urls else urls


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, url: str) -> tuple[int, int]:
    """One GET on a kept-alive connection: (status, body bytes). Handles Content-Length and chunked bodies."""
    writer.write(f"GET {url} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
    if "content-length" in headers:
        n = int(headers["content-length"])
        await reader.readexactly(n)
        return status, n
    total = 0
    while headers.get("transfer-encoding") == "chunked":
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        await reader.readexactly(size + 2)
        total += size
        if size == 0:
            break
    return status, total


async def _phase(port: int, jobs: list[tuple[str, str]], clients: int, max_seconds: float) -> dict:
    queue = deque(jobs)
    timings: dict[str, list[float]] = {}
    failures: list[str] = []
    deadline = time.perf_counter() + max_seconds

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while queue and time.perf_counter() < deadline:
                name, url = queue.popleft()
                t = time.perf_counter()
                status, _ = await _get(reader, writer, url)
                timings.setdefault(name, []).append(time.perf_counter() - t)
                if status != 200:
                    failures.append(f"{status} {url}")
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    wall = time.perf_counter() - started
    return {"timings": timings, "failures": failures, "wall": wall, "left": len(queue)}


def start_server(db: Path, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "newstrace.web.app:app_from_env",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--workers",
        str(workers),
    ]
    server = subprocess.Popen(cmd, env={**os.environ, "NEWSTRACE_DB": str(db)})
    deadline = time.time() + 300
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /favicon.ico HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 204"):
                    break
        except OSError:
            pass
        if time.time() > deadline or server.poll() is not None:
            server.kill()
            raise SystemExit("server did not start")
        time.sleep(0.3)
    if workers > 1:
        time.sleep(2.0 * workers)  # every worker loads its lookups; the first answer proves only one ready
    return server, port


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the server process and its worker children (Linux /proc): the cost of a request
    on a shared machine, where wall-clock latency also counts other people's jobs."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def stats(ts: list[float]) -> tuple[float, float, float]:
    a = np.array(ts) * 1000
    return float(np.percentile(a, 50)), float(np.percentile(a, 95)), float(np.percentile(a, 99))


def report(label: str, res: dict, n_req: int) -> list[str]:
    done = sum(len(v) for v in res["timings"].values())
    lines = [
        f"\n### {label}: {done}/{n_req} requests in {res['wall']:.1f}s ({done / res['wall']:.0f} req/s), "
        f"server CPU {1000 * res.get('cpu', 0) / max(done, 1):.1f} ms/request, "
        f"failures: {len(res['failures'])}"
        + (f", stopped early ({res['left']} left)" if res["left"] else ""),
        f"{'page':<14} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}",
    ]
    everything = [t for v in res["timings"].values() for t in v]
    for name, ts in sorted(res["timings"].items()) + [("ALL", everything)]:
        if ts:
            p50, p95, p99 = stats(ts)
            lines.append(f"{name:<14} {len(ts):>5} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f}")
    if res["failures"]:
        lines.append("failures: " + ", ".join(res["failures"][:5]))
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, help="store to serve (default /tmp/newstrace-web-load-N.duckdb)")
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--urls", type=int, default=2000, help="distinct URLs in the mix")
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 20])
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument("--max-seconds", type=float, default=120, help="stop each phase after this long")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()
    db = args.db or Path(f"/tmp/newstrace-web-load-{args.articles}.duckdb")

    if args.rebuild and db.exists():
        db.unlink()
    if not db.exists():
        t = time.perf_counter()
        build_store(db, args.articles, args.seed)
        print(f"built {db} ({args.articles} articles) in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    urls = url_mix(db, args.urls, args.seed)
    out = [f"web load: {db.name}, {len(urls)} distinct URLs, workers={args.workers}"]
    for clients in args.clients:
        t = time.perf_counter()
        server, port = start_server(db, args.workers)
        startup = time.perf_counter() - t
        try:
            for phase in ("cold", "warm"):
                jobs = urls[:]
                random.Random(f"{args.seed}-{phase}").shuffle(jobs)
                cpu = cpu_seconds(server.pid)
                res = asyncio.run(_phase(port, jobs, clients, args.max_seconds))
                res["cpu"] = cpu_seconds(server.pid) - cpu
                out += report(
                    f"{clients} client{'s' if clients > 1 else ''}, {phase} (server start {startup:.1f}s)",
                    res,
                    len(jobs),
                )
        finally:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
    print("\n".join(out))


if __name__ == "__main__":
    main()
