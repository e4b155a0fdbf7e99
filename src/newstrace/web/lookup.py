"""In-memory lookups that let the web app answer a page with a few indexed point queries.

The store is opened read-only and never changes while it is served, so everything a page needs except the
big columns (article texts, signals, edit scripts, passages) is loaded once at startup: article metadata
(id -> url, outlet, date, title; about 10 MB for 100k articles), the reuse pairs without their passages,
family membership, counts, the outlet table and the family list. DuckDB cannot have indexes added to a
read-only file, and its per-query overhead (about a millisecond even for a primary-key lookup) is what made
pages slow, so the joins that `newstrace.report.data` does in SQL are done here over dicts.

Every method returns exactly the dict its `newstrace.report.data` namesake returns (tests compare them), so
the templates and the `.json` twins do not know which one answered."""

from __future__ import annotations

import threading
import time
from bisect import bisect_right
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass, field
from typing import Any

from newstrace.report import data
from newstrace.report.data import _json, iso, safe_url


def _marks(n: int) -> str:
    """`(?, ?, ...)`: an explicit IN list, which DuckDB filters faster than `= ANY(list)`."""
    return "(" + ", ".join("?" * n) + ")"


@dataclass
class Lookup:
    """Everything but the big columns, loaded by `Lookup.load(con)`."""

    meta: dict[str, tuple] = field(default_factory=dict)  # id -> (url, outlet, published, title, safe url)
    order: list[str] = field(default_factory=list)  # ids, newest first (the articles list's order)
    blob: str = ""  # lower(title) NUL lower(id), one line per article in `order`, for substring search
    starts: list[int] = field(default_factory=list)  # where each article's line begins in `blob`
    by_outlet: dict[str, list[int]] = field(default_factory=dict)  # outlet -> positions in `order`
    sources_of: dict[str, list[tuple]] = field(default_factory=dict)  # copy -> [(source, score, dir, n)]
    copies_of: dict[str, list[tuple]] = field(default_factory=dict)  # source -> [(copy, score, dir, n)]
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
            "SELECT id, url, outlet, published, title FROM articles ORDER BY published DESC NULLS LAST, id"
        ).fetchall()
        when: dict[str, Any] = {}
        keys: list[str] = []
        by_outlet: dict[str, list[int]] = defaultdict(list)
        for pos, (aid, url, outlet, published, title) in enumerate(rows):
            lk.meta[aid] = (url, outlet, iso(published), title, safe_url(url))
            when[aid] = published
            lk.order.append(aid)
            keys.append((title or "").lower().replace("\n", " ") + "\x00" + aid.lower().replace("\n", " "))
            if outlet is not None:
                by_outlet[outlet].append(pos)
        lk.by_outlet = dict(by_outlet)
        lk.blob = "\n".join(keys) + "\n"
        pos = 0
        for k in keys:
            lk.starts.append(pos)
            pos += len(k) + 1
        del rows, keys

        sources_of: dict[str, list[tuple]] = defaultdict(list)
        copies_of: dict[str, list[tuple]] = defaultdict(list)
        for s, c, score, direction, n in con.execute(
            "SELECT source, copy, score, direction, coalesce(json_array_length(passages), 0) FROM reuse_pairs"
        ).fetchall():
            sources_of[c].append((s, float(score), direction, int(n)))
            copies_of[s].append((c, float(score), direction, int(n)))
        lk.sources_of, lk.copies_of = dict(sources_of), dict(copies_of)

        members: dict[str, list[str]] = defaultdict(list)
        for fam, aid in con.execute(
            "SELECT family, article_id FROM family_members ORDER BY family, article_id"
        ).fetchall():
            members[fam].append(aid)
            lk.family_of.setdefault(aid, fam)
        edited = {
            r[0]
            for r in con.execute(
                "SELECT DISTINCT copy FROM edits WHERE json_array_length(systematic) > 0"
            ).fetchall()
        }
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
        lk.injections = {
            aid: int(n)
            for aid, n in con.execute(
                "SELECT id, json_array_length(injections) FROM signals "
                "WHERE json_array_length(injections) > 0"
            ).fetchall()
        }
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
        # One C-speed `find` over all titles and ids, jumping to the next line after each hit: the cost is
        # the text scanned plus the matching rows, not a Python step per article.
        hits: list[int] = []
        if q and "\x00" not in q and "\n" not in q:
            blob, starts, at = self.blob, self.starts, 0
            while (at := blob.find(q, at)) >= 0:
                row = bisect_right(starts, at) - 1
                hits.append(row)
                at = starts[row + 1] if row + 1 < len(starts) else len(blob)
        with self._lock:
            self._searches[q] = hits
            if len(self._searches) > 64:
                self._searches.popitem(last=False)
        return hits

    def article(self, con: Any, aid: str) -> dict | None:
        if aid not in self.meta:
            return None
        row = con.execute(
            "SELECT a.text, a.source_file, a.record, a.extractor, s.id IS NOT NULL, s.techniques, "
            "s.attributions, s.injections, s.sourcing FROM articles a LEFT JOIN signals s ON s.id = a.id "
            "WHERE a.id = ?",
            [aid],
        ).fetchall()
        if not row:
            return None
        text, file, record, extractor, analysed, tech, atts, inj, sourcing = row[0]
        out = {
            **self.meta_of(aid),
            "text": text,
            "provenance": {"file": file, "record": record, "extractor": extractor},
        }
        out["analysed"] = bool(analysed)
        out["techniques"] = _json(tech, []) if analysed else []
        out["attributions"] = _json(atts, []) if analysed else []
        out["injections"] = _json(inj, []) if analysed else []
        out["sourcing"] = _json(sourcing, None) if analysed else None
        out["sources"] = self._relatives(self.sources_of, aid)
        out["copies"] = self._relatives(self.copies_of, aid)
        out["family"] = self.family_of.get(aid)
        out["technique_counts"] = dict(Counter(t["technique"] for t in out["techniques"]).most_common())
        return out

    def pair(self, con: Any, source: str, copy: str) -> dict | None:
        return self.pairs(con, [(source, copy)]).get((source, copy))

    def pairs(
        self, con: Any, wanted: list[tuple[str, str]], edits: dict[tuple[str, str], tuple] | None = None
    ) -> dict[tuple[str, str], dict]:
        """`data.pair` for several pairs at once: the texts in one query, then passages and edits by primary
        key for one pair, or in one IN-list query each for more (a family page). `edits`, when given, maps
        (source, copy) to (edit script, systematic edits) already read by the caller."""
        wanted = [(s, c) for s, c in wanted if s in self.meta and c in self.meta]
        if not wanted:
            return {}
        ids = sorted({x for p in wanted for x in p})
        sources, copies = sorted({s for s, _ in wanted}), sorted({c for _, c in wanted})
        texts = dict(
            con.execute(f"SELECT id, text FROM articles WHERE id IN {_marks(len(ids))}", ids).fetchall()
        )
        passages: dict[tuple[str, str], Any] = {}
        prefetched = edits is not None
        edits = dict(edits or {})
        if len(wanted) == 1:
            # Primary-key lookups (about 1 ms each); IN lists on both key columns scan the table.
            (s, c) = wanted[0]
            for (p,) in con.execute(
                "SELECT passages FROM reuse_pairs WHERE source = ? AND copy = ?", [s, c]
            ).fetchall():
                passages[(s, c)] = p
            if not prefetched:
                for e, sy in con.execute(
                    "SELECT edits, systematic FROM edits WHERE source = ? AND copy = ?", [s, c]
                ).fetchall():
                    edits[(s, c)] = (e, sy)
        else:
            keys = f"WHERE source IN {_marks(len(sources))} AND copy IN {_marks(len(copies))}"
            for s, c, p in con.execute(
                f"SELECT source, copy, passages FROM reuse_pairs {keys}", sources + copies
            ).fetchall():
                passages[(s, c)] = p
            if not prefetched:
                for s, c, e, sy in con.execute(
                    f"SELECT source, copy, edits, systematic FROM edits {keys}", sources + copies
                ).fetchall():
                    edits[(s, c)] = (e, sy)
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
        return self.family_with_edits(con, family_id)[0]

    def family_with_edits(self, con: Any, family_id: str) -> tuple[dict | None, dict[tuple[str, str], tuple]]:
        """`data.family`, plus each pair's raw (edit script, systematic edits), so that a family page can
        render its diffs (`pairs(..., edits=...)`) without reading the edits table twice."""
        head = self.heads.get(family_id)
        if head is None:
            return None, {}
        ids = self.members[family_id]
        members = [self.meta_of(m) for m in ids]
        inside = set(ids)
        pair_rows = sorted(
            (s, c, score, d, n) for c in ids for s, score, d, n in self.sources_of.get(c, []) if s in inside
        )
        edit_rows, raw = {}, {}
        if pair_rows:
            for s, c, e, sy, n in con.execute(
                "SELECT source, copy, edits, systematic, json_array_length(edits) FROM edits "
                f"WHERE copy IN {_marks(len(ids))} AND source IN {_marks(len(ids))}",
                ids + ids,
            ).fetchall():
                edit_rows[(s, c)] = (_json(sy, []), int(n or 0))
                raw[(s, c)] = (e, sy)
        inj = {m: self.injections[m] for m in ids if m in self.injections}
        return data.assemble_family(head, members, pair_rows, edit_rows, inj), raw
