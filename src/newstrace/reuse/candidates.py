"""Candidate pairs: a join on shingle keys, with document-frequency limits and boilerplate removed.

Input is the rows of `shingles.shingle_rows` (`doc`, `hash`, one row per distinct kept hash of a document) plus
each document's outlet. Two documents become a candidate pair when they share at least `min_shared` keys.

Keys that would make pairs out of unrelated articles are dropped first (headline lists, a sidebar of other
stories' titles that pages of one site share, never become keys at all: `shingles.ShingleParams.furniture`):
- boilerplate: a key found in at least `max(outlet_min_df, outlet_frac * outlet size)` articles of one outlet
  (share buttons, newsletter blurbs, footers). Such a key is dropped for every outlet, so a copy that inherited
  another outlet's footer from an earlier hop does not pair with that outlet's unrelated articles either.
- common phrases: a key in more than `max_df` documents overall. This also bounds the work: no key yields more
  than `max_df * (max_df - 1) / 2` pairs, so the join stays sub-quadratic in the corpus size.

Two implementations return the same pairs: `candidates_numpy` (sorting in memory, for small and mid-size
inputs) and `candidates_duckdb` (SQL, at corpus scale; rows are bulk-inserted through Arrow).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

try:  # the compiled hash table (setup.py); the sort below is its reference, with the same rows
    from newstrace.reuse import _kernels
except ImportError:  # pragma: no cover - an install without a C compiler
    _kernels = None


@dataclass(frozen=True)
class CandidateParams:
    max_df: int = 100
    outlet_min_df: int = 3
    outlet_frac: float = 0.01
    min_shared: int = 3


@dataclass
class Candidates:
    """Candidate pairs `(a[i], b[i])` with `a < b` sharing `shared[i]` keys, and the boilerplate keys."""

    a: np.ndarray  # int32 document index
    b: np.ndarray
    shared: np.ndarray
    boilerplate: np.ndarray  # sorted int64 keys treated as boilerplate
    # per pair: whether both documents hold a common boilerplate key (see `mark_shared_boilerplate`)
    shared_boiler: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))


def _group_bounds(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start index and length of each run of equal values in a sorted array."""
    if len(sorted_keys) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    change = np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1
    starts = np.concatenate(([0], change))
    lengths = np.diff(np.concatenate((starts, [len(sorted_keys)])))
    return starts, lengths


