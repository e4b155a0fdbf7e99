"""Resource bombs against `newstrace ingest`: peak memory, time, and the error each one gets.

Every bomb is generated here at run time (nothing big is committed) and ingested by `newstrace ingest` in a child
process together with one good article, so a row shows three things: the child's peak RSS (from wait4), the problem
reported for the bomb, and whether the good article behind it was still ingested (the run goes on).

    python benchmarks/bombs.py                    # full sizes: 10 GB gzip bomb, 100 MB line, 1M-row CSV, ...
    python benchmarks/bombs.py --scale 0.1        # everything ten times smaller, for a quick look
    python benchmarks/bombs.py --only gzip_bomb deep_html

The bombs:
- gzip_bomb: a .warc.gz whose second record is one gzip member inflating to `--gzip-gb` GB of zeros (about 1,000:1),
  between two good records;
- gzip_bomb_no_newline: the same, with the zeros in the WARC header block itself (a header line without end);
- http_gzip_bomb: a plain .warc whose record body is Content-Encoding: gzip, inflating to `--gzip-gb` GB;
- long_line_txt: a single-line .txt of `--line-mb` MB;
- deep_html: an .html page nested `--depth` levels deep;
- big_csv: a CSV of `--csv-rows` rows (a valid one: it is ingested, with bounded memory);
- long_jsonl_line: a JSONL file whose second line is `--jsonl-mb` MB, between two good lines.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

MB = 1 << 20
GOOD = (
    "The harbour council of Port Velmar voted on Tuesday to repair the eastern breakwater before the autumn storms, "
    "after engineers found three cracks in its concrete caissons. The work will take eleven weeks."
)


def _page(title: str) -> bytes:
    return (f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"<p>{GOOD}</p><p>{GOOD} {title}.</p></article></body></html>").encode()


def _warc_record(url: str, http_block: bytes, length: int | None = None) -> bytes:
    """WARC headers of a response record whose block (HTTP headers + body) is `length` bytes long."""
    length = len(http_block) if length is None else length
    return (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: {url}\r\n"
            f"WARC-Record-ID: <urn:uuid:{zlib.crc32(url.encode()):032x}>\r\n"
            f"WARC-Date: 2025-03-04T08:00:00Z\r\nContent-Type: application/http; msgtype=response\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


def _http(body: bytes, *extra: str) -> bytes:
    head = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n" + "".join(h + "\r\n" for h in extra)
    return head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body


def _good_member(n: int) -> bytes:
    page = _http(_page(f"Good record {n}"))
    return zlib.compress(_warc_record(f"https://good.example/{n}", page) + page + b"\r\n\r\n", 9, wbits=31)


def gzip_of_zeros(prefix: bytes, megabytes: int, suffix: bytes) -> bytes:
    """One gzip member of prefix + `megabytes` MB of zero bytes + suffix, built in seconds.

    After a full flush deflate forgets its history, so the compressed form of each MB of zeros is the same bytes
    every time: it is computed once and repeated, and only the CRC is computed over the whole."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = b"\0" * MB
    head = deflate.compress(prefix) + deflate.flush(zlib.Z_FULL_FLUSH)
    one = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    tail = deflate.compress(suffix) + deflate.flush()
    crc = zlib.crc32(prefix)
    for _ in range(megabytes):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(suffix, crc)
    size = len(prefix) + megabytes * MB + len(suffix)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + head + one * megabytes + tail + struct.pack("<II", crc, size & 0xFFFFFFFF)


def gzip_bomb(path: Path, gigabytes: float) -> int:
    mb = int(gigabytes * 1024)
    http_head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"
    bomb = gzip_of_zeros(_warc_record("https://bomb.example/", b"", len(http_head) + mb * MB) + http_head, mb,
                         b"\r\n\r\n")
    path.write_bytes(_good_member(1) + bomb + _good_member(2))
    return mb * MB


