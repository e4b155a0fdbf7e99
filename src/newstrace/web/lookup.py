"""In-memory lookups that let the web app answer a page with a few indexed point queries.

The store is opened read-only and never changes while it is served, so everything a page needs except the
big columns (article texts, signals, edit scripts, passages) is loaded once at startup: article metadata
(id -> url, outlet, date, title; about 10 MB for 100k articles), the reuse pairs without their passages,
family membership, counts, the outlet table and the family list. DuckDB cannot have indexes added to a
read-only file, and its per-query overhead (about a millisecond even for a primary-key lookup) is what made
pages slow, so the joins that `newstrace.report.data` does in SQL are done here over dicts.

What is left for DuckDB is the big columns, and each page reads them in ONE statement (a UNION ALL of the
lookups it needs): every `execute` costs a few tenths of a millisecond before it reads a byte. The tables
keyed by (source, copy) get no index scan in DuckDB, so the lookups keep each row's `rowid` (the store is
read-only, so rowids do not move while it is served): a filter on a rowid range lets DuckDB skip straight to
the row. The extra dicts cost about 150 bytes per reuse pair and per signals row.

Every method returns exactly the dict its `newstrace.report.data` namesake returns (tests compare them), so
the templates and the `.json` twins do not know which one answered."""

from __future__ import annotations

import threading
import time
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass, field
from typing import Any

from newstrace.report import data
from newstrace.report.data import _json, iso, safe_url
from newstrace.web.search import TitleSearch


def _marks(n: int) -> str:
    """`(?, ?, ...)`: an explicit IN list, which DuckDB filters faster than `= ANY(list)`."""
    return "(" + ", ".join("?" * n) + ")"


def _rowids(rowids: list[int]) -> str:
    """A WHERE condition for these rows. DuckDB skips to a rowid range (zone maps) but scans the whole table
    for an IN list or an OR of rowids, so the list comes with the range that holds it. The values are ints
    from our own lookups, not user input."""
    rs = sorted({int(r) for r in rowids})
    if len(rs) == 1:
        return f"rowid = {rs[0]}"
    return f"rowid BETWEEN {rs[0]} AND {rs[-1]} AND rowid IN ({', '.join(map(str, rs))})"


