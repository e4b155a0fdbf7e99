"""Bounded reading (ingest/guards.py), the per-document time limit (timelimit.py), and the readers' hardening
against hostile records: pipes, deep JSON, values of the wrong type, bad bytes in the middle of a CSV."""

from __future__ import annotations

import gzip
import io
import json
import os
import time
import zlib

import pytest

from conftest import STORY, make_page
from newstrace.ingest import ingest_paths
from newstrace.ingest.guards import GuardedArchive, LimitExceeded, lines_upto, rest_of_line, too_long
from newstrace.ingest.sources import Problem, read_file
from newstrace.model import Article
from newstrace.store import Store
from newstrace.timelimit import DocumentTimeout, time_limit


def _read_all(stream: GuardedArchive, size: int = 1000) -> bytes:
    out = b""
    while chunk := stream.read(size):
        out += chunk
    return out


def _lines(data: bytes, limit: int) -> list:
    handle = io.BytesIO(data)
    return [("long", len(line) + rest_of_line(handle)) if too_long(line, limit) else line
            for line in lines_upto(handle, limit)]


def test_long_lines_are_cut_off_and_read_through_without_holding_them():
    data = b"short\n" + b"x" * 50_000 + b"\nafter\r\n\nlast-without-end"
    assert _lines(data, 100) == [b"short\n", ("long", 50_001), b"after\r\n", b"\n", b"last-without-end"]
    assert _lines(b"y" * 300, 100) == [("long", 300)]
    assert _lines(b"a\n" + b"z" * 100 + b"\n", 100) == [b"a\n", b"z" * 100 + b"\n"]  # exactly the limit: kept
    assert _lines(b"z" * 101, 100) == [("long", 101)]


def test_guarded_archive_inflates_every_member_and_passes_plain_data_through():
    members = [f"record {i}\n".encode() * 200 for i in range(3)]
    joined = b"".join(gzip.compress(m) for m in members)
    assert _read_all(GuardedArchive(io.BytesIO(joined), max_line=100)) == b"".join(members)
    assert _read_all(GuardedArchive(io.BytesIO(joined + b"\x00" * 10), max_line=100)) == b"".join(members)
    assert _read_all(GuardedArchive(io.BytesIO(b"plain\nwarc\n"), max_line=100)) == b"plain\nwarc\n"


def test_guarded_archive_reports_truncation_after_the_complete_data():
    data = gzip.compress(b"whole record\n" * 50) + gzip.compress(b"second\n" * 500)
    stream = GuardedArchive(io.BytesIO(data[:-30]), max_line=100)
    got = stream.read(10_000)
    assert got.startswith(b"whole record\n")  # what came before the cut reaches the reader first
    with pytest.raises(LimitExceeded, match="truncated"):
        _read_all(stream)
    with pytest.raises(LimitExceeded, match="not gzip"):
        _read_all(GuardedArchive(io.BytesIO(gzip.compress(b"a\n") + b"junk after"), max_line=100))


def test_guarded_archive_stops_a_decompression_bomb_early():
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = deflate.compress(b"WARC/1.0\r\n") + b"".join(deflate.compress(b"\0" * (1 << 20)) for _ in range(64))
    bomb += deflate.flush()
    assert len(bomb) < 100_000  # 64 MB of zeros in well under 100 KB
    stream = GuardedArchive(io.BytesIO(bomb), max_line=1 << 30, bomb_after=4 << 20)
    with pytest.raises(LimitExceeded, match="decompression bomb"):
        _read_all(stream, 1 << 16)
    assert stream.tell() < 8 << 20  # stopped after a few MB, not 64
    with pytest.raises(LimitExceeded, match="line longer than"):
        _read_all(GuardedArchive(io.BytesIO(gzip.compress(b"z" * 50_000)), max_line=10_000))


def test_time_limit_interrupts_a_stuck_document():
    started = time.perf_counter()
    with pytest.raises(DocumentTimeout, match="took longer than 0.2 s"):
        with time_limit(0.2):
            while True:
                pass
    assert time.perf_counter() - started < 5
    with time_limit(5):  # a quick block is not disturbed, and the timer is gone after it
        time.sleep(0.01)
    time.sleep(0.05)
    with time_limit(None):
        pass


