"""PAN plagdet: character-level precision, recall and granularity of passage detections (DESIGN.md §3).

A case or detection is a pair of character ranges, one in the copy and one in the source, inside one document
pair. A detection r *detects* a case s when they overlap in both documents; `s ⊓ r` is then their intersection
(in both documents), and empty otherwise. `|x|` counts the characters of x in both documents together.

    prec = mean over detections r of |∪_s (s ⊓ r)| / |r|
    rec  = mean over cases s of |∪_r (s ⊓ r)| / |s|
    gran = mean over detected cases of the number of detections that detect them
    plagdet = F1(prec, rec) / log2(1 + gran)

Everything is computed over all pairs together (micro over cases and detections, not averaged per pair).
Empty means follow the PAN convention: no detections gives precision 0, no cases gives recall 0, and no
detected case gives granularity 1.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Case:
    """One case or one detection: `copy[copy_start:copy_end]` reuses `source[source_start:source_end]`."""

    pair: str  # any key identifying the (copy, source) document pair
    copy_start: int
    copy_end: int
    source_start: int
    source_end: int

    @property
    def size(self) -> int:
        return (self.copy_end - self.copy_start) + (self.source_end - self.source_start)


@dataclass
class PlagdetResult:
    precision: float
    recall: float
    granularity: float
    plagdet: float
    cases: int
    detections: int


def _overlap(a0: int, a1: int, b0: int, b1: int) -> tuple[int, int] | None:
    lo, hi = max(a0, b0), min(a1, b1)
    return (lo, hi) if lo < hi else None


def _union_len(spans: list[tuple[int, int]]) -> int:
    total, cur0, cur1 = 0, None, None
    for a, b in sorted(spans):
        if cur1 is None or a > cur1:
            if cur1 is not None:
                total += cur1 - cur0
            cur0, cur1 = a, b
        else:
            cur1 = max(cur1, b)
    if cur1 is not None:
        total += cur1 - cur0
    return total


def _intersect(s: Case, r: Case) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """`s ⊓ r` as (copy span, source span), or None when r does not detect s."""
    c = _overlap(s.copy_start, s.copy_end, r.copy_start, r.copy_end)
    if c is None:
        return None
    src = _overlap(s.source_start, s.source_end, r.source_start, r.source_end)
    if src is None:
        return None
    return c, src


def _covered(x: Case, parts: list[tuple[tuple[int, int], tuple[int, int]]]) -> float:
    """Share of x's characters (both documents) covered by the union of `parts`."""
    if x.size <= 0:
        return 0.0
    got = _union_len([p[0] for p in parts]) + _union_len([p[1] for p in parts])
    return got / x.size


def plagdet(cases: Sequence[Case], detections: Sequence[Case]) -> PlagdetResult:
    """Score `detections` against `cases` over all document pairs together."""
    by_pair_cases: dict[str, list[Case]] = defaultdict(list)
    by_pair_dets: dict[str, list[Case]] = defaultdict(list)
    for s in cases:
        by_pair_cases[s.pair].append(s)
    for r in detections:
        by_pair_dets[r.pair].append(r)

    prec_sum = 0.0
    rec_sum = 0.0
    gran_sum = 0
    detected = 0
    for pair in set(by_pair_cases) | set(by_pair_dets):
        ss, rs = by_pair_cases.get(pair, []), by_pair_dets.get(pair, [])
        # inter[i][j] = s_i ⊓ r_j (or None)
        inter = [[_intersect(s, r) for r in rs] for s in ss]
        for j, r in enumerate(rs):
            prec_sum += _covered(r, [row[j] for row in inter if row[j] is not None])
        for i, s in enumerate(ss):
            parts = [x for x in inter[i] if x is not None]
            rec_sum += _covered(s, parts)
            if parts:
                detected += 1
                gran_sum += len(parts)

    prec = prec_sum / len(detections) if detections else 0.0
    rec = rec_sum / len(cases) if cases else 0.0
    gran = gran_sum / detected if detected else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0
    return PlagdetResult(prec, rec, gran, f1 / math.log2(1 + gran), len(cases), len(detections))


# --- the PAN 2013 text-alignment corpus ---

PAN13_SUBCORPORA = (
    "01-no-plagiarism",
    "02-no-obfuscation",
    "03-random-obfuscation",
    "04-translation-obfuscation",
    "05-summary-obfuscation",
)

_FEATURE_RE = re.compile(r"<feature\b[^>]*>")
_ATTR_RE = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class PanPair:
    """One PAN pair: the suspicious document (the copy), its candidate source, and the truth cases."""

    subcorpus: str
    copy_path: Path
    source_path: Path
    cases: tuple[Case, ...]

    @property
    def key(self) -> str:
        return f"{self.copy_path.name} {self.source_path.name}"


def read_pan13(data: str | Path) -> list[PanPair]:
    """Pairs and truth of a PAN 2013 text-alignment folder (`susp/`, `src/`, one folder per sub-corpus).

    Truth offsets are character (code point) offsets into the UTF-8 decoded texts; `this` is the copy.
    """
    data = Path(data)
    out: list[PanPair] = []
    for sub in PAN13_SUBCORPORA:
        folder = data / sub
        if not (folder / "pairs").exists():
            continue
        for line in (folder / "pairs").read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            susp, src = line.split()
            key = f"{susp} {src}"
            xml = folder / f"{Path(susp).stem}-{Path(src).stem}.xml"
            cases: list[Case] = []
            if xml.exists():
                for m in _FEATURE_RE.finditer(xml.read_text(encoding="utf-8")):
                    a = dict(_ATTR_RE.findall(m.group()))
                    if a.get("name") != "plagiarism":
                        continue
                    to, tl = int(a["this_offset"]), int(a["this_length"])
                    so, sl = int(a["source_offset"]), int(a["source_length"])
                    cases.append(Case(key, to, to + tl, so, so + sl))
            out.append(PanPair(sub, data / "susp" / susp, data / "src" / src, tuple(cases)))
    return out
