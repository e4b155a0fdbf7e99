"""Resource bombs, generated here at small sizes (benchmarks/bombs.py runs them full size and measures peak RSS):
each is reported with a clear reason and the good article beside it is still ingested."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import bench_module
from newstrace.ingest import ingest_paths
from newstrace.store import Store

bombs = bench_module("bombs")

MB = 1 << 20
CASES = [  # (file name, builder, --max-bytes, articles expected from the bomb file, words in the reason)
    ("bomb.warc.gz", lambda p: bombs.gzip_bomb(p, 0.25), 2 * MB, 1, "decompression bomb"),
    ("header.warc.gz", lambda p: bombs.gzip_bomb_no_newline(p, 0.25), 2 * MB, 1, "decompression bomb"),
    ("http.warc", lambda p: bombs.http_gzip_bomb(p, 0.25), 2 * MB, 1, "over the --max-bytes limit"),
    ("line.txt", lambda p: bombs.long_line_txt(p, 3), 2 * MB, 0, "over the --max-bytes limit"),
    ("deep.html", lambda p: bombs.deep_html(p, 10_000), 2 * MB, 0, "nested deeper than"),
    ("line.jsonl", lambda p: bombs.long_jsonl_line(p, 3), 2 * MB, 2, "over the --max-bytes limit"),
    ("rows.csv", lambda p: bombs.big_csv(p, 20_000), 2 * MB, 20_000, None),
]


@pytest.mark.parametrize("name,build,max_bytes,expected,reason", CASES, ids=[c[0] for c in CASES])
def test_bomb_is_reported_and_the_run_goes_on(tmp_path: Path, name, build, max_bytes, expected, reason):
    bomb = tmp_path / name
    build(bomb)
    good = tmp_path / "good.txt"
    good.write_text(bombs.GOOD, "utf-8")
    with Store(tmp_path / "b.duckdb") as store:
        report = ingest_paths([bomb, good], store, max_bytes=max_bytes)
        assert store.get_article("good") is not None
    assert report.articles_added == expected + 1
    if reason is None:
        assert not report.problems
    else:  # the bomb's own problem ends the list (a bomb record may first be reported as over --max-bytes)
        assert 1 <= len(report.problems) <= 2 and reason in report.problems[-1].reason, report.problems
        assert {p.file for p in report.problems} == {str(bomb)}


def test_gzip_of_zeros_is_a_real_gzip_stream(tmp_path: Path):
    import gzip

    data = bombs.gzip_of_zeros(b"head", 3, b"tail")
    assert len(data) < 10_000 and gzip.decompress(data) == b"head" + b"\0" * (3 * MB) + b"tail"
