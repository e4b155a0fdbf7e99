"""plagdet on hand-made cases whose values were worked out on paper (arithmetic in the comments)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from newstrace.eval.plagdet import Case, plagdet, read_pan13

PAN = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "pan13-train"


def test_perfect_detection() -> None:
    s = Case("p", 0, 100, 0, 100)
    r = plagdet([s], [s])
    assert (r.precision, r.recall, r.granularity, r.plagdet) == (1.0, 1.0, 1.0, 1.0)


def test_half_detected_case() -> None:
    # s: copy [0,100) + source [0,100) = 200 chars; r: [0,50) + [0,50) = 100 chars, all inside s.
    # prec = 100/100 = 1; rec = 100/200 = 0.5; gran = 1; F1 = 2*1*0.5/1.5 = 2/3; plagdet = (2/3)/log2(2) = 2/3
    r = plagdet([Case("p", 0, 100, 0, 100)], [Case("p", 0, 50, 0, 50)])
    assert r.precision == 1.0
    assert r.recall == 0.5
    assert r.plagdet == pytest.approx(2 / 3)


def test_fragmented_detection_is_penalised_by_granularity() -> None:
    # two detections cover the case exactly: prec = 1, rec = 1, gran = 2, plagdet = 1/log2(3) = 0.6309
    r = plagdet([Case("p", 0, 100, 0, 100)], [Case("p", 0, 50, 0, 50), Case("p", 50, 100, 50, 100)])
    assert (r.precision, r.recall, r.granularity) == (1.0, 1.0, 2.0)
    assert r.plagdet == pytest.approx(1 / math.log2(3))


def test_overlap_in_one_document_only_is_no_detection() -> None:
    # r overlaps s in the copy but not in the source: r does not detect s, so prec = rec = 0
    r = plagdet([Case("p", 0, 100, 0, 100)], [Case("p", 0, 100, 200, 300)])
    assert (r.precision, r.recall, r.plagdet) == (0.0, 0.0, 0.0)
    assert r.granularity == 1.0


def test_detection_in_another_pair_does_not_count() -> None:
    r = plagdet([Case("p1", 0, 100, 0, 100)], [Case("p2", 0, 100, 0, 100)])
    assert (r.precision, r.recall) == (0.0, 0.0)


def test_micro_average_over_cases_and_detections() -> None:
    # s1 = copy [0,100) src [0,100); s2 = copy [200,300) src [500,600)
    # r1 = s1 exactly -> prec 1, and s1 rec 1
    # r2 = copy [250,350) src [550,650): overlap copy 50 + src 50 = 100 of |r2| = 200 -> prec 0.5; s2 rec 100/200
    # prec = (1 + 0.5)/2 = 0.75; rec = (1 + 0.5)/2 = 0.75; gran = 1; plagdet = 0.75
    cases = [Case("p", 0, 100, 0, 100), Case("p", 200, 300, 500, 600)]
    dets = [Case("p", 0, 100, 0, 100), Case("p", 250, 350, 550, 650)]
    r = plagdet(cases, dets)
    assert r.precision == pytest.approx(0.75)
    assert r.recall == pytest.approx(0.75)
    assert r.plagdet == pytest.approx(0.75)
    assert (r.cases, r.detections) == (2, 2)


def test_one_detection_spanning_two_cases() -> None:
    # r covers s1 and s2 exactly: union of overlaps = copy 200 + src 200 = |r| -> prec 1; each case rec 1;
    # each case is detected by one detection -> gran 1
    cases = [Case("p", 0, 100, 0, 100), Case("p", 100, 200, 100, 200)]
    r = plagdet(cases, [Case("p", 0, 200, 0, 200)])
    assert (r.precision, r.recall, r.granularity, r.plagdet) == (1.0, 1.0, 1.0, 1.0)


def test_false_detection_lowers_precision_only() -> None:
    # one perfect detection and one detection of nothing: prec = (1 + 0)/2 = 0.5, rec = 1
    # F1 = 2*0.5*1/1.5 = 2/3
    r = plagdet([Case("p", 0, 100, 0, 100)], [Case("p", 0, 100, 0, 100), Case("q", 0, 10, 0, 10)])
    assert r.precision == 0.5
    assert r.recall == 1.0
    assert r.plagdet == pytest.approx(2 / 3)


def test_empty_inputs_follow_pan_convention() -> None:
    r = plagdet([], [])
    assert (r.precision, r.recall, r.granularity, r.plagdet) == (0.0, 0.0, 1.0, 0.0)


def test_read_pan13_offsets_are_characters() -> None:
    if not PAN.exists():
        pytest.skip("../shared PAN data absent")
    pairs = [p for p in read_pan13(PAN) if p.subcorpus == "02-no-obfuscation" and p.cases][:30]
    assert pairs
    for p in pairs:
        copy = p.copy_path.read_text(encoding="utf-8")
        source = p.source_path.read_text(encoding="utf-8")
        for c in p.cases:
            # no obfuscation: the texts agree up to whitespace when offsets are read as code points
            assert copy[c.copy_start : c.copy_end].split() == source[c.source_start : c.source_end].split()
