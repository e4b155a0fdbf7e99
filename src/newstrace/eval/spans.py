"""Span scorers for propaganda techniques: SI (span identification) and its technique-aware variant.

Definitions (DESIGN.md §3), computed over all documents together:

    P = (1/|S|) Σ_s Σ_t |s∩t| / |s|        R = (1/|T|) Σ_s Σ_t |s∩t| / |t|        F1 = 2PR / (P + R)

S is the set of predicted spans after merging overlapping ones, T the set of gold spans (taken as given, not
merged), and |s∩t| counts shared characters. Merging the predictions first is what keeps a system from scoring
recall twice for the same characters. Two spans "overlap" when they share at least one character; spans that only
touch (``a.end == b.start``) stay separate.

In the technique-aware variant, s∩t counts only when the labels match. Predicted spans are merged per technique:
merging across techniques would have to drop a label, and a character may legitimately carry two techniques.
The per-technique figures restrict both S and T to one label.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

Span = tuple[int, int]
LabelledSpan = tuple[str, int, int]  # (technique, start, end)


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float
    n_pred: int
    n_gold: int


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Sorted union of spans; spans sharing at least one character become one. Empty spans are dropped."""
    out: list[list[int]] = []
    for s, e in sorted((s, e) for s, e in spans if e > s):
        if out and s < out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _overlap_sums(pred: list[Span], gold: list[Span]) -> tuple[float, float]:
    """(Σ_s Σ_t |s∩t|/|s|, Σ_s Σ_t |s∩t|/|t|) for one document."""
    p_sum = 0.0
    r_sum = 0.0
    for s0, s1 in pred:
        for t0, t1 in gold:
            inter = min(s1, t1) - max(s0, t0)
            if inter > 0:
                p_sum += inter / (s1 - s0)
                r_sum += inter / (t1 - t0)
    return p_sum, r_sum


def _prf(p_sum: float, r_sum: float, n_pred: int, n_gold: int) -> PRF:
    p = p_sum / n_pred if n_pred else 0.0
    r = r_sum / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return PRF(p, r, f, n_pred, n_gold)


def si_score(pred: Mapping[str, Iterable[Span]], gold: Mapping[str, Iterable[Span]]) -> PRF:
    """SI precision/recall/F1 over all documents. Keys are document ids; a missing key means no spans."""
    p_sum = r_sum = 0.0
    n_pred = n_gold = 0
    for doc in set(pred) | set(gold):
        s = merge_spans(pred.get(doc, ()))
        t = [(a, b) for a, b in gold.get(doc, ()) if b > a]
        ps, rs = _overlap_sums(s, t)
        p_sum += ps
        r_sum += rs
        n_pred += len(s)
        n_gold += len(t)
    return _prf(p_sum, r_sum, n_pred, n_gold)


def technique_score(
    pred: Mapping[str, Iterable[LabelledSpan]], gold: Mapping[str, Iterable[LabelledSpan]]
) -> tuple[PRF, dict[str, PRF]]:
    """Technique-aware P/R/F1: overall, and per technique (every label seen in pred or gold)."""
    # per technique: [p_sum, r_sum, n_pred, n_gold]
    acc: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0, 0])
    for doc in set(pred) | set(gold):
        by_pred: dict[str, list[Span]] = defaultdict(list)
        by_gold: dict[str, list[Span]] = defaultdict(list)
        for lab, a, b in pred.get(doc, ()):
            by_pred[lab].append((a, b))
        for lab, a, b in gold.get(doc, ()):
            if b > a:
                by_gold[lab].append((a, b))
        for lab in set(by_pred) | set(by_gold):
            s = merge_spans(by_pred.get(lab, ()))
            t = by_gold.get(lab, [])
            ps, rs = _overlap_sums(s, t)
            row = acc[lab]
            row[0] += ps
            row[1] += rs
            row[2] += len(s)
            row[3] += len(t)
    per = {lab: _prf(r[0], r[1], int(r[2]), int(r[3])) for lab, r in sorted(acc.items())}
    tot = [sum(r[i] for r in acc.values()) for i in range(4)]
    return _prf(tot[0], tot[1], int(tot[2]), int(tot[3])), per
