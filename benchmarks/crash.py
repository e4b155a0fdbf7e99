"""Crash safety: `kill -9` at random points of `ingest` and `analyze`, then a rerun, compared with a clean run.

A mixed corpus (HTML pages, WARC archives, CSV, JSONL, plain text, and some bad documents) is built from the demo
corpus's articles with seeded variations. A clean run gives the reference. Then, `--kills` times for each command:
start it on a fresh store (and output folder), SIGKILL its process group after a random delay drawn over the clean
run's duration, and check:
- the DuckDB store still opens and reads (else: a corrupt store);
- for `analyze`, every contract file left in the output folder is complete (identical to the clean run's);
then rerun to the end and compare with the clean run:
- duplicates: rows of `articles` beyond one per id, and error rows beyond the clean run's;
- lost: ids (or error rows, or stage rows) of the clean run missing after the rerun;
- for `analyze`, every contract file and every stage table equal to the clean run's (report.html up to its
  generation time).

    python benchmarks/crash.py                         # 50 kills of ingest and 50 of analyze
    python benchmarks/crash.py --kills 5 --commands analyze
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEMO = HERE.parent / "examples" / "corpus"
CONTRACT = ["report.html", "articles.jsonl", "reuse.jsonl", "families.jsonl", "edits.jsonl", "signals.jsonl",
            "network.graphml", "sourcing.jsonl", "fingerprints.jsonl", "reuse.parquet"]
STAGE_TABLES = {
    "articles": "id, url, outlet, published, title, md5(text), source_file, record, extractor",
    "errors": "file, record, reason",
    "ingested_files": "path, size, articles, problems",
    "reuse_pairs": "source, copy, score, direction, passages::VARCHAR",
    "families": "family, origin, size",
    "family_members": "family, article_id",
    "edits": "source, copy, md5(edits::VARCHAR), md5(systematic::VARCHAR)",
    "signals": "id, md5(techniques::VARCHAR), md5(attributions::VARCHAR), md5(injections::VARCHAR)",
    "outlets": "outlet, articles, community, role",
    "outlet_edges": "source_outlet, copy_outlet, weight, median_lag_hours, coordinated",
    "fingerprints": "outlet, md5(fingerprint::VARCHAR)",
}
FILLER = ("council harbour officials report statement region market storm repairs budget vote agency court "
          "residents schools energy prices farmers talks border trade").split()


# ---- the corpus -----------------------------------------------------------------------------------------------------


def base_texts() -> list[tuple[str, str]]:
    """(title, text) of every article in the demo corpus."""
    from newstrace.ingest.sources import iter_input_files, read_file
    from newstrace.model import Article

    out = []
    for path in iter_input_files([DEMO]):
        for rec in read_file(path):
            if isinstance(rec, Article):
                out.append((rec.title or rec.id, rec.text))
    if not out:
        raise SystemExit(f"no articles in {DEMO}")
    return out


def _page(title: str, url: str, when: str, text: str) -> str:
    paras = "".join(f"<p>{p}</p>" for p in text.split("\n") if p.strip())
    return (f"<!doctype html><html><head><title>{title}</title><link rel=\"canonical\" href=\"{url}\">"
            f"<meta property=\"article:published_time\" content=\"{when}\"></head><body><article><h1>{title}</h1>"
            f"{paras}</article></body></html>")


def _warc(path: Path, pages: list[tuple[str, str]]) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    for url, html in pages:
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(html.encode()),
                                                      http_headers=headers))
    path.write_bytes(buffer.getvalue())


def build_corpus(folder: Path, n: int, seed: int, pages: int | None = None) -> int:
    """`n` articles in every input format, plus four bad documents: `pages` HTML pages (default n/10), twice as many
    WARC records, n/10 CSV rows and n/10 text files, the rest in JSONL. Returns the number of good articles."""
    import csv

    rnd = random.Random(seed)
    bases = base_texts()
    vocabulary = sorted({w for _, text in bases for w in text.split()})
    t0 = datetime(2025, 3, 1, tzinfo=timezone.utc)
    rows = []
    for i in range(n):
        title, text = bases[i % len(bases)]
        if i % 3:  # two in three articles are unique text, so reuse finds a realistic number of pairs
            title = f"Report {i}"
            words = [rnd.choice(vocabulary) for _ in range(rnd.randint(150, 500))]
        else:  # a copy of a demo article, lightly edited
            words = text.split(" ")
            for _ in range(max(1, len(words) // 25)):
                words[rnd.randrange(len(words))] = rnd.choice(FILLER)
        rows.append({"id": f"c{i:05d}", "url": f"https://outlet{i % 23}.example/{i}",
                     "outlet": f"outlet{i % 23}.example", "published": (t0 + timedelta(minutes=37 * i)).isoformat(),
                     "title": f"{title} ({i})", "text": " ".join(words) + f"\nStory number {i}."})
    folder.mkdir(parents=True, exist_ok=True)
    k, m = n // 10, pages if pages is not None else n // 10
    pages_, warcs = rows[:m], rows[m:3 * m]
    csvs, txts, feeds = rows[3 * m:3 * m + k], rows[3 * m + k:3 * m + 2 * k], rows[3 * m + 2 * k:]
    (folder / "pages").mkdir()
    for r in pages_:
        (folder / "pages" / f"{r['id']}.html").write_text(_page(r["title"], r["url"], r["published"], r["text"]),
                                                          "utf-8")
    half = len(warcs) // 2
    for j, part in enumerate((warcs[:half], warcs[half:])):
        _warc(folder / f"crawl{j}.warc.gz", [(r["url"], _page(r["title"], r["url"], r["published"], r["text"]))
                                            for r in part])
    with (folder / "export.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(csvs[0]))
        w.writeheader()
        w.writerows(csvs)
    (folder / "texts").mkdir()
    for r in txts:
        (folder / "texts" / f"{r['id']}.txt").write_text(r["text"], "utf-8")
    for j in range(10):
        with (folder / f"feed{j}.jsonl").open("w", encoding="utf-8") as f:
            for r in feeds[j::10]:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    (folder / "bad").mkdir()
    (folder / "bad" / "latin1.txt").write_bytes("Caf\xe9".encode("latin-1"))
    (folder / "bad" / "broken.jsonl").write_text('{"id": "ok-1", "text": "A good line."}\n{"id": \n', "utf-8")
    (folder / "bad" / "notext.csv").write_text("id,title\n1,x\n", "utf-8")
    data = (folder / "crawl0.warc.gz").read_bytes()
    (folder / "bad" / "cut.warc.gz").write_bytes(data[: len(data) // 3])
    return n


# ---- runs and snapshots ---------------------------------------------------------------------------------------------


def command(kind: str, corpus: Path, db: Path, out: Path) -> list[str]:
    base = [sys.executable, "-m", "newstrace.cli"]
    if kind == "ingest":
        return [*base, "ingest", str(corpus), "--db", str(db), "--quiet"]
    if kind == "ingest-no-index":  # without the query index built after the articles, kills land among the batches
        return [*base, "ingest", str(corpus), "--db", str(db), "--quiet", "--no-index"]
    return [*base, "analyze", str(corpus), "--out", str(out), "--db", str(db), "--workers", "2"]


def run(cmd: list[str], kill_after: float | None = None) -> tuple[int | None, float, str]:
    """Run `cmd`; with `kill_after`, SIGKILL its whole process group then (the main process and any alignment
    workers, as a crash of the machine would). Returns (exit status or None when killed, seconds, stderr)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        killed = False
        if kill_after is not None:
            try:
                proc.wait(timeout=kill_after)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                killed = True
        proc.wait()
        if killed:
            with __import__("contextlib").suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # stray workers of the group, if any outlived the kill
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    return (None if killed else proc.returncode), time.perf_counter() - started, stderr


