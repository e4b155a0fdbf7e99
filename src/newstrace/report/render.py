"""Rendering helpers shared by the static report and the web app: the Jinja2 environment, link makers, and the
view contexts (highlight segments, SVG pictures) built on top of `newstrace.report.data`.

Security: the environment autoescapes every template and every string. The only values marked safe are the
package's own CSS/JS, SVG from `newstrace.network.draw` (which escapes every text it draws), and JSON made
safe for a `<script type="application/json">` block by `script_json`."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

import networkx as nx
from jinja2 import Environment, PackageLoader, select_autoescape

from newstrace.model import Article, ReusePair
from newstrace.report.data import has_table
from newstrace.report.marks import (
    TECHNIQUES,
    Mark,
    article_marks,
    pair_marks,
    segments,
    technique_class,
    technique_name,
)

TEXT_LIMIT = 200_000  # characters of one text rendered with highlights; the rest is cut with a note


@lru_cache(maxsize=1)
def env() -> Environment:
    e = Environment(
        loader=PackageLoader("newstrace", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        # The templates ship inside the package and do not change while a process runs: no stat() of the
        # template file on every get_template.
        auto_reload=False,
    )
    e.globals.update(
        TECHNIQUES=TECHNIQUES,
        technique_class=technique_class,
        technique_name=technique_name,
        day=day,
        pct=pct,
        lag=lag,
    )
    return e


def static_text(name: str) -> str:
    return resources.files("newstrace").joinpath("static", name).read_text(encoding="utf-8")


def csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def script_json(value: Any) -> str:
    """JSON that cannot close its `<script>` element or open a comment, whatever strings it holds."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def anchor(prefix: str, key: str) -> str:
    """A fragment id made only of [a-z0-9-], whatever characters the key (an article id) holds."""
    return f"{prefix}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:12]}"


# ---- formatting filters ------------------------------------------------------------------------------------


@lru_cache(maxsize=8192)  # list pages print the same few thousand dates over and over
def day(value: str | None, with_time: bool = True) -> str:
    if not value:
        return "no date"
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return value
    return dt.strftime("%Y-%m-%d %H:%M UTC" if with_time else "%Y-%m-%d")


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def lag(hours: float | None) -> str:
    if hours is None or hours != hours:  # None or NaN
        return "unknown"
    return (
        f"{hours * 60:.0f} min"
        if abs(hours) < 1
        else f"{hours:.1f} h"
        if abs(hours) < 48
        else f"{hours / 24:.1f} d"
    )


# ---- links -------------------------------------------------------------------------------------------------


class AppLinks:
    """Links between the web app's pages. Ids travel percent-encoded in the path or the query string."""

    static = True

    def article(self, aid: str) -> str:
        return "/article/" + quote(aid, safe="")

    def family(self, fid: str) -> str:
        return "/family/" + quote(fid, safe="")

    def pair(self, source: str, copy: str) -> str:
        return "/pair?" + urlencode({"source": source, "copy": copy})

    def outlet(self, name: str | None) -> str:
        return "/articles?" + urlencode({"outlet": name or ""})

    def page(self, name: str) -> str:
        return "/" if name == "overview" else f"/{name}"


class ReportLinks:
    """Fragment links inside the one-file report. Articles and families without a page of their own get no
    link (the empty string), and the template prints them as plain text."""

    static = False

    def __init__(
        self, article_pages: set[str], family_pages: set[str], pair_families: dict[tuple[str, str], str]
    ):
        self.article_pages, self.family_pages, self.pair_families = article_pages, family_pages, pair_families

    def article(self, aid: str) -> str:
        return "#" + anchor("a", aid) if aid in self.article_pages else ""

    def family(self, fid: str) -> str:
        return "#" + anchor("f", fid) if fid in self.family_pages else ""

    def pair(self, source: str, copy: str) -> str:
        fid = self.pair_families.get((source, copy))
        return "#" + anchor("p", source + "\x00" + copy) if fid in self.family_pages else ""

    def outlet(self, name: str | None) -> str:
        return ""

    def page(self, name: str) -> str:
        return "#" + name


# ---- view contexts -----------------------------------------------------------------------------------------


_ROW_NOTES = {"moved": ("moved in the copy", "moved from elsewhere in the source"),
              "unaligned": ("not copied", "not in the source")}


