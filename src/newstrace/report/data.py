"""The data layer shared by the static report and the web app: functions over a store returning plain dicts.

Every function takes a DuckDB connection (or cursor, or a `Store`) and runs indexed or LIMITed queries only,
so a view costs the same on a 100-article store as on a 100k-article one. The dicts are JSON-ready: they are
what the web app's `.json` twins return, and what the templates render. Presentation (highlight segments, SVG)
lives in `newstrace.report.marks` and the templates, not here."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

META = "a.id, a.url, a.outlet, a.published, a.title"
_WS = re.compile(r"\s+")


def _con(db: Any) -> Any:
    return db.con if hasattr(db, "con") else db


def has_table(db: Any, name: str) -> bool:
    q = "SELECT count(*) FROM information_schema.tables WHERE table_name = ?"
    return _con(db).execute(q, [name]).fetchall()[0][0] > 0


def iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()
    return None if value is None else str(value)


def safe_url(url: str | None) -> str | None:
    """The url when it is a plain http(s) link, else None: `javascript:`, `data:` and friends never become
    links."""
    if not url or len(url) > 2000 or any(ord(c) < 33 or c in '"<>`\\' for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _meta(row: tuple) -> dict:
    return {
        "id": row[0],
        "url": row[1],
        "safe_url": safe_url(row[1]),
        "outlet": row[2],
        "published": iso(row[3]),
        "title": row[4],
    }


def _json(value: Any, default: Any) -> Any:
    if value is None:
        return default
    return json.loads(value) if isinstance(value, str) else value


def short(text: str | None, limit: int = 120) -> str:
    """Whitespace collapsed and cut to `limit` characters, for explanations and tooltips."""
    piece = _WS.sub(" ", text or "").strip()
    return piece if len(piece) <= limit else piece[: limit - 1] + "…"


# ---- explanations ------------------------------------------------------------------------------------------


def anchor_words(copy_text: str, start: int, n: int = 3) -> str:
    """The `n` words of the copy just before `start`: what an inserted phrase was attached to."""
    words = re.findall(r"[\w’'“”\"-]+", copy_text[max(0, start - 80) : start])
    return " ".join(words[-n:]).strip('“”"')


def explain(s: dict, copy_text: str = "") -> str:
    """One sentence for a systematic edit, e.g. "Inserted “, backed by X,” after “Y” 7 times"."""
    kind, n = s.get("kind", ""), int(s.get("count") or 0)
    times = "once" if n == 1 else f"{n} times"
    src, cp = short(s.get("source_text"), 90), short(s.get("copy_text"), 90)
    anchor = s.get("anchor") or ""
    spans = s.get("copy_spans") or []
    if not anchor and copy_text and spans:
        anchor = anchor_words(copy_text, spans[0][0])
    if kind == "insert":
        return f"Inserted “{cp}”" + (f" after “{anchor}”" if anchor else "") + f" {times}"
    if kind == "replace":
        return f"Replaced “{src}” with “{cp}” {times}"
    if kind == "replace_missed":
        return (
            f"Left “{src}” unchanged {times}, although the same term was replaced elsewhere (a missed edit)"
        )
    if kind == "relabel":
        return f"Relabelled “{src}” as “{cp}” {times}"
    if kind == "relabel_missed":
        return f"Left “{src}” as it was {times}, although it was relabelled elsewhere (a missed edit)"
    if kind == "delete":
        return f"Deleted “{src}” {times}"
    if kind.startswith("cut_"):
        what = {
            "cut_denial": "denial",
            "cut_counterclaim": "counter-claim",
            "cut_attribution": "attribution",
        }.get(kind, kind[4:])
        lead = f"Cut a {what}" if n <= 1 else f"Cut {n} {what}s"
        return f"{lead}: “{src}”"
    if kind == "lead":
        return f"Rewrote the lead: “{cp}”" + (f" (was “{src}”)" if src else "")
    if kind == "boilerplate":
        return f"Added boilerplate at the end: “{cp}”"
    if kind == "move":
        return f"Moved “{src}” {times}"
    return f"{kind}: “{src}” → “{cp}” {times}"


# ---- overview ----------------------------------------------------------------------------------------------


def counts(db: Any) -> dict:
    con = _con(db)

    def one(sql: str) -> int:
        return int(con.execute(sql).fetchall()[0][0] or 0)

    out = {
        "articles": one("SELECT count(*) FROM articles"),
        "outlets": one("SELECT count(DISTINCT outlet) FROM articles"),
        "pairs": one("SELECT count(*) FROM reuse_pairs"),
        "families": one("SELECT count(*) FROM families"),
        "edited_pairs": one("SELECT count(*) FROM edits WHERE json_array_length(systematic) > 0"),
        "with_injections": one("SELECT count(*) FROM signals WHERE json_array_length(injections) > 0"),
        "errors": one("SELECT count(*) FROM errors"),
    }
    out["signals"] = one("SELECT count(*) FROM signals")
    return out


def families(db: Any, *, limit: int = 10, offset: int = 0) -> list[dict]:
    """The largest families first: origin article, size, number of outlets and of copies with systematic
    edits."""
    con = _con(db)
    rows = con.execute(
        f"""WITH page AS (SELECT family, origin, size FROM families
                         ORDER BY size DESC, family LIMIT ? OFFSET ?)
        SELECT p.family, p.size, {META} FROM page p LEFT JOIN articles a ON a.id = p.origin
        ORDER BY p.size DESC, p.family""",
        [limit, offset],
    ).fetchall()
    if not rows:
        return []
    ids = [r[0] for r in rows]
    outlets = dict(
        con.execute(
            "SELECT m.family, count(DISTINCT a.outlet) FROM family_members m "
            "JOIN articles a ON a.id = m.article_id "
            "WHERE m.family IN (SELECT unnest(?)) GROUP BY m.family",
            [ids],
        ).fetchall()
    )
    edited = dict(
        con.execute(
            "SELECT m.family, count(DISTINCT m.article_id) FROM family_members m "
            "JOIN edits e ON e.copy = m.article_id "
            "WHERE m.family IN (SELECT unnest(?)) AND json_array_length(e.systematic) > 0 GROUP BY m.family",
            [ids],
        ).fetchall()
    )
    return [
        {
            "family": r[0],
            "size": r[1],
            "origin": _meta(r[2:]),
            "outlets": int(outlets.get(r[0], 0)),
            "edited_copies": int(edited.get(r[0], 0)),
        }
        for r in rows
    ]


def outlets(db: Any, *, limit: int = 10, offset: int = 0) -> list[dict]:
    """Outlets by number of articles, with how often others copied them and how often they copied others."""
    con = _con(db)
    rows = con.execute(
        """WITH page AS (SELECT outlet, count(*) AS n, min(published) AS first, max(published) AS last
                         FROM articles GROUP BY outlet ORDER BY n DESC, outlet LIMIT ? OFFSET ?)
        SELECT outlet, n, first, last FROM page ORDER BY n DESC, outlet""",
        [limit, offset],
    ).fetchall()
    names = [r[0] for r in rows if r[0] is not None]
    copied_by_others: dict[str, int] = {}
    copies_made: dict[str, int] = {}
    if names:
        for src_out, cp_out, n in con.execute(
            """SELECT s.outlet, c.outlet, count(*) FROM reuse_pairs p
               JOIN articles s ON s.id = p.source JOIN articles c ON c.id = p.copy
               WHERE (s.outlet IN (SELECT unnest(?)) OR c.outlet IN (SELECT unnest(?)))
                 AND s.outlet <> c.outlet
               GROUP BY 1, 2""",
            [names, names],
        ).fetchall():
            copied_by_others[src_out] = copied_by_others.get(src_out, 0) + n
            copies_made[cp_out] = copies_made.get(cp_out, 0) + n
    habits: dict[str, list[str]] = {}
    if names and has_table(db, "fingerprints"):
        # the edits stage's outlet fingerprints: what an outlet does to the texts it copies, across its copies
        for outlet, fp in con.execute(
            "SELECT outlet, fingerprint FROM fingerprints WHERE outlet IN (SELECT unnest(?))", [names]
        ).fetchall():
            habits[outlet] = list(_json(fp, {}).get("described", []))[:5]
    return [
        {
            "outlet": r[0],
            "articles": r[1],
            "first": iso(r[2]),
            "last": iso(r[3]),
            "copied_by_others": copied_by_others.get(r[0], 0),
            "copies_made": copies_made.get(r[0], 0),
            "habits": habits.get(r[0], []),
        }
        for r in rows
    ]


def findings(db: Any, *, limit: int = 10, scan: int = 50_000) -> dict:
    """The corpus's recurring edits and injections: the same phrase inserted across pairs, grouped by text.

    Reads at most `scan` rows of each table (the first by key), so the cost stays bounded on huge stores.
    """
    con = _con(db)
    groups: dict[tuple[str, str, str], dict] = {}
    for source, copy, systematic in con.execute(
        "SELECT source, copy, systematic FROM edits WHERE json_array_length(systematic) > 0 LIMIT ?", [scan]
    ).fetchall():
        for s in _json(systematic, []):
            if s.get("kind") not in (
                "insert",
                "replace",
                "relabel",
                "cut_denial",
                "cut_counterclaim",
                "cut_attribution",
            ):
                continue
            cut = s["kind"].startswith("cut_")
            # Cuts differ in every copy: they group by kind; inserts and replacements group by their text.
            key = (
                s["kind"],
                "" if cut else short(s.get("source_text"), 200).lower(),
                "" if cut else short(s.get("copy_text"), 200).lower(),
            )
            g = groups.setdefault(
                key,
                {
                    "kind": s["kind"],
                    "source_text": "" if cut else s.get("source_text", ""),
                    "copy_text": "" if cut else s.get("copy_text", ""),
                    "pairs": 0,
                    "count": 0,
                    "example": {"source": source, "copy": copy},
                    "first_span": (s.get("copy_spans") or [[0, 0]])[0][0],
                },
            )
            g["pairs"] += 1
            g["count"] += int(s.get("count") or 0)
    edits = sorted(
        groups.values(),
        key=lambda g: (g["kind"].startswith("cut_"), -g["pairs"], -g["count"], g["copy_text"]),
    )[:limit]
    for g in edits:
        if g["kind"] == "insert":
            # The anchor comes from the example copy: one indexed lookup per shown group.
            text = con.execute("SELECT text FROM articles WHERE id = ?", [g["example"]["copy"]]).fetchall()
            g["anchor"] = anchor_words(text[0][0], g.pop("first_span")) if text else ""
        g.pop("first_span", None)
        if g["kind"].startswith("cut_"):
            what = {
                "cut_denial": "denials",
                "cut_counterclaim": "counter-claims",
                "cut_attribution": "attributions",
            }.get(g["kind"], g["kind"][4:])
            g["explanation"] = f"Cut {what} ({g['count']} cuts)"
        else:
            g["explanation"] = explain(g)
    inj: dict[str, dict] = {}
    for aid, injections in con.execute(
        "SELECT id, injections FROM signals WHERE json_array_length(injections) > 0 LIMIT ?", [scan]
    ).fetchall():
        for i in _json(injections, []):
            key = short(i.get("phrase"), 200).lower()
            g = inj.setdefault(
                key,
                {
                    "phrase": i.get("phrase", ""),
                    "anchor": i.get("anchor", ""),
                    "articles": 0,
                    "count": 0,
                    "example": aid,
                },
            )
            g["articles"] += 1
            g["count"] += int(i.get("count") or 0)
    top_inj = sorted(inj.values(), key=lambda g: (-g["articles"], -g["count"], g["phrase"]))[:limit]
    return {"edits": edits, "injections": top_inj}


def overview(db: Any, *, top: int = 10) -> dict:
    return {
        "counts": counts(db),
        "families": families(db, limit=top),
        "outlets": outlets(db, limit=top),
        "findings": findings(db, limit=top),
    }


# ---- one family, one pair, one article ---------------------------------------------------------------------


def family(db: Any, family_id: str) -> dict | None:
    """A family: members in publication order, each copy's best source, and the systematic edits of every
    pair."""
    con = _con(db)
    head = con.execute("SELECT family, origin, size FROM families WHERE family = ?", [family_id]).fetchall()
    if not head:
        return None
    members = [
        _meta(r)
        for r in con.execute(
            f"SELECT {META} FROM family_members m JOIN articles a ON a.id = m.article_id WHERE m.family = ? "
            "ORDER BY a.published NULLS LAST, a.id",
            [family_id],
        ).fetchall()
    ]
    ids = [m["id"] for m in members]
    pair_rows = con.execute(
        "SELECT source, copy, score, direction, passages FROM reuse_pairs "
        "WHERE copy IN (SELECT unnest(?)) AND source IN (SELECT unnest(?)) ORDER BY source, copy",
        [ids, ids],
    ).fetchall()
    edit_rows = {
        (s, c): (_json(sy, []), int(n or 0))
        for s, c, sy, n in con.execute(
            "SELECT source, copy, systematic, json_array_length(edits) FROM edits "
            "WHERE copy IN (SELECT unnest(?)) AND source IN (SELECT unnest(?))",
            [ids, ids],
        ).fetchall()
    }
    inj = dict(
        con.execute(
            "SELECT id, json_array_length(injections) FROM signals WHERE id IN (SELECT unnest(?))", [ids]
        ).fetchall()
    )
    rows = [(s, c, score, d, len(_json(passages, []))) for s, c, score, d, passages in pair_rows]
    return assemble_family(head[0], members, rows, edit_rows, inj)


def families_by_id(db: Any, family_ids: list[str]) -> list[dict]:
    """`family(db, id)` for each of `family_ids` that exists, in order, from five queries in all rather than five per
    family (the static report renders up to hundreds)."""
    con = _con(db)
    if not family_ids:
        return []
    wanted = "(SELECT unnest(?))"
    heads = {r[0]: r for r in con.execute(
        f"SELECT family, origin, size FROM families WHERE family IN {wanted}", [family_ids]).fetchall()}
    members: dict[str, list[dict]] = defaultdict(list)
    for r in con.execute(
        f"SELECT m.family, {META} FROM family_members m JOIN articles a ON a.id = m.article_id "
        f"WHERE m.family IN {wanted} ORDER BY m.family, a.published NULLS LAST, a.id", [family_ids],
    ).fetchall():
        members[r[0]].append(_meta(r[1:]))
    # a pair belongs to a family when both its articles are members (as `family` reads it)
    in_family = (f"JOIN family_members fs ON fs.article_id = x.source JOIN family_members fc "
                 f"ON fc.article_id = x.copy AND fc.family = fs.family WHERE fs.family IN {wanted}")
    pair_rows: dict[str, list[tuple]] = defaultdict(list)
    for fam, src, cp, score, d, passages in con.execute(
        f"SELECT fs.family, x.source, x.copy, x.score, x.direction, x.passages FROM reuse_pairs x {in_family} "
        "ORDER BY fs.family, x.source, x.copy", [family_ids],
    ).fetchall():
        pair_rows[fam].append((src, cp, score, d, len(_json(passages, []))))
    edit_rows: dict[str, dict] = defaultdict(dict)
    for fam, src, cp, sy, n in con.execute(
        f"SELECT fs.family, x.source, x.copy, x.systematic, json_array_length(x.edits) FROM edits x {in_family}",
        [family_ids],
    ).fetchall():
        edit_rows[fam][(src, cp)] = (_json(sy, []), int(n or 0))
    ids = sorted({m["id"] for ms in members.values() for m in ms})
    inj = dict(con.execute(
        f"SELECT id, json_array_length(injections) FROM signals WHERE id IN {wanted}", [ids]).fetchall())
    out = []
    for fid in family_ids:
        if fid not in heads:
            continue
        mine = members.get(fid, [])
        kept = {m["id"] for m in mine}
        rows = [r for r in pair_rows.get(fid, []) if r[0] in kept and r[1] in kept]
        out.append(assemble_family(heads[fid], mine, rows, edit_rows.get(fid, {}), inj))
    return out


def assemble_family(
    head: tuple, members: list[dict], pair_rows: list[tuple], edit_rows: dict, inj: dict
) -> dict:
    """The family dict from its parts, shared by `family` and the web app's in-memory lookups.

    `head` is (family, origin, size); `members` are article metas in publication order; `pair_rows` are
    (source, copy, score, direction, number of passages) sorted by (source, copy); `edit_rows` maps
    (source, copy) to (systematic edits, number of edits); `inj` maps an article id to its injection count."""
    ids = [m["id"] for m in members]
    by_id = {m["id"]: m for m in members}
    pairs = []
    for s, c, score, direction, n_passages in pair_rows:
        systematic, n_edits = edit_rows.get((s, c), ([], 0))
        pairs.append(
            {
                "source": s,
                "copy": c,
                "score": round(float(score), 4),
                "direction": direction,
                "passages": n_passages,
                "edits": n_edits,
                "systematic": [{**x, "explanation": explain(x)} for x in systematic],
            }
        )
    parent = parent_links(pairs, members)
    for p in pairs:
        p["parent"] = parent.get(p["copy"]) is p
    for m in members:
        m["injections"] = int(inj.get(m["id"]) or 0)
        p = parent.get(m["id"])
        m["parent"] = p["source"] if p else None
        m["parent_outlet"] = by_id[p["source"]]["outlet"] if p and p["source"] in by_id else None
        m["systematic"] = len(p["systematic"]) if p else 0
    origin = head[1]
    return {
        "family": head[0],
        "origin": origin,
        "size": head[2],
        "members": members,
        "pairs": pairs,
        "outlets": sorted({m["outlet"] or "" for m in members}),
        "chains": _chains(origin, ids, parent),
    }


def parent_links(pairs: list[dict], members: list[dict]) -> dict[str, dict]:
    """Each copy's parent pair: among its sources of known direction, the one it changed least (a copy of a
    copy inherits the earlier edits, so its direct source differs from it the least), then the latest
    published. `pairs` need source, copy, score (rounded to 4 places), direction and edits (a count)."""
    parent: dict[str, dict] = {}
    order = {m["id"]: i for i, m in enumerate(members)}
    for p in sorted(
        pairs,
        key=lambda p: (
            p["direction"] == "unknown",
            round(-p["score"], 2),
            p["edits"],
            -order.get(p["source"], 0),
            p["source"],
        ),
    ):
        parent.setdefault(p["copy"], p)
    return parent


def _chains(origin: str, ids: list[str], parent: dict[str, dict]) -> list[list[str]]:
    """Root-to-leaf paths through the parent links: the laundering chains, longest first."""
    children: dict[str, list[str]] = defaultdict(list)
    for c, p in parent.items():
        if p["source"] != c:
            children[p["source"]].append(c)
    roots = [i for i in ids if i not in parent] or [origin]
    chains: list[list[str]] = []

    def walk(node: str, path: list[str]) -> None:
        kids = [k for k in children.get(node, []) if k not in path]
        if not kids:
            chains.append(path)
        for k in kids:
            walk(k, path + [k])

    for r in roots:
        walk(r, [r])
    return sorted(chains, key=lambda c: (-len(c), c))[:50]


def pair(db: Any, source: str, copy: str) -> dict | None:
    """One copy against its source: both texts, the aligned passages, the edit script and the systematic
    edits."""
    con = _con(db)
    arts = {
        r[0]: (_meta(r[:5]), r[5])
        for r in con.execute(
            f"SELECT {META}, a.text FROM articles a WHERE a.id IN (?, ?)", [source, copy]
        ).fetchall()
    }
    if source not in arts or copy not in arts:
        return None
    reuse = con.execute(
        "SELECT score, direction, passages FROM reuse_pairs WHERE source = ? AND copy = ?", [source, copy]
    ).fetchall()
    ed = con.execute(
        "SELECT edits, systematic FROM edits WHERE source = ? AND copy = ?", [source, copy]
    ).fetchall()
    copy_text = arts[copy][1]
    systematic = _json(ed[0][1], []) if ed else []
    return {
        "source": {**arts[source][0], "text": arts[source][1]},
        "copy": {**arts[copy][0], "text": copy_text},
        "score": round(float(reuse[0][0]), 4) if reuse else None,
        "direction": reuse[0][1] if reuse else None,
        "passages": _json(reuse[0][2], []) if reuse else [],
        "edits": _json(ed[0][0], []) if ed else [],
        "systematic": [{**s, "explanation": explain(s, copy_text)} for s in systematic],
        "family": _family_of(con, copy),
    }


def pairs_by_key(db: Any, keys: list[tuple[str, str]], chunk: int = 1000) -> dict[tuple[str, str], dict]:
    """`pair(db, source, copy)` for each (source, copy) of `keys` whose two articles are stored, read with five
    queries per `chunk` pairs (each text once, however many pairs it is in) rather than four per pair."""
    con = _con(db)
    out: dict[tuple[str, str], dict] = {}
    for lo in range(0, len(keys), chunk):
        part = keys[lo : lo + chunk]
        sources, copies = [s for s, _ in part], [c for _, c in part]
        ids = sorted(set(sources) | set(copies))
        wanted = "(SELECT unnest(?) AS source, unnest(?) AS copy)"
        arts = {r[0]: (_meta(r[:5]), r[5]) for r in con.execute(
            f"SELECT {META}, a.text FROM articles a WHERE a.id IN (SELECT unnest(?))", [ids]).fetchall()}
        reuse = {(r[0], r[1]): r[2:] for r in con.execute(
            f"SELECT p.source, p.copy, p.score, p.direction, p.passages FROM reuse_pairs p "
            f"JOIN {wanted} k USING (source, copy)", [sources, copies]).fetchall()}
        edits = {(r[0], r[1]): r[2:] for r in con.execute(
            f"SELECT e.source, e.copy, e.edits, e.systematic FROM edits e JOIN {wanted} k USING (source, copy)",
            [sources, copies]).fetchall()}
        family: dict[str, str] = {}
        for aid, fam in con.execute("SELECT article_id, family FROM family_members WHERE article_id IN "
                                    "(SELECT unnest(?))", [copies]).fetchall():
            family.setdefault(aid, fam)
        for source, copy in part:
            if source not in arts or copy not in arts:
                continue
            rec, ed = reuse.get((source, copy)), edits.get((source, copy))
            copy_text = arts[copy][1]
            systematic = _json(ed[1], []) if ed else []
            out[(source, copy)] = {
                "source": {**arts[source][0], "text": arts[source][1]},
                "copy": {**arts[copy][0], "text": copy_text},
                "score": round(float(rec[0]), 4) if rec else None,
                "direction": rec[1] if rec else None,
                "passages": _json(rec[2], []) if rec else [],
                "edits": _json(ed[0], []) if ed else [],
                "systematic": [{**x, "explanation": explain(x, copy_text)} for x in systematic],
                "family": family.get(copy),
            }
    return out


def _family_of(con: Any, aid: str) -> str | None:
    row = con.execute("SELECT family FROM family_members WHERE article_id = ? LIMIT 1", [aid]).fetchall()
    return row[0][0] if row else None


def article(db: Any, article_id: str) -> dict | None:
    """One article with its signals, the articles it reuses and those that reuse it, and its family."""
    con = _con(db)
    row = con.execute(
        f"SELECT {META}, a.text, a.source_file, a.record, a.extractor FROM articles a WHERE a.id = ?",
        [article_id],
    ).fetchall()
    if not row:
        return None
    r = row[0]
    out = {**_meta(r[:5]), "text": r[5], "provenance": {"file": r[6], "record": r[7], "extractor": r[8]}}
    sig = con.execute(
        "SELECT techniques, attributions, injections, sourcing FROM signals WHERE id = ?", [article_id]
    ).fetchall()
    _add_signals(out, sig[0] if sig else None)
    out["sources"] = _relatives(con, "copy", "source", article_id)
    out["copies"] = _relatives(con, "source", "copy", article_id)
    out["family"] = _family_of(con, article_id)
    out["technique_counts"] = dict(Counter(t["technique"] for t in out["techniques"]).most_common())
    return out


def articles_by_id(db: Any, ids: list[str], chunk: int = 2000) -> list[dict]:
    """`article(db, id)` for each of `ids` that is stored, in order, with five queries per `chunk` ids rather than
    five per article: the static report renders hundreds of article pages, and a query costs about a millisecond
    however little it reads."""
    out: list[dict] = []
    for lo in range(0, len(ids), chunk):
        out += _articles_chunk(_con(db), ids[lo : lo + chunk])
    return out


def _articles_chunk(con: Any, ids: list[str], limit: int = 100) -> list[dict]:
    wanted = "(SELECT unnest(?))"
    rows = {r[0]: r for r in con.execute(
        f"SELECT {META}, a.text, a.source_file, a.record, a.extractor FROM articles a WHERE a.id IN {wanted}", [ids],
    ).fetchall()}
    sig = {r[0]: r[1:] for r in con.execute(
        f"SELECT id, techniques, attributions, injections, sourcing FROM signals WHERE id IN {wanted}", [ids],
    ).fetchall()}
    relatives: dict[str, dict[str, list[dict]]] = {"sources": defaultdict(list), "copies": defaultdict(list)}
    for key, mine, other in (("sources", "copy", "source"), ("copies", "source", "copy")):
        for r in con.execute(
            f"SELECT p.{mine}, p.score, p.direction, {META} FROM reuse_pairs p JOIN articles a ON a.id = p.{other} "
            f"WHERE p.{mine} IN {wanted} ORDER BY p.{mine}, p.score DESC, a.id", [ids],
        ).fetchall():
            found = relatives[key][r[0]]
            if len(found) < limit:
                found.append({**_meta(r[3:]), "score": round(float(r[1]), 4), "direction": r[2]})
    family: dict[str, str] = {}
    for aid, fam in con.execute(
        f"SELECT article_id, family FROM family_members WHERE article_id IN {wanted}", [ids]
    ).fetchall():
        family.setdefault(aid, fam)
    out = []
    for aid in ids:
        if aid not in rows:
            continue
        r = rows[aid]
        art = {**_meta(r[:5]), "text": r[5], "provenance": {"file": r[6], "record": r[7], "extractor": r[8]}}
        _add_signals(art, sig.get(aid))
        art["sources"] = relatives["sources"].get(aid, [])
        art["copies"] = relatives["copies"].get(aid, [])
        art["family"] = family.get(aid)
        art["technique_counts"] = dict(Counter(t["technique"] for t in art["techniques"]).most_common())
        out.append(art)
    return out


def _add_signals(art: dict, sig: tuple | None) -> None:
    art["analysed"] = sig is not None
    art["techniques"] = _json(sig[0], []) if sig else []
    art["attributions"] = _json(sig[1], []) if sig else []
    art["injections"] = _json(sig[2], []) if sig else []
    art["sourcing"] = _json(sig[3], None) if sig else None


def _relatives(con: Any, mine: str, other: str, aid: str, limit: int = 100) -> list[dict]:
    rows = con.execute(
        f"SELECT p.score, p.direction, {META} FROM reuse_pairs p JOIN articles a ON a.id = p.{other} "
        f"WHERE p.{mine} = ? ORDER BY p.score DESC, a.id LIMIT ?",
        [aid, limit],
    ).fetchall()
    return [{**_meta(r[2:]), "score": round(float(r[0]), 4), "direction": r[1]} for r in rows]


def articles(
    db: Any, *, q: str = "", outlet: str = "", findings_only: bool = False, limit: int = 50, offset: int = 0
) -> dict:
    """A page of articles, newest first, filtered by a case-insensitive search over id and title and by
    outlet.

    `findings_only` keeps the articles in a family or with injections. Returns `{"total", "rows"}`."""
    con = _con(db)
    where, params = ["TRUE"], []
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append("(a.title ILIKE ? ESCAPE '\\' OR a.id ILIKE ? ESCAPE '\\')")
        params += [like, like]
    if outlet:
        where.append("a.outlet = ?")
        params.append(outlet)
    if findings_only:
        where.append(
            "(a.id IN (SELECT article_id FROM family_members) OR a.id IN "
            "(SELECT id FROM signals WHERE json_array_length(injections) > 0))"
        )
    cond = " AND ".join(where)
    total = con.execute(f"SELECT count(*) FROM articles a WHERE {cond}", params).fetchall()[0][0]
    rows = con.execute(
        f"SELECT {META} FROM articles a WHERE {cond} "
        "ORDER BY a.published DESC NULLS LAST, a.id LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    return {"total": int(total), "rows": [_meta(r) for r in rows]}


def family_ids_with_findings(db: Any, limit: int) -> list[str]:
    """Families in report order (largest first), for the static report's per-family pages."""
    return [
        r[0]
        for r in _con(db)
        .execute("SELECT family FROM families ORDER BY size DESC, family LIMIT ?", [limit])
        .fetchall()
    ]