def store_snapshot(db: Path, tables: list[str]) -> dict[str, Counter]:
    """Every row of each table (as a multiset), or raises when the store cannot be opened and read."""
    from newstrace.store import Store

    with Store(db) as store:
        return {t: Counter(store.con.execute(f"SELECT {STAGE_TABLES[t]} FROM {t}").fetchall()) for t in tables}


def normalised(path: Path) -> str:
    data = path.read_bytes()
    if path.name == "report.html":  # the one line that differs between two clean runs: when it was written
        data = re.sub(rb'<span class="meta">[^<]*UTC \xc2\xb7', b'<span class="meta">TIME \xc2\xb7', data)
    return hashlib.sha256(data).hexdigest()


def out_snapshot(out: Path) -> dict[str, str]:
    return {name: normalised(out / name) for name in CONTRACT if (out / name).exists()}


def compare(kind: str, clean: dict[str, Counter], got: dict[str, Counter]) -> dict[str, int]:
    """Duplicates and losses of `got` against the clean run, table by table."""
    dup = lost = extra = 0
    for table, rows in clean.items():
        mine = got[table]
        dup += sum(c - 1 for c in mine.values() if c > 1) - sum(c - 1 for c in rows.values() if c > 1)
        lost += sum((rows - mine).values())
        extra += sum((mine - rows).values())
    return {"duplicates": max(dup, 0), "lost": lost, "extra": extra}


