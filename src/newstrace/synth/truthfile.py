"""Writes `truth.json`: the planted structure of a synthetic corpus, with offsets into `corpus.jsonl` texts.

Keys (all offsets are Python str indices into the article's `text`):

- `meta`: seed, sizes, base folder.
- `outlets`: `{outlet, name, network, community, lead, utc_offset_hours, header, footer, patron}`; an
  independent outlet's `community` is its own singleton label.
- `articles`: every non-filler article, `{id, url, outlet, published, title, role, family, parent, base,
  boilerplate_spans, sidebar_spans, operations}`; `sidebar_spans` holds the outlet's list of recent headlines
  before the article, which is page furniture, never reuse. Any corpus id not listed is filler (a negative of its own).
- `families`: `{family, origin, members}` (members by publication time).
- `pairs`: every true reuse pair, `{source, copy, direct, passages: [{source_start, source_end, copy_start,
  copy_end}]}`; `source` is the earlier article, `direct` says whether one was copied from the other.
- `systematic`: every planted edit of a copy against its parent, `{source, copy, kind, phrase, anchor,
  source_text, copy_text, count, misses, copy_spans, source_spans, seams}`, kind one of insert, replace,
  relabel, cut_attribution, cut_denial, lead, boilerplate. A `relabel` wraps the old name in a new label that
  keeps it (`source_text` "Delhi", `copy_text` "the Delhi regime"); `misses` counts the mentions left alone.
- `edges`: planted directed outlet edges `{source, copy, weight, median_lag_hours}` (parent outlet -> copier).
- `hard_negatives`: `{a, b, kind, similarity}` for same-topic and same-facts articles that are not copies.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from newstrace.synth.truth import passages

if TYPE_CHECKING:
    from newstrace.synth.generate import Art
    from newstrace.synth.outlets import Outlet

SYSTEMATIC_KINDS = ("insert", "replace", "relabel", "cut_attribution", "cut_denial", "lead", "boilerplate")
# one-off edits listed among an article's operations, with their copy span
_WORD_OPS = {"noise": "noise_word", "appositive": "appositive", "paraphrase": "paraphrased",
             "added_sentence": "added_sentence", "restyle": "restyle"}


def build_truth(arts: list[Art], outlets: list[Outlet], hard: list[tuple[int, int, str, float]],
                meta: dict) -> dict:
    fam_name = {f: f"fam-{f + 1:04d}" for f in sorted({a.family for a in arts if a.family is not None})}
    articles = []
    for a in arts:
        ops = list(a.log) + [{"op": _WORD_OPS[e.kind], "source_text": e.source_text, "copy_text": e.copy_text,
                              "copy_span": e.copy_spans[0]} for e in a.edits if e.kind in _WORD_OPS and e.copy_spans]
        articles.append({"id": a.id, "url": a.url, "outlet": a.outlet.domain, "published": a.row()["published"],
                         "title": a.title, "role": a.role,
                         "family": fam_name.get(a.family) if a.family is not None else None,
                         "parent": arts[a.parent].id if a.parent is not None else None, "base": a.base,
                         "boilerplate_spans": [list(s) for s in a.boiler_spans],
                         "sidebar_spans": [list(s) for s in a.sidebar_spans], "operations": ops})
    members: dict[int, list[Art]] = defaultdict(list)
    for a in arts:
        if a.family is not None:
            members[a.family].append(a)
    families, pairs = [], []
    for f, ms in sorted(members.items()):
        ms = sorted(ms, key=lambda a: (a.published, a.idx))
        origin = next(a for a in ms if a.role == "origin")
        families.append({"family": fam_name[f], "origin": origin.id, "members": [a.id for a in ms]})
        for i, x in enumerate(ms):
            for y in ms[i + 1 :]:
                ps = passages(x.blocks, y.blocks)
                if ps:
                    direct = y.parent == x.idx or x.parent == y.idx
                    pairs.append({"source": x.id, "copy": y.id, "direct": direct, "passages": ps})
    systematic = []
    lags: dict[tuple[str, str], list[float]] = defaultdict(list)
    for a in arts:
        if a.parent is None:
            continue
        p = arts[a.parent]
        lags[(p.outlet.domain, a.outlet.domain)].append((a.published - p.published).total_seconds() / 3600)
        for e in a.edits:
            if e.kind not in SYSTEMATIC_KINDS or (e.kind == "boilerplate" and e.source_text == e.copy_text):
                continue
            systematic.append({"source": p.id, "copy": a.id, "kind": e.kind, "phrase": e.phrase,
                               "anchor": e.anchor, "source_text": e.source_text, "copy_text": e.copy_text,
                               "count": e.count, "misses": e.misses, "copy_spans": e.copy_spans,
                               "source_spans": e.source_spans, "seams": e.seams})
    edges = [{"source": s, "copy": c, "weight": len(v), "median_lag_hours": round(float(np.median(v)), 3)}
             for (s, c), v in sorted(lags.items())]
    hard_negs = [{"a": arts[i].id, "b": arts[j].id, "kind": k, "similarity": sim} for i, j, k, sim in hard]
    return {"meta": meta, "outlets": [o.to_json() for o in outlets],
            "articles": sorted(articles, key=lambda r: r["id"]), "families": families, "pairs": pairs,
            "systematic": systematic, "edges": edges, "hard_negatives": hard_negs}


def write_truth(path: Path, arts: list[Art], outlets: list[Outlet], hard: list[tuple[int, int, str, float]],
                meta: dict) -> dict:
    truth = build_truth(arts, outlets, hard, meta)
    path.write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return truth


def load_truth(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))