def test_a_block_that_swallowed_its_timeout_still_times_out_when_it_ends():
    """A timeout raised where Python only prints it (a finaliser) or caught by a catch-all is lost; a block that
    then ends before the timer fires again has still run past its limit, and is reported as such."""
    swallowed = []
    started = time.perf_counter()
    with pytest.raises(DocumentTimeout, match="took longer than 0.05 s"):
        with time_limit(0.05):
            try:
                time.sleep(0.2)
            except BaseException as exc:  # everything, as no code should
                swallowed.append(exc)
            time.sleep(0.05)
    assert [type(e) for e in swallowed] == [DocumentTimeout]
    assert time.perf_counter() - started < 0.9  # not by the timer firing again, a second later
    with time_limit(5):  # within its limit, a block ends quietly
        time.sleep(0.01)


def _swallowing(result):
    """Work that outlives its limit but swallows the timeout on the way, then returns `result`."""
    def work(*args, **kwargs):
        try:
            time.sleep(0.2)
        except BaseException:  # as no code should
            pass
        time.sleep(0.03)
        return result
    return work


def test_an_article_that_overruns_quietly_is_one_timeout_not_a_line_and_a_timeout(monkeypatch):
    """The block raises at its end, after the work returned: each article still gives exactly one result."""
    import newstrace.signals.analyse as analyse

    monkeypatch.setattr(analyse, "analyse_article", _swallowing({"id": "x"}))
    articles = [Article(id=f"a{i}", text="Text.") for i in range(3)]
    late = []
    rows = list(analyse.analyse_articles(articles, doc_seconds=0.05, model=object(),
                                         on_timeout=lambda a, exc: late.append(a.id)))
    assert rows == [] and late == ["a0", "a1", "a2"]


def test_a_pair_that_overruns_quietly_is_one_timeout_not_a_line_and_a_timeout(monkeypatch):
    import newstrace.edits.corpus as corpus
    from newstrace.model import ReusePair

    monkeypatch.setattr(corpus, "diff_pair", _swallowing(None))
    articles = {k: Article(id=k, text="Text.") for k in ("s", "c1", "c2")}
    pairs = [ReusePair("s", c, 1.0, "dated", []) for c in ("c1", "c2")]
    late = []
    lines, _ = corpus.corpus_edits(articles, pairs, pair_seconds=0.05, on_timeout=lambda p, exc: late.append(p.copy))
    assert lines == [] and late == ["c1", "c2"]


def test_time_limit_is_not_swallowed_by_a_broad_except():
    caught = []
    with pytest.raises(DocumentTimeout):
        with time_limit(0.1):
            for _ in range(100):
                try:
                    time.sleep(0.05)
                except Exception as exc:  # as some parsers do
                    caught.append(exc)
    assert not caught


def test_slow_extraction_is_reported_and_the_reader_goes_on(tmp_path):
    from newstrace.ingest.html import extract_html

    big = make_page("One", "https://a.example/1", "2025-01-01", STORY * 1500)  # about a second to extract
    extract_html(make_page("Warm", "https://a.example/0", "2025-01-01", STORY))  # imports done, untimed
    lines = [{"id": "a", "html": big}, {"id": "b", "text": "Plain text needs no extraction."}]
    path = tmp_path / "feed.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), "utf-8")
    records = list(read_file(path, doc_seconds=0.1))
    assert isinstance(records[0], Problem) and records[0].record == "1"
    assert "extracting the page took longer than 0.1 s" in records[0].reason
    assert isinstance(records[1], Article) and records[1].id == "b"


