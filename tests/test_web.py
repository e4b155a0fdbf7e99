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
    cache = next(m for m in app.user_middleware if m.cls.__name__ == "PageCache")
    assert cache is not None
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
