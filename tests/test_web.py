"""The web app (FastAPI TestClient) over the hand-built store of test_report: views, JSON twins, upload limit,
read-only store, security headers, and hostile content rendered inert."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import duckdb
import pytest

from test_report import INSERT, PAYLOAD_URL, assert_inert, build_store  # noqa: I001

warnings.filterwarnings("ignore", message=".*httpx2.*")
from fastapi.testclient import TestClient  # noqa: E402

from newstrace.web.app import create_app  # noqa: E402


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return build_store(tmp_path / "ui.duckdb")


@pytest.fixture
def client(store_path: Path):
    with TestClient(create_app(store_path, max_upload=10_000)) as c:
        yield c


HTML_PAGES = [
    "/",
    "/families",
    "/family/F1",
    "/pair?source=src-1&copy=copy-1",
    "/articles",
    "/article/copy-1",
    "/article/src-1",
    "/outlets",
    "/network",
    "/check",
]


@pytest.mark.parametrize("url", HTML_PAGES)
def test_html_views_are_inert_and_locked_down(client, url):
    r = client.get(url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script" not in csp and "unsafe" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert_inert(r.text, shown=url in ("/family/F1", "/pair?source=src-1&copy=copy-1", "/article/copy-1"))


def test_json_twins(client):
    ov = client.get("/index.json").json()
    assert ov["counts"]["articles"] == 3 and ov["families"][0]["family"] == "F1"
    assert client.get("/families.json").json()["rows"][0]["size"] == 2
    fam = client.get("/family/F1.json").json()
    assert fam["chains"] == [["src-1", "copy-1"]]
    pair = client.get("/pair.json", params={"source": "src-1", "copy": "copy-1"}).json()
    assert pair["systematic"][0]["copy_text"] == INSERT and pair["systematic"][0]["count"] == 3
    art = client.get("/article/copy-1.json").json()
    assert art["url"] == PAYLOAD_URL and art["safe_url"] is None and len(art["injections"]) == 1
    assert client.get("/articles.json", params={"q": "depot"}).json()["total"] == 1
    assert client.get("/outlets.json").json()["total"] == 3
    assert "summary" in client.get("/network.json").json()
    assert client.get("/network.svg").headers["content-type"].startswith("image/svg+xml")
    for missing in ("/family/nope.json", "/article/nope.json", "/pair.json?source=a&copy=b", "/article/nope"):
        assert client.get(missing).status_code == 404


def test_openapi_describes_the_json_api(client):
    paths = client.get("/openapi.json").json()["paths"]
    for p in (
        "/index.json",
        "/families.json",
        "/family/{family_id}.json",
        "/pair.json",
        "/articles.json",
        "/article/{article_id}.json",
        "/outlets.json",
        "/network.json",
        "/check.json",
    ):
        assert p in paths, p
    assert "/" not in paths  # HTML pages are not part of the API


def test_article_ids_with_slashes_and_dots(tmp_path):
    from newstrace.model import Article
    from newstrace.store import Store

    path = tmp_path / "ids.duckdb"
    with Store(path) as s:
        s.add_articles([Article(id="a/b.json", text="x", title="slash"), Article(id="plain", text="y")])
    with TestClient(create_app(path)) as c:
        assert c.get("/article/a%2Fb.json.json").json()["id"] == "a/b.json"
        assert "slash" in c.get("/article/a%2Fb.json").text or c.get("/article/a%2Fb.json").status_code == 200


def test_upload_limit(client):
    big = b"x" * 20_000
    assert client.post("/check.json", files={"file": ("a.txt", big)}).status_code == 413
    assert client.post("/check", data={"text": "y" * 20_000}).status_code == 413

    def chunks():  # no Content-Length: the limit must hold on the bytes actually sent
        for _ in range(30):
            yield b"z" * 1000

    r = client.post(
        "/check.json", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 413


def test_check_a_text(client):
    r = client.post("/check.json", data={"text": "The Oster Valley Brigade attacked again, officials said."})
    assert r.status_code == 200
    body = r.json()
    assert body["chars"] > 0 and body["article"]["text"].startswith("The Oster")
    # The fixture store has no shingle index: one is built in memory, so the reuse answer is still given.
    assert isinstance(body["sources"], list) and not any("reuse index" in n for n in body["notes"])
    html = client.post("/check", data={"text": "<script>alert(9)</script> plain words"}).text
    assert "<script>alert(9)" not in html
    # highlight marks may cut the escaped text into pieces; without them it reads as the plain, escaped payload
    unmarked = re.sub(r"</?mark[^>]*>|</?span[^>]*>", "", html)
    assert "&lt;script&gt;alert(9)&lt;/script&gt;" in unmarked
    assert client.post("/check.json", files={"file": ("a.txt", b"\xff\xfe\x00bad")}).status_code == 400


def test_store_is_opened_read_only(store_path):
    before = (store_path.stat().st_mtime, store_path.stat().st_size)
    app = create_app(store_path)
    with TestClient(app) as c:
        for url in HTML_PAGES:
            c.get(url)
    with pytest.raises(duckdb.Error):
        app.state.views.store.con.execute("DELETE FROM articles")
    app.state.views.store.close()
    assert (store_path.stat().st_mtime, store_path.stat().st_size) == before
    assert not os.path.exists(str(store_path) + ".wal")


# ---- speed machinery: lookups, page cache, 404s ---------------------------------------------------------


def test_lookups_answer_exactly_what_the_sql_data_layer_answers(store_path):
    from newstrace.report import data
    from newstrace.web.lookup import Lookup

    con = duckdb.connect(str(store_path), read_only=True)
    try:
        lk = Lookup.load(con)
        assert lk.families(limit=50) == data.families(con, limit=50)
        assert lk.outlets(limit=50) == data.outlets(con, limit=50)
        for aid in ("src-1", "copy-1", "alone", "nope"):
            assert lk.article(con, aid) == data.article(con, aid), aid
        assert lk.family(con, "F1") == data.family(con, "F1") and lk.family(con, "nope") is None
        assert lk.pair(con, "src-1", "copy-1") == data.pair(con, "src-1", "copy-1")
        assert lk.pair(con, "copy-1", "src-1") == data.pair(
            con, "copy-1", "src-1"
        )  # no such pair: texts only
        for kw in (
            {},
            {"q": "depot"},
            {"q": "COPY"},
            {"q": "%"},
            {"outlet": "ok.example"},
            {"findings_only": True},
            {"q": "a", "findings_only": True, "limit": 1, "offset": 1},
        ):
            assert lk.articles(**kw) == data.articles(con, **kw), kw
    finally:
        con.close()


def test_pages_are_cached_with_etags_and_revalidated_with_304(store_path):
    app = create_app(store_path)
    assert any(m.cls.__name__ == "PageCache" for m in app.user_middleware)
    with TestClient(app) as c:
        first = c.get("/family/F1")
        etag = first.headers["etag"]
        assert first.status_code == 200 and first.headers["cache-control"] == "no-cache"
        again = c.get("/family/F1")
        assert again.text == first.text and again.headers["etag"] == etag
        assert again.headers["content-security-policy"]  # a cached answer keeps the security headers
        r = c.get("/family/F1", headers={"If-None-Match": etag})
        assert r.status_code == 304 and r.content == b"" and r.headers["etag"] == etag
        assert c.get("/family/F1", headers={"If-None-Match": '"stale"'}).status_code == 200
        # The query string is part of the key, and JSON twins are cached as well.
        j = c.get("/families.json?page=1")
        assert j.headers["etag"] != c.get("/families.json?page=2").headers["etag"]
        assert c.get("/families.json?page=1", headers={"If-None-Match": j.headers["etag"]}).status_code == 304
        # Misses are not cached as pages: a 404 stays a 404 and carries no ETag.
        assert "etag" not in c.get("/article/nope.json").headers


def test_replacing_the_store_file_invalidates_the_cache(store_path):
    from newstrace.model import Article
    from newstrace.store import Store

    app = create_app(store_path)
    with TestClient(app) as c:
        before = c.get("/articles.json")
        assert before.json()["total"] == 3
        etag = before.headers["etag"]
        # A new analyze run writes the file (the app's read-only handle is let go first, as a file moved
        # into place would be a different file).
        app.state.views.store.close()
        with Store(store_path) as s:
            s.add_articles([Article(id="late", text="A late article.", title="Late news")])
        os.utime(store_path, ns=(before_ns := os.stat(store_path).st_mtime_ns, before_ns + 5_000_000_000))
        after = c.get("/articles.json", headers={"If-None-Match": etag})
        assert after.status_code == 200 and after.json()["total"] == 4 and after.headers["etag"] != etag
        assert c.get("/article/late.json").json()["title"] == "Late news"


def test_a_missing_page_is_an_html_page_and_a_missing_record_is_json(client):
    for url in ("/article/nope", "/family/nope", "/pair?source=a&copy=b", "/no/such/page"):
        r = client.get(url, headers={"Accept": "text/html,application/xhtml+xml"})
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), url
        assert "Not found" in r.text and "Search articles" in r.text
        assert_inert(r.text, shown=False)
    r = client.get("/article/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert r.status_code == 404 and "<script>alert" not in r.text
    for url in ("/article/nope.json", "/family/nope.json", "/pair.json?source=a&copy=b"):
        r = client.get(url)
        assert r.status_code == 404 and r.json()["detail"].endswith("not found"), url
    r = client.get("/article/nope", headers={"Accept": "application/json"})
    assert r.status_code == 404 and r.json() == {"detail": "article not found"}


# ---- one statement per page: rowid lookups, family diffs, token search -------------------------------------


def _families_store(path: Path) -> Path:
    """Twelve families of 2-5 members with copies of copies (so a copy has several sources and the parent is
    chosen by score and number of edits), rows inserted out of key order (so rowids are scattered), some
    signals, and titles with repeated words, phrases and odd whitespace for the search."""
    import json
    import random
    from datetime import datetime, timedelta, timezone

    from newstrace.model import Article, Family, Passage, ReusePair
    from newstrace.store import Store

    rng = random.Random(5)
    words = ["border", "town", "said", "unsaid", "grain", "depot", "Döner", "x"]
    t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    arts = [
        Article(
            id=f"n{i:03d}" + (" b" if i % 17 == 0 else ""),
            text=" ".join(rng.choices(words, k=60)),
            outlet=f"o{i % 7}.example",
            published=t0 + timedelta(hours=i) if i % 11 else None,
            title=("\t" if i % 13 == 0 else " ").join(rng.choices(words, k=5))
            + ("\xa0said" if i % 5 else ""),
        )
        for i in range(80)
    ]
    pairs, fams, edits, signals = [], [], [], []
    for f in range(12):
        ids = [a.id for a in rng.sample(arts, rng.randint(2, 5))]
        fams.append(Family(f"F{f:02d}", ids[0], ids))
        for k in range(1, len(ids)):
            for j in range(max(0, k - 2), k):  # each copy matches its two predecessors
                score = rng.choice([0.8, 0.9])
                pairs.append(ReusePair(ids[j], ids[k], score, "dated", [Passage(0, 5, 0, 5)]))
                ed = [{"kind": "insert", "source_start": 1, "source_end": 1, "copy_start": 2, "copy_end": 4,
                       "source_text": "", "copy_text": "xy"}] * rng.randint(0, 3)  # fmt: skip
                sy = [{"kind": "insert", "source_text": "", "copy_text": "xy", "count": 1,
                       "copy_spans": [[2, 4]]}]  # fmt: skip
                edits.append((ids[j], ids[k], json.dumps(ed), json.dumps(sy if ed else [])))
    injection = {"phrase": "said", "anchor": "town", "count": 2, "spans": [[0, 4]], "seams": []}
    technique = {"technique": "Doubt", "start": 0, "end": 3, "score": 0.5}
    for a in arts[::3]:
        inj = [injection] if rng.random() < 0.5 else []
        signals.append((a.id, json.dumps([technique]), "[]", json.dumps(inj), json.dumps(None)))
    uniq = {(p.source, p.copy): p for p in pairs}
    with Store(path) as s:
        s.add_articles(arts)
        s.replace_reuse(rng.sample(list(uniq.values()), len(uniq)), fams)
        s.replace_rows("edits", rng.sample(list({(e[0], e[1]): e for e in edits}.values()), len(uniq)))
        s.replace_rows("signals", rng.sample(signals, len(signals)))
    return path


def test_one_statement_lookups_answer_what_the_sql_data_layer_answers(tmp_path):
    from newstrace.report import data
    from newstrace.web.app import FAMILY_DIFFS
    from newstrace.web.lookup import Lookup

    path = _families_store(tmp_path / "fams.duckdb")
    con = duckdb.connect(str(path), read_only=True)
    try:
        lk = Lookup.load(con)
        statements: list[str] = []

        class Counting:  # counts the statements a page costs
            def execute(self, sql, params=None):
                statements.append(sql)
                return con.execute(sql, params)

        for fid in sorted(lk.heads):
            statements.clear()
            fam, recs = lk.family_page(Counting(), fid, FAMILY_DIFFS)
            assert len(statements) == 1
            assert fam == data.family(con, fid) and lk.family(con, fid) == fam
            order = {m["id"]: i for i, m in enumerate(fam["members"])}
            direct = sorted((p for p in fam["pairs"] if p["parent"]), key=lambda p: order[p["copy"]])
            assert recs == [data.pair(con, p["source"], p["copy"]) for p in direct[:FAMILY_DIFFS]]
            assert len(fam["pairs"]) > len(direct) or len(fam["members"]) == 2
        for s, c in lk.pair_rowid:
            statements.clear()
            assert lk.pair(Counting(), s, c) == data.pair(con, s, c)
            assert len(statements) == 1
        for aid in lk.order:
            assert lk.article(con, aid) == data.article(con, aid), aid
        queries = ("said", "SAID", "aid", "r t", "border town", "\xa0said", "n01", "b", " ", "ö", "o\tb")
        for q in queries:
            for kw in ({"q": q}, {"q": q, "findings_only": True}, {"q": q, "outlet": "o3.example"}):
                assert lk.articles(**kw, limit=100) == data.articles(con, **kw, limit=100), kw
    finally:
        con.close()


def test_token_search_finds_every_line_a_substring_scan_finds():
    import random

    from newstrace.web import search
    from newstrace.web.search import TitleSearch

    rng = random.Random(3)
    alphabet = ["ab", "ba", "a", "b", "c", " ", "  ", "\t", "\xa0", "\x1c", "é", "ü"]
    lines = [
        "".join(rng.choices(alphabet, k=rng.randint(0, 12))) + f"\x00id{i}" + rng.choice(["", " x", "ab"])
        for i in range(3 * search.MAX_TOKENS)  # enough distinct ids that "id" takes the scan path
    ]
    ts = TitleSearch(lines)
    queries = ["a", "ab", "ba", "bab", "a b", "b\ta", " ", "\xa0", "\x1c", "id", "id1", "d12", "é", "x"]
    queries += ["".join(rng.choices(alphabet, k=rng.randint(1, 4))) for _ in range(200)]
    for q in queries:
        want = [i for i, line in enumerate(lines) if q in line] if "\x00" not in q and "\n" not in q else []
        assert ts.find(q) == want, repr(q)
    assert ts.find("") == [] and ts.find("a\x00i") == [] and TitleSearch([]).find("a") == []


def test_short_and_long_searches_give_the_same_rows_as_the_store(client):
    # one- and two-letter queries take the threadpool path (a full scan), longer ones the token index
    for q, ids in (("a", ["copy-1", "src-1", "alone"]), ("de", ["src-1"]), ("depot", ["src-1"]), ("zz", [])):
        body = client.get("/articles.json", params={"q": q}).json()
        assert [r["id"] for r in body["rows"]] == ids and body["total"] == len(ids), q
    assert "Depot attacked" in client.get("/articles", params={"q": "de"}).text
