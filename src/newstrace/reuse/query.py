"""Incremental shingle index in the DuckDB store, and "where did this text come from?" queries against it.

Tables (created on first use, named after what they hold):
- `shingled(doc INTEGER, article_id VARCHAR, outlet VARCHAR)`: the articles indexed so far, each with a
  compact integer key;
- `shingles(doc INTEGER, hash BIGINT)`: the winnowed shingle keys of each indexed article, with an ART index
  `shingles_hash` on `hash` so that a query looks its keys up instead of scanning;
- `shingle_boilerplate(hash BIGINT)`: keys recurring across one outlet's articles (see `candidates`), refreshed
  after each indexing call, and ignored by queries;
- `shingle_index_info(key, value)`: the version of the shingle hashing that built the index.

`index_articles` only adds articles whose id is not in `shingled` yet, so it can be called again as the store
grows. Rows go in through Arrow in bulk. The texts for alignment are read from the lead's `articles(id, text,
...)` table when it exists, else from the `texts` mapping the caller passes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from newstrace.errors import StoreError
from newstrace.model import Article, Passage
from newstrace.reuse.candidates import CandidateParams
from newstrace.reuse.engine import exact_share, score_pair
from newstrace.reuse.shingles import ShingleParams, fingerprint, shingle_rows


@dataclass
class QueryHit:
    article_id: str
    score: float
    passages: list[Passage]  # source = the stored article, copy = the query text
    shared: int = 0  # shingle keys shared with the query


# Bump when the shingle hash values change: an index built by another version is dropped and rebuilt, since its
# keys would silently match nothing.
SHINGLE_INDEX_VERSION = "2"


def ensure_schema(con) -> None:
    con.execute("CREATE TABLE IF NOT EXISTS shingle_index_info (key VARCHAR PRIMARY KEY, value VARCHAR)")
    found = con.execute("SELECT value FROM shingle_index_info WHERE key = 'version'").fetchall()
    if not found or found[0][0] != SHINGLE_INDEX_VERSION:
        for table in ("shingled", "shingles", "shingle_boilerplate"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute("INSERT OR REPLACE INTO shingle_index_info VALUES ('version', ?)", [SHINGLE_INDEX_VERSION])
    con.execute(
        "CREATE TABLE IF NOT EXISTS shingled (doc INTEGER PRIMARY KEY, article_id VARCHAR UNIQUE, outlet VARCHAR)"
    )
    con.execute("CREATE TABLE IF NOT EXISTS shingles (doc INTEGER, hash BIGINT)")
    con.execute("CREATE TABLE IF NOT EXISTS shingle_boilerplate (hash BIGINT)")
    # point lookups of a query's keys: without it every query scans the whole table
    con.execute("CREATE INDEX IF NOT EXISTS shingles_hash ON shingles (hash)")


def refresh_boilerplate(con, params: CandidateParams | None = None) -> int:
    """Recompute `shingle_boilerplate` from all indexed articles; returns the number of keys."""
    p = params or CandidateParams()
    con.execute("DELETE FROM shingle_boilerplate")
    con.execute(
        """
        INSERT INTO shingle_boilerplate
        WITH sizes AS (SELECT outlet, count(*) AS n FROM shingled WHERE outlet IS NOT NULL GROUP BY outlet),
             per AS (SELECT d.outlet, s.hash, count(*) AS c FROM shingles s JOIN shingled d USING (doc)
                     WHERE d.outlet IS NOT NULL GROUP BY d.outlet, s.hash)
        SELECT DISTINCT per.hash FROM per JOIN sizes USING (outlet)
        WHERE per.c >= greatest(?, ceil(? * sizes.n))
        """,
        [p.outlet_min_df, p.outlet_frac],
    )
    return con.execute("SELECT count(*) FROM shingle_boilerplate").fetchall()[0][0]


def index_articles(
    con,
    articles: Iterable[Article] | None = None,
    params: ShingleParams | None = None,
    *,
    batch: int = 10_000,
    boilerplate: bool = True,
) -> int:
    """Add the shingles of articles not indexed yet; returns how many were added.

    `articles=None` indexes the rows of the store's `articles` table that are not in `shingled` yet.
    """
    import pyarrow as pa

    ensure_schema(con)
    if articles is None:
        rows = con.execute(
            "SELECT id, outlet, text FROM articles a WHERE NOT EXISTS "
            "(SELECT 1 FROM shingled s WHERE s.article_id = a.id) ORDER BY id"
        ).fetchall()
        articles = [Article(id=r[0], outlet=r[1], text=r[2] or "") for r in rows]
    done = {r[0] for r in con.execute("SELECT article_id FROM shingled").fetchall()}
    new: list[Article] = []
    for a in articles:
        if a.id not in done:
            done.add(a.id)
            new.append(a)
    if not new:
        return 0
    indexed = len(done) - len(new)
    # A large addition goes faster into a table without the ART index, which is then rebuilt once; a small one
    # is cheaper to insert into the index directly.
    rebuild = len(new) > max(10_000, indexed // 10)
    if rebuild:
        con.execute("DROP INDEX IF EXISTS shingles_hash")
    next_doc = con.execute("SELECT coalesce(max(doc) + 1, 0) FROM shingled").fetchall()[0][0]
    for i in range(0, len(new), batch):
        part = new[i : i + batch]
        docs, hashes = shingle_rows((a.text for a in part), params)
        meta = pa.table(
            {
                "doc": pa.array(np.arange(next_doc, next_doc + len(part), dtype=np.int32)),
                "article_id": pa.array([a.id for a in part], pa.string()),
                "outlet": pa.array([a.outlet for a in part], pa.string()),
            }
        )
        rows = pa.table({"doc": pa.array(docs + next_doc, pa.int32()), "hash": pa.array(hashes, pa.int64())})
        con.register("_nt_meta", meta)
        con.register("_nt_shingles", rows)
        try:
            con.execute("INSERT INTO shingled SELECT * FROM _nt_meta")
            con.execute("INSERT INTO shingles SELECT * FROM _nt_shingles")
        finally:
            con.unregister("_nt_meta")
            con.unregister("_nt_shingles")
        next_doc += len(part)
    if rebuild:
        con.execute("CREATE INDEX IF NOT EXISTS shingles_hash ON shingles (hash)")
    if boilerplate:
        refresh_boilerplate(con)
    return len(new)


def query_candidates(
    con, text: str, *, top: int = 10, params: ShingleParams | None = None, cparams: CandidateParams | None = None
) -> list[tuple[str, int]]:
    """Stored articles sharing at least `min_shared` keys with `text`, most shared first: `(article_id, shared)`."""
    cp = cparams or CandidateParams()
    import duckdb

    keys = fingerprint(text, params)
    if len(keys) == 0:
        return []
    # The keys go in as literals (our own int64s, so nothing to escape): DuckDB looks a literal IN list up in
    # the ART index, but scans the whole table for a list parameter or a subquery. The few matched rows are
    # then filtered and counted here rather than in a multi-join plan, which costs more than the lookup.
    literal = ",".join(str(k) for k in keys.tolist())
    try:
        m = con.execute(f"SELECT doc, hash FROM shingles WHERE hash IN ({literal})").fetchnumpy()
    except duckdb.CatalogException as e:
        raise StoreError("the store has no shingle index yet: index the articles first (index_articles)") from e
    docs, hashes = np.asarray(m["doc"], dtype=np.int64), np.asarray(m["hash"], dtype=np.int64)
    if len(docs) == 0:
        return []
    boiler = con.execute(f"SELECT hash FROM shingle_boilerplate WHERE hash IN ({literal})").fetchnumpy()["hash"]
    uniq, inv, df = np.unique(hashes, return_inverse=True, return_counts=True)
    ok = (df <= cp.max_df) & ~np.isin(uniq, np.asarray(boiler, dtype=np.int64))
    docs = docs[ok[inv]]
    cand, shared = np.unique(docs, return_counts=True)
    keep = shared >= cp.min_shared
    cand, shared = cand[keep], shared[keep]
    if len(cand) == 0:
        return []
    # most shared first; ties broken by article id below, so take every doc tied with the last one kept
    order = np.argsort(-shared, kind="stable")
    cut = shared[order[min(top, len(order)) - 1]]
    cand, shared = cand[shared >= cut], shared[shared >= cut]
    ids = dict(
        con.execute(
            f"SELECT doc, article_id FROM shingled WHERE doc IN ({','.join(str(d) for d in cand.tolist())})"
        ).fetchall()
    )
    out = sorted(
        ((ids[d], int(c)) for d, c in zip(cand.tolist(), shared.tolist(), strict=True)), key=lambda x: (-x[1], x[0])
    )
    return out[:top]


def query_text(
    text: str,
    con,
    *,
    top: int = 10,
    texts: Mapping[str, str] | None = None,
    min_passage_chars: int = 150,
    min_exact_share: float = 0.3,
) -> list[QueryHit]:
    """Which stored articles does `text` reuse? Hits with aligned passages, best score first.

    Stored texts come from `texts` when given, else from the `articles` table. A candidate without any
    verified passage of `min_passage_chars` characters is not a hit.
    """
    from newstrace.reuse.align import AlignParams, align

    cands = query_candidates(con, text, top=top)
    if not cands:
        return []
    if texts is None:
        import duckdb

        # One point lookup per candidate: an equality on the key uses the store's primary-key index (or zone
        # maps), while an IN over a list parameter scans every stored text (100 ms and more at 100k articles).
        texts = {}
        try:
            for aid, _ in cands:
                row = con.execute("SELECT text FROM articles WHERE id = ?", [aid]).fetchall()
                if row:
                    texts[aid] = row[0][0]
        except duckdb.CatalogException:
            texts = {}
    hits: list[QueryHit] = []
    aparams = AlignParams(summary=False)
    for aid, shared in cands:
        src = texts.get(aid)
        if src is None:
            continue
        passages = [
            q
            for q in align(src, text, aparams)
            if min(q.source_end - q.source_start, q.copy_end - q.copy_start) >= min_passage_chars
            and exact_share(src, text, q) >= min_exact_share
        ]
        if passages:
            hits.append(QueryHit(aid, round(score_pair(src, text, passages), 4), passages, shared))
    hits.sort(key=lambda h: (-h.score, -h.shared, h.article_id))
    return hits
