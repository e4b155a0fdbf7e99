"""Writes the ground truth itself as a newstrace `analyze --out` folder: the perfect prediction.

Used to check the scorer (it must give 1.0 on this folder) and as a reference for what a correct analyze
run contains. Only the stages the scorer reads are filled; `signals.jsonl` is written empty.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import networkx as nx


def write_oracle(truth_path: Path, corpus_path: Path, out_dir: Path) -> Path:
    truth = json.loads(Path(truth_path).read_text(encoding="utf-8"))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(corpus_path, out / "articles.jsonl")
    with (out / "reuse.jsonl").open("w", encoding="utf-8") as fh:
        for p in truth["pairs"]:
            fh.write(json.dumps({"source": p["source"], "copy": p["copy"], "score": 1.0, "direction": "dated",
                                 "passages": p["passages"]}) + "\n")
    with (out / "families.jsonl").open("w", encoding="utf-8") as fh:
        for f in truth["families"]:
            fh.write(json.dumps(f) + "\n")
    rows: dict[tuple[str, str], dict] = {}
    for s in truth["systematic"]:
        row = rows.setdefault((s["source"], s["copy"]), {"source": s["source"], "copy": s["copy"], "edits": [],
                                                          "systematic": []})
        if s["kind"] in ("cut_attribution", "cut_denial") and s["source_spans"]:
            a, b = s["source_spans"][0]
            row["edits"].append({"kind": "delete", "source_start": a, "source_end": b, "copy_start": 0,
                                 "copy_end": 0, "source_text": s["source_text"], "copy_text": ""})
        elif s["kind"] in ("insert", "replace", "relabel"):
            row["systematic"].append({"kind": s["kind"], "source_text": s["source_text"],
                                      "copy_text": s["copy_text"], "count": s["count"],
                                      "copy_spans": s["copy_spans"]})
    with (out / "edits.jsonl").open("w", encoding="utf-8") as fh:
        for row in rows.values():
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    (out / "signals.jsonl").write_text("", encoding="utf-8")
    g = nx.DiGraph()
    counts = Counter(a["outlet"] for a in truth["articles"])
    for o in truth["outlets"]:
        g.add_node(o["outlet"], articles=counts.get(o["outlet"], 0), community=o["community"])
    for e in truth["edges"]:
        g.add_edge(e["source"], e["copy"], weight=e["weight"], median_lag_hours=e["median_lag_hours"])
    nx.write_graphml(g, out / "network.graphml")
    (out / "report.html").write_text("<!doctype html><title>oracle</title><p>ground truth as prediction</p>\n",
                                     encoding="utf-8")
    return out
