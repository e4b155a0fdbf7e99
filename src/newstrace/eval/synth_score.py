"""Scores a newstrace `analyze --out` folder against a synthetic corpus's `truth.json` (DESIGN.md §4).

Every metric tolerates a missing or empty stage file: it then reports zero found and a recall of 0.0 (and a
precision of 0.0 where nothing was predicted), never an exception.

- pairs: unordered pair precision/recall/F1; `direction_accuracy` over true pairs found, where the predicted
  `source` must be the earlier article; `hard_negative_fp` counts predicted hard-negative pairs.
- passages: PAN plagdet over the true pairs' passages; both sides are keyed by the unordered pair, so a
  detection with source and copy swapped still lands on the right documents.
- systematic: a planted insert/replace/relabel is recalled when a `systematic` entry of the same unordered pair has
  the same phrase (copy_text, or copy_text and source_text for a replace or relabel; compared case- and
  whitespace-insensitively, edge punctuation stripped) and the same count; `recall_phrase` drops the count
  condition. Precision is the share of predicted systematic entries on true pairs whose phrase matches a planted
  edit of that pair.
- relabels: a planted relabel that wraps the old name ("Delhi" -> "the Delhi regime") is reported as one edit when
  one `systematic` entry of the pair has the old name as source_text and the whole new label as copy_text
  (`one_edit`), and with the planted count too (`one_edit_count`); `misses` counts the relabels with misses whose
  misses are reported as one entry (`*_missed`) with the old name and the planted number of misses.
- cuts: a planted cut sentence is recalled when an edit of that pair removes at least half of it (a delete or
  replace on the parent's side), or a systematic entry's source_text equals it, or, the pair being found, at
  least half of it lies outside every passage of the pair on the parent's side (reported as not copied; edits
  are made inside aligned passages only).
- families: purity (each predicted family's most common true family, over predicted members) and inverse
  purity; articles outside every true family count as singletons of their own.
- network: adjusted Rand index of predicted `community` against the true network labels, over all true
  outlets (an outlet absent from the graph is a singleton); of the planted outlet edges found in either
  direction, the share found in the planted direction (`direction_accuracy`); `edge_precision`, the share of
  predicted edges that were planted (edges between two copies of one origin are not planted, so a graph built
  from every reuse pair scores below 1); `independents_merged`, independents sharing a predicted community
  with some network outlet.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

from newstrace.errors import NewstraceError
from newstrace.eval.plagdet import Case, plagdet

_EDGE_PUNCT = " \t\n,.;:!?\"'“”‘’()[]-–—"


def norm_phrase(text: str | None) -> str:
    """Case-folded, all whitespace removed, edge punctuation stripped: `, backed  by X,` == `backedby x`."""
    return re.sub(r"\s+", "", (text or "").strip(_EDGE_PUNCT).casefold())


def _jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                out.append(json.loads(line))
    return out


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def score_pairs(truth: dict, reuse: list[dict]) -> dict:
    true = {_key(p["source"], p["copy"]): p for p in truth["pairs"]}
    pred: dict[tuple[str, str], dict] = {}
    for r in reuse:
        pred.setdefault(_key(r["source"], r["copy"]), r)
    tp = [k for k in pred if k in true]
    right = sum(1 for k in tp if pred[k]["source"] == true[k]["source"])
    hard = {_key(h["a"], h["b"]) for h in truth.get("hard_negatives", [])}
    p, r = _ratio(len(tp), len(pred)), _ratio(len(tp), len(true))
    return {"true": len(true), "predicted": len(pred), "tp": len(tp), "precision": p, "recall": r, "f1": _f1(p, r),
            "direction_accuracy": _ratio(right, len(tp)), "hard_negatives": len(hard),
            "hard_negative_fp": sum(1 for k in pred if k in hard)}


def _cases(pairs: list[dict]) -> list[Case]:
    """Cases keyed by the unordered pair, with the lexically first id playing `source`."""
    out = []
    for p in pairs:
        flip = p["source"] > p["copy"]
        key = "|".join(_key(p["source"], p["copy"]))
        for q in p.get("passages", []):
            if flip:
                out.append(Case(key, q["source_start"], q["source_end"], q["copy_start"], q["copy_end"]))
            else:
                out.append(Case(key, q["copy_start"], q["copy_end"], q["source_start"], q["source_end"]))
    return out


def score_passages(truth: dict, reuse: list[dict]) -> dict:
    res = plagdet(_cases(truth["pairs"]), _cases(reuse))
    return {"precision": res.precision, "recall": res.recall, "granularity": res.granularity,
            "plagdet": res.plagdet, "cases": res.cases, "detections": res.detections}


def score_systematic(truth: dict, edits: list[dict]) -> dict:
    by_pair: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in edits:
        by_pair[_key(row["source"], row["copy"])].extend(row.get("systematic", []))
    planted = [s for s in truth["systematic"] if s["kind"] in ("insert", "replace", "relabel")]
    kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    strict = loose = 0
    for s in planted:
        want = {norm_phrase(s["copy_text"]), norm_phrase(s.get("phrase"))} - {""}
        if s["kind"] != "insert":
            want = {norm_phrase(s["copy_text"]) + "<-" + norm_phrase(s["source_text"])}
        hit_phrase = hit_count = False
        for got in by_pair.get(_key(s["source"], s["copy"]), []):
            g = norm_phrase(got.get("copy_text"))
            if s["kind"] != "insert":
                g = g + "<-" + norm_phrase(got.get("source_text"))
            if g in want:
                hit_phrase = True
                hit_count |= got.get("count") == s["count"]
        strict += hit_count
        loose += hit_phrase
        kinds[s["kind"]][0] += 1
        kinds[s["kind"]][1] += hit_count
    planted_phr: dict[tuple[str, str], set[str]] = defaultdict(set)
    for s in truth["systematic"]:
        for t in (s.get("copy_text"), s.get("source_text"), s.get("phrase")):
            if norm_phrase(t):
                planted_phr[_key(s["source"], s["copy"])].add(norm_phrase(t))
    # Precision is counted on direct pairs (parent -> child), where the truth lists every planted edit. On indirect
    # pairs (origin -> copy of a copy, or two siblings) inherited edits are real but unlisted, so a finding there
    # cannot be judged; the all-pairs figure is still reported, as a lower bound.
    true_pairs = {_key(p["source"], p["copy"]) for p in truth["pairs"]}
    direct_pairs = {_key(p["source"], p["copy"]) for p in truth["pairs"] if p.get("direct")}
    counts = {"all": [0, 0], "direct": [0, 0]}
    for k, items in by_pair.items():
        if k not in true_pairs:
            continue
        for got in items:
            hit = bool({norm_phrase(got.get("copy_text")), norm_phrase(got.get("source_text"))}
                       & planted_phr.get(k, set()))
            for scope in ("all", "direct") if k in direct_pairs else ("all",):
                counts[scope][0] += 1
                counts[scope][1] += hit
    return {"planted": len(planted), "recalled": strict, "recall": _ratio(strict, len(planted)),
            "recall_phrase": _ratio(loose, len(planted)),
            "predicted_on_direct_pairs": counts["direct"][0],
            "precision": _ratio(counts["direct"][1], counts["direct"][0]),
            "predicted_on_true_pairs": counts["all"][0],
            "precision_all_pairs": _ratio(counts["all"][1], counts["all"][0]),
            "by_kind": {k: {"planted": v[0], "recalled": v[1], "recall": _ratio(v[1], v[0])} for k, v in kinds.items()}}


def score_relabels(truth: dict, edits: list[dict]) -> dict:
    by_pair: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in edits:
        by_pair[_key(row["source"], row["copy"])].extend(row.get("systematic", []))
    planted = [s for s in truth["systematic"] if s["kind"] == "relabel"]
    one = counted = with_misses = misses_ok = 0
    for s in planted:
        old, new = norm_phrase(s["source_text"]), norm_phrase(s["copy_text"])
        got = by_pair.get(_key(s["source"], s["copy"]), [])
        whole = [g for g in got if norm_phrase(g.get("source_text")) == old and norm_phrase(g.get("copy_text")) == new]
        one += bool(whole)
        counted += any(g.get("count") == s["count"] for g in whole)
        if s.get("misses"):
            with_misses += 1
            misses_ok += any(str(g.get("kind", "")).endswith("_missed") and norm_phrase(g.get("copy_text")) == old
                             and g.get("count") == s["misses"] for g in got)
    return {"planted": len(planted), "one_edit": one, "one_edit_rate": _ratio(one, len(planted)),
            "one_edit_count": counted, "one_edit_count_rate": _ratio(counted, len(planted)),
            "with_misses": with_misses, "misses_reported": misses_ok, "misses_rate": _ratio(misses_ok, with_misses)}


def _outside_passages(a: int, b: int, parent: str, pair: dict | None) -> bool:
    """Whether at least half of [a, b) of `parent` lies outside every passage of the predicted `pair`."""
    if pair is None:
        return False
    side = "source" if pair["source"] == parent else "copy"
    inside = sum(max(0, min(b, q[f"{side}_end"]) - max(a, q[f"{side}_start"])) for q in pair.get("passages", []))
    return (b - a) - inside >= (b - a) / 2


def score_cuts(truth: dict, edits: list[dict], reuse: list[dict] | None = None) -> dict:
    rows: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in edits:
        rows[_key(row["source"], row["copy"])].append(row)
    pairs = {_key(r["source"], r["copy"]): r for r in reuse or []}
    planted = [s for s in truth["systematic"] if s["kind"] in ("cut_attribution", "cut_denial")]
    found: Counter = Counter()
    for s in planted:
        if not s["source_spans"]:
            continue
        a, b = s["source_spans"][0]
        hit = _outside_passages(a, b, s["source"], pairs.get(_key(s["source"], s["copy"])))
        for row in rows.get(_key(s["source"], s["copy"]), []):
            parent_is_source = row["source"] == s["source"]
            covered = 0
            for e in row.get("edits", []):
                if parent_is_source and e.get("kind") in ("delete", "replace"):
                    lo, hi = e["source_start"], e["source_end"]
                elif not parent_is_source and e.get("kind") in ("insert", "replace"):
                    lo, hi = e["copy_start"], e["copy_end"]
                else:
                    continue
                covered += max(0, min(b, hi) - max(a, lo))
            sys_hit = any(norm_phrase(x.get("source_text")) == norm_phrase(s["source_text"])
                          for x in row.get("systematic", []))
            hit |= covered * 2 >= (b - a) or sys_hit
        found[s["kind"]] += hit
    n = Counter(s["kind"] for s in planted)
    hits = sum(found.values())
    # Named findings: a cut_* systematic entry is right when its cut text overlaps a planted cut of that pair and
    # its kind says the same thing (a denial cut reported as a cut counter-claim counts as a denial).
    same = {"cut_denial": {"cut_denial", "cut_counterclaim"}, "cut_attribution": {"cut_attribution"}}
    planted_by_pair: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for s in planted:
        planted_by_pair[_key(s["source"], s["copy"])].append(s)
    direct = {_key(p["source"], p["copy"]) for p in truth["pairs"] if p.get("direct")}
    predicted = correct = 0
    named: Counter = Counter()
    for k, rs in rows.items():
        if k not in direct:
            continue
        for row in rs:
            for x in row.get("systematic", []):
                if not str(x.get("kind", "")).startswith("cut_"):
                    continue
                predicted += 1
                got = norm_phrase(x.get("source_text"))
                match = [s for s in planted_by_pair.get(k, [])
                         if got and (got in norm_phrase(s["source_text"]) or norm_phrase(s["source_text"]) in got)]
                correct += bool(match)
                for s in match:
                    if x["kind"] in same.get(s["kind"], ()):
                        named[s["kind"]] += 1
    return {"planted": len(planted), "recalled": hits, "recall": _ratio(hits, len(planted)),
            "named_recall": _ratio(min(sum(named.values()), len(planted)), len(planted)),
            "named_predicted": predicted, "named_precision": _ratio(correct, predicted),
            "by_kind": {k: {"planted": n[k], "recalled": found[k], "recall": _ratio(found[k], n[k]),
                            "named_recall": _ratio(min(named[k], n[k]), n[k])} for k in n}}


def score_families(truth: dict, families: list[dict]) -> dict:
    true_of = {m: f["family"] for f in truth["families"] for m in f["members"]}
    label = lambda i: true_of.get(i, "solo:" + i)  # noqa: E731
    total = top = 0
    for f in families:
        c = Counter(label(m) for m in f["members"])
        total += len(f["members"])
        top += c.most_common(1)[0][1] if c else 0
    pred_of = {m: f["family"] for f in families for m in f["members"]}
    inv_total = inv_top = 0
    for f in truth["families"]:
        c = Counter(pred_of.get(m, "solo:" + m) for m in f["members"])
        inv_total += len(f["members"])
        inv_top += c.most_common(1)[0][1]
    return {"predicted": len(families), "true": len(truth["families"]), "purity": _ratio(top, total),
            "inverse_purity": _ratio(inv_top, inv_total)}


def _read_graph(path: Path):
    import networkx as nx

    if not path.is_file() or path.stat().st_size == 0:
        return nx.DiGraph()
    return nx.read_graphml(path)


def score_network(truth: dict, graph_path: Path) -> dict:
    from sklearn.metrics import adjusted_rand_score

    g = _read_graph(graph_path)
    outlets = truth["outlets"]
    comm = {n: str(d.get("community")) for n, d in g.nodes(data=True) if d.get("community") is not None}
    pred = [comm.get(o["outlet"], "solo:" + o["outlet"]) for o in outlets]
    ari = float(adjusted_rand_score([o["community"] for o in outlets], pred)) if outlets else 0.0
    net_labels = {comm[o["outlet"]] for o in outlets if o["network"] and o["outlet"] in comm}
    merged = sum(1 for o in outlets if not o["network"] and comm.get(o["outlet"]) in net_labels)
    found = right = 0
    for e in truth["edges"]:
        if g.has_edge(e["source"], e["copy"]):
            found += 1
            right += 1
        elif g.has_edge(e["copy"], e["source"]):
            found += 1
    planted = {(e["source"], e["copy"]) for e in truth["edges"]}
    pred_edges = [(u, v) for u, v in g.edges() if u != v]
    edge_precision = _ratio(sum(1 for uv in pred_edges if uv in planted), len(pred_edges))
    return {"outlets": len(outlets), "ari": ari, "edges_planted": len(truth["edges"]), "edges_found": found,
            "edge_recall": _ratio(found, len(truth["edges"])), "edge_precision": edge_precision,
            "direction_accuracy": _ratio(right, found),
            "independents": sum(1 for o in outlets if not o["network"]), "independents_merged": merged}


def score(truth_path: Path, analyze_dir: Path) -> dict:
    """All metrics for one analyze folder; see the module docstring for each definition."""
    d = Path(analyze_dir)
    if not d.is_dir():
        # Missing run files score as empty (a stage may be skipped), so a wrong folder would score all zeros.
        raise NewstraceError(f"{d}: no such folder (give an `analyze --out` folder)")
    try:
        truth = json.loads(Path(truth_path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise NewstraceError(f"{truth_path}: cannot read truth file: {exc.strerror or exc}") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise NewstraceError(f"{truth_path}: not a truth.json file: {exc}") from None
    reuse, edits, families = _jsonl(d / "reuse.jsonl"), _jsonl(d / "edits.jsonl"), _jsonl(d / "families.jsonl")
    return {"pairs": score_pairs(truth, reuse), "passages": score_passages(truth, reuse),
            "systematic": score_systematic(truth, edits), "relabels": score_relabels(truth, edits),
            "cuts": score_cuts(truth, edits, reuse),
            "families": score_families(truth, families), "network": score_network(truth, d / "network.graphml")}
