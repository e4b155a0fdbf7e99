"""Shingling ahead of the reuse stage, keeping what ingest stored, and the fast article writer: each must give
exactly what the slower path it replaces gives."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import DEMO_CORPUS, PTC_ARTICLES, need
from newstrace.export import article_line, article_line_utf8, jsonl_line, write_articles, write_articles_in_background
from newstrace.ingest import ingest_paths
from newstrace.model import Article
from newstrace.reuse.ahead import ShingleAhead
from newstrace.reuse.engine import shingle_corpus
from newstrace.reuse.shingles import ShingleParams
from newstrace.store import Store, as_stored


def _articles() -> list[Article]:
    paths = sorted(need(PTC_ARTICLES).glob("*.txt"))[:60]
    return [Article(id=p.stem, text=p.read_text(encoding="utf-8")) for p in paths]


def test_rows_for_equals_shingling_the_articles_at_once() -> None:
    articles = _articles()
    params = ShingleParams()
    ahead = ShingleAhead(params, workers=2, part_size=7)
    ahead.add(articles[:25])
    ahead.add(articles[25:50])  # the last ten were stored by an earlier run: never added
    # the reuse stage sees its own order, and one article whose stored text is not the one shingled
    wanted = sorted(articles, key=lambda a: a.text[-40:])
    changed = wanted.index(articles[3])
    wanted[changed] = Article(id=articles[3].id, text=articles[3].text + " A new closing sentence of the story.")
    docs, hashes = ahead.rows_for(wanted)
    d2, h2 = shingle_corpus([a.text for a in wanted], params, workers=1)
    assert docs.dtype == d2.dtype and hashes.dtype == h2.dtype
    assert np.array_equal(docs, d2) and np.array_equal(hashes, h2)
    assert np.any(docs == changed)


def test_rows_for_without_anything_added_shingles_everything() -> None:
    articles = _articles()[:12]
    ahead = ShingleAhead(ShingleParams(), workers=1)
    docs, hashes = ahead.rows_for(articles)
    d2, h2 = shingle_corpus([a.text for a in articles], ShingleParams(), workers=1)
    assert np.array_equal(docs, d2) and np.array_equal(hashes, h2)
    ahead.close()  # twice is harmless


def test_kept_articles_equal_what_the_store_reads_back(tmp_path: Path) -> None:
    """HTML, WARC, JSONL and text of the demo corpus, plus dates in other time zones."""
    kept: list[Article] = []
    corpus = tmp_path / "extra.jsonl"
    corpus.write_text(
        '{"id": "z1", "text": "one story", "published": "2024-03-01T23:30:00+05:30"}\n'
        '{"id": "a1", "text": "another story", "published": "2024-03-01T10:00:00-08:00"}\n'
        '{"id": "m1", "text": "a third story", "published": "2024-03-01"}\n', encoding="utf-8")
    with Store(tmp_path / "s.duckdb") as store:
        ingest_paths([DEMO_CORPUS, corpus], store, on_stored=kept.extend)
        stored = list(store.iter_articles())
        assert len(kept) == len(stored) > 20
        assert as_stored(kept) == stored
        assert [article_line(a) for a in as_stored(kept)] == [article_line(a) for a in stored]


def test_article_line_equals_the_generic_writer() -> None:
    when = datetime(2024, 5, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    for a in (Article(id="x", text="plain"), Article(id="é\u2028", text="a\u2029b\x85c\"\\\n\t\x00\x7f",
                                                       url="https://e.example/1", outlet="e.example",
                                                       published=when, title="T\u2028"),
              Article(id="s", text="lone \ud800 surrogate")):
        assert article_line(a) == jsonl_line(a.contract_row())


@settings(max_examples=300, deadline=None)
@given(st.text(), st.one_of(st.none(), st.text()), st.text(min_size=1))
def test_article_line_equals_the_generic_writer_on_any_text(text: str, title: str | None, ident: str) -> None:
    a = Article(id=ident, text=text, title=title)
    assert article_line(a) == jsonl_line(a.contract_row())
    assert article_line_utf8(a) == (jsonl_line(a.contract_row()) + "\n").encode("utf-8")


def test_article_lines_in_utf8_equal_the_generic_writer_in_every_code_point_range(monkeypatch) -> None:
    """Every escaped code point, each UTF-8 length and each width CPython stores a str in (1, 2, 4 bytes)."""
    import newstrace.export as E

    when = datetime(2024, 5, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    special = "".join(map(chr, range(0x00, 0x80))) + "\x85\xa0\xff\u07ff\u0800\u2028\u2029\ufeff\uffff"
    for extra in ("", "\u0100", "\U0001f600\U0010ffff"):
        a = Article(id="i" + extra, text=special + extra, url="https://e.example/\x85", outlet="e\u2028",
                    published=when, title=special[::-1] + extra)
        want = (jsonl_line(a.contract_row()) + "\n").encode("utf-8")
        assert article_line_utf8(a) == want
        with monkeypatch.context() as m:
            m.setattr(E, "_json_kernel", None)
            assert article_line_utf8(a) == want
    lone = Article(id="s", text="lone \ud800 surrogate")  # no UTF-8 form: the writer fails, as json's would
    with pytest.raises(UnicodeEncodeError):
        article_line_utf8(lone)


def test_articles_written_in_the_background_equal_the_plain_writer(tmp_path: Path) -> None:
    articles = _articles()
    write_articles(tmp_path / "plain.jsonl", articles)
    write_articles_in_background(tmp_path / "background.jsonl", articles).finish()
    assert (tmp_path / "background.jsonl").read_bytes() == (tmp_path / "plain.jsonl").read_bytes()


def test_storing_and_shingling_ahead_leave_no_utf8_copy_inside_the_texts(tmp_path: Path) -> None:
    # CPython caches a str's UTF-8 form inside it once pyarrow or pickle asks for it, and sys.getsizeof counts that
    # copy: a run that keeps its articles would hold every non-ASCII text twice
    articles = [Article(id=f"a{k}", text=f"Caf\u00e9 n\u00b0{k} \u2019quoted\u2019 " * 200, title="T\u00eate")
                for k in range(12)]
    sizes = [(sys.getsizeof(a.text), sys.getsizeof(a.title)) for a in articles]
    with Store(tmp_path / "s.duckdb") as store:
        assert store.add_articles(articles) == 12
        assert [a.text for a in store.iter_articles()] == [a.text for a in sorted(articles, key=lambda a: a.id)]
    ahead = ShingleAhead(ShingleParams(), workers=2, part_size=5)
    ahead.add(articles)
    docs, _ = ahead.rows_for(articles)
    assert len(set(docs.tolist())) == 12
    assert [(sys.getsizeof(a.text), sys.getsizeof(a.title)) for a in articles] == sizes
    # nor does articles.jsonl, written from the end of ingest while these texts stay in memory (orjson, C)
    write_articles(tmp_path / "articles.jsonl", articles)
    write_articles_in_background(tmp_path / "background.jsonl", articles).finish()
    assert [(sys.getsizeof(a.text), sys.getsizeof(a.title)) for a in articles] == sizes