def shared_rows(
    docs: np.ndarray, hashes: np.ndarray, p: CandidateParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rows whose key occurs in at least two documents, sorted by key: `(docs, hashes, starts, lengths)`,
    `starts`/`lengths` being the runs of equal keys.

    Only these rows can make a pair, or be boilerplate (an outlet-level count of at least `outlet_min_df`);
    in a news corpus they are a few percent of all rows, so everything after this one sort is small.
    """
    if p.outlet_min_df >= 2 and _kernels is not None and len(hashes) > 1:
        # the rows of repeated keys found by a hash table, then only those sorted
        repeated = np.empty(len(hashes), dtype=bool)
        _kernels.repeated(np.ascontiguousarray(hashes, dtype=np.int64), repeated.view(np.uint8))
        rows = np.flatnonzero(repeated)
        order = rows[np.argsort(hashes[rows])]
    else:
        order = np.argsort(hashes)
        if p.outlet_min_df >= 2 and len(order) > 1:
            h = hashes[order]
            eq = h[1:] == h[:-1]
            keep = np.zeros(len(h), dtype=bool)
            keep[1:] |= eq
            keep[:-1] |= eq
            order = order[keep]
    h = hashes[order]
    starts, lengths = _group_bounds(h)
    return docs[order], h, starts, lengths


def boilerplate_numpy(docs: np.ndarray, hashes: np.ndarray, outlets: np.ndarray, p: CandidateParams) -> np.ndarray:
    """Keys recurring in many articles of one outlet. `outlets[doc]` is an outlet code, negative when unknown."""
    row_outlet = outlets[docs]
    known = row_outlet >= 0
    if not known.any():
        return np.empty(0, dtype=np.int64)
    o, h = row_outlet[known], hashes[known]
    sizes = np.bincount(outlets[outlets >= 0])
    order = np.lexsort((h, o))
    o, h = o[order], h[order]
    # runs of equal (outlet, hash): rows are distinct per document, so a run's length is the outlet-level df
    change = np.flatnonzero((o[1:] != o[:-1]) | (h[1:] != h[:-1])) + 1
    starts = np.concatenate(([0], change))
    lengths = np.diff(np.concatenate((starts, [len(h)])))
    limit = np.maximum(p.outlet_min_df, np.ceil(p.outlet_frac * sizes[o[starts]]))
    return np.unique(h[starts[lengths >= limit]])


def candidates_numpy(
    docs: np.ndarray, hashes: np.ndarray, outlets: np.ndarray, params: CandidateParams | None = None
) -> Candidates:
    """Candidate pairs by sorting rows on the key; pairs are enumerated per key, `max_df` bounding each key."""
    p = params or CandidateParams()
    d, h, starts, lengths = shared_rows(docs, hashes, p)
    boiler = boilerplate_numpy(d, h, outlets, p)
    ok = (lengths >= 2) & (lengths <= p.max_df)
    if len(boiler):
        ok &= ~np.isin(h[starts], boiler)
    starts, lengths = starts[ok], lengths[ok]
    n_docs = int(docs.max()) + 1 if len(docs) else 0
    keys: list[np.ndarray] = []
    # Enumerate pairs for all keys of the same df at once: a (keys x df) matrix of doc ids, then its upper triangle.
    for g in np.unique(lengths):
        sel = starts[lengths == g]
        mat = d[sel[:, None] + np.arange(g)[None, :]].astype(np.int64)
        i, j = np.triu_indices(int(g), k=1)
        lo = np.minimum(mat[:, i], mat[:, j])
        hi = np.maximum(mat[:, i], mat[:, j])
        keys.append((lo * n_docs + hi).ravel())
    if not keys:
        e = np.empty(0, dtype=np.int32)
        return Candidates(e, e, e, boiler)
    pair_keys, counts = np.unique(np.concatenate(keys), return_counts=True)
    keep = counts >= p.min_shared
    pair_keys, counts = pair_keys[keep], counts[keep]
    return Candidates(
        (pair_keys // n_docs).astype(np.int32), (pair_keys % n_docs).astype(np.int32), counts.astype(np.int32), boiler
    )


def candidates_duckdb(
    con, docs: np.ndarray, hashes: np.ndarray, outlets: np.ndarray, params: CandidateParams | None = None
) -> Candidates:
    """The same pairs as `candidates_numpy`, computed by DuckDB joins on temporary tables in `con`."""
    import pyarrow as pa

    p = params or CandidateParams()
    # keys of one document can neither pair nor be boilerplate: DuckDB only gets the few percent of rows left
    docs, hashes, _, _ = shared_rows(docs, hashes, p)
    rows = pa.table({"doc": pa.array(docs, pa.int32()), "hash": pa.array(hashes, pa.int64())})
    meta = pa.table({"doc": pa.array(np.arange(len(outlets), dtype=np.int32)), "outlet": pa.array(outlets, pa.int32())})
    con.register("_nt_rows_arrow", rows)
    con.register("_nt_meta_arrow", meta)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE _nt_rows AS SELECT * FROM _nt_rows_arrow")
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _nt_boiler AS
            WITH sizes AS (SELECT outlet, count(*) AS n FROM _nt_meta_arrow WHERE outlet >= 0 GROUP BY outlet),
                 per AS (SELECT m.outlet, r.hash, count(*) AS c
                         FROM _nt_rows r JOIN _nt_meta_arrow m USING (doc)
                         WHERE m.outlet >= 0 GROUP BY m.outlet, r.hash)
            SELECT DISTINCT per.hash FROM per JOIN sizes USING (outlet)
            WHERE per.c >= greatest(?, ceil(? * sizes.n))
            """,
            [p.outlet_min_df, p.outlet_frac],
        )
        res = con.execute(
            """
            WITH keyset AS (SELECT hash FROM _nt_rows GROUP BY hash HAVING count(*) BETWEEN 2 AND ?),
                 k AS (SELECT doc, hash FROM _nt_rows
                       SEMI JOIN keyset USING (hash) ANTI JOIN _nt_boiler USING (hash))
            SELECT x.doc AS a, y.doc AS b, count(*)::INTEGER AS shared
            FROM k x JOIN k y ON x.hash = y.hash AND x.doc < y.doc
            GROUP BY ALL HAVING count(*) >= ?
            ORDER BY a, b
            """,
            [p.max_df, p.min_shared],
        ).fetchnumpy()
        boiler = con.execute("SELECT hash FROM _nt_boiler ORDER BY hash").fetchnumpy()
    finally:
        con.unregister("_nt_rows_arrow")
        con.unregister("_nt_meta_arrow")
        con.execute("DROP TABLE IF EXISTS _nt_rows")
        con.execute("DROP TABLE IF EXISTS _nt_boiler")
    return Candidates(
        np.asarray(res["a"], dtype=np.int32),
        np.asarray(res["b"], dtype=np.int32),
        np.asarray(res["shared"], dtype=np.int32),
        np.asarray(boiler["hash"], dtype=np.int64),
    )


def mark_shared_boilerplate(c: Candidates, docs: np.ndarray, hashes: np.ndarray) -> None:
    """Fill `c.shared_boiler`. Only pairs that share boilerplate can align over it, so only those need their
    boilerplate found and blanked before alignment."""
    c.shared_boiler = np.zeros(len(c.a), dtype=bool)
    if len(c.boilerplate) == 0 or len(c.a) == 0:
        return
    # rows of candidate documents first (a lookup by doc id), then the boilerplate test on those few
    in_pair = np.zeros(int(max(docs.max(), c.a.max(), c.b.max())) + 1, dtype=bool)
    in_pair[c.a] = True
    in_pair[c.b] = True
    m = np.flatnonzero(in_pair[docs])
    m = m[np.isin(hashes[m], c.boilerplate)]
    by_doc: dict[int, set[int]] = {}
    for d, h in zip(docs[m].tolist(), hashes[m].tolist(), strict=True):
        by_doc.setdefault(d, set()).add(h)
    empty: set[int] = set()
    for k, (x, y) in enumerate(zip(c.a.tolist(), c.b.tolist(), strict=True)):
        c.shared_boiler[k] = not by_doc.get(x, empty).isdisjoint(by_doc.get(y, empty))
