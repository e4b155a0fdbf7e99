"""`newstrace serve`: the local web app. The same views as the static report, live from a store opened READ-
ONLY, plus a box to check a new article (where did it come from? what signals does it carry?).

Every HTML page has a `.json` twin (as every Datasette page does); the JSON routes make up the OpenAPI spec at
`/openapi.json`. The interactive docs UI is off: it would load scripts from a CDN, which the CSP forbids and
an offline newsroom machine cannot reach.

Security: Jinja2 autoescapes everything; a strict Content-Security-Policy (no scripts at all) and nosniff
headers go on every response; request bodies over `max_upload` bytes get 413 before any parsing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

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
from newstrace.web.limits import BodyLimit, SecurityHeaders

MAX_UPLOAD = 2 * 1024 * 1024
PAGE = 50
LINKS = AppLinks()


class Views:
    """The read-only store behind the app: one DuckDB cursor per worker thread, and caches for the views that
    cost a corpus-wide query (the store cannot change under a read-only connection, so they never go stale).
    """

    def __init__(self, db_path: str | Path):
        self.store = Store(db_path, read_only=True)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._cache: dict[str, Any] = {}

    def con(self) -> Any:
        cur = getattr(self._local, "cur", None)
        if cur is None:
            cur = self._local.cur = self.store.con.cursor()
        return cur

    def cached(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._cache:
            with self._lock:
                if key not in self._cache:
                    self._cache[key] = make()
        return self._cache[key]

    def overview(self) -> dict:
        return self.cached("overview", lambda: data.overview(self.con()))

    def network(self) -> dict:
        return self.cached("network", lambda: network_view(outlet_graph(self.con())))


def _page(template: str, title: str, **context: Any) -> HTMLResponse:
    html = env().get_template(template).render(L=LINKS, title=title, **context)
    return HTMLResponse(html)


def _not_found(what: str) -> HTTPException:
    return HTTPException(status_code=404, detail=f"{what} not found")


def create_app(db_path: str | Path, *, max_upload: int = MAX_UPLOAD) -> FastAPI:
    """The web app over the store at `db_path`, opened read-only (a missing store raises StoreError)."""
    views = Views(db_path)
    app = FastAPI(
        title="newstrace",
        version="1",
        docs_url=None,
        redoc_url=None,
        description="Read-only views of a newstrace store: overview, families, pairs, articles, outlets, "
        "network, and a check of a new text. Every HTML page has a .json twin.",
    )
    app.state.views = views
    app.add_middleware(BodyLimit, limit=max_upload)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(packages=[("newstrace", "static")]), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    # ---- overview ------------------------------------------------------------------------------------------

    @app.get("/index.json", tags=["views"], summary="Counts, largest families, most active outlets, findings")
    def overview_json() -> dict:
        return views.overview()

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def overview_html() -> HTMLResponse:
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
        total = views.cached("families_total", lambda: data.counts(views.con())["families"])
        return {
            "total": total,
            "page": page,
            "per_page": PAGE,
            "rows": data.families(views.con(), limit=PAGE, offset=(page - 1) * PAGE),
        }

    @app.get("/families.json", tags=["views"], summary="Reuse families, largest first")
    def families_json(page: int = Query(1, ge=1, le=100_000)) -> dict:
        return families_page(page)

    @app.get("/families", response_class=HTMLResponse, include_in_schema=False)
    def families_html(page: int = Query(1, ge=1, le=100_000)) -> HTMLResponse:
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
    def family_json(family_id: str) -> dict:
        fam = data.family(views.con(), family_id)
        if fam is None:
            raise _not_found("family")
        return fam

    @app.get("/family/{family_id}", response_class=HTMLResponse, include_in_schema=False)
    def family_html(family_id: str) -> HTMLResponse:
        fam = data.family(views.con(), family_id)
        if fam is None:
            raise _not_found("family")
        order = {m["id"]: i for i, m in enumerate(fam["members"])}
        direct = sorted((p for p in fam["pairs"] if p["parent"]), key=lambda p: order.get(p["copy"], 0))
        pairs = []
        for p in direct[:20]:
            rec = data.pair(views.con(), p["source"], p["copy"])
            if rec is not None:
                pairs.append(pair_view({**rec, "parent": True}))
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
    def pair_json(source: str, copy: str) -> dict:
        rec = data.pair(views.con(), source, copy)
        if rec is None:
            raise _not_found("pair")
        return rec

    @app.get("/pair", response_class=HTMLResponse, include_in_schema=False)
    def pair_html(source: str, copy: str) -> HTMLResponse:
        rec = data.pair(views.con(), source, copy)
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
        res = data.articles(
            views.con(), q=q, outlet=outlet, findings_only=findings, limit=PAGE, offset=(page - 1) * PAGE
        )
        return {**res, "page": page, "per_page": PAGE, "q": q, "outlet": outlet, "findings": findings}

    @app.get("/articles.json", tags=["views"], summary="Articles, newest first, with search and filters")
    def articles_json(
        q: str = Query("", max_length=200),
        outlet: str = Query("", max_length=500),
        findings: bool = False,
        page: int = Query(1, ge=1, le=100_000),
    ) -> dict:
        return articles_page(q, outlet, findings, page)

    @app.get("/articles", response_class=HTMLResponse, include_in_schema=False)
    def articles_html(
        request: Request,
        q: str = Query("", max_length=200),
        outlet: str = Query("", max_length=500),
        findings: bool = False,
        page: int = Query(1, ge=1, le=100_000),
    ) -> HTMLResponse:
        res = articles_page(q, outlet, findings, page)
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
    def article_json(article_id: str) -> Any:
        art = data.article(views.con(), article_id)
        if art is None:
            # An id that itself ends in ".json" asks for its HTML page.
            if data.article(views.con(), article_id + ".json") is not None:
                return article_html(article_id + ".json")
            raise _not_found("article")
        return art

    @app.get("/article/{article_id:path}", response_class=HTMLResponse, include_in_schema=False)
    def article_html(article_id: str) -> HTMLResponse:
        art = data.article(views.con(), article_id)
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
        total = views.cached("outlets_total", lambda: data.counts(views.con())["outlets"])
        rows = (
            views.cached(
                f"outlets:{page}", lambda: data.outlets(views.con(), limit=PAGE, offset=(page - 1) * PAGE)
            )
            if page <= 5
            else data.outlets(views.con(), limit=PAGE, offset=(page - 1) * PAGE)
        )
        return {"total": total, "page": page, "per_page": PAGE, "rows": rows}

    @app.get("/outlets.json", tags=["views"], summary="Outlets by number of articles, with copy counts")
    def outlets_json(page: int = Query(1, ge=1, le=100_000)) -> dict:
        return outlets_page(page)

    @app.get("/outlets", response_class=HTMLResponse, include_in_schema=False)
    def outlets_html(page: int = Query(1, ge=1, le=100_000)) -> HTMLResponse:
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
    def network_json() -> dict:
        net = views.network()
        return {"summary": net["summary"], "isolated": net["isolated"]}

    @app.get("/network.svg", tags=["views"], summary="The outlet network as SVG")
    def network_svg() -> Response:
        return Response(views.network()["svg"], media_type="image/svg+xml")

    @app.get("/network", response_class=HTMLResponse, include_in_schema=False)
    def network_html() -> HTMLResponse:
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
        return JSONResponse(await run_in_threadpool(check, body))

    @app.get("/check", response_class=HTMLResponse, include_in_schema=False)
    def check_form() -> HTMLResponse:
        return _page("app.html.j2", "Check a text", view="check", result=None, max_upload=max_upload)

    @app.post("/check", response_class=HTMLResponse, include_in_schema=False)
    async def check_html(text: str = Form(""), file: UploadFile | None = File(None)) -> HTMLResponse:
        body = await read_input(text, file)
        result = await run_in_threadpool(check, body) if body.strip() else None
        shown = article_view(result["article"]) if result else None
        return _page(
            "app.html.j2", "Check a text", view="check", result=result, shown=shown, max_upload=max_upload
        )

    return app
