"""Load test of `newstrace serve` on a large synthetic store: p50/p95/p99 latency, cold and warm.

Builds (or reuses) a store of N random articles with families, reuse pairs, edits and signals rows, and draws
a realistic mix of U distinct URLs (articles, families, pairs, their .json twins, list pages, searches, the
overview and network). For each load generator, worker count and client count it starts a fresh server
(`newstrace serve` in a subprocess on a free loopback port, so its page cache starts empty), then runs two passes
over the same URLs in shuffled order: cold (every URL requested exactly once, for the first time) and warm (each a
second time). While the first warm pass runs, limit probes (a 9 KB URL, 40 KB of headers, a 3 MB body, path
traversal, a text check) must get their expected answers. Targets: cold p95 <= 100 ms with 20 clients, and no
error with 100 clients; the exit status is 1 on any error or wrong probe answer.

Two load generators, both closed-loop with one keep-alive HTTP/1.1 connection per client:
- wrk (`apt-get install wrk`), driven by web_load.lua: written in C, it leaves the CPUs to the server. It
  gives the headline figures. Its Lua script hands every URL out once, as the Python client does.
- a raw asyncio client in this file: per-page tables, but it costs about as much CPU as the server's cheap
  pages, which it then competes with. Used alone when wrk is not installed (the output says so).
"Server CPU" is the user+system time of the uvicorn process(es) per request, read from /proc: on a shared
machine it is steadier than latency. Every phase stops at `--max-seconds`.

python benchmarks/web_load.py              # 100k articles, 2,000 URLs, 20 and 100 clients, 1 and 2 workers
python benchmarks/web_load.py --client wrk --clients 20 --workers 1 --repeats 5
python benchmarks/web_load.py --articles 10000 --urls 600  # quick
python benchmarks/web_load.py --in-process                 # CPU per cold page, no HTTP"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

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
    # `newstrace serve` itself, so the figures include its limits (uvicorn options, request limits, check gate)
    cmd = [sys.executable, "-m", "newstrace.cli", "serve", "--db", str(db), "--port", str(port),
           "--workers", str(workers)]
    server = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /favicon.ico HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
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


def wrk_phase(port: int, jobs: list[tuple[str, str]], clients: int, max_seconds: float, threads: int) -> dict:
    """One pass of `jobs` with wrk (web_load.lua): every URL once, `clients` keep-alive connections. wrk runs
    until it is interrupted, so we wait for each of its threads to report its share done, then stop it."""
    with tempfile.TemporaryDirectory(prefix="web-load-") as tmp:
        url_file, done_prefix = Path(tmp) / "urls.txt", Path(tmp) / "done"
        url_file.write_text("".join(u + "\n" for _, u in jobs), encoding="utf-8")
        threads = max(1, min(threads, clients))
        cmd = [
            "wrk", "-t", str(threads), "-c", str(clients), "-d", f"{int(max_seconds) + 60}s",
            "--timeout", "30s", "-s", str(HERE / "web_load.lua"), f"http://127.0.0.1:{port}",
            "--", str(url_file), str(done_prefix), str(threads),
        ]  # fmt: skip
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        marks = [Path(f"{done_prefix}.{k}") for k in range(threads)]
        while not all(m.exists() for m in marks) and proc.poll() is None:
            if time.perf_counter() - started > max_seconds:
                break
            time.sleep(0.005)
        wall = time.perf_counter() - started
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
        answered = failures = 0
        for m in marks:
            if m.exists():
                a, f = m.read_text().split()
                answered, failures = answered + int(a), failures + int(f)
    line = next((ln for ln in out.splitlines() if ln.startswith("WRK ")), None)
    if line is None:
        raise SystemExit(f"wrk gave no summary:\n{out}")
    got = dict(kv.split("=") for kv in line.split()[1:])
    errors = sum(int(v) for k, v in got.items() if k.startswith("errors_") and k != "errors_status")
    return {
        "done": int(got["requests"]),
        "wall": wall,
        "left": len(jobs) - answered,
        "p": tuple(int(got[k]) / 1000 for k in ("p50_us", "p95_us", "p99_us")),
        "failures": failures + errors,
    }


def python_phase(port: int, jobs: list[tuple[str, str]], clients: int, max_seconds: float) -> dict:
    res = asyncio.run(_phase(port, jobs, clients, max_seconds))
    everything = [t for v in res["timings"].values() for t in v]
    res["done"] = len(everything)
    res["p"] = stats(everything) if everything else (float("nan"),) * 3
    res["failures"] = len(res["failures"])
    return res


def breakdown(res: dict) -> list[str]:
    """The Python client's per-page table."""
    lines = [f"{'page':<14} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"]
    everything = [t for v in res["timings"].values() for t in v]
    for name, ts in sorted(res["timings"].items()) + [("ALL", everything)]:
        if ts:
            p50, p95, p99 = stats(ts)
            lines.append(f"{name:<14} {len(ts):>5} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f}")
    return lines


ROW = (
    "| {client} | {workers} | {clients} | {phase} | {done} | {rps:.0f} | {p50:.1f} | {p95:.1f} | {p99:.1f} "
    "| {cpu:.2f} | {failures} | {load} |"
)


