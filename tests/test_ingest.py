"""Ingest: every format, every bad case, idempotent reruns and resumption after kill -9."""

from __future__ import annotations

import gzip
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import make_page
from newstrace.ingest import ingest_paths
from newstrace.ingest.fields import parse_published, registered_domain, stable_id
from newstrace.store import Store

NEWSTRACE = [sys.executable, "-m", "newstrace.cli"]


def write_warc(path: Path, pages: list[tuple[str, str]], *, gz: bool = True) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=gz)
    for url, html in pages:
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(html.encode()),
                                                      http_headers=headers))
    path.write_bytes(buffer.getvalue())


@pytest.fixture
def mixed_corpus(tmp_path: Path, story: list[str]) -> Path:
    root = tmp_path / "corpus"
    (root / "harbourledger").mkdir(parents=True)
    (root / "feeds").mkdir()
    (root / "bad").mkdir()
    # good documents: 1 txt, 2 html, 2 warc records, 2 jsonl lines (one with html), 2 csv rows = 9
    (root / "harbourledger" / "breakwater.txt").write_text("Breakwater closes\n\n" + "\n".join(story), "utf-8")
    (root / "harbour-a.html").write_text(
        make_page("Breakwater to close", "https://www.harbourledger.example/breakwater", "2025-03-04T08:00:00+01:00",
                  story), "utf-8")
    (root / "harbour-b.htm").write_text(
        make_page("Pontoons for fishing crews", "https://news.velmarpost.co.uk/pontoons", "2025-03-05", story[2:]),
        "utf-8")
    write_warc(root / "crawl.warc.gz", [
        ("https://coastwatch.example/a", make_page("Storm damage", "https://coastwatch.example/a", "2025-03-06",
                                                   story[:2])),
        ("https://coastwatch.example/b", make_page("Lorry routes", "https://coastwatch.example/b", "2025-03-07",
                                                   story[3:])),
    ])
    lines = [
        {"id": "feed-1", "url": "https://velmarpost.co.uk/x", "published": "2025-03-06T10:00:00Z",
         "title": "Repairs", "text": " ".join(story[:2])},
        {"url": "https://islandvoice.example/y", "html": make_page("Basin", "https://islandvoice.example/y",
                                                                   "2025-03-08", story[1:3])},
    ]
    (root / "feeds" / "feed.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n", "utf-8")
    (root / "feeds" / "export.csv").write_text(
        "id,url,outlet,published,title,text\n"
        f'c1,https://a.example/1,,2025-03-01,One,"{story[0]}"\n'
        f'c2,,Port Radio,,Two,"{story[1]}"\n', "utf-8")
    # bad documents, one of each kind
    (root / "bad" / "latin1.txt").write_bytes("Caf\xe9 au lait".encode("latin-1"))
    (root / "bad" / "empty.txt").write_text("  \n", "utf-8")
    (root / "bad" / "nested.html").write_text("<div>" * 8000 + "deep" + "</div>" * 8000, "utf-8")
    (root / "bad" / "nothing.html").write_text("<html><body><script>x()</script></body></html>", "utf-8")
    full = root / "bad" / "full.warc.gz"
    write_warc(full, [(f"https://t.example/{k}", make_page(f"T{k}", f"https://t.example/{k}", "2025-01-01",
                                                          story[k:])) for k in range(3)])
    data = full.read_bytes()
    (root / "bad" / "truncated.warc.gz").write_bytes(data[:-200])  # cut inside the third record
    full.unlink()
    (root / "bad" / "broken.jsonl").write_text(
        json.dumps({"id": "ok-line", "text": story[3]}) + "\n{\"id\": \"b\", \"text\": \"unterminated\n", "utf-8")
    (root / "bad" / "notext.csv").write_text("id,title\n1,Only a title\n", "utf-8")
    (root / "bad" / "huge.txt").write_text("word " * 50_000, "utf-8")
    return root