def article_ids_with_findings(db: Any, limit: int) -> list[str]:
    """Articles worth a page of their own: in a family, with injections, or with techniques; families first.
    """
    return [
        r[0]
        for r in _con(db)
        .execute(
            """SELECT a.id FROM articles a
           LEFT JOIN (SELECT DISTINCT article_id FROM family_members) m ON m.article_id = a.id
           LEFT JOIN signals s ON s.id = a.id
           WHERE m.article_id IS NOT NULL OR json_array_length(s.injections) > 0
              OR json_array_length(s.techniques) > 0
           ORDER BY (m.article_id IS NULL), (coalesce(json_array_length(s.injections), 0) = 0), a.id
           LIMIT ?""",
            [limit],
        )
        .fetchall()
    ]


def article_index(db: Any, limit: int) -> list[dict]:
    """Compact rows for the report's client-side search: id, title, outlet, date, and whether it has findings.
    """
    rows = (
        _con(db)
        .execute(
            f"""SELECT {META}, m.article_id IS NOT NULL, coalesce(json_array_length(s.injections), 0)
            FROM articles a
            LEFT JOIN (SELECT DISTINCT article_id FROM family_members) m ON m.article_id = a.id
            LEFT JOIN signals s ON s.id = a.id
            ORDER BY a.published DESC NULLS LAST, a.id LIMIT ?""",
            [limit],
        )
        .fetchall()
    )
    return [{**_meta(r[:5]), "in_family": bool(r[5]), "injections": int(r[6])} for r in rows]