def in_process(db: Path, urls: list[tuple[str, str]], seed: int) -> list[str]:
    """CPU of a cold page without HTTP: the ASGI app called directly (fresh page cache, every URL once), the
    per-page median wall time and the process CPU per page. No load generator shares the cores."""
    from newstrace.web.app import create_app

    app = create_app(db)

    async def call(url: str) -> int:
        path, _, query = url.partition("?")
        scope = {
            "type": "http", "method": "GET", "path": path, "raw_path": path.encode(),
            "query_string": query.encode(), "headers": [(b"host", b"x"), (b"accept", b"text/html")],
            "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1),
            "root_path": "", "state": {},
        }  # fmt: skip
        status, asked = 0, False

        async def receive() -> dict:
            nonlocal asked
            if asked:  # a streaming response listens for a disconnect: there is none
                await asyncio.sleep(3600)
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app(scope, receive, send)
        return status

    async def run() -> tuple[dict[str, list[float]], float, int]:
        await call("/favicon.ico")  # builds the middleware stack
        timings: dict[str, list[float]] = {}
        failures = 0
        cpu = time.process_time()
        for name, url in jobs:
            t = time.perf_counter()
            failures += await call(url) != 200
            timings.setdefault(name, []).append(time.perf_counter() - t)
        return timings, time.process_time() - cpu, failures

    jobs = urls[:]
    random.Random(f"{seed}-cold").shuffle(jobs)
    timings, cpu, failures = asyncio.run(run())
    everything = [t for v in timings.values() for t in v]
    lines = [
        f"\n### in process, cold: {len(everything)} pages, CPU {1000 * cpu / len(everything):.2f} ms/page, "
        f"failures: {failures}",
        f"{'page':<14} {'n':>5} {'median ms':>10} {'mean ms':>8}",
    ]
    for name, ts in sorted(timings.items()) + [("ALL", everything)]:
        lines.append(f"{name:<14} {len(ts):>5} {1000 * np.median(ts):>10.2f} {1000 * np.mean(ts):>8.2f}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, help="store to serve (default /tmp/newstrace-web-load-N.duckdb)")
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--urls", type=int, default=2000, help="distinct URLs in the mix")
    ap.add_argument("--clients", type=int, nargs="+", default=[20, 100])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="uvicorn worker processes")
    ap.add_argument(
        "--client",
        nargs="+",
        choices=["wrk", "python"],
        help="load generators (default: wrk for the figures and python for the per-page tables; python only "
        "when wrk is not installed)",
    )
    ap.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (one is plenty for 20 clients)")
    ap.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="wrk runs (each with a fresh server) per setting; the table adds their medians. The Python "
        "client, there for the per-page tables, runs once",
    )
    ap.add_argument("--max-seconds", type=float, default=120, help="stop each phase after this long")
    ap.add_argument("--no-probes", action="store_true",
                    help="skip the limit probes (over-long URL and headers, big body, traversal) sent during load")
    ap.add_argument(
        "--in-process",
        action="store_true",
        help="only time each cold page in this process, the ASGI app called directly (no HTTP, no load)",
    )
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()
    db = args.db or Path(f"/tmp/newstrace-web-load-{args.articles}.duckdb")
    clients_kinds = args.client or (["wrk", "python"] if shutil.which("wrk") else ["python"])
    if "wrk" in clients_kinds and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk), or use --client python")

    if args.rebuild and db.exists():
        db.unlink()
    if not db.exists():
        t = time.perf_counter()
        build_store(db, args.articles, args.seed)
        print(f"built {db} ({args.articles} articles) in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    urls = url_mix(db, args.urls, args.seed)
    if args.in_process:
        lines = in_process(db, urls, args.seed)
        print("\n".join([f"web load: {db.name}, {len(urls)} distinct URLs", *lines]))
        return
    head = [f"web load: {db.name}, {len(urls)} distinct URLs, {os.cpu_count()} CPUs"]
    if not shutil.which("wrk"):
        head.append(
            "wrk not found (apt-get install wrk): the Python client measures everything, and it shares the "
            "CPUs with the server"
        )
    head += [
        "",
        "| client | workers | clients | pass | requests | req/s | p50 ms | p95 ms | p99 ms "
        "| server CPU ms/req | failures | load avg |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows: list[str] = []
    tables: list[str] = []
    results: dict[tuple, list[dict]] = {}
    probes: list[tuple[tuple, list[tuple[str, int, int]]]] = []
    for kind in clients_kinds:
        for workers in args.workers:
            for clients in args.clients:
                for rep in range(args.repeats if kind == "wrk" else 1):
                    t = time.perf_counter()
                    server, port = start_server(db, workers)
                    startup = time.perf_counter() - t
                    try:
                        for phase in ("cold", "warm"):
                            jobs = urls[:]
                            random.Random(f"{args.seed}-{phase}").shuffle(jobs)
                            cpu = cpu_seconds(server.pid)
                            probing = None
                            if phase == "warm" and rep == 0 and not args.no_probes:
                                probing = ThreadPoolExecutor(1).submit(limit_probes, port)
                            if kind == "wrk":
                                res = wrk_phase(port, jobs, clients, args.max_seconds, args.wrk_threads)
                            else:
                                res = python_phase(port, jobs, clients, args.max_seconds)
                            if probing is not None:
                                probes.append(((kind, workers, clients), probing.result()))
                            res["cpu"] = cpu_seconds(server.pid) - cpu
                            res["load"] = os.getloadavg()[0]
                            key = (kind, workers, clients, phase)
                            results.setdefault(key, []).append(res)
                            rows.append(row(key, res))
                            if kind == "python":
                                tables += [
                                    f"\n### python client, {workers} worker{'s' if workers > 1 else ''}, "
                                    f"{clients} client{'s' if clients > 1 else ''}, {phase} (server start "
                                    f"{startup:.1f}s, run {rep + 1})",
                                    *breakdown(res),
                                ]
                    finally:
                        server.terminate()
                        try:
                            server.wait(15)
                        except subprocess.TimeoutExpired:
                            server.kill()
    if any(len(runs) > 1 for runs in results.values()):
        rows.append("")
        rows.append(f"Medians of {args.repeats} runs:")
        rows += head[-2:]
        for key, runs in results.items():
            if len(runs) > 1:
                rows.append(row(key, median_run(runs)))
    lines = head + rows + tables
    wrong = [(key, p) for key, found in probes for p in found if p[1] != p[2]]
    if probes:
        lines += ["", "Limit probes sent while the warm pass ran (expected status / got):", ""]
        lines += ["| client, workers, clients | probe | expected | got |", "|---|---|---:|---:|"]
        lines += [f"| {k[0]}, {k[1]}, {k[2]} | {name} | {want} | {got} |" for k, found in probes
                  for name, want, got in found]
    errors = sum(r["failures"] for runs in results.values() for r in runs)
    lines.append(f"\nerrors under load: {errors}; limit probes answered wrongly: {len(wrong)}")
    print("\n".join(lines))
    if errors or wrong:
        raise SystemExit(1)


def limit_probes(port: int) -> list[tuple[str, int, int]]:
    """Hostile requests, each on its own connection: (what, expected status, status got)."""
    import socket as socket_

    def status(request: bytes) -> int:
        try:
            with socket_.create_connection(("127.0.0.1", port), timeout=30) as conn:
                conn.sendall(request)
                head = conn.recv(64)
            return int(head.split(b" ", 2)[1])
        except (OSError, IndexError, ValueError):
            return 0

    def get(target: bytes, extra: bytes = b"") -> bytes:
        return b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + b"Connection: close\r\n\r\n"

    body = b"text=" + b"x" * (3 << 20)
    text = b"text=Officials+said+the+port+was+closed"
    post = (b"POST /check.json HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body))
    return [
        ("URL of 9 KB", 414, status(get(b"/articles?q=" + b"a" * 9000))),
        ("headers of 40 KB", 431, status(get(b"/", b"X-Big: " + b"b" * 40_000 + b"\r\n"))),
        ("body of 3 MB (declared)", 413, status(post)),
        ("Host: evil.example (DNS rebinding)", 400, status(b"GET / HTTP/1.1\r\nHost: evil.example\r\n"
                                                          b"Connection: close\r\n\r\n")),
        ("traversal /static/../../etc/passwd", 404, status(get(b"/static/../../../../etc/passwd"))),
        ("traversal /static/..%2f..%2fetc%2fpasswd", 404, status(get(b"/static/..%2f..%2f..%2fetc%2fpasswd"))),
        ("a short text check", 200, status(b"POST /check.json HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                                           b"application/x-www-form-urlencoded\r\nContent-Length: %d\r\n"
                                           b"Connection: close\r\n\r\n%s" % (len(text), text))),
    ]


def row(key: tuple, res: dict) -> str:
    kind, workers, clients, phase = key
    done = res["done"]
    p50, p95, p99 = res["p"]
    return ROW.format(
        client=kind,
        workers=workers,
        clients=clients,
        phase=phase + (f" (stopped early, {res['left']} left)" if res.get("left") else ""),
        done=done,
        rps=done / res["wall"] if res["wall"] else 0,
        p50=p50,
        p95=p95,
        p99=p99,
        cpu=1000 * res["cpu"] / max(done, 1),
        failures=res["failures"],
        load=f"{res['load']:.1f}",
    )


def median_run(runs: list[dict]) -> dict:
    """Each figure's median over the runs (so the p95 is the median p95, not a pooled one)."""
    med = lambda xs: float(np.median(xs))  # noqa: E731
    return {
        "done": int(med([r["done"] for r in runs])),
        "wall": med([r["wall"] for r in runs]),
        "left": int(max(r["left"] for r in runs)),
        "p": tuple(med([r["p"][i] for r in runs]) for i in range(3)),
        "cpu": med([r["cpu"] for r in runs]),
        "failures": sum(r["failures"] for r in runs),
        "load": med([r["load"] for r in runs]),
    }


if __name__ == "__main__":
    main()
