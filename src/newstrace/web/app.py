"""`newstrace serve`: the local web app. The same views as the static report, live from a store opened READ-
ONLY, plus a box to check a new article (where did it come from? what signals does it carry?).

Every HTML page has a `.json` twin (as every Datasette page does); the JSON routes make up the OpenAPI spec at
`/openapi.json`. The interactive docs UI is off: it would load scripts from a CDN, which the CSP forbids and
an offline newsroom machine cannot reach.

Speed: the store never changes while it is served, so `Views` loads small lookup dicts at startup
(`newstrace.web.lookup`) and each page reads its big columns in one DuckDB statement; `PageCache` keeps
rendered pages and JSON (LRU, with ETags and 304s) and empties itself when the store file is replaced. The
page endpoints are `async def` and run on the event loop: a page costs one to three milliseconds of CPU, less
than the threadpool hop and the GIL hand-offs between 40 threads cost under load (the GIL lets one thread run
Python at a time anyway). Only the text check, which can take seconds, goes to the threadpool. Each thread
(the loop's included) has its own DuckDB cursor.

Security: Jinja2 autoescapes everything; a strict Content-Security-Policy (no scripts at all) and nosniff
headers go on every response; request bodies over `max_upload` bytes get 413, URLs and headers over their limits
414 and 431, before any parsing; text checks run a few at a time, each within a time limit (`limits.CheckGate`).
SECURITY.md has the threat model."""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

import newstrace.edits.injections  # noqa: F401  article pages need it: imported now, not by the first visitor
from newstrace.report import data
from newstrace.report.render import (
    AppLinks,
    article_view,
    env,
    network_view,
    outlet_graph,
    pair_view,
    timeline_svg,
)
from newstrace.store import Store
from newstrace.web.cache import PageCache
from newstrace.web.limits import CheckGate, CheckRefused, RequestLimits, SecurityHeaders
from newstrace.web.lookup import Lookup

MAX_UPLOAD = 2 * 1024 * 1024
PAGE = 50
FAMILY_DIFFS = 4  # side-by-side diffs inlined in a family page
LINKS = AppLinks()