def test_a_reader_that_stalls_is_stopped_and_the_file_reported(tmp_path, monkeypatch):
    from newstrace.ingest import sources

    def stalls(path, max_bytes):
        yield Article(id="first", text="read in time")
        time.sleep(30)  # a read that never returns, like a pipe or a slow mount
        yield Article(id="never", text="x")

    monkeypatch.setattr(sources, "_read_txt", stalls)
    (tmp_path / "slow.txt").write_text("x", "utf-8")
    started = time.perf_counter()
    records = list(read_file(tmp_path / "slow.txt", doc_seconds=0.2))
    assert time.perf_counter() - started < 5
    assert records[0].id == "first" and len(records) == 2
    assert "reading took longer than 0.2 s" in records[1].reason and "rest of the file" in records[1].reason


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_named_like_an_input_is_skipped_not_read(tmp_path):
    os.mkfifo(tmp_path / "stuck.txt")  # reading it would block forever
    (tmp_path / "good.txt").write_text("A good article about the harbour.", "utf-8")
    with Store(":memory:") as store:
        report = ingest_paths([tmp_path], store)
        report_direct = ingest_paths([tmp_path / "stuck.txt"], store)
    assert report.articles_added == 1
    assert [p.reason for p in report.problems] == [p.reason for p in report_direct.problems]
    assert "not a regular file" in report.problems[0].reason


def test_json_records_with_hostile_values(tmp_path):
    lines = [b"[" * 100_000, json.dumps({"text": ["a list"]}).encode(), json.dumps({"text": "ok", "url": 5}).encode(),
             json.dumps({"text": "ok", "title": {"a": 1}}).encode(), json.dumps({"text": "ok", "id": [1]}).encode(),
             json.dumps({"text": "ok", "published": 10 ** 30}).encode(),
             json.dumps({"html": True}).encode(), b'{"text": "half a pair \\uda98 here"}',
             b'{"text": "a whole pair \\ud83d\\ude00", "id": 8}', json.dumps({"text": "fine", "id": 7}).encode()]
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    records = list(read_file(path))
    reasons = [r.reason for r in records if isinstance(r, Problem)]
    assert reasons == ["JSON nested too deeply to read", "'text' is not a string (got list)",
                       "'url' is not a string (got int)", "'title' is not a string (got dict)",
                       "'id' is not a string or an integer (got list)",
                       "'published' is not an ISO 8601 date: 1000000000000000000000000000000",
                       "'html' is not a string (got bool)",
                       "a field holds an unpaired surrogate escape (\\ud800-\\udfff), which is not valid Unicode"]
    good = [r for r in records if isinstance(r, Article)]
    assert [(a.id, a.text) for a in good] == [("8", "a whole pair \U0001f600"), ("7", "fine")]
    with Store(":memory:") as store:  # and the store takes whatever the reader yields
        assert ingest_paths([path], store).articles_added == 2


def test_csv_is_streamed_and_stops_cleanly_at_bad_bytes(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(b"\xef\xbb\xbfid,text\n1,first row\n2,\"a quoted\nrow\"\n3,caf\xe9\n4,never read\n")
    records = list(read_file(path))
    assert [r.id for r in records if isinstance(r, Article)] == ["1", "2"]
    problem = records[-1]
    assert isinstance(problem, Problem) and problem.record == "5" and "not valid UTF-8 (line 5" in problem.reason
    long_row = tmp_path / "long.csv"
    long_row.write_text("id,text\n1,ok\n2," + "x" * 5000 + "\n3,after\n", "utf-8")
    records = list(read_file(long_row, max_bytes=1000))
    assert records[0].id == "1" and "over the --max-bytes limit" in records[1].reason


def test_errors_of_a_million_bad_rows_are_written_in_batches(tmp_path):
    """One bad row each: a statement a batch, not one a problem (which took minutes)."""
    path = tmp_path / "bad.csv"
    path.write_text("id,text\n" + "".join(f"{i},\n" for i in range(20_000)), "utf-8")
    started = time.perf_counter()
    with Store(tmp_path / "e.duckdb") as store:
        report = ingest_paths([path], store)
        assert store.count("errors") == report.problem_count == 20_000
    assert report.problems[0].reason.startswith("empty document")
    assert time.perf_counter() - started < 60