def gzip_bomb_no_newline(path: Path, gigabytes: float) -> int:
    mb = int(gigabytes * 1024)
    bomb = gzip_of_zeros(b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://bomb.example/", mb, b"\r\n")
    path.write_bytes(_good_member(1) + bomb + _good_member(2))
    return mb * MB


def http_gzip_bomb(path: Path, gigabytes: float) -> int:
    mb = int(gigabytes * 1024)
    body = gzip_of_zeros(b"<html><body><p>", mb, b"</p></body></html>")
    block = _http(body, "Content-Encoding: gzip")
    good = _http(_page("Good record 2"))
    path.write_bytes(_warc_record("https://bomb.example/", block) + block + b"\r\n\r\n"
                     + _warc_record("https://good.example/2", good) + good + b"\r\n\r\n")
    return mb * MB


def long_line_txt(path: Path, megabytes: float) -> int:
    size = int(megabytes * MB)
    with path.open("wb") as f:
        chunk = b"word " * (MB // 5)
        for _ in range(size // len(chunk)):
            f.write(chunk)
    return path.stat().st_size


def deep_html(path: Path, depth: int) -> int:
    path.write_text("<html><body>" + "<div>" * depth + GOOD + "</div>" * depth + "</body></html>", "utf-8")
    return path.stat().st_size


def big_csv(path: Path, rows: int) -> int:
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("id,outlet,text\n")
        for i in range(rows):
            f.write(f"r{i},outlet{i % 97}.example,\"Row {i}: the council met on day {i % 365} about the budget.\"\n")
    return path.stat().st_size


def long_jsonl_line(path: Path, megabytes: float) -> int:
    with path.open("w", encoding="utf-8") as f:
        f.write(json.dumps({"id": "first", "text": GOOD}) + "\n")
        f.write('{"id": "huge", "text": "')
        chunk = "word " * (MB // 5)
        for _ in range(int(megabytes * MB) // len(chunk)):
            f.write(chunk)
        f.write('"}\n')
        f.write(json.dumps({"id": "last", "text": GOOD + " Last."}) + "\n")
    return path.stat().st_size


def bombs(args: argparse.Namespace) -> dict[str, tuple[str, Callable[[Path], int], int]]:
    """name -> (file name, builder, good articles expected from the bomb file itself)."""
    s = args.scale
    return {
        "gzip_bomb": ("bomb.warc.gz", lambda p: gzip_bomb(p, args.gzip_gb * s), 1),
        "gzip_bomb_no_newline": ("headerbomb.warc.gz", lambda p: gzip_bomb_no_newline(p, args.gzip_gb * s), 1),
        "http_gzip_bomb": ("httpbomb.warc", lambda p: http_gzip_bomb(p, args.gzip_gb * s), 1),
        "long_line_txt": ("longline.txt", lambda p: long_line_txt(p, args.line_mb * s), 0),
        "deep_html": ("deep.html", lambda p: deep_html(p, args.depth), 0),
        "big_csv": ("big.csv", lambda p: big_csv(p, int(args.csv_rows * s)), int(args.csv_rows * s)),
        "long_jsonl_line": ("longline.jsonl", lambda p: long_jsonl_line(p, args.jsonl_mb * s), 2),
    }


def run_ingest(inputs: list[Path], db: Path, max_bytes: int) -> dict:
    """`newstrace ingest` in a child process: exit status, peak RSS (MB), wall seconds, summary and stderr."""
    cmd = [sys.executable, "-m", "newstrace.cli", "ingest", *map(str, inputs), "--db", str(db), "--quiet", "--json",
           "--no-index", "--max-bytes", str(max_bytes)]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode(errors="replace")
    summary = json.loads(stdout) if stdout.strip() else {}
    return {"rc": proc.returncode, "rss_mb": usage.ru_maxrss / 1024, "wall": wall, "summary": summary,
            "stderr": stderr}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="names of bombs to run")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiply every size, --max-bytes included (not the nesting depth), by this")
    ap.add_argument("--max-bytes", type=int, default=20 * MB, help="ingest's --max-bytes (its default: 20 MB)")
    ap.add_argument("--gzip-gb", type=float, default=10.0, help="inflated size of the gzip bombs")
    ap.add_argument("--line-mb", type=float, default=100.0)
    ap.add_argument("--depth", type=int, default=10_000)
    ap.add_argument("--csv-rows", type=int, default=1_000_000)
    ap.add_argument("--jsonl-mb", type=float, default=50.0)
    ap.add_argument("--tmp", type=Path, default=None, help="folder for the bombs (default: a temporary one)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    table = bombs(args)
    names = args.only or list(table)
    max_bytes = int(args.max_bytes * args.scale)
    tmp = Path(tempfile.mkdtemp(prefix="bombs-", dir=args.tmp))
    results = []
    try:
        good = tmp / "good.txt"
        good.write_text(GOOD + "\n", "utf-8")
        baseline = run_ingest([good], tmp / "baseline.duckdb", max_bytes)
        print(f"baseline: ingest of one good .txt, peak RSS {baseline['rss_mb']:.0f} MB, {baseline['wall']:.1f} s; "
              f"--max-bytes {max_bytes}")
        print()
        print("| bomb | on disk | inflated/declared | peak RSS MB | wall s | exit | articles | error reported |")
        print("|---|---:|---:|---:|---:|---:|---:|---|")
        for name in names:
            filename, build, expected = table[name]
            path = tmp / filename
            started = time.perf_counter()
            inflated = build(path)
            built = time.perf_counter() - started
            res = run_ingest([path, good], tmp / f"{name}.duckdb", max_bytes)
            added = res["summary"].get("articles_added", 0)
            problems = [ln for ln in res["stderr"].splitlines() if ln.startswith("skipped")]
            reason = problems[0].split(": ", 1)[-1] if problems else "(none)"
            ok = res["rc"] == 0 and added == expected + 1 and (problems or name == "big_csv")
            results.append({"bomb": name, "bytes": path.stat().st_size, "inflated": inflated, "build_s": built,
                            "ok": bool(ok), **{k: res[k] for k in ("rc", "rss_mb", "wall")}, "articles": added,
                            "problems": problems})
            print(f"| {name} | {path.stat().st_size / MB:,.1f} MB | {inflated / MB:,.0f} MB | {res['rss_mb']:.0f} | "
                  f"{res['wall']:.1f} | {res['rc']} | {added} of {expected + 1} | {reason[:120]} |", flush=True)
            path.unlink()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    failed = [r["bomb"] for r in results if not r["ok"]]
    print()
    print(f"{len(results) - len(failed)} of {len(results)} bombs handled (bounded, reported, the good article "
          f"ingested){'; failed: ' + ', '.join(failed) if failed else ''}")
    if args.json:
        args.json.write_text(json.dumps({"baseline_rss_mb": baseline["rss_mb"], "bombs": results}, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
