"""SI and technique-aware span scorer on hand-made cases; expected values worked out in the comments."""

from __future__ import annotations

import pytest

from newstrace.eval.spans import merge_spans, si_score, technique_score


def test_merge_spans_overlap_only():
    # (0,10)+(5,20) share characters -> one; (20,25) only touches -> stays apart; empty span dropped
    assert merge_spans([(5, 20), (0, 10), (20, 25), (30, 30)]) == [(0, 20), (20, 25)]


def test_si_partial_overlap():
    # s=(0,10), t=(5,15): |s∩t|=5 -> P=5/10=0.5, R=5/10=0.5, F1=0.5
    r = si_score({"a": [(0, 10)]}, {"a": [(5, 15)]})
    assert (r.precision, r.recall, r.f1) == pytest.approx((0.5, 0.5, 0.5))


def test_si_merges_overlapping_predictions_first():
    # (0,10),(5,20) -> (0,20); t=(0,10): P=10/20=0.5, R=10/10=1, F1=2*0.5*1/1.5=2/3
    r = si_score({"a": [(0, 10), (5, 20)]}, {"a": [(0, 10)]})
    assert r.n_pred == 1
    assert (r.precision, r.recall, r.f1) == pytest.approx((0.5, 1.0, 2 / 3))


def test_si_touching_predictions_stay_separate():
    # S={(0,10),(10,20)}, t=(0,10): P=(10/10+0)/2=0.5, R=1
    r = si_score({"a": [(0, 10), (10, 20)]}, {"a": [(0, 10)]})
    assert (r.precision, r.recall, r.n_pred) == pytest.approx((0.5, 1.0, 2))


def test_si_pools_documents():
    # doc a: s=(0,4) vs t=(0,4),(10,20) -> p-sum 1, r-sum 1;  doc b: s=(0,10) vs t=(20,30) -> 0, 0
    # |S|=2, |T|=3: P=1/2, R=1/3, F1=2*(1/6)/(5/6)=0.4
    r = si_score({"a": [(0, 4)], "b": [(0, 10)]}, {"a": [(0, 4), (10, 20)], "b": [(20, 30)]})
    assert (r.precision, r.recall, r.f1) == pytest.approx((0.5, 1 / 3, 0.4))


def test_si_overlapping_gold_can_push_precision_above_one():
    # gold is not merged: s=(0,10) vs t1=(0,10), t2=(0,5): P=10/10+5/10=1.5, R=(1+1)/2=1 (as defined in DESIGN §3)
    r = si_score({"a": [(0, 10)]}, {"a": [(0, 10), (0, 5)]})
    assert (r.precision, r.recall) == pytest.approx((1.5, 1.0))


def test_si_empty():
    r = si_score({}, {"a": [(0, 5)]})
    assert (r.precision, r.recall, r.f1) == (0.0, 0.0, 0.0)


def test_technique_aware_merges_per_technique():
    pred = {"d": [("A", 0, 10), ("A", 5, 15), ("B", 0, 10)]}
    gold = {"d": [("A", 0, 10), ("B", 10, 20)]}
    # per technique merge: A -> (0,15), B -> (0,10); |S|=2, |T|=2
    # A: s=(0,15) t=(0,10): p-sum 10/15=2/3, r-sum 10/10=1 -> P_A=2/3, R_A=1, F1_A=2*(2/3)/(5/3)=0.8
    # B: s=(0,10) t=(10,20): no overlap -> 0
    # overall: P=(2/3)/2=1/3, R=1/2, F1=2*(1/6)/(5/6)=0.4
    overall, per = technique_score(pred, gold)
    assert (overall.precision, overall.recall, overall.f1) == pytest.approx((1 / 3, 0.5, 0.4))
    assert (per["A"].precision, per["A"].recall, per["A"].f1) == pytest.approx((2 / 3, 1.0, 0.8))
    assert per["B"].f1 == 0.0
    # the same spans without labels: merged (0,15) vs (0,10),(10,20): P=(10+5)/15=1, R=(1+0.5)/2=0.75
    si = si_score({"d": [(s, e) for _, s, e in pred["d"]]}, {"d": [(s, e) for _, s, e in gold["d"]]})
    assert (si.precision, si.recall) == pytest.approx((1.0, 0.75))


def test_technique_aware_label_mismatch_scores_zero():
    # identical offsets, different labels: nothing counts
    overall, per = technique_score({"d": [("A", 0, 10)]}, {"d": [("B", 0, 10)]})
    assert overall.f1 == 0.0
    assert per["A"].n_pred == 1 and per["A"].n_gold == 0
    assert per["B"].n_pred == 0 and per["B"].n_gold == 1
