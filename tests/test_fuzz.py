"""A seeded set of generated inputs through every fuzz target of benchmarks/fuzz.py (which runs 10,000+): every
reader, `align`, `diff`, `signals` and `/check`. No crash, no wrong result, no case near the hang limit."""

from __future__ import annotations

import pytest

from conftest import bench_module

pytest.importorskip("hypothesis")
fuzz = bench_module("fuzz")

CASES = {"txt": 60, "html": 50, "warc": 60, "warc_gz": 60, "jsonl": 80, "csv": 80, "align": 30, "diff": 30,
         "signals": 30, "check": 40}


def test_every_fuzz_target_survives_its_seeded_cases():
    results = {}
    for name, cases in CASES.items():
        results.update(fuzz.run_hypothesis([name], cases, seed=2024, hang_seconds=120, verbose=False))
    failures = [f"{name}: {line}" for name, t in results.items() for line in t.examples]
    assert not failures, "\n".join(failures[:10])
    assert all(t.cases >= CASES[name] * 0.8 for name, t in results.items()), {n: t.cases for n, t in results.items()}
    # A case near the per-document limit would be a hang waiting to happen on a slower machine.
    assert max(t.slowest for t in results.values()) < 20


def test_the_fuzzer_counts_what_it_should(tmp_path):
    """The harness itself: a crash and a broken invariant are counted, not swallowed."""
    ctx = fuzz.Context(tmp=tmp_path)
    with pytest.raises(fuzz.Wrong):
        fuzz.check_span(3, 2, 10, "backwards span")
    with pytest.raises(fuzz.Wrong):
        fuzz.check_span(0, 11, 10, "past the end")
    original = fuzz.TARGETS["txt"]
    try:
        fuzz.TARGETS["txt"] = fuzz.Target(original.strategy, lambda c, d: 1 / 0, "")
        tally = fuzz.run_target("txt", ctx, 5, seed=1, hang_seconds=60)
    finally:
        fuzz.TARGETS["txt"] = original
    assert tally.cases == 5 and tally.crashes == 5 and "ZeroDivisionError" in tally.examples[0]