def test_seed_is_stored_byte_exact(tmp_path: Path, seed_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        report = ingest_paths([seed_path], store)
        assert report.articles_added == 1 and not report.problems
        article = store.get_article("article")
    assert article is not None
    assert article.text == seed_path.read_bytes().decode("utf-8")  # no normalisation, odd characters kept
    assert article.outlet == "seed"  # parent folder's name: a .txt has no URL
    assert article.extractor == "txt" and article.source_file == str(seed_path)


def test_mixed_folder_ingests_every_good_document_and_reports_each_bad_one(mixed_corpus: Path) -> None:
    seen = []
    with Store(mixed_corpus.parent / "m.duckdb") as store:
        ingest_paths([mixed_corpus], store, max_bytes=100_000, on_problem=seen.append)
        articles = {a.id: a for a in store.iter_articles()}
        errors = store.con.execute("SELECT file, record, reason FROM errors").fetchall()
    # 9 good + the good line of broken.jsonl + the two whole records before the cut in truncated.warc.gz
    assert len(articles) == 12, sorted(articles)
    reasons = {Path(p.file).name: p.reason for p in seen}
    assert "UTF-8" in reasons["latin1.txt"]
    assert "empty" in reasons["empty.txt"]
    assert "nested" in reasons["nested.html"]
    assert "no main text" in reasons["nothing.html"]
    assert "truncated" in reasons["truncated.warc.gz"]
    assert "broken JSON" in reasons["broken.jsonl"]
    assert "no 'text' or 'html' column" in reasons["notext.csv"]
    assert "--max-bytes" in reasons["huge.txt"]
    assert len(errors) == len(seen) == 8
    broken = next(p for p in seen if p.file.endswith("broken.jsonl"))
    assert broken.record == "2"  # the record is named: line 2
    # fields, outlets and dates
    html_a = articles["harbour-a"]
    assert html_a.outlet == "harbourledger.example" and html_a.url == "https://www.harbourledger.example/breakwater"
    assert html_a.published is not None and html_a.published.utcoffset() is not None
    assert html_a.published == parse_published("2025-03-04T08:00:00+01:00")  # the same instant, stored in UTC
    assert "eastern breakwater" in html_a.text and "newsletter" not in html_a.text
    assert articles["harbour-b"].outlet == "velmarpost.co.uk"
    assert articles["feed-1"].outlet == "velmarpost.co.uk" and articles["feed-1"].record == "1"
    assert articles["c2"].outlet == "Port Radio" and articles["c1"].outlet == "a.example"
    assert articles["breakwater"].outlet == "harbourledger"
    warc = [a for a in articles.values() if a.extractor == "trafilatura" and a.record]
    assert {a.url for a in warc} >= {"https://coastwatch.example/a", "https://coastwatch.example/b"}
    assert all(a.id == stable_id(a.url, a.text) for a in warc)


def test_rerun_adds_nothing(mixed_corpus: Path) -> None:
    db = mixed_corpus.parent / "r.duckdb"
    with Store(db) as store:
        first = ingest_paths([mixed_corpus], store, max_bytes=100_000)
        n = store.count("articles")
    with Store(db) as store:
        second = ingest_paths([mixed_corpus], store, max_bytes=100_000)
        assert store.count("articles") == n
        # errors are not doubled either: a finished file is skipped, a re-read file replaces its own rows
        assert store.count("errors") == len(first.problems)
    assert second.articles_added == 0 and second.files_skipped_done == second.files


def test_duplicate_id_from_another_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "story.txt").write_text("One text about the harbour.", "utf-8")
    (tmp_path / "b" / "story.txt").write_text("Another text about the market.", "utf-8")
    with Store(tmp_path / "d.duckdb") as store:
        report = ingest_paths([tmp_path], store)
    assert report.articles_added == 1
    assert any("already ingested" in p.reason and p.file.endswith("b/story.txt") for p in report.problems)


