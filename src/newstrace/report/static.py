"""The static report: ONE self-contained HTML file that opens offline.

Pages are `<section>`s shown by the URL fragment (CSS `:target`), so browsing needs no script at all. The only
script is the article search, allowed by its SHA-256 hash in the Content-Security-Policy meta tag, as is the
stylesheet; nothing else may load (`default-src 'none'`).

It stays usable on big corpora: family pages, pair diffs and article pages are capped (`Caps`), families are
listed 100 a page, and the search index is compact (one short array per article, capped too). What did not fit
is counted on the page, with a pointer to `newstrace serve`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newstrace.report import data
from newstrace.report.render import (
    ReportLinks,
    anchor,
    article_view,
    csp_hash,
    env,
    network_view,
    outlet_graph,
    pair_view,
    script_json,
    static_text,
    timeline_svg,
)

if TYPE_CHECKING:
    from newstrace.pipeline import Run


@dataclass(frozen=True)
class Caps:
    family_pages: int = 150  # families with a page of their own (largest first)
    pairs_per_family: int = 12  # side-by-side diffs on one family page
    pair_diffs: int = 400  # side-by-side diffs in the whole file
    article_pages: int = 600  # articles with a page (in a family or with findings first)
    index_rows: int = 50_000  # rows in the search index
    outlets: int = 300
    family_list_page: int = 100


def report_html(db: Any, *, graph: Any = None, stages: list[str] | None = None, caps: Caps = Caps()) -> str:
    """Render the whole report from a store (a `Store` or DuckDB connection). `graph` is the outlet graph when
    the caller has it; otherwise it is rebuilt from the store."""
    counts = data.counts(db)
    fam_ids = data.family_ids_with_findings(db, caps.family_pages)
    art_ids = data.article_ids_with_findings(db, caps.article_pages)
    family_pages, article_pages = set(fam_ids), set(art_ids)

    fam_data = data.families_by_id(db, fam_ids)
    pair_families = {(p["source"], p["copy"]): f["family"] for f in fam_data for p in f["pairs"]}
    links = ReportLinks(article_pages, family_pages, pair_families)

    family_views = []
    budget = caps.pair_diffs
    taken = []
    for f in fam_data:
        # Copies in publication order, so the diffs read down the chain.
        order = {m["id"]: i for i, m in enumerate(f["members"])}
        # Each copy against its direct source first, down the chain; the other pairs after.
        ordered = sorted(f["pairs"], key=lambda p: (not p["parent"], order.get(p["copy"], 0), -p["score"]))
        take = ordered[: max(0, min(caps.pairs_per_family, budget))]
        budget -= len(take)
        taken.append((ordered, take))
    records = data.pairs_by_key(db, [(p["source"], p["copy"]) for _, take in taken for p in take])
    for f, (ordered, take) in zip(fam_data, taken, strict=True):
        pairs = []
        for p in take:
            rec = records.get((p["source"], p["copy"]))
            if rec is not None:
                pairs.append(pair_view({**rec, "parent": p["parent"]}))
        family_views.append(
            {
                "anchor": anchor("f", f["family"]),
                "data": f,
                "timeline": timeline_svg(f),
                "pairs": pairs,
                "more_pairs": len(ordered) - len(take),
            }
        )

    article_views = []
    for art in data.articles_by_id(db, art_ids):
        article_views.append({**article_view(art), "anchor": anchor("a", art["id"])})

    index = data.article_index(db, caps.index_rows)
    index_rows = [
        [
            r["id"],
            r["title"] or "",
            r["outlet"] or "",
            (r["published"] or "")[:10],
            anchor("a", r["id"]) if r["id"] in article_pages else "",
            (1 if r["in_family"] else 0) | (2 if r["injections"] else 0),
        ]
        for r in index
    ]

    fam_list = data.families(db, limit=max(counts["families"], 1), offset=0) if counts["families"] else []
    per = caps.family_list_page
    family_list_pages = [fam_list[i : i + per] for i in range(0, len(fam_list), per)] or [[]]
    outlet_rows = data.outlets(db, limit=caps.outlets)
    net = network_view(graph if graph is not None else outlet_graph(db))

    css, js = static_text("style.css"), static_text("report.js")
    csp = (
        f"default-src 'none'; style-src {csp_hash(css)}; script-src {csp_hash(js)}; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )
    return (
        env()
        .get_template("report.html.j2")
        .render(
            L=links,
            css=css,
            js=js,
            csp=csp,
            counts=counts,
            ov=data.overview(db),
            net=net,
            family_views=family_views,
            article_views=article_views,
            article_pages=article_pages,
            article_pages_meta=[a for a in article_views][:200],
            family_list_pages=family_list_pages,
            family_pages_total=len(family_pages),
            outlet_rows=outlet_rows,
            outlet_names=sorted({o["outlet"] for o in outlet_rows if o["outlet"]}),
            index_json=script_json(index_rows),
            index_size=len(index_rows),
            stages=stages or [],
            generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        )
    )


def write_report(run: Run, path: Path) -> None:
    """Write report.html for an `analyze` run, from the run's store (every stage has saved its rows there)."""
    from newstrace.export import write_text

    write_text(path, report_html(run.store, graph=run.graph, stages=list(run.ran)))


def render_diff_page(source_name: str, copy_name: str, source_text: str, copy_text: str, record: dict) -> str:
    """A self-contained page for `newstrace diff --html`: systematic edits first, then the texts side by side in
    rows aligned passage by passage, text that no passage covers shown as not copied.
    """
    rec = {
        "source": {
            "id": source_name,
            "title": source_name,
            "outlet": source_name,
            "published": None,
            "text": source_text,
        },
        "copy": {
            "id": copy_name,
            "title": copy_name,
            "outlet": copy_name,
            "published": None,
            "text": copy_text,
        },
        "score": None,
        "direction": None,
        "passages": record.get("passages", []),
        **({"rows": record["rows"]} if "rows" in record else {}),
        "edits": record.get("edits", []),
        "family": None,
        "systematic": [
            {**s, "explanation": data.explain(s, copy_text)} for s in record.get("systematic", [])
        ],
    }
    css = static_text("style.css")
    csp = f"default-src 'none'; style-src {csp_hash(css)}; img-src data:; base-uri 'none'; form-action 'none'"
    return (
        env()
        .get_template("diff.html.j2")
        .render(L=ReportLinks(set(), set(), {}), p=pair_view(rec), css=css, csp=csp)
    )
