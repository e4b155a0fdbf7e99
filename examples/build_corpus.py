"""Build the demo corpus in examples/corpus/ and its ground truth, truth.json.

Inputs (committed, hand-written fiction):
- sources/stories/*.txt: title, blank line, paragraphs separated by blank lines;
- sources/outlets.json: outlet names, networks, page boilerplate;
- sources/plan.json: every article's outlet, format, URL and date, and either a base story or the earlier
  article it copies plus the edit operations applied to it.

Every copy is derived by applying the recorded operations to its source's paragraphs, and each paragraph
remembers which source paragraph it came from. Passages, families, chains, non-copies, edits and injection
spans in truth.json are therefore known by construction, not detected. The build is deterministic: running
it again regenerates byte-identical files (tests/test_demo_corpus.py checks this).

    python examples/build_corpus.py               # rewrite examples/corpus/
    python examples/build_corpus.py --out DIR     # build elsewhere, e.g. to compare
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from render_pages import render_html, sha1, write_warc  # noqa: E402

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources"
DEFAULT_OUT = HERE / "corpus"
SNIPPET = 60


@dataclass
class Para:
    text: str
    # (article id, paragraph index) this paragraph was copied from; None for text written for this article
    origin: tuple[str, int] | None


@dataclass
class Built:
    spec: dict
    title: str
    paras: list[Para]
    parents: list[str] = field(default_factory=list)
    edits: list[dict] = field(default_factory=list)
    # filled by layout(): the ingested text, and (start, end, root) per rendered paragraph
    text: str = ""
    blocks: list[tuple[int, int, tuple[str, int] | None]] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return self.spec["url"] or f"file:{relpath(self.spec)}"


def read_story(slug: str) -> tuple[str, list[str]]:
    raw = (SOURCES / "stories" / f"{slug}.txt").read_text(encoding="utf-8")
    title, _, body = raw.partition("\n\n")
    return title.strip(), [p.strip() for p in body.strip().split("\n\n")]


def relpath(spec: dict) -> str:
    """Where the article lives, relative to the corpus folder."""
    fmt, outlet = spec["format"], spec["outlet"]
    if fmt == "jsonl":
        return f"{outlet}/feed.jsonl"
    if fmt == "warc":
        return "archive.warc.gz"
    return f"{outlet}/{spec['id']}.{fmt}"


# ---- edit operations: each mutates the copy and returns the truth record(s) it planted ----


def op_inject(b: Built, op: dict) -> dict:
    """Insert variants[i] right after the i-th mention of the anchor.

    The variants carry the find-and-replace seams (stray spaces, glued words, misspellings)."""
    variants, n = op["variants"], 0
    for p in b.paras:
        out, pos = [], 0
        for m in re.finditer(re.escape(op["anchor"]), p.text):
            out += [p.text[pos : m.end()], variants[n]["text"]]
            pos, n = m.end(), n + 1
        p.text = "".join(out) + p.text[pos:]
    if n != len(variants):
        raise ValueError(
            f"{b.spec['id']}: anchor {op['anchor']!r} occurs {n} times, plan has {len(variants)}"
        )
    return {
        "kind": "insert",
        "anchor": op["anchor"],
        "source_text": "",
        "copy_text": op["phrase"],
        "count": n,
        "planted": [v["text"] for v in variants],
        "seams": [v["seam"] for v in variants],
    }


def op_replace(b: Built, op: dict) -> dict:
    """Relabel a term throughout, except the occurrences listed in skip (the editor's misses)."""
    pat, seen, replaced = re.compile(rf"\b{re.escape(op['old'])}\b"), 0, 0
    for p in b.paras:

        def sub(m: re.Match) -> str:
            nonlocal seen, replaced
            seen += 1
            if seen - 1 in op["skip"]:
                return m.group(0)
            replaced += 1
            return op["new"]

        p.text = pat.sub(sub, p.text)
    # misses include the skipped ones and any capitalised form the case-sensitive replace did not touch
    missed = sum(len(re.findall(rf"\b{re.escape(op['old'])}\b", p.text, re.I)) for p in b.paras)
    return {
        "kind": "replace",
        "anchor": None,
        "source_text": op["old"],
        "copy_text": op["new"],
        "count": replaced,
        "missed": missed,
    }


def op_cut(b: Built, op: dict) -> dict:
    hits = [p for p in b.paras if op["text"] in p.text]
    if len(hits) != 1:
        raise ValueError(f"{b.spec['id']}: cut text found in {len(hits)} paragraphs")
    p = hits[0]
    p.text = re.sub(r"\s+", " ", p.text.replace(op["text"], "")).strip()
    if not p.text:
        b.paras.remove(p)
    return {
        "kind": op.get("kind", "cut"),
        "anchor": None,
        "source_text": op["text"],
        "copy_text": "",
        "count": 1,
    }


def op_reorder(b: Built, op: dict) -> dict:
    if sorted(op["order"]) != list(range(len(b.paras))):
        raise ValueError(f"{b.spec['id']}: reorder is not a permutation of {len(b.paras)} paragraphs")
    b.paras = [b.paras[i] for i in op["order"]]
    return {
        "kind": "reorder",
        "anchor": None,
        "source_text": "",
        "copy_text": "",
        "count": 1,
        "order": op["order"],
    }


def op_lead(b: Built, op: dict) -> dict:
    old = b.paras[0].text
    if op["text"] is None:
        b.paras.pop(0)
    else:
        b.paras[0] = Para(op["text"], None)
    return {"kind": "lead", "anchor": None, "source_text": old, "copy_text": op["text"] or "", "count": 1}


def op_title(b: Built, op: dict) -> dict:
    old, b.title = b.title, op["text"]
    return {"kind": "title", "anchor": None, "source_text": old, "copy_text": op["text"], "count": 1}


def op_append(b: Built, op: dict) -> dict:
    b.paras.append(Para(op["text"], None))
    return {
        "kind": op.get("kind", "insert"),
        "anchor": None,
        "source_text": "",
        "copy_text": op["text"],
        "count": 1,
    }


OPS = {
    "inject": op_inject,
    "replace": op_replace,
    "cut": op_cut,
    "reorder": op_reorder,
    "lead": op_lead,
    "title": op_title,
    "append": op_append,
}


def build_article(spec: dict, built: dict[str, Built]) -> Built:
    if "base" in spec:
        title, texts = read_story(spec["base"])
        b = Built(spec, title, [Para(t, None) for t in texts])
    else:
        src = built[spec["from"]]
        b = Built(
            spec,
            src.title,
            [Para(p.text, (src.spec["id"], i)) for i, p in enumerate(src.paras)],
            parents=[src.spec["id"]],
        )
    for op in spec.get("ops", []):
        if op["op"] == "embed":
            # partial reuse: a few paragraphs of an earlier article dropped into this otherwise original one
            src = built[op["from"]]
            b.paras[op["at"] : op["at"]] = [Para(src.paras[i].text, (op["from"], i)) for i in op["paras"]]
            b.parents.append(op["from"])
            continue
        b.edits.append(OPS[op["op"]](b, op))
    return b


def layout(b: Built, outlet: dict, built: dict[str, Built]) -> None:
    """Lay the paragraphs out as the ingested text and record where each one starts and ends."""
    blocks: list[tuple[str, tuple[str, int] | None]] = []
    for i, p in enumerate(b.paras):
        blocks.append((p.text, root_of(built, p.origin) if p.origin else (b.spec["id"], i)))
    if outlet["in_text"]:
        blocks.append((outlet["in_text"], None))  # outlet boilerplate that extraction keeps: no root
        if b.parents:
            b.edits.append(
                {
                    "kind": "boilerplate",
                    "anchor": None,
                    "source_text": "",
                    "copy_text": outlet["in_text"],
                    "count": 1,
                }
            )
    fmt = b.spec["format"]
    sep, text = ("\n\n" if fmt in ("jsonl", "txt") else "\n"), ""
    if fmt == "txt":
        text = b.title + "\n\n"
    for k, (t, root) in enumerate(blocks):
        if k:
            text += sep
        b.blocks.append((len(text), len(text) + len(t), root))
        text += t
    b.text = text + ("\n" if fmt == "txt" else "")


def root_of(built: dict[str, Built], origin: tuple[str, int]) -> tuple[str, int]:
    aid, i = origin
    p = built[aid].paras[i]
    return root_of(built, p.origin) if p.origin else (aid, i)


def ancestors(built: dict[str, Built], aid: str) -> set[str]:
    out: set[str] = set()
    for p in built[aid].parents:
        out |= {p} | ancestors(built, p)
    return out


def passages(src: Built, cp: Built) -> list[dict]:
    """Maximal runs of paragraphs shared in the same order, as offsets into both ingested texts."""
    where = {root: k for k, (_, _, root) in enumerate(src.blocks) if root}
    matches = [(where[root], k) for k, (_, _, root) in enumerate(cp.blocks) if root in where]
    runs: list[list[tuple[int, int]]] = []
    for m in matches:
        if runs and m[0] == runs[-1][-1][0] + 1 and m[1] == runs[-1][-1][1] + 1:
            runs[-1].append(m)
        else:
            runs.append([m])
    out = []
    for run in runs:
        ss, se = src.blocks[run[0][0]][0], src.blocks[run[-1][0]][1]
        cs, ce = cp.blocks[run[0][1]][0], cp.blocks[run[-1][1]][1]
        out.append(
            {
                "source_start": ss,
                "source_end": se,
                "copy_start": cs,
                "copy_end": ce,
                "source_snippet": src.text[ss : ss + SNIPPET],
                "copy_snippet": cp.text[cs : cs + SNIPPET],
            }
        )
    return out


def reuse_pair(a: Built, b: Built, built: dict[str, Built]) -> dict | None:
    roots_a = {r for *_, r in a.blocks if r}
    shared = roots_a & {r for *_, r in b.blocks if r}
    if not shared:
        return None
    ida, idb = a.spec["id"], b.spec["id"]
    if ida in ancestors(built, idb) or idb in ancestors(built, ida):
        src, cp = (a, b) if ida in ancestors(built, idb) else (b, a)
        relation = "direct" if src.spec["id"] in cp.parents else "indirect"
    else:
        # siblings share a common source; call the earlier one "source", as a detector would
        src, cp = (a, b) if (a.spec["published"] or "~") <= (b.spec["published"] or "~") else (b, a)
        relation = "sibling"
    ps = passages(src, cp)
    n_src, n_cp = (sum(1 for *_, r in x.blocks if r) for x in (src, cp))
    order = [(p["source_start"]) for p in ps]
    if len(shared) < n_src / 2 or len(shared) < n_cp / 2:
        kind = "partial"
    elif order != sorted(order):
        kind = "reordered"
    else:
        kind = "full"
    both_dated = bool(src.spec["published"] and cp.spec["published"])
    return {
        "source_url": src.ref,
        "copy_url": cp.ref,
        "relation": relation,
        "kind": kind,
        "direction": "dated" if both_dated else "textual",
        "passages": ps,
    }


def injections(b: Built, plan_ops: list[tuple[str, dict]], built: dict[str, Built]) -> list[dict]:
    """The injected phrases present in this article's text, located by their anchors.

    Copies of an injected article inherit its injections, so they are reported for descendants too."""
    lineage = ancestors(built, b.spec["id"]) | {b.spec["id"]}
    out = []
    for owner, op in plan_ops:
        if owner not in lineage:
            continue
        spans, seams = [], []
        for m in re.finditer(re.escape(op["anchor"]), b.text):
            v = max(
                (v for v in op["variants"] if b.text.startswith(v["text"], m.end())),
                key=lambda v: len(v["text"]),
                default=None,
            )
            if v is None:
                continue
            span = [m.end(), m.end() + len(v["text"])]
            spans.append(span)
            if v["seam"]:
                seams.append(span)
        if spans:
            out.append(
                {
                    "url": b.ref,
                    "anchor": op["anchor"],
                    "phrase": op["phrase"],
                    "count": len(spans),
                    "spans": spans,
                    "seams": seams,
                }
            )
    return out


def chains(built: dict[str, Built]) -> list[list[str]]:
    """Root-to-leaf republication paths of two hops or more (whole-article copies only, not embeds)."""
    kids: dict[str, list[str]] = {}
    for aid, b in built.items():
        if "from" in b.spec:
            kids.setdefault(b.spec["from"], []).append(aid)

    def walk(aid: str) -> list[list[str]]:
        return [[aid] + rest for k in kids.get(aid, []) for rest in walk(k)] or [[aid]]

    roots = [aid for aid, b in built.items() if "base" in b.spec]
    return [[built[a].ref for a in path] for r in roots for path in walk(r) if len(path) >= 3]


def build(out: Path) -> dict:
    outlets = json.loads((SOURCES / "outlets.json").read_text(encoding="utf-8"))
    plan = json.loads((SOURCES / "plan.json").read_text(encoding="utf-8"))["articles"]
    built: dict[str, Built] = {}
    for spec in plan:
        built[spec["id"]] = build_article(spec, built)
    for b in built.values():
        layout(b, outlets[b.spec["outlet"]], built)
        if b.parents:
            for e in b.edits:
                e.update(source_url=built[b.parents[0]].ref, copy_url=b.ref)

    files: dict[str, bytes] = {}
    feeds: dict[str, list[str]] = {}
    warc_pages: list[tuple[str, str | None, str]] = []
    records: dict[str, int | None] = {}
    for b in built.values():
        spec, outlet = b.spec, outlets[b.spec["outlet"]]
        body = [b.text[s:e] for s, e, _ in b.blocks]
        if spec["format"] == "jsonl":
            feed = feeds.setdefault(relpath(spec), [])
            records[spec["id"]] = len(feed)
            feed.append(
                json.dumps(
                    {
                        "id": spec["id"],
                        "url": spec["url"],
                        "outlet": spec["outlet"],
                        "published": spec["published"],
                        "title": b.title,
                        "text": b.text,
                    },
                    ensure_ascii=False,
                )
            )
        elif spec["format"] == "txt":
            files[relpath(spec)] = b.text.encode("utf-8")
        else:
            siblings = [o for o in built.values() if o.spec["outlet"] == spec["outlet"] and o.spec["url"]]
            related = [(o.spec["url"], o.title) for o in siblings[:4]]
            page = render_html(spec, b.title, body, outlet, spec["outlet"], related)
            if spec["format"] == "warc":
                records[spec["id"]] = len(warc_pages) + 1  # record 0 is the warcinfo record
                warc_pages.append((spec["url"], spec["published"], page))
            else:
                files[relpath(spec)] = page.encode("utf-8")
    for path, lines in feeds.items():
        files[path] = ("\n".join(lines) + "\n").encode("utf-8")
    files["archive.warc.gz"] = write_warc(warc_pages)

    inject_ops = [(s["id"], op) for s in plan for op in s.get("ops", []) if op["op"] == "inject"]
    pairs = [p for a, b in combinations(built.values(), 2) if (p := reuse_pair(a, b, built))]
    linked = {frozenset((p["source_url"], p["copy_url"])) for p in pairs}
    families = []
    for aid, b in built.items():
        members = [o.ref for o in built.values() if any(r and r[0] == aid for *_, r in o.blocks)]
        if len(members) > 1:
            families.append({"origin_url": b.ref, "member_urls": members})
    truth = {
        "version": 1,
        "offsets": "Python str indices into each article's text as ingested: the .txt file decoded as UTF-8, "
        "the "
        "JSONL text field, or trafilatura's default extraction of the HTML (its body paragraphs joined "
        "by newlines). Every URL field holds the article URL, or file:<path> for a .txt without one.",
        "outlets": {d: o["network"] for d, o in outlets.items()},
        "boilerplate": {
            d: {"in_text": o["in_text"], "page": [x for x in (o["share"], o["newsletter"], o["footer"]) if x]}
            for d, o in outlets.items()
        },
        "articles": [
            {
                "url": b.ref,
                "id": None if b.spec["format"] == "warc" else b.spec["id"],
                "outlet": b.spec["outlet"],
                "published": b.spec["published"],
                "title": b.title,
                "file": relpath(b.spec),
                "format": b.spec["format"],
                "record": records.get(b.spec["id"]),
                "network": outlets[b.spec["outlet"]]["network"],
                "topic": b.spec["topic"],
                "derived_from": [built[p].ref for p in b.parents],
                "text_chars": len(b.text),
                "text_sha1": sha1(b.text),
            }
            for b in built.values()
        ],
        "reuse": pairs,
        "non_copies": [
            [a.ref, b.ref]
            for a, b in combinations(built.values(), 2)
            if a.spec["topic"] == b.spec["topic"] and frozenset((a.ref, b.ref)) not in linked
        ],
        "families": families,
        "chains": chains(built),
        "edits": [e for b in built.values() for e in b.edits],
        "injections": [i for b in built.values() for i in injections(b, inject_ops, built)],
    }
    files["truth.json"] = (json.dumps(truth, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    for path, data in files.items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_bytes(data)
    return truth


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: examples/corpus)")
    args = ap.parse_args(argv)
    truth = build(args.out)
    print(
        f"wrote {len(truth['articles'])} articles, {len(truth['reuse'])} reuse pairs, "
        f"{len(truth['non_copies'])} non-copies, {len(truth['chains'])} chains to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