def test_published_parsing() -> None:
    assert parse_published("2017-06-26").isoformat() == "2017-06-26T00:00:00+00:00"
    assert parse_published("2024-03-05T10:00:00+0200").isoformat() == "2024-03-05T10:00:00+02:00"
    assert parse_published("2024-03-05T10:00:00Z").utcoffset().total_seconds() == 0
    assert parse_published(None) is None
    with pytest.raises(ValueError):
        parse_published("last Tuesday")
    assert registered_domain("https://news.bbc.co.uk/a") == "bbc.co.uk"
    assert registered_domain("http://www.iuvmpress.com/11441") == "iuvmpress.com"


def _jsonl_corpus(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            handle.write(json.dumps({"id": f"a{i}", "url": f"https://o{i % 7}.example/{i}",
                                     "text": f"Article {i} about the breakwater repairs. " * 20}) + "\n")


def test_resumes_after_kill_9_with_no_duplicates_and_nothing_lost(tmp_path: Path) -> None:
    total = 0
    files = []
    for k in range(40):
        path = tmp_path / f"part{k:02d}.jsonl"
        _jsonl_corpus(path, 1500)
        files.append(path)
    # ids repeat across files by design of _jsonl_corpus; make them unique per file
    for k, path in enumerate(files):
        rows = [json.loads(x) for x in path.read_text("utf-8").splitlines()]
        path.write_text("".join(json.dumps({**r, "id": f"{k}-{r['id']}"}) + "\n" for r in rows), "utf-8")
        total += len(rows)
    db = tmp_path / "k.duckdb"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    partial = None
    # kill once the store holds some committed data, judged by the size of its files rather than by a fixed delay:
    # on a loaded machine a fixed delay can land before the first batch commits
    for grown in (2 << 20, 1 << 20, 4 << 20, 256 << 10):
        for stale in (db, Path(str(db) + ".wal")):
            if stale.exists():
                stale.unlink()
        proc = subprocess.Popen([*NEWSTRACE, "ingest", str(tmp_path), "--db", str(db), "--quiet"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            size = sum(f.stat().st_size for f in (db, Path(str(db) + ".wal")) if f.exists())
            if size >= grown:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with Store(db) as store:
            partial = store.count("articles")
        if 0 < partial < total:
            break
    assert partial is not None and 0 < partial < total, f"could not stop ingest partway ({partial}/{total})"
    result = subprocess.run([*NEWSTRACE, "ingest", str(tmp_path), "--db", str(db), "--quiet", "--json"],
                            capture_output=True, text=True, env=env, check=True)
    summary = json.loads(result.stdout)
    with Store(db) as store:
        count, distinct = store.con.execute("SELECT count(*), count(DISTINCT id) FROM articles").fetchall()[0]
    assert count == distinct == total
    assert summary["articles_added"] == total - partial


def test_cli_exit_codes(tmp_path: Path, story: list[str]) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe not utf8")
    result = subprocess.run([*NEWSTRACE, "ingest", str(bad), "--db", str(tmp_path / "x.duckdb"), "--quiet"],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "bad.txt" in result.stderr and "UTF-8" in result.stderr and "nothing could be ingested" in result.stderr
    good = tmp_path / "good.txt"
    good.write_text(story[0], "utf-8")
    result = subprocess.run([*NEWSTRACE, "ingest", str(good), str(bad), "--db", str(tmp_path / "y.duckdb"),
                             "--quiet"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "1 articles added" in result.stderr and "1 problems" in result.stderr


def test_gzip_jsonl_is_not_a_supported_input(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"text": "x"}\n'))
    with Store(tmp_path / "g.duckdb") as store:
        report = ingest_paths([path], store)
    assert report.articles_added == 0 and "unsupported file type" in report.problems[0].reason


def test_background_checkpoint_folds_the_wal_into_the_file(tmp_path: Path) -> None:
    from newstrace.model import Article

    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        store.add_articles([Article(id=f"a{i}", text=f"text number {i} " * 50) for i in range(2000)])
        wal = Path(f"{db}.wal")
        assert wal.exists() and wal.stat().st_size > 100_000  # bulk inserts stay in the WAL (checkpoint_threshold)
        store.checkpoint_in_background().join()
        assert not wal.exists() or wal.stat().st_size < 10_000
        assert store.count("articles") == 2000
    with Store(db, read_only=True) as again:
        assert again.count("articles") == 2000


def test_background_checkpoint_gives_way_to_an_open_reader(tmp_path: Path) -> None:
    from newstrace.model import Article

    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        store.add_articles([Article(id=f"a{i}", text=f"text {i} " * 50) for i in range(6000)])
        reading = store.iter_articles(batch_size=100)
        first = next(reading)
        store.checkpoint_in_background().join()  # fails quietly while the cursor is open; close() checkpoints
        assert first.id == "a0" and sum(1 for _ in reading) == 5999
    with Store(db, read_only=True) as again:
        assert again.count("articles") == 6000


def test_lean_store_caps_duckdb_memory_while_spark_works_and_keeps_every_row(tmp_path: Path) -> None:
    from newstrace.model import Article

    with Store(tmp_path / "s.duckdb") as store:
        store.add_articles([Article(id=f"a{i}", text=f"words of text {i} " * 200) for i in range(3000)])
        default = store.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        with store.lean("64MB"):
            assert store.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] == "61.0 MiB"
            assert sum(len(a.text) for a in store.iter_articles()) > 10_000_000  # more than the cap, read fine
        assert store.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] == default
    with Store(":memory:") as memory, memory.lean("64MB"):
        assert memory.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] != "61.0 MiB"


@settings(max_examples=300, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=8))
def test_jsonl_lines_read_as_json_reads_them(value):
    # orjson reads the lines; whatever it reads differently (NaN, huge integers, lone surrogates) goes to json
    from newstrace.ingest.sources import _json_object

    for obj in ({"id": "a", "text": "t", "meta": value}, {"id": value, "text": "t"}):
        line = json.dumps(obj, ensure_ascii=bool(len(str(value)) % 2)).encode("utf-8", "surrogatepass")
        try:
            want = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            with pytest.raises(type(exc)):
                _json_object(line)
            continue
        got = _json_object(line)
        assert repr(got) == repr(want)


def test_a_failed_commit_stops_ingest_keeps_what_was_committed_and_a_rerun_completes(tmp_path: Path, monkeypatch):
    """Batches are committed on a thread while the next is parsed: a commit that fails is raised by ingest, the
    batches before it stay stored, its file is not marked done, and a rerun stores the rest with no duplicate."""
    import newstrace.ingest as ingest

    lines = [json.dumps({"id": f"a{k}", "text": f"Article number {k} about the harbour."}) for k in range(25)]
    (tmp_path / "c.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    monkeypatch.setattr(ingest, "BATCH_SIZE", 10)
    real = Store.add_articles
    calls = []

    def failing_second(self, articles):
        calls.append(len(articles))
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(self, articles)

    stored_batches: list[int] = []
    with Store(tmp_path / "s.duckdb") as store:
        monkeypatch.setattr(Store, "add_articles", failing_second)
        with pytest.raises(OSError, match="No space left"):
            ingest_paths([tmp_path / "c.jsonl"], store, on_stored=lambda b: stored_batches.append(len(b)))
        assert store.count("articles") == 10 and stored_batches == [10]
        assert not store.done_files()
        monkeypatch.setattr(Store, "add_articles", real)
        report = ingest_paths([tmp_path / "c.jsonl"], store)
        assert store.count("articles") == 25 and report.articles_added == 15
        assert report.articles_already_stored == 10 and report.problem_count == 0