class Views:
    """The read-only store behind the app: one DuckDB cursor per worker thread, the lookups loaded at startup,
    and the corpus-wide views (overview, network) computed once. `reload` reopens the store when its file
    was replaced; cursors of the old connection are dropped by generation."""

    def __init__(self, db_path: str | Path):
        self.path = Path(db_path)
        self._local = threading.local()
        self._lock = threading.RLock()  # reload holds it while _prepare fills the caches
        self.generation = 0
        self.store = Store(self.path, read_only=True)
        self._prepare()

    def _prepare(self) -> None:
        # Requests run point lookups from many threads at once: parallelism inside one query only adds
        # scheduling overhead (and startup's few corpus-wide queries are small).
        threads = os.environ.get("NEWSTRACE_DB_THREADS", "1")
        self.store.con.execute(f"SET threads = {int(threads)}")
        self._cache: dict[str, Any] = {}
        self.lk = Lookup.load(self.store.con)
        # The two corpus-wide views and the compiled templates are made now, not by the first visitors at once
        # (compiling the templates takes a few hundred ms).
        self.overview()
        self.network()
        env().get_template("app.html.j2").render(L=LINKS, title="", view="", json_url=None)
        # The lookups are a few hundred thousand long-lived objects that never change: every full collection
        # would walk them all (60 ms for 100k articles, a stall for every request in flight). Garbage first,
        # then the survivors out of the collector's sight (they are still freed by reference counting).
        gc.collect()
        gc.freeze()

    def reload(self) -> None:
        with self._lock:
            # DuckDB shares one database instance per path within a process: close it so the reopen reads the
            # new file rather than the cached instance of the old one.
            self.store.close()
            self.store = Store(self.path, read_only=True)
            self.generation += 1
            self._prepare()

    def con(self) -> Any:
        local = self._local
        if getattr(local, "generation", None) != self.generation:
            local.cur = self.store.con.cursor()
            local.generation = self.generation
        return local.cur

    def cached(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._cache:
            with self._lock:
                if key not in self._cache:
                    self._cache[key] = make()
        return self._cache[key]

    def overview(self) -> dict:
        def make() -> dict:
            lk = self.lk
            return {
                "counts": lk.counts,
                "families": lk.families(limit=10),
                "outlets": lk.outlets(limit=10),
                "findings": data.findings(self.con(), limit=10),
            }

        return self.cached("overview", make)

    def network(self) -> dict:
        return self.cached("network", lambda: network_view(outlet_graph(self.con())))


def _page(template: str, title: str, **context: Any) -> HTMLResponse:
    html = env().get_template(template).render(L=LINKS, title=title, **context)
    return HTMLResponse(html)


def _not_found(what: str) -> HTTPException:
    return HTTPException(status_code=404, detail=f"{what} not found")


def _wants_json(request: Request) -> bool:
    """JSON for the API (`.json` paths, the SVG and OpenAPI) and for clients that ask for it; HTML otherwise,
    so a person who follows a stale link reads a page rather than `{"detail": ...}`."""
    path = request.url.path
    if path.endswith((".json", ".svg")) or path == "/openapi.json" or request.method not in ("GET", "HEAD"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def app_from_env() -> FastAPI:
    """An app factory for `uvicorn --factory` (and `--workers N`, which needs an import string): the store
    path comes from the NEWSTRACE_DB environment variable, the allowed Host names from NEWSTRACE_ALLOWED_HOSTS."""
    db = os.environ.get("NEWSTRACE_DB")
    if not db:
        raise RuntimeError("set NEWSTRACE_DB to the store's path")
    hosts = os.environ.get("NEWSTRACE_ALLOWED_HOSTS")  # comma-separated; unset: any
    return create_app(db, allowed_hosts=tuple(hosts.split(",")) if hosts else None)


def create_app(db_path: str | Path, *, max_upload: int = MAX_UPLOAD, checks: CheckGate | None = None,
               allowed_hosts: tuple[str, ...] | None = None) -> FastAPI:
    """The web app over the store at `db_path`, opened read-only (a missing store raises StoreError). `checks`
    bounds the text checks (default: `CHECKS_AT_ONCE` at a time, `CHECK_SECONDS` each); `allowed_hosts` are the
    Host names it answers to (None: any; `newstrace serve` passes the loopback names when it listens there)."""
    views = Views(db_path)
    gate = checks or CheckGate()
    app = FastAPI(
        title="newstrace",
        version="1",
        docs_url=None,
        redoc_url=None,
        description="Read-only views of a newstrace store: overview, families, pairs, articles, outlets, "
        "network, and a check of a new text. Every HTML page has a .json twin.",
    )
    app.state.views = views
    app.add_middleware(SecurityHeaders)
    # Outside the app and the security headers, so cached answers carry the headers and a hit runs nothing else.
    app.add_middleware(PageCache, watch=views.path, on_change=views.reload)
    # Outermost: an over-long URL, oversized headers or body are refused even where the cache holds the page.
    app.add_middleware(RequestLimits, limit=max_upload, allowed_hosts=allowed_hosts)

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code != 404 or _wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        what = exc.detail if isinstance(exc.detail, str) and exc.detail != "Not Found" else "page not found"
        html = (
            env()
            .get_template("app.html.j2")
            .render(
                L=LINKS, title="Not found", view="notfound", what=what, path=request.url.path, json_url=None
            )
        )
        return HTMLResponse(html, status_code=404)

    app.mount("/static", StaticFiles(packages=[("newstrace", "static")]), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)

    # ---- overview ------------------------------------------------------------------------------------------

    @app.get("/index.json", tags=["views"], summary="Counts, largest families, most active outlets, findings")
    async def overview_json() -> dict:
        return views.overview()

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def overview_html() -> HTMLResponse:
        return _page(
            "app.html.j2",
            "Overview",
            view="overview",
            ov=views.overview(),
            net=views.network(),
            json_url="/index.json",
        )

    # ---- families ------------------------------------------------------------------------------------------

    def families_page(page: int) -> dict:
        return {
            "total": views.lk.counts["families"],
            "page": page,
            "per_page": PAGE,
            "rows": views.lk.families(limit=PAGE, offset=(page - 1) * PAGE),
        }

    @app.get("/families.json", tags=["views"], summary="Reuse families, largest first")
    async def families_json(page: int = Query(1, ge=1, le=100_000)) -> dict:
        return families_page(page)

    @app.get("/families", response_class=HTMLResponse, include_in_schema=False)
    async def families_html(page: int = Query(1, ge=1, le=100_000)) -> HTMLResponse:
        return _page(
            "app.html.j2",
            "Families",
            view="families",
            res=families_page(page),
            json_url=f"/families.json?page={page}",
        )

    @app.get(
        "/family/{family_id}.json", tags=["views"], summary="One family: members, chains, pairs and edits"
    )
    async def family_json(family_id: str) -> dict:
        fam = views.lk.family(views.con(), family_id)
        if fam is None:
            raise _not_found("family")
        return fam

    @app.get("/family/{family_id}", response_class=HTMLResponse, include_in_schema=False)
    async def family_html(family_id: str) -> HTMLResponse:
        # The first few diffs (each copy against its direct source) inline; every other pair is one click
        # away in the members table.
        fam, recs = views.lk.family_page(views.con(), family_id, diffs=FAMILY_DIFFS)
        if fam is None:
            raise _not_found("family")
        pairs = [pair_view({**r, "parent": True}) for r in recs]
        return _page(
            "app.html.j2",
            fam["family"],
            view="family",
            f=fam,
            timeline=timeline_svg(fam),
            pairs=pairs,
            more_pairs=len(fam["pairs"]) - len(pairs),
            json_url=LINKS.family(family_id) + ".json",
        )

    # ---- pairs ---------------------------------------------------------------------------------------------

    @app.get("/pair.json", tags=["views"], summary="A copy against its source: texts, passages, edits")
    async def pair_json(source: str, copy: str) -> dict:
        rec = views.lk.pair(views.con(), source, copy)
        if rec is None:
            raise _not_found("pair")
        return rec

    @app.get("/pair", response_class=HTMLResponse, include_in_schema=False)
    async def pair_html(source: str, copy: str) -> HTMLResponse:
        rec = views.lk.pair(views.con(), source, copy)
        if rec is None:
            raise _not_found("pair")
        return _page(
            "app.html.j2",
            "Pair",
            view="pair",
            p=pair_view(rec),
            json_url=LINKS.pair(source, copy).replace("/pair?", "/pair.json?", 1),
        )

    # ---- articles ------------------------------------------------------------------------------------------

    def articles_page(q: str, outlet: str, findings: bool, page: int) -> dict:
        res = views.lk.articles(
            q=q, outlet=outlet, findings_only=findings, limit=PAGE, offset=(page - 1) * PAGE
        )
        return {**res, "page": page, "per_page": PAGE, "q": q, "outlet": outlet, "findings": findings}

    async def articles_page_off_loop(q: str, outlet: str, findings: bool, page: int) -> dict:
        # A one- or two-letter query falls back to scanning every title (tens of ms on 100k articles): that
        # one goes to the threadpool, so it does not hold up every other request on the event loop.
        if q and len(q.strip()) < 3:
            return await run_in_threadpool(articles_page, q, outlet, findings, page)
        return articles_page(q, outlet, findings, page)

    @app.get("/articles.json", tags=["views"], summary="Articles, newest first, with search and filters")
    async def articles_json(
        q: str = Query("", max_length=200),
        outlet: str = Query("", max_length=500),
        findings: bool = False,
        page: int = Query(1, ge=1, le=100_000),
    ) -> dict:
        return await articles_page_off_loop(q, outlet, findings, page)

    @app.get("/articles", response_class=HTMLResponse, include_in_schema=False)
    async def articles_html(
        request: Request,
        q: str = Query("", max_length=200),
        outlet: str = Query("", max_length=500),
        findings: bool = False,
        page: int = Query(1, ge=1, le=100_000),
    ) -> HTMLResponse:
        res = await articles_page_off_loop(q, outlet, findings, page)
        base = {"q": q, "outlet": outlet, "findings": "true" if findings else ""}
        return _page(
            "app.html.j2",
            "Articles",
            view="articles",
            res=res,
            base=base,
            json_url="/articles.json" + (f"?{request.url.query}" if request.url.query else ""),
        )

    @app.get(
        "/article/{article_id:path}.json",
        tags=["views"],
        summary="One article: text, signals, reuse relations, family",
    )
    async def article_json(article_id: str) -> Any:
        art = views.lk.article(views.con(), article_id)
        if art is None:
            # An id that itself ends in ".json" asks for its HTML page.
            if article_id + ".json" in views.lk.meta:
                return await article_html(article_id + ".json")
            raise _not_found("article")
        return art

    @app.get("/article/{article_id:path}", response_class=HTMLResponse, include_in_schema=False)
    async def article_html(article_id: str) -> HTMLResponse:
        art = views.lk.article(views.con(), article_id)
        if art is None:
            raise _not_found("article")
        return _page(
            "app.html.j2",
            art["title"] or art["id"],
            view="article",
            a=article_view(art),
            json_url=LINKS.article(article_id) + ".json",
        )

    # ---- outlets and network -------------------------------------------------------------------------------

    def outlets_page(page: int) -> dict:
        rows = views.lk.outlets(limit=PAGE, offset=(page - 1) * PAGE)
        return {"total": views.lk.counts["outlets"], "page": page, "per_page": PAGE, "rows": rows}

    @app.get("/outlets.json", tags=["views"], summary="Outlets by number of articles, with copy counts")
    async def outlets_json(page: int = Query(1, ge=1, le=100_000)) -> dict:
        return outlets_page(page)

    @app.get("/outlets", response_class=HTMLResponse, include_in_schema=False)
    async def outlets_html(page: int = Query(1, ge=1, le=100_000)) -> HTMLResponse:
        return _page(
            "app.html.j2",
            "Outlets",
            view="outlets",
            res=outlets_page(page),
            json_url=f"/outlets.json?page={page}",
        )

    @app.get(
        "/network.json", tags=["views"], summary="The outlet network: communities, leads, strongest links"
    )
    async def network_json() -> dict:
        net = views.network()
        return {"summary": net["summary"], "isolated": net["isolated"]}

    @app.get("/network.svg", tags=["views"], summary="The outlet network as SVG")
    async def network_svg() -> Response:
        return Response(views.network()["svg"], media_type="image/svg+xml")

    @app.get("/network", response_class=HTMLResponse, include_in_schema=False)
    async def network_html() -> HTMLResponse:
        return _page("app.html.j2", "Network", view="network", net=views.network(), json_url="/network.json")

    # ---- check a new text ----------------------------------------------------------------------------------

    def check(text: str) -> dict:
        from newstrace.report.data import has_table
        from newstrace.web.check import check_text, memory_index

        index = None
        if not has_table(views.con(), "shingles"):
            # Built once, on the first check; every later check reads it through its own cursor.
            mem = views.cached("memory_index", lambda: memory_index(views.con()))
            index = mem.cursor() if mem is not None else None
        return check_text(text, views.con(), index=index)

    async def read_input(text: str, file: UploadFile | None) -> str:
        if file is not None and file.filename:
            raw = await file.read()
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise HTTPException(status_code=400, detail="the file is not UTF-8 text") from exc
        return text

    @app.post(
        "/check.json",
        tags=["check"],
        summary="Where did this text come from, and what signals does it carry?",
    )
    async def check_json(text: str = Form(""), file: UploadFile | None = File(None)) -> JSONResponse:
        body = await read_input(text, file)
        if not body.strip():
            raise HTTPException(status_code=422, detail="give a text or a UTF-8 file")
        try:
            return JSONResponse(await gate.run(check, body))
        except CheckRefused as exc:
            raise HTTPException(status_code=503, detail=exc.detail, headers={"Retry-After": "5"}) from None

    @app.get("/check", response_class=HTMLResponse, include_in_schema=False)
    async def check_form() -> HTMLResponse:
        return _page("app.html.j2", "Check a text", view="check", result=None, max_upload=max_upload)

    @app.post("/check", response_class=HTMLResponse, include_in_schema=False)
    async def check_html(text: str = Form(""), file: UploadFile | None = File(None)) -> HTMLResponse:
        body = await read_input(text, file)
        result, refused = None, None
        if body.strip():
            try:
                result = await gate.run(check, body)
            except CheckRefused as exc:
                refused = exc.detail
        shown = article_view(result["article"]) if result else None
        page = _page("app.html.j2", "Check a text", view="check", result=result, shown=shown, refused=refused,
                     max_upload=max_upload)
        if refused:
            page.status_code, page.headers["Retry-After"] = 503, "5"
        return page

    return app