def campaign(kind: str, corpus: Path, tmp: Path, kills: int, seed: int) -> dict:
    tables = list(STAGE_TABLES) if kind == "analyze" else ["articles", "errors", "ingested_files"]
    ingest = kind.startswith("ingest")
    clean_db, clean_out = tmp / f"clean-{kind}.duckdb", tmp / f"clean-{kind}"
    rc, wall, stderr = run(command(kind, corpus, clean_db, clean_out))
    if rc != 0:
        raise SystemExit(f"clean {kind} failed ({rc}):\n{stderr[-2000:]}")
    clean = store_snapshot(clean_db, tables)
    clean_files = out_snapshot(clean_out) if kind == "analyze" else {}
    rnd = random.Random(f"{seed}-{kind}")
    tally = Counter()
    where = Counter()
    failures: list[str] = []
    for k in range(kills):
        db, out = tmp / f"{kind}-{k}.duckdb", tmp / f"{kind}-{k}"
        delay = rnd.uniform(0.2, 1.05 * wall)
        rc, _, stderr = run(command(kind, corpus, db, out), kill_after=delay)
        stages = re.findall(r"^stage (\w+)", stderr, re.M)
        killed_in = "finished" if rc is not None else (stages[-1] if stages else "startup" if kind == "analyze"
                                                       else "running")
        try:
            partial = store_snapshot(db, ["articles"]) if db.exists() else {"articles": Counter()}
            tally["stores_open"] += 1
        except Exception as exc:
            tally["corrupt"] += 1
            failures.append(f"kill {k} ({delay:.2f}s): the store does not open: {exc}")
            continue
        n_partial = sum(partial["articles"].values())
        if ingest and rc is None:  # how far it got: the articles committed when it died
            share = n_partial / max(1, sum(clean["articles"].values()))
            killed_in = ("no batch committed" if n_partial == 0 else "all committed" if share >= 1
                         else "under half committed" if share < 0.5 else "over half committed")
        where[killed_in] += 1
        if kind == "analyze":
            half = [name for name, digest in out_snapshot(out).items() if digest != clean_files.get(name)]
            if half:
                tally["half_written"] += len(half)
                failures.append(f"kill {k} ({delay:.2f}s, {killed_in}): incomplete {', '.join(half)}")
        rc2, _, stderr2 = run(command(kind, corpus, db, out))
        if rc2 != 0:
            tally["rerun_failed"] += 1
            failures.append(f"kill {k}: rerun exited {rc2}: {stderr2[-500:]}")
            continue
        diff = compare(kind, clean, store_snapshot(db, tables))
        tally.update(diff)
        if any(diff.values()):
            failures.append(f"kill {k} ({delay:.2f}s, {killed_in}): {diff}")
        if kind == "analyze":
            got = out_snapshot(out)
            differ = [name for name in clean_files if got.get(name) != clean_files[name]]
            tally["outputs_differ"] += bool(differ)
            if differ:
                failures.append(f"kill {k}: outputs differ from the clean run: {', '.join(differ)}")
        shutil.rmtree(out, ignore_errors=True)
        for leftover in tmp.glob(f"{kind}-{k}.duckdb*"):
            leftover.unlink()
    return {"kind": kind, "clean_seconds": wall, "kills": kills, "articles": sum(clean["articles"].values()),
            "errors": sum(clean["errors"].values()), **{k: tally[k] for k in
            ("stores_open", "corrupt", "duplicates", "lost", "extra", "half_written", "outputs_differ",
             "rerun_failed")}, "killed_in": dict(where), "failures": failures}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--kills", type=int, default=50, help="kills per command")
    ap.add_argument("--commands", nargs="*", choices=["ingest", "ingest-no-index", "analyze"],
                    default=["ingest", "ingest-no-index", "analyze"])
    ap.add_argument("--ingest-articles", type=int, default=20_000,
                    help="enough for several batches of 5,000, so kills land between commits")
    ap.add_argument("--ingest-pages", type=int, default=300, help="HTML pages in the ingest corpus (slow to read)")
    ap.add_argument("--analyze-articles", type=int, default=300)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="crash-") as tmp_name:
        tmp = Path(tmp_name)
        for kind in args.commands:
            corpus = tmp / f"corpus-{kind}"
            if kind.startswith("ingest"):
                build_corpus(corpus, args.ingest_articles, args.seed, pages=args.ingest_pages)
            else:
                build_corpus(corpus, args.analyze_articles, args.seed)
            print(f"{kind}: {args.kills} kills", file=sys.stderr, flush=True)
            results.append(campaign(kind, corpus, tmp, args.kills, args.seed))
    print("| command | corpus articles | clean run s | kills | stores that open | corrupt | duplicates | lost | "
          "extra | half-written files | reruns differing from clean | where the kills landed |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        landed = ", ".join(f"{k} {v}" for k, v in sorted(r["killed_in"].items()))
        print(f"| {r['kind']} | {r['articles']} | {r['clean_seconds']:.1f} | {r['kills']} | {r['stores_open']} | "
              f"{r['corrupt']} | {r['duplicates']} | {r['lost']} | {r['extra']} | {r['half_written']} | "
              f"{r['outputs_differ'] + r['rerun_failed']} | {landed} |")
    bad = [f for r in results for f in r["failures"]]
    for line in bad[:20]:
        print(f"- {line}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