def pair_view(rec: dict) -> dict:
    """A pair dict from `data.pair` (or a diff record with texts) plus its rows: both texts aligned passage by
    passage (`edits.script.diff_rows`), each side with its highlight segments, and a note on text that is
    moved or that no passage covers."""
    from newstrace.edits.script import diff_rows
    from newstrace.model import Passage

    src_marks, cp_marks = pair_marks(rec)
    src_text, cp_text = rec["source"]["text"], rec["copy"]["text"]
    if "rows" in rec:
        rows = [(r["kind"], r["source"], r["copy"]) for r in rec["rows"]]
    else:
        passages = [Passage(q["source_start"], q["source_end"], q["copy_start"], q["copy_end"])
                    for q in rec.get("passages") or []]
        rows = [(r.kind, r.source, r.copy) for r in diff_rows(src_text, cp_text, passages)]
    views = []
    for kind, s_span, c_span in rows:
        if min(x[0] for x in (s_span, c_span) if x) >= TEXT_LIMIT:
            break
        notes = _ROW_NOTES.get(kind, ("", ""))
        views.append({
            "kind": kind,
            "source_note": notes[0] if s_span else "",
            "copy_note": notes[1] if c_span else "",
            "source_segments": _row_segments(src_text, src_marks, s_span),
            "copy_segments": _row_segments(cp_text, cp_marks, c_span),
        })
    return {
        **rec,
        "rows": views,
        "truncated": max(len(src_text), len(cp_text)) > TEXT_LIMIT,
        "anchor": anchor("p", rec["source"]["id"] + "\x00" + rec["copy"]["id"]),
    }


def _row_segments(text: str, marks: list[Mark], span: list[int] | tuple[int, int] | None) -> list:
    """The highlight segments of text[start:end] (its first `TEXT_LIMIT` characters at most), marks moved in."""
    if not span:
        return []
    a, b = span[0], min(span[1], TEXT_LIMIT)
    inside = [Mark(max(m.start, a) - a, min(m.end, b) - a, m.cls, m.tip, m.rank)
              for m in marks if (m.start < b and m.end > a) or (m.start == m.end and a <= m.start <= b)]
    return segments(text[a:b], inside)


def naming_of(art: dict) -> list[dict]:
    """One group called by several names in the text (Daesh / ISIS). The store keeps no column for it, so it
    is found here, from the text, when the article's signals were computed (a tokenizer pass: cheap)."""
    if "naming" in art:
        return art["naming"] or []
    if not art.get("analysed"):
        return []
    from dataclasses import asdict

    from newstrace.edits.injections import find_naming_inconsistencies

    return [asdict(n) for n in find_naming_inconsistencies(art["text"][:TEXT_LIMIT])]


def article_view(art: dict) -> dict:
    art = {**art, "naming": naming_of(art)}
    sourcing = art.get("sourcing") or {}
    techniques = [
        (label, technique_class(label), technique_name(label), n)
        for label, n in art.get("technique_counts", {}).items()
    ]
    return {
        **art,
        "segments": segments(art["text"], article_marks(art), TEXT_LIMIT),
        "truncated": len(art["text"]) > TEXT_LIMIT,
        "technique_legend": techniques,
        "attribution_counts": {
            k: sum(1 for a in art.get("attributions", []) if a.get("kind") == k)
            for k in ("named", "anonymous", "unattributed")
        },
        "shares": sourcing.get("shares") or {},
        "factual": sourcing.get("factual"),
    }


def _published(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def timeline_svg(fam: dict) -> str:
    from newstrace.network.draw import family_timeline_svg

    arts = {
        m["id"]: Article(
            id=m["id"], text="", outlet=m["outlet"], published=_published(m["published"]), title=m["title"]
        )
        for m in fam["members"]
    }
    pairs = [ReusePair(p["source"], p["copy"], p["score"], p["direction"], []) for p in fam["pairs"]]
    return family_timeline_svg(arts, list(arts), pairs)


def light_articles(db: Any) -> list[Article]:
    """Every article with id, outlet and date only (no text): what the outlet graph needs, at a fraction of
    the memory."""
    con = db.con if hasattr(db, "con") else db
    return [
        Article(id=i, text="", outlet=o, published=p)
        for i, o, p in con.execute("SELECT id, outlet, published FROM articles").fetchall()
    ]


def outlet_graph(db: Any) -> nx.DiGraph:
    """The outlet network rebuilt from the store's articles and reuse pairs (the lead's `outlets` tables, when
    they exist, hold the same graph; rebuilding keeps one code path)."""
    from newstrace.network.graph import build_graph

    con = db.con if hasattr(db, "con") else db
    pairs = [
        ReusePair(s, c, float(score), d, [])
        for s, c, score, d in con.execute("SELECT source, copy, score, direction FROM reuse_pairs").fetchall()
    ]
    return build_graph(light_articles(con), pairs)


def network_view(G: nx.DiGraph | None) -> dict:
    from newstrace.network.draw import network_svg
    from newstrace.network.export import network_summary

    if G is None or G.number_of_nodes() == 0:
        return {"svg": "", "summary": None, "isolated": []}
    # Outlets that copy nobody and are copied by nobody would only crowd the picture: they are listed instead.
    linked = [n for n in G.nodes if G.degree(n) > 0]
    isolated = sorted(n for n in G.nodes if G.degree(n) == 0)
    svg = network_svg(G.subgraph(linked).copy()) if linked else ""
    return {"svg": svg, "summary": network_summary(G, top=15, evidence_limit=3), "isolated": isolated}


__all__ = [
    "AppLinks",
    "ReportLinks",
    "article_view",
    "env",
    "has_table",
    "network_view",
    "outlet_graph",
    "pair_view",
    "script_json",
    "timeline_svg",
]
