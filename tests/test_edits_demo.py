"""Every planted edit of the demo corpus (examples/corpus/truth.json, `edits`) is found by ingest+reuse+edits.

Per planted edit of a direct pair:
- insert: a systematic insert with the phrase (normalised as the synthetic scorer does) and its count;
- replace: a systematic replace X -> Y with the count, and a replace_missed with the number of misses;
- cut_denial: a cut_denial finding holding the cut sentence (a sourced rebuttal such as "police said the checks
  were standard procedure" is a denial, see `keys.cut_kind`);
- reorder: a `move` finding;
- lead: a `lead` finding with the rewritten (or dropped) lead;
- boilerplate: a `boilerplate` finding with the outlet's line.
Title edits are skipped: HTML ingest keeps the page title out of `text`, so a title edit is not in the texts
that are compared.

The reuse stage orients three bluecoastwire pairs the wrong way round (copy as source); the edits of a pair are
then looked up in either direction, with source and copy swapped for a reversed pair.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import DEMO_CORPUS
from newstrace.eval.synth_score import norm_phrase

pytest.importorskip("trafilatura")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from newstrace.pipeline import Run, analyze, parse_stages
    from newstrace.store import Store

    out = tmp_path_factory.mktemp("demo-edits")
    with Store(out / "newstrace.duckdb") as store:
        analyze(Run(store=store, inputs=[DEMO_CORPUS], out_dir=out), parse_stages("ingest,reuse,edits"))
    truth = json.loads((DEMO_CORPUS / "truth.json").read_text(encoding="utf-8"))
    articles = [json.loads(line) for line in (out / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
    by_url = {a["url"]: a["id"] for a in articles if a["url"]}
    ref = {a["url"]: a["id"] or by_url.get(a["url"]) for a in truth["articles"]}
    rows = {}
    for line in Path(out / "edits.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        rows[(row["source"], row["copy"])] = row
    return {"truth": truth, "ref": ref, "rows": rows}


def _planted(kind: str) -> list[dict]:
    truth = json.loads((DEMO_CORPUS / "truth.json").read_text(encoding="utf-8"))
    return [e for e in truth["edits"] if e["kind"] == kind]


def _label(e: dict) -> str:
    return f"{e['copy_url'].rsplit('/', 1)[-1][:40]}"


def _findings(demo: dict, e: dict, kind: str) -> tuple[list[dict], bool]:
    """The pair's systematic findings of `kind`, and whether the pair was stored reversed."""
    s, c = demo["ref"][e["source_url"]], demo["ref"][e["copy_url"]]
    row = demo["rows"].get((s, c))
    reversed_ = row is None
    if reversed_:
        row = demo["rows"].get((c, s))
    assert row is not None, f"no edits line for {s} -> {c}"
    return [f for f in row["systematic"] if f["kind"] == kind], reversed_


@pytest.mark.parametrize("e", _planted("insert"), ids=_label)
def test_planted_insert(demo, e):
    found, _ = _findings(demo, e, "insert")
    want = norm_phrase(e["copy_text"])
    assert any(norm_phrase(f["copy_text"]) == want and f["count"] == e["count"] for f in found), found


@pytest.mark.parametrize("e", _planted("replace"), ids=_label)
def test_planted_replace_and_misses(demo, e):
    found, _ = _findings(demo, e, "replace")
    hit = [f for f in found if norm_phrase(f["source_text"]) == norm_phrase(e["source_text"])
           and norm_phrase(f["copy_text"]) == norm_phrase(e["copy_text"])]
    assert hit and hit[0]["count"] == e["count"], found
    missed, _ = _findings(demo, e, "replace_missed")
    assert any(norm_phrase(f["source_text"]) == norm_phrase(e["source_text"]) and f["count"] == e["missed"]
               for f in missed), missed


@pytest.mark.parametrize("e", _planted("cut_denial"), ids=_label)
def test_planted_cut_denial(demo, e):
    found, _ = _findings(demo, e, "cut_denial")
    assert any(norm_phrase(e["source_text"]) in norm_phrase(f["source_text"]) for f in found), found


@pytest.mark.parametrize("e", _planted("reorder"), ids=_label)
def test_planted_reorder_is_a_move(demo, e):
    found, _ = _findings(demo, e, "move")
    assert found, "no move finding"
    move = found[0]
    # The fewest moves that restore `order` is len(order) minus its longest increasing run: a swap of two
    # adjacent paragraphs is one move, never two. More moves than paragraphs out of place is over-reporting.
    order = e["order"]
    out_of_place = sum(1 for i, k in enumerate(order) if i != k)
    assert len(order) - _longest_increasing(order) <= move["count"] <= out_of_place, (move["count"], order)
    assert move["source_text"].strip() and norm_phrase(move["source_text"]) == norm_phrase(move["copy_text"])
    assert len(move["copy_spans"]) == move["count"]


def _longest_increasing(seq: list[int]) -> int:
    best = [1] * len(seq)
    for i in range(len(seq)):
        best[i] += max((best[j] for j in range(i) if seq[j] < seq[i]), default=0)
    return max(best, default=0)


@pytest.mark.parametrize("e", _planted("lead"), ids=_label)
def test_planted_lead(demo, e):
    found, reversed_ = _findings(demo, e, "lead")
    src, cpy = ("copy_text", "source_text") if reversed_ else ("source_text", "copy_text")
    assert any(norm_phrase(f[src]) == norm_phrase(e["source_text"]) and norm_phrase(f[cpy]) == norm_phrase(
        e["copy_text"]) for f in found), found


@pytest.mark.parametrize("e", _planted("boilerplate"), ids=_label)
def test_planted_boilerplate(demo, e):
    found, _ = _findings(demo, e, "boilerplate")
    assert any(norm_phrase(f["copy_text"]) == norm_phrase(e["copy_text"]) for f in found), found


def test_no_one_off_is_systematic(demo):
    # inserts and replaces are reported as systematic only when they repeat within the pair
    for row in demo["rows"].values():
        for f in row["systematic"]:
            if f["kind"] in ("insert", "replace", "delete"):
                assert f["count"] >= 2, f


def test_edits_in_forked_workers_equal_one_process(tmp_path):
    from newstrace.edits.corpus import corpus_edits
    from newstrace.pipeline import Run, analyze, parse_stages
    from newstrace.store import Store

    with Store(tmp_path / "s.duckdb") as store:
        run = analyze(Run(store=store, inputs=[DEMO_CORPUS], out_dir=None), parse_stages("ingest,reuse"))
        articles = run.article_map()
    assert len(run.pairs) >= 10
    one = corpus_edits(articles, run.pairs)
    late: list[str] = []
    two = corpus_edits(articles, run.pairs, workers=2, min_parallel=2, chunk=3)
    assert two == one and sum(len(line["systematic"]) for line in two[0]) > 10
    none = corpus_edits(articles, run.pairs[:4], workers=2, min_parallel=2, chunk=1, pair_seconds=1e-4,
                        on_timeout=lambda pair, exc: late.append(pair.copy))
    assert none == ([], []) and late == [p.copy for p in run.pairs[:4]]