@dataclass
class Lookup:
    """Everything but the big columns, loaded by `Lookup.load(con)`."""

    # id -> (url, outlet, published, title, safe url, rowid)
    meta: dict[str, tuple] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # ids, newest first (the articles list's order)
    # lower(title) NUL lower(id), one line per article in `order`, for substring search
    search: TitleSearch = field(default_factory=lambda: TitleSearch([]))
    by_outlet: dict[str, list[int]] = field(default_factory=dict)  # outlet -> positions in `order`
    sources_of: dict[str, list[tuple]] = field(default_factory=dict)  # copy -> [(source, score, dir, n)]
    copies_of: dict[str, list[tuple]] = field(default_factory=dict)  # source -> [(copy, score, dir, n)]
    pair_rowid: dict[tuple[str, str], int] = field(default_factory=dict)  # (source, copy) -> reuse_pairs row
    edit_info: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)  # -> (edits row, edits)
    signal_rowid: dict[str, int] = field(default_factory=dict)  # article -> signals row
    family_of: dict[str, str] = field(default_factory=dict)  # article -> its first family
    heads: dict[str, tuple] = field(default_factory=dict)  # family -> (family, origin, size)
    members: dict[str, list[str]] = field(default_factory=dict)  # family -> ids, in publication order
    family_rows: list[tuple] = field(default_factory=list)  # (family, size, origin, outlets, edited copies)
    injections: dict[str, int] = field(default_factory=dict)  # article -> number of injections, when > 0
    outlet_rows: list[dict] = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    findings: list[int] = field(default_factory=list)  # positions of articles in a family or with injections
    load_seconds: float = 0.0
    _searches: OrderedDict = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # ---- loading ------------------------------------------------------------------------------------------

    @classmethod
    def load(cls, con: Any) -> Lookup:
        t0 = time.perf_counter()
        lk = cls()
        rows = con.execute(
            "SELECT id, url, outlet, published, title, rowid FROM articles "
            "ORDER BY published DESC NULLS LAST, id"
        ).fetchall()
        when: dict[str, Any] = {}
        keys: list[str] = []
        by_outlet: dict[str, list[int]] = defaultdict(list)
        for pos, (aid, url, outlet, published, title, rowid) in enumerate(rows):
            lk.meta[aid] = (url, outlet, iso(published), title, safe_url(url), rowid)
            when[aid] = published
            lk.order.append(aid)
            keys.append((title or "").lower().replace("\n", " ") + "\x00" + aid.lower().replace("\n", " "))
            if outlet is not None:
                by_outlet[outlet].append(pos)
        lk.by_outlet = dict(by_outlet)
        lk.search = TitleSearch(keys)
        del rows, keys

        sources_of: dict[str, list[tuple]] = defaultdict(list)
        copies_of: dict[str, list[tuple]] = defaultdict(list)
        for s, c, score, direction, n, rowid in con.execute(
            "SELECT source, copy, score, direction, coalesce(json_array_length(passages), 0), rowid "
            "FROM reuse_pairs"
        ).fetchall():
            sources_of[c].append((s, float(score), direction, int(n)))
            copies_of[s].append((c, float(score), direction, int(n)))
            lk.pair_rowid[(s, c)] = rowid
        lk.sources_of, lk.copies_of = dict(sources_of), dict(copies_of)

        members: dict[str, list[str]] = defaultdict(list)
        for fam, aid in con.execute(
            "SELECT family, article_id FROM family_members ORDER BY family, article_id"
        ).fetchall():
            members[fam].append(aid)
            lk.family_of.setdefault(aid, fam)
        edited: set[str] = set()
        for s, c, rowid, n, has_systematic in con.execute(
            "SELECT source, copy, rowid, coalesce(json_array_length(edits), 0), "
            "coalesce(json_array_length(systematic) > 0, false) FROM edits"
        ).fetchall():
            lk.edit_info[(s, c)] = (rowid, int(n))
            if has_systematic:
                edited.add(c)
        for fam, origin, size in con.execute(
            "SELECT family, origin, size FROM families ORDER BY size DESC, family"
        ).fetchall():
            lk.heads[fam] = (fam, origin, size)
            # Members joined to articles, in publication order (the SQL drops members without an article).
            ids = [m for m in members.get(fam, []) if m in lk.meta]
            ids.sort(key=lambda m: (when[m] is None, when[m] or 0, m))
            lk.members[fam] = ids
            outlets = {lk.meta[m][1] for m in ids if lk.meta[m][1] is not None}
            lk.family_rows.append((fam, size, origin, len(outlets), sum(1 for m in set(ids) if m in edited)))
        for aid, rowid, n in con.execute(
            "SELECT id, rowid, coalesce(json_array_length(injections), 0) FROM signals"
        ).fetchall():
            lk.signal_rowid[aid] = rowid
            if n > 0:
                lk.injections[aid] = int(n)
        lk.findings = [p for p, aid in enumerate(lk.order) if aid in lk.family_of or aid in lk.injections]
        lk.counts = data.counts(con)
        lk.outlet_rows = data.outlets(con, limit=1 << 40)
        lk.load_seconds = time.perf_counter() - t0
        return lk

    # ---- small helpers ------------------------------------------------------------------------------------

    def meta_of(self, aid: str | None) -> dict:
        m = self.meta.get(aid) if aid is not None else None
        if m is None:
            return {
                "id": None,
                "url": None,
                "safe_url": None,
                "outlet": None,
                "published": None,
                "title": None,
            }
        return {
            "id": aid,
            "url": m[0],
            "safe_url": m[4],
            "outlet": m[1],
            "published": m[2],
            "title": m[3],
        }

    def _relatives(self, table: dict[str, list[tuple]], aid: str, limit: int = 100) -> list[dict]:
        rows = sorted((r for r in table.get(aid, []) if r[0] in self.meta), key=lambda r: (-r[1], r[0]))
        return [{**self.meta_of(r[0]), "score": round(r[1], 4), "direction": r[2]} for r in rows[:limit]]

    # ---- views --------------------------------------------------------------------------------------------

    def families(self, *, limit: int = 10, offset: int = 0) -> list[dict]:
        return [
            {"family": f, "size": size, "origin": self.meta_of(origin), "outlets": n_out, "edited_copies": ed}
            for f, size, origin, n_out, ed in self.family_rows[offset : offset + limit]
        ]

    def outlets(self, *, limit: int = 10, offset: int = 0) -> list[dict]:
        return self.outlet_rows[offset : offset + limit]

    def articles(
        self, *, q: str = "", outlet: str = "", findings_only: bool = False, limit: int = 50, offset: int = 0
    ) -> dict:
        """`data.articles` over the in-memory order: positions narrowed by outlet, findings and search."""
        positions: list[int] | None = None  # None: every article

        def narrow(current: list[int] | None, allowed: list[int]) -> list[int]:
            if current is None:
                return allowed
            keep = set(allowed)
            return [p for p in current if p in keep]

        if outlet:
            positions = self.by_outlet.get(outlet, [])
        if findings_only:
            positions = narrow(positions, self.findings)
        if q:
            positions = narrow(positions, self._search(q.lower()))
        if positions is None:
            total, page = len(self.order), range(offset, min(offset + limit, len(self.order)))
        else:
            total, page = len(positions), positions[offset : offset + limit]
        return {"total": total, "rows": [self.meta_of(self.order[p]) for p in page]}

    def _search(self, q: str) -> list[int]:
        # A pager walks the same search page by page: keep the last few answers.
        with self._lock:
            if q in self._searches:
                self._searches.move_to_end(q)
                return self._searches[q]
        hits = self.search.find(q)
        with self._lock:
            self._searches[q] = hits
            if len(self._searches) > 64:
                self._searches.popitem(last=False)
        return hits

    def article(self, con: Any, aid: str) -> dict | None:
        if aid not in self.meta:
            return None
        sql = "SELECT 0 AS k, text, source_file, record, extractor FROM articles WHERE id = ?"
        srow = self.signal_rowid.get(aid)
        if srow is not None:
            sql += (
                " UNION ALL SELECT 1, techniques::VARCHAR, attributions::VARCHAR, injections::VARCHAR, "
                f"sourcing::VARCHAR FROM signals WHERE {_rowids([srow])}"
            )
        found = {r[0]: r[1:] for r in con.execute(sql, [aid]).fetchall()}
        if 0 not in found:
            return None
        text, file, record, extractor = found[0]
        out = {
            **self.meta_of(aid),
            "text": text,
            "provenance": {"file": file, "record": record, "extractor": extractor},
        }
        sig = found.get(1)
        out["analysed"] = sig is not None
        out["techniques"] = _json(sig[0], []) if sig else []
        out["attributions"] = _json(sig[1], []) if sig else []
        out["injections"] = _json(sig[2], []) if sig else []
        out["sourcing"] = _json(sig[3], None) if sig else None
        out["sources"] = self._relatives(self.sources_of, aid)
        out["copies"] = self._relatives(self.copies_of, aid)
        out["family"] = self.family_of.get(aid)
        out["technique_counts"] = dict(Counter(t["technique"] for t in out["techniques"]).most_common())
        return out

    def _fetch(
        self,
        con: Any,
        text_ids: list[str],
        passages_of: list[tuple[str, str]],
        edits_of: list[tuple[str, str]],
        scripts: bool = True,
    ) -> tuple[dict[str, str], dict[tuple[str, str], Any], dict[tuple[str, str], tuple]]:
        """Texts by article id, passages and (edit script, systematic edits) by (source, copy), in one
        statement. Pairs without a row are left out; `scripts=False` reads the systematic edits only.

        Rows come back by rowid, mapped to their keys here: reading the key columns themselves would cost
        DuckDB a dictionary decode per column, as much as the lookup."""
        parts: list[str] = []
        by_row: list[dict[int, Any]] = [{}, {}, {}]
        if text_ids:
            by_row[0] = {self.meta[i][5]: i for i in text_ids}
            parts.append(
                "SELECT 0 AS k, rowid AS r, text AS t, NULL::JSON AS j1, NULL::JSON AS j2 FROM articles "
                f"WHERE id IN {_marks(len(text_ids))}"
            )
        by_row[1] = {self.pair_rowid[k]: k for k in passages_of if k in self.pair_rowid}
        if by_row[1]:
            where = _rowids(list(by_row[1]))
            parts.append(f"SELECT 1, rowid, NULL, passages, NULL FROM reuse_pairs WHERE {where}")
        by_row[2] = {self.edit_info[k][0]: k for k in edits_of if k in self.edit_info}
        if by_row[2]:
            script = "edits" if scripts else "NULL"
            where = _rowids(list(by_row[2]))
            parts.append(f"SELECT 2, rowid, NULL, {script}, systematic FROM edits WHERE {where}")
        texts: dict[str, str] = {}
        passages: dict[tuple[str, str], Any] = {}
        edits: dict[tuple[str, str], tuple] = {}
        if not parts:
            return texts, passages, edits
        for k, r, t, j1, j2 in con.execute(" UNION ALL ".join(parts), text_ids).fetchall():
            key = by_row[k][r]
            if k == 0:
                texts[key] = t
            elif k == 1:
                passages[key] = j1
            else:
                edits[key] = (j1, j2)
        return texts, passages, edits

    def pair(self, con: Any, source: str, copy: str) -> dict | None:
        return self.pairs(con, [(source, copy)]).get((source, copy))

    def pairs(self, con: Any, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], dict]:
        """`data.pair` for several pairs at once, read in one statement."""
        wanted = [(s, c) for s, c in wanted if s in self.meta and c in self.meta]
        if not wanted:
            return {}
        ids = sorted({x for p in wanted for x in p})
        texts, passages, edits = self._fetch(con, ids, wanted, wanted)
        return self._records(wanted, texts, passages, edits)

    def _records(
        self,
        wanted: list[tuple[str, str]],
        texts: dict[str, str],
        passages: dict[tuple[str, str], Any],
        edits: dict[tuple[str, str], tuple],
    ) -> dict[tuple[str, str], dict]:
        out = {}
        for s, c in wanted:
            if s not in texts or c not in texts:
                continue
            reuse = next((r for r in self.sources_of.get(c, []) if r[0] == s), None)
            ed = edits.get((s, c))
            systematic = _json(ed[1], []) if ed else []
            out[(s, c)] = {
                "source": {**self.meta_of(s), "text": texts[s]},
                "copy": {**self.meta_of(c), "text": texts[c]},
                "score": round(reuse[1], 4) if reuse else None,
                "direction": reuse[2] if reuse else None,
                "passages": _json(passages.get((s, c)), []) if reuse else [],
                "edits": _json(ed[0], []) if ed else [],
                "systematic": [{**x, "explanation": data.explain(x, texts[c])} for x in systematic],
                "family": self.family_of.get(c),
            }
        return out

    def family(self, con: Any, family_id: str) -> dict | None:
        return self.family_page(con, family_id, diffs=0)[0]

    def family_page(self, con: Any, family_id: str, diffs: int) -> tuple[dict | None, list[dict]]:
        """`data.family`, plus the `data.pair` records of the first `diffs` copies against their direct
        sources (in publication order of the copy), all read in one statement.

        Which source is a copy's parent depends only on what the lookups hold (direction, score, number of
        edits), so the pairs to show are known before the query and their texts come with the edits."""
        head = self.heads.get(family_id)
        if head is None:
            return None, []
        ids = self.members[family_id]
        members = [self.meta_of(m) for m in ids]
        inside = set(ids)
        pair_rows = sorted(
            (s, c, score, d, n) for c in ids for s, score, d, n in self.sources_of.get(c, []) if s in inside
        )
        keys = [(s, c) for s, c, *_ in pair_rows]
        n_edits = {k: self.edit_info[k][1] for k in keys if k in self.edit_info}
        wanted: list[tuple[str, str]] = []
        if diffs > 0 and pair_rows:
            light = [
                {
                    "source": s,
                    "copy": c,
                    "score": round(float(score), 4),
                    "direction": d,
                    "edits": n_edits.get((s, c), 0),
                }
                for s, c, score, d, _ in pair_rows
            ]
            order = {m: i for i, m in enumerate(ids)}
            direct = sorted(data.parent_links(light, members).values(), key=lambda p: order.get(p["copy"], 0))
            wanted = [(p["source"], p["copy"]) for p in direct[:diffs]]
        text_ids = sorted({x for p in wanted for x in p})
        texts, passages, edits = self._fetch(con, text_ids, wanted, keys, scripts=bool(wanted))
        edit_rows = {k: (_json(sy, []), n_edits.get(k, 0)) for k, (_, sy) in edits.items()}
        inj = {m: self.injections[m] for m in ids if m in self.injections}
        fam = data.assemble_family(head, members, pair_rows, edit_rows, inj)
        recs = self._records(wanted, texts, passages, edits)
        return fam, [recs[k] for k in wanted if k in recs]
