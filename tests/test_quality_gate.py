"""The quality gate: fast benchmark figures must not drop below the floors pinned in benchmarks/baseline.json.

Like trafilatura's eval gate: a change that makes the product worse fails CI, even when every unit test passes.
Raise a floor when a figure improves; never lower one to make a change pass.
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest

from conftest import PAN13, PTC_ARTICLES, REPO, need

BASELINE = json.loads((REPO / "benchmarks" / "baseline.json").read_text("utf-8"))


def _get(scores: dict, dotted: str) -> float:
    value: object = scores
    for key in dotted.split("."):
        value = value[key]  # type: ignore[index]
    return float(value)  # type: ignore[arg-type]


def _assert_floors(name: str, scores: dict) -> None:
    failures = []
    for metric, floor in BASELINE[name]["floors"].items():
        got = _get(scores, metric)
        if got < floor:
            failures.append(f"{metric}: {got:.4f} < floor {floor}")
    assert not failures, f"{name} fell below its floors: " + "; ".join(failures)


def _synth_scores(tmp: Path, name: str) -> dict:
    need(PTC_ARTICLES)
    from newstrace.eval.synth_score import score
    from newstrace.pipeline import Run, analyze, parse_stages
    from newstrace.store import Store
    from newstrace.synth.generate import generate
    from newstrace.synth.realism import Realism

    cfg = BASELINE[name]
    realism = Realism.web() if cfg.get("realism") == "web" else None
    corpus = generate(tmp / "synth", n_articles=cfg["articles"], seed=cfg["seed"], base_dir=PTC_ARTICLES,
                      realism=realism)
    out = tmp / "out"
    with Store(out / "newstrace.duckdb") as store:
        analyze(Run(store=store, inputs=[corpus], out_dir=out, workers=2), parse_stages(cfg["stages"]))
    return score(corpus.parent / "truth.json", out)


@pytest.fixture(scope="module")
def synth_scores(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _synth_scores(tmp_path_factory.mktemp("gate"), "synth")


def test_synthetic_benchmark_floors(synth_scores: dict) -> None:
    _assert_floors("synth", synth_scores)


def test_synthetic_benchmark_with_realism_floors(tmp_path: Path) -> None:
    """The same benchmark with copies as real laundering leaves them (`synth.realism`, `--realism web`)."""
    _assert_floors("synth_web", _synth_scores(tmp_path, "synth_web"))


def test_pan13_sample_floors() -> None:
    need(PAN13)
    from newstrace.eval.plagdet import Case, plagdet, read_pan13
    from newstrace.reuse.align import align_many

    cfg = BASELINE["pan13_sample"]
    pairs = read_pan13(PAN13)
    sample = random.Random(cfg["seed"]).sample(pairs, cfg["pairs"])
    texts = [(p.source_path.read_text("utf-8"), p.copy_path.read_text("utf-8")) for p in sample]
    results = align_many(texts, workers=2)
    cases = [c for p in sample for c in p.cases]
    detections = [Case(p.key, q.copy_start, q.copy_end, q.source_start, q.source_end)
                  for p, passages in zip(sample, results, strict=True) for q in passages]
    result = plagdet(cases, detections)
    _assert_floors("pan13_sample", {"plagdet": result.plagdet, "precision": result.precision,
                                    "recall": result.recall})


def test_attribution_floors() -> None:
    need(PTC_ARTICLES)
    import sys

    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import attributions as bench  # benchmarks/attributions.py
    finally:
        sys.path.pop(0)
    scores = bench.run(PTC_ARTICLES, out=io.StringIO())
    _assert_floors("attributions", scores)


def test_baseline_file_is_well_formed() -> None:
    for name, cfg in BASELINE.items():
        assert cfg["floors"], name
        assert all(0 < v <= 1 for v in cfg["floors"].values()), name
    assert Path(REPO / "benchmarks" / "README.md").exists()
