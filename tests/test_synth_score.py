"""The synthetic-benchmark scorer: 1.0 on the truth itself, lower on damaged predictions, zeros when empty."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

from conftest import PTC_ARTICLES, SHARED, need
from newstrace.eval.synth_score import norm_phrase, score
from newstrace.synth.generate import generate
from newstrace.synth.oracle import write_oracle


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, Path]:
    need(PTC_ARTICLES)
    out = tmp_path_factory.mktemp("score")
    corpus = generate(out / "corpus", n_articles=200, seed=8, filler=False)
    oracle = write_oracle(out / "corpus" / "truth.json", corpus, out / "oracle")
    return out / "corpus" / "truth.json", oracle


def _headline(s: dict) -> dict:
    return {"pairs_f1": s["pairs"]["f1"], "direction": s["pairs"]["direction_accuracy"],
            "plagdet": s["passages"]["plagdet"], "systematic": s["systematic"]["recall"],
            "cuts": s["cuts"]["recall"], "purity": s["families"]["purity"], "ari": s["network"]["ari"],
            "edge_direction": s["network"]["direction_accuracy"]}


def _rewrite(path: Path, fn) -> None:
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    rows = [r for r in (fn(i, r) for i, r in enumerate(rows)) if r is not None]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_truth_scores_one(run) -> None:
    truth, oracle = run
    s = score(truth, oracle)
    assert all(v == 1.0 for v in _headline(s).values()), _headline(s)
    assert s["network"]["independents_merged"] == 0
    assert s["pairs"]["hard_negative_fp"] == 0


def test_oracle_keeps_the_contract(run) -> None:
    checker = need(SHARED / "bin" / "check-contract")
    res = subprocess.run([sys.executable, str(checker), str(run[1])], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout


def test_damage_lowers_each_metric(run, tmp_path: Path) -> None:
    truth_path, oracle = run
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    bad = tmp_path / "bad"
    shutil.copytree(oracle, bad)

    def reuse(i: int, r: dict) -> dict | None:
        if i % 3 == 0:
            return None  # a missed pair
        if i % 3 == 1:  # swapped direction, and the passage split in two halves
            r["source"], r["copy"] = r["copy"], r["source"]
            ps = []
            for q in r["passages"]:
                q = {"source_start": q["copy_start"], "source_end": q["copy_end"],
                     "copy_start": q["source_start"], "copy_end": q["source_end"]}
                mid_s = (q["source_start"] + q["source_end"]) // 2
                mid_c = (q["copy_start"] + q["copy_end"]) // 2
                ps += [dict(q, source_end=mid_s, copy_end=mid_c), dict(q, source_start=mid_s, copy_start=mid_c)]
            r["passages"] = ps
        return r

    _rewrite(bad / "reuse.jsonl", reuse)
    negs = truth["hard_negatives"][:3]
    with (bad / "reuse.jsonl").open("a", encoding="utf-8") as fh:
        for h in negs:
            fh.write(json.dumps({"source": h["a"], "copy": h["b"], "score": 0.5, "direction": "dated",
                                 "passages": []}) + "\n")

    def edits(i: int, r: dict) -> dict:
        for s in r["systematic"]:
            s["count"] += i % 2  # every other pair: right phrase, wrong count
        r["edits"] = [] if i % 2 else r["edits"]
        return r

    _rewrite(bad / "edits.jsonl", edits)

    fams = [json.loads(x) for x in (bad / "families.jsonl").read_text(encoding="utf-8").splitlines()]
    merged = {"family": "all", "origin": fams[0]["origin"], "members": [m for f in fams[:4] for m in f["members"]]}
    (bad / "families.jsonl").write_text("".join(json.dumps(f) + "\n" for f in [merged] + fams[4:]), "utf-8")

    g = nx.read_graphml(bad / "network.graphml")
    for n in g.nodes:
        g.nodes[n]["community"] = "one"  # everything in one community: independents merged
    for u, v in list(g.edges)[::2]:
        g.remove_edge(u, v)
        g.add_edge(v, u, weight=1, median_lag_hours=1.0)
    nx.write_graphml(g, bad / "network.graphml")

    s = score(truth_path, bad)
    h = _headline(s)
    assert all(v < 1.0 for v in h.values()), h
    assert 0.6 < s["pairs"]["recall"] < 0.7
    assert s["pairs"]["hard_negative_fp"] == len(negs)
    assert s["passages"]["granularity"] > 1.0
    assert s["systematic"]["recall_phrase"] > s["systematic"]["recall"]
    assert s["network"]["independents_merged"] == s["network"]["independents"]


def test_empty_folder_scores_zero(run, tmp_path: Path) -> None:
    s = score(run[0], tmp_path)
    assert all(v == 0.0 for v in _headline(s).values())
    assert s["pairs"]["predicted"] == 0 and s["passages"]["detections"] == 0


def test_norm_phrase_ignores_seams() -> None:
    assert norm_phrase(" , backedby  Saudi Arabia,") == norm_phrase(", backed by Saudi Arabia,")
    assert norm_phrase("“Daesh”") == "daesh"
