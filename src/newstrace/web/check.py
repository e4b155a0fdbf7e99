"""Check a new text against the store: which stored articles it reuses (`reuse.query.query_text`) and its own
signals (`signals.analyse.analyse_text`), each reported as missing, with the reason, rather than failing the
page."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from newstrace.report.data import article as stored_article
from newstrace.report.data import has_table

MEMORY_INDEX_LIMIT = 200_000


class LazyTexts(Mapping):
    """Article texts fetched from the store one id at a time, for `query_text` over an index kept elsewhere.
    """

    def __init__(self, con: Any):
        self.con = con

    def __getitem__(self, key: str) -> str:
        row = self.con.execute("SELECT text FROM articles WHERE id = ?", [key]).fetchall()
        if not row:
            raise KeyError(key)
        return row[0][0]

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 1  # never empty: query_text asks for texts by id only


def memory_index(con: Any, limit: int = MEMORY_INDEX_LIMIT) -> Any | None:
    """A shingle index in an in-memory DuckDB, built from the store's articles, for stores that `analyze` left
    without one (the store itself is read-only). None above `limit` articles: too slow to build on a request.
    """
    import duckdb

    from newstrace.model import Article
    from newstrace.reuse.query import index_articles

    if con.execute("SELECT count(*) FROM articles").fetchall()[0][0] > limit:
        return None
    mem = duckdb.connect(":memory:")
    rows = con.execute("SELECT id, outlet, text FROM articles ORDER BY id").fetchall()
    index_articles(mem, [Article(id=i, outlet=o, text=t or "") for i, o, t in rows])
    return mem


def check_text(text: str, con: Any, *, top: int = 10, index: Any | None = None) -> dict:
    """The text as an article dict (the shape `data.article` returns, so the article view renders it), the
    stored sources it reuses, and why either part is missing when it is."""
    art: dict = {
        "id": "(checked text)",
        "url": None,
        "safe_url": None,
        "outlet": None,
        "published": None,
        "title": None,
        "text": text,
        "provenance": {},
        "sources": [],
        "copies": [],
        "family": None,
        "analysed": False,
        "techniques": [],
        "attributions": [],
        "injections": [],
        "sourcing": None,
        "naming": [],
    }
    notes: list[str] = []
    try:
        from newstrace.blas import one_blas_thread
        from newstrace.signals.analyse import analyse_text

        with one_blas_thread():
            sig = analyse_text(text, "checked")
        art.update(
            analysed=True,
            techniques=sig["techniques"],
            attributions=sig["attributions"],
            injections=sig["injections"],
            sourcing=sig.get("sourcing"),
            naming=sig.get("naming", []),
        )
    except Exception as exc:  # a missing model or a bug in one analyser must not hide the reuse answer
        notes.append(f"persuasion techniques unavailable: {exc}")
        try:  # the analysers that need no trained model
            from dataclasses import asdict

            from newstrace.edits.injections import find_injections
            from newstrace.signals.attribution import find_attributions
            from newstrace.signals.sourcing import sourcing_profile

            atts = find_attributions(text)
            art.update(analysed=True, attributions=[asdict(a) for a in atts],
                       injections=[asdict(i) for i in find_injections(text)],
                       sourcing=sourcing_profile(text, atts).as_dict())
        except Exception as exc2:
            notes.append(f"signals unavailable: {exc2}")
    art["technique_counts"] = dict(Counter(t["technique"] for t in art["techniques"]).most_common())

    sources: list[dict] = []
    if index is None and not has_table(con, "shingles"):
        notes.append("this store has no reuse index, and it is too large to build one in memory")
    else:
        from newstrace.reuse.query import query_text

        hits = query_text(text, con, top=top) if index is None else \
            query_text(text, index, top=top, texts=LazyTexts(con))
        for hit in hits:
            meta = stored_article(con, hit.article_id) or {"id": hit.article_id}
            sources.append(
                {
                    "id": hit.article_id,
                    "title": meta.get("title"),
                    "outlet": meta.get("outlet"),
                    "published": meta.get("published"),
                    "safe_url": meta.get("safe_url"),
                    "score": hit.score,
                    "passages": [
                        {
                            "source_start": p.source_start,
                            "source_end": p.source_end,
                            "copy_start": p.copy_start,
                            "copy_end": p.copy_end,
                            "copy_snippet": text[p.copy_start : p.copy_end][:200],
                        }
                        for p in hit.passages
                    ],
                }
            )
    art["sources"] = sources
    return {"article": art, "sources": sources, "notes": notes, "chars": len(text)}
