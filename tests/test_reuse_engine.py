"""The reuse engine, families and query on a small corpus built from real PTC articles with planted reuse."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from conftest import PTC_ARTICLES, need
from newstrace.errors import StoreError
from newstrace.model import Article, ReusePair
from newstrace.reuse.engine import EngineParams, find_reuse, textual_direction
from newstrace.reuse.families import build_families, family_id
from newstrace.reuse.query import index_articles, query_text

T0 = datetime(2018, 3, 1, 9, 0, tzinfo=timezone.utc)

# Written for these tests: an outlet's newsletter blurb and footer, repeated on all of its pages.
FOOTER = (
    "\n\nSubscribe to the Omega Daily Briefing and get the stories that the mainstream media will never tell you, "
    "delivered to your inbox every single morning before breakfast. Share this article with your friends and "
    "family on every social network you use. Copyright Omega Daily Media Group, all rights reserved, no part of "
    "this website may be reproduced without the express written permission of the publisher.\n"
)
TINY_FOOTER = (
    "\n\nThe Tiny Courier is an independent reader-funded newsroom. If you value reporting like this, please "
    "consider becoming a monthly supporter today, because every contribution, however small, keeps our journalists "
    "on the ground and our website free of paywalls for everyone.\n"
)
INJECT = ", the disgraced real estate tycoon,"


def _ptc(name: str) -> str:
    return (need(PTC_ARTICLES) / f"{name}.txt").read_bytes().decode("utf-8")


def _lines(text: str) -> list[str]:
    return [x for x in text.split("\n") if x.strip()]


def _art(id_: str, text: str, outlet: str, day: int | None) -> Article:
    return Article(id=id_, text=text, outlet=outlet, published=None if day is None else T0 + timedelta(days=day))


def build_corpus() -> list[Article]:
    plague = _ptc("article111111111")
    partial_host = _lines(_ptc("article111111112"))
    reused = [x for x in _lines(plague) if len(x) > 150][:3]
    part = "\n".join(partial_host[:4] + reused + partial_host[4:])
    kate = _ptc("article111111113")
    kate_reordered = "\n\n".join(reversed(kate.split("\n\n")))
    franken = _ptc("article111111115")
    dallas = _ptc("article111111121")
    acosta = _ptc("article111111133")
    omega = [_ptc(n) for n in ("article111111123", "article769962236", "article770221823", "article773748383")]
    return [
        _art("orig", plague, "alpha.example", 0),
        _art("copy", plague, "beta.example", 1),
        _art("part", part, "gamma.example", 2),
        _art("kate", kate, "delta.example", None),
        _art("kate-reordered", kate_reordered, "epsilon.example", None),
        # same topic, not copies
        _art("russia-1", _ptc("article774145019"), "rho.example", 3),
        _art("russia-2", _ptc("article774637726"), "sigma.example", 4),
        _art("kav-1", _ptc("article111111122"), "rho.example", 5),
        _art("kav-2", _ptc("article786919720"), "sigma.example", 6),
        # one outlet's unrelated articles sharing its boilerplate
        *[_art(f"omega-{i}", t + FOOTER, "omega.example", 10 + i) for i, t in enumerate(omega)],
        # an outlet with too few articles to learn its footer from
        _art("tiny-1", _ptc("article111111131") + TINY_FOOTER, "tiny.example", 12),
        _art("tiny-2", _ptc("article111111132") + TINY_FOOTER, "tiny.example", 13),
        # a copy of omega-0 that inherited the footer
        _art("zeta-copy", omega[0] + FOOTER, "zeta.example", 20),
        # textual direction: an undated copy with a phrase injected after each "Trump"; ids put the copy first
        _art("a-injected", re.sub(r"\bTrump\b", "Trump" + INJECT, acosta), "x", None),
        _art("b-original", acosta, "y", None),
        # undated verbatim copies: no evidence either way
        _art("u1", franken, "u.example", None),
        _art("u2", franken, "v.example", None),
        _art("lonely", dallas, "w.example", 30),
    ]


@pytest.fixture(scope="module")
def corpus() -> list[Article]:
    return build_corpus()


@pytest.fixture(scope="module")
def result(corpus):
    return find_reuse(corpus, workers=1)


def _pair(result, x: str, y: str) -> ReusePair | None:
    for p in result.pairs:
        if {p.source, p.copy} == {x, y}:
            return p
    return None


def test_verbatim_copy_is_dated_pair(result, corpus):
    p = _pair(result, "orig", "copy")
    assert p is not None
    assert (p.source, p.copy, p.direction) == ("orig", "copy", "dated")
    assert p.score > 0.95
    text = {a.id: a.text for a in corpus}
    for q in p.passages:
        assert text["orig"][q.source_start : q.source_end] == text["copy"][q.copy_start : q.copy_end]


def test_partial_reuse_passages_cover_the_embedded_paragraphs(result, corpus):
    p = _pair(result, "orig", "part")
    assert p is not None and p.direction == "dated" and p.source == "orig"
    part = next(a.text for a in corpus if a.id == "part")
    orig = next(a.text for a in corpus if a.id == "orig")
    reused = [x for x in _lines(orig) if len(x) > 150][:3]
    start = part.index(reused[0])
    end = part.index(reused[-1]) + len(reused[-1])
    covered = sum(min(end, q.copy_end) - max(start, q.copy_start) for q in p.passages if q.copy_end > start)
    assert covered >= 0.9 * (end - start)
    assert all(q.copy_start >= start - 5 and q.copy_end <= end + 5 for q in p.passages)


def test_reordered_copy_is_found(result):
    p = _pair(result, "kate", "kate-reordered")
    assert p is not None
    assert p.score > 0.8


def test_same_topic_articles_are_not_pairs(result):
    assert _pair(result, "russia-1", "russia-2") is None
    assert _pair(result, "kav-1", "kav-2") is None
    assert _pair(result, "lonely", "orig") is None


def test_outlet_boilerplate_does_not_pair_unrelated_articles(result):
    for i in range(4):
        for j in range(i + 1, 4):
            assert _pair(result, f"omega-{i}", f"omega-{j}") is None
    # nor does a footer shared by the only two articles of an outlet
    assert _pair(result, "tiny-1", "tiny-2") is None
    # the inherited footer does not pair the copy with omega's other articles either
    for i in range(1, 4):
        assert _pair(result, "zeta-copy", f"omega-{i}") is None


def test_inherited_footer_is_not_in_the_passages(result, corpus):
    p = _pair(result, "omega-0", "zeta-copy")
    assert p is not None and (p.source, p.direction) == ("omega-0", "dated")
    zeta = next(a.text for a in corpus if a.id == "zeta-copy")
    footer_start = zeta.index(FOOTER.strip())
    assert all(q.copy_end <= footer_start + 20 for q in p.passages)


def test_textual_direction_follows_the_insertions(result):
    p = _pair(result, "a-injected", "b-original")
    assert p is not None
    assert (p.source, p.copy, p.direction) == ("b-original", "a-injected", "textual")


def test_unknown_direction_orders_by_id(result):
    p = _pair(result, "u1", "u2")
    assert p is not None
    assert (p.source, p.copy, p.direction) == ("u1", "u2", "unknown")


def test_textual_direction_is_symmetric():
    a = _ptc("article111111133")
    b = re.sub(r"\bTrump\b", "Trump" + INJECT, a)
    from newstrace.reuse.align import AlignParams, align

    passages = align(a, b, AlignParams(summary=False))
    assert textual_direction(a, b, passages) == 1
    assert textual_direction(b, a, align(b, a, AlignParams(summary=False))) == -1


def test_one_pair_per_unordered_pair_and_valid_offsets(result, corpus):
    text = {a.id: a.text for a in corpus}
    keys = [frozenset((p.source, p.copy)) for p in result.pairs]
    assert len(keys) == len(set(keys))
    for p in result.pairs:
        assert 0.0 <= p.score <= 1.0
        for q in p.passages:
            assert 0 <= q.source_start < q.source_end <= len(text[p.source])
            assert 0 <= q.copy_start < q.copy_end <= len(text[p.copy])


def test_families_and_origin(result):
    fams = {frozenset(f.members): f for f in result.families}
    plague = fams[frozenset({"orig", "copy", "part"})]
    assert plague.origin == "orig"
    assert plague.family == family_id(["part", "orig", "copy"])
    assert fams[frozenset({"a-injected", "b-original"})].origin == "b-original"
    assert fams[frozenset({"u1", "u2"})].origin == "u1"
    members = [m for f in result.families for m in f.members]
    assert len(members) == len(set(members))
    assert "lonely" not in members


def test_family_origin_prefers_dates_then_textual_root():
    pairs = [
        ReusePair("b", "c", 0.9, "textual", []),
        ReusePair("c", "d", 0.9, "unknown", []),
        ReusePair("x", "y", 0.9, "unknown", []),
    ]
    fams = build_families(pairs, {"b": None, "c": None, "d": None, "x": None, "y": None})
    by = {frozenset(f.members): f.origin for f in fams}
    assert by[frozenset("bcd")] == "b"
    assert by[frozenset("xy")] == "x"
    dated = build_families(pairs, {"b": None, "c": None, "d": T0, "x": None, "y": None})
    assert {frozenset(f.members): f.origin for f in dated}[frozenset("bcd")] == "d"


def test_result_does_not_depend_on_input_order(corpus, result):
    again = find_reuse(list(reversed(corpus)), workers=1)
    assert [(p.source, p.copy, p.direction, p.score) for p in again.pairs] == [
        (p.source, p.copy, p.direction, p.score) for p in result.pairs
    ]
    assert [(f.family, f.origin) for f in again.families] == [(f.family, f.origin) for f in result.families]


def test_duckdb_candidates_give_the_same_pairs(corpus, result):
    con = duckdb.connect()
    via_db = find_reuse(corpus, con=con, workers=1)
    assert [(p.source, p.copy) for p in via_db.pairs] == [(p.source, p.copy) for p in result.pairs]


def test_progress_reports_stages(corpus):
    seen: list[str] = []
    find_reuse(corpus[:3], progress=lambda stage, done, total: seen.append(stage), workers=1)
    assert seen == ["shingles", "candidates", "align", "families"]


def test_min_passage_chars_filters_short_reuse(corpus):
    strict = find_reuse(corpus, min_passage_chars=50_000, workers=1, params=EngineParams())
    assert strict.pairs == [] and strict.families == []


def test_query_finds_the_source_and_indexing_is_incremental(corpus, tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "store.duckdb"))
    texts = {a.id: a.text for a in corpus}
    probe = next(a.text for a in corpus if a.id == "part")
    first = [a for a in corpus if a.id not in ("orig", "copy", "a-injected", "b-original")]
    assert index_articles(con, first) == len(first)
    assert [h.article_id for h in query_text(probe, con, texts=texts)] == ["part"]
    assert index_articles(con, corpus) == 4  # only the new ones
    n_rows = con.execute("SELECT count(*) FROM shingles").fetchall()[0][0]
    assert index_articles(con, corpus) == 0
    assert con.execute("SELECT count(*) FROM shingles").fetchall()[0][0] == n_rows
    hits = query_text(probe, con, texts=texts)
    ids = [h.article_id for h in hits]
    assert ids[0] == "part" and {"orig", "copy"} <= set(ids)
    orig_hit = next(h for h in hits if h.article_id == "orig")
    assert orig_hit.passages and all(q.copy_end <= len(probe) for q in orig_hit.passages)
    # boilerplate shared with an outlet's pages is not evidence of reuse
    footer_only = "A new unrelated story about the weather in Lisbon." + FOOTER
    assert query_text(footer_only, con, texts=texts) == []


def test_query_on_a_store_without_index_is_a_clear_error():
    with pytest.raises(StoreError):
        query_text("a text long enough to have a few shingles of five words", duckdb.connect())


def test_query_reads_texts_from_the_articles_table(corpus):
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE articles (id VARCHAR, url VARCHAR, outlet VARCHAR, published TIMESTAMPTZ, "
        "title VARCHAR, text VARCHAR)"
    )
    con.executemany(
        "INSERT INTO articles VALUES (?, NULL, ?, NULL, NULL, ?)", [(a.id, a.outlet, a.text) for a in corpus]
    )
    assert index_articles(con) == len(corpus)
    assert index_articles(con) == 0
    kate = next(a.text for a in corpus if a.id == "kate")
    hits = query_text(kate[:3000], con)
    assert {h.article_id for h in hits[:2]} == {"kate", "kate-reordered"}


def test_boilerplate_spans_are_disjoint_and_blanking_keeps_offsets():
    from newstrace.reuse.engine import _blank, boilerplate_spans
    from newstrace.reuse.shingles import ShingleParams, fingerprint

    body = _ptc("article111111111")
    text = FOOTER + body[:400] + FOOTER + body[400:] + FOOTER
    spans = boilerplate_spans(text, fingerprint(FOOTER), ShingleParams())
    assert len(spans) == 3
    assert all(a < b <= c for (a, b), (c, _) in zip(spans, spans[1:], strict=False))
    blank = _blank(text, spans)
    assert len(blank) == len(text)
    assert "Omega" not in blank and body[450:900] in blank


def test_boilerplate_is_blanked_within_its_lines():
    from newstrace.reuse.engine import _blank, boilerplate_spans
    from newstrace.reuse.shingles import ShingleParams, fingerprint

    masthead = "Omega Daily | News and analysis you will not find anywhere else since 2004"
    story = "Ferry crews in Dunmore stopped work on Thursday after the operator announced a new summer rota."
    text = masthead + "\n" + story + "\n" + masthead + "\n"
    spans = boilerplate_spans(text, fingerprint(masthead), ShingleParams())
    # the widening that winnowing needs stops at the line: the story's first and last words are not blanked
    assert [text[a:b] for a, b in spans] == [masthead, masthead]
    blank = _blank(text, spans)
    assert blank.count("\n") == 3 and story in blank


def test_same_outlet_copy_is_still_a_pair(corpus):
    base = next(a for a in corpus if a.id == "tiny-1")
    again = Article(id="tiny-1-again", text=base.text, outlet=base.outlet, published=T0 + timedelta(days=40))
    res = find_reuse([base, again], workers=1)
    assert [(p.source, p.copy) for p in res.pairs] == [("tiny-1", "tiny-1-again")]


def test_component_order_groups_pairs_of_one_family():
    import numpy as np

    from newstrace.reuse.engine import component_order

    # two families {0, 4, 1} and {2, 3, 9}, and {5, 6}; pairs keep their order inside each
    a, b = np.array([0, 5, 1, 2, 7, 3]), np.array([4, 6, 4, 3, 8, 9])
    assert component_order(a, b).tolist() == [0, 2, 3, 5, 1, 4]
    assert component_order(np.empty(0, np.int32), np.empty(0, np.int32)).tolist() == []
