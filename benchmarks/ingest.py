"""Ingest throughput: HTML pages/s through `newstrace ingest` against trafilatura alone, and WARC records/s.

Both sides run in this process on the same pages, interleaved, and the median of `--repeats` runs is reported, so the
overhead ratio holds on a noisy shared machine. Page bodies are PTC training articles when ../shared is present
(read at run time, never stored), otherwise generated sentences.

    python benchmarks/ingest.py --pages 300 --repeats 3
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

PAGE = """<!doctype html><html><head><title>{title} | {site}</title>
<link rel="canonical" href="https://{site}/{slug}">
<meta property="article:published_time" content="2025-0{month}-1{day}T0{hour}:15:00+00:00"></head>
<body><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/opinion">Opinion</a></nav>
<article><h1>{title}</h1>{body}</article>
<aside>Share on social media. Subscribe to our newsletter for the morning briefing.</aside>
<footer>Copyright {site}. All rights reserved. Contact | Privacy | Terms</footer></body></html>"""

WORDS = ("council harbour minister report officials statement week region market storm repairs budget vote "
         "agency court ruling residents schools roads energy prices farmers talks border trade").split()


def page_bodies(n: int, shared: Path, rng: random.Random) -> list[tuple[str, list[str]]]:
    folder = shared / "data" / "ptc-train" / "train-articles"
    texts: list[tuple[str, list[str]]] = []
    if folder.is_dir():
        for path in sorted(folder.glob("*.txt")):
            lines = [x for x in path.read_text("utf-8").splitlines() if x.strip()]
            if len(lines) > 3:
                texts.append((lines[0], lines[1:]))
    while len(texts) < n:
        paras = [" ".join(rng.choice(WORDS) for _ in range(60)).capitalize() + "." for _ in range(8)]
        texts.append((f"Story {len(texts)}", paras))
    return texts[:n]


def build_pages(folder: Path, n: int, shared: Path, seed: int) -> list[Path]:
    rng = random.Random(seed)
    paths = []
    for i, (title, paras) in enumerate(page_bodies(n, shared, rng)):
        html = PAGE.format(title=title, site=f"outlet{i % 9}.example", slug=f"story-{i}", month=1 + i % 9,
                           day=i % 10, hour=i % 10, body="".join(f"<p>{p}</p>" for p in paras))
        path = folder / f"page{i:05d}.html"
        path.write_text(html, "utf-8")
        paths.append(path)
    return paths


def build_warc(path: Path, pages: list[Path]) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    for i, page in enumerate(pages):
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(f"https://warc{i % 5}.example/{i}", "response",
                                                      payload=io.BytesIO(page.read_bytes()), http_headers=headers))
    path.write_bytes(buffer.getvalue())


def time_trafilatura(pages: list[Path]) -> float:
    import logging

    import trafilatura

    from newstrace.ingest.html import _DATE_PARAMS

    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    started = time.perf_counter()
    for page in pages:
        # trafilatura alone, called with the parameters ingest uses: everything else ingest does is the overhead.
        trafilatura.bare_extraction(page.read_bytes(), with_metadata=True, include_comments=False,
                                    include_tables=False, date_extraction_params=_DATE_PARAMS)
    return time.perf_counter() - started


def time_ingest(inputs: list[Path], tmp: Path) -> tuple[float, int]:
    from newstrace.ingest import ingest_paths
    from newstrace.store import Store

    db = tmp / f"bench-{time.monotonic_ns()}.duckdb"
    started = time.perf_counter()
    with Store(db) as store:
        report = ingest_paths(inputs, store)
    elapsed = time.perf_counter() - started
    db.unlink()
    return elapsed, report.articles_added


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        html_dir = tmp / "html"
        html_dir.mkdir()
        pages = build_pages(html_dir, args.pages, args.shared, args.seed)
        warc = tmp / "crawl.warc.gz"
        build_warc(warc, pages)
        time_trafilatura(pages[:20])  # warm imports and lxml caches for both sides
        traf, ours, warc_times = [], [], []
        for _ in range(args.repeats):
            traf.append(time_trafilatura(pages))
            elapsed, added = time_ingest([html_dir], tmp)
            assert added == len(pages), f"ingested {added} of {len(pages)} pages"
            ours.append(elapsed)
            elapsed, added = time_ingest([warc], tmp)
            assert added == len(pages), f"ingested {added} of {len(pages)} WARC records"
            warc_times.append(elapsed)
    t_traf, t_ours, t_warc = (statistics.median(x) for x in (traf, ours, warc_times))
    result = {
        "pages": args.pages,
        "repeats": args.repeats,
        "trafilatura_pages_per_s": round(args.pages / t_traf, 1),
        "ingest_html_pages_per_s": round(args.pages / t_ours, 1),
        "ingest_overhead_pct": round(100 * (t_ours - t_traf) / t_traf, 1),
        "ingest_warc_records_per_s": round(args.pages / t_warc, 1),
    }
    print(f"| measure (median of {args.repeats}) | value |")
    print("|---|---|")
    for key, value in result.items():
        print(f"| {key} | {value} |")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
