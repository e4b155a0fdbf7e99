"""Passage boundaries: where a reused passage really starts and ends, and which pieces are one passage.

The seed-and-chain pass in `align` finds where reuse is. Its boxes are drawn from content-word seeds, so their
edges are approximate: the words of a copied sentence around a typo or a swapped word are left out, a topical
word pulls a box into the masthead or the footer next to it, and a passage that the copier only interrupted
(an added clause, a cut sentence) can come out in two pieces. This module settles them word by word, on boxes of
token indices `(c0, c1, s0, s1)` (copy first, both ends inclusive):

- `exact_runs`: stretches copied word for word but for typos, from shared word 6-grams. A short paragraph moved
  elsewhere has too few content words for the seeds, but a verbatim run of a dozen words is evidence enough in a
  pair that is already a reuse pair (and on its own when it is long).
- `refine_edges`: a near-verbatim passage's edges from a word diff of the passage and a margin around it.
  Scanning outward from its middle, an equal word scores +1, a replaced word -1, an added or cut stretch a small
  affine cost, and each line break crossed a further cost; each edge goes where the running score peaks. Noise
  inside and at the ends is bridged, while a boilerplate line next to the passage (another outlet's masthead
  that shares "News and analysis since") stays out. Passages with few equal words (paraphrase, summaries)
  keep the edges their seeds gave.
- `reordered_runs`: a box the seeds drew over short paragraphs in another order (their chains sit too close to
  stay apart) is not near-verbatim as a whole, but is mostly verbatim runs on several diagonals: it gives way
  to those runs.
- `moved_lines`: a short paragraph moved elsewhere with a typo or two keeps no run long enough; a copy
  paragraph that no passage holds is matched with the source paragraph that holds most of its words.
- `merge_interrupted`: two passages in the same order on both sides, with no other passage between them and at
  most `gap_chars` of text between them on each side, are one passage.
- `furniture`: headline lists (three or more consecutive short lines that start with a capital and end without
  sentence punctuation, three of them four words or more: "Recent Posts" and its headlines). A passage mostly
  inside such lists on both sides is page furniture that two pages share, not reuse, and so is a headline in
  such a list on one page that the other prints as a line of its own (`lone_line`); one that only starts or ends
  in them on both sides is cut back.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

import numpy as np

from newstrace.edits.diff import diff_id_opcodes
from newstrace.tokens import Tokens

try:  # the compiled headline-list test (setup.py); `_furniture_py` below is its reference, with the same spans
    from newstrace.reuse import _kernels
except ImportError:  # pragma: no cover - an install without a C compiler
    _kernels = None

Box = tuple[int, int, int, int]  # (c0, c1, s0, s1): token indices in the copy and the source, inclusive


# a line break inside a sentence: after a non-blank line, before a lower-case word (group 2 must be lower case)
_WRAP = re.compile(r"\S[ \t\r]*(\n)(?=[ \t]*(\w))")


@dataclass(frozen=True)
class Side:
    """One text as the word diff sees it: raw text, tokens, word ids (equal words, equal ids), line breaks.

    A line break is a boundary (between a masthead and the story, two paragraphs, two headlines) unless it only
    wraps a sentence: a single break followed by a lower-case word (prose hard-wrapped at a fixed width, where
    the last line of a paragraph may hold one word). The `*_at` arrays hold the same as the lists, for the
    vectorised edge settling in `refine_edges`."""

    text: str
    tokens: Tokens
    ids: list[int]
    newlines: list[int]  # offsets of "\n" in text: its lines
    boundaries: list[int]  # the newlines that are no mere wrap
    broken: list[bool]  # for each token, whether a boundary comes between it and the token before
    ids_at: np.ndarray  # int64 word ids
    starts_at: np.ndarray  # int64 token start offsets
    ends_at: np.ndarray  # int64 token end offsets
    broken_at: np.ndarray  # bool, `broken`
    newlines_at: np.ndarray  # int64, `newlines`
    boundaries_at: np.ndarray  # int64, `boundaries`

    @classmethod
    def of(cls, text: str, tokens: Tokens, ids: list[int], ids_at: np.ndarray | None = None) -> Side:
        """`ids_at`: `ids` as an int64 array, when the caller has it already."""
        newlines = [m.start() for m in re.finditer("\n", text)]
        wraps = {m.start(1) for m in _WRAP.finditer(text) if m.group(2).islower()}
        boundaries = [n for n in newlines if n not in wraps]
        boundaries_at = np.array(boundaries, dtype=np.int64)
        starts_at = np.array(tokens.starts, dtype=np.int64)
        lines = np.searchsorted(boundaries_at, starts_at, side="right")
        broken = np.zeros(len(lines), dtype=bool)
        broken[1:] = lines[1:] != lines[:-1]
        if ids_at is None:
            ids_at = np.array(ids, dtype=np.int64)
        return cls(text, tokens, ids, newlines, boundaries, broken.tolist(), ids_at, starts_at,
                   np.array(tokens.ends, dtype=np.int64), broken, np.array(newlines, dtype=np.int64), boundaries_at)

    def breaks(self, a: int, b: int) -> bool:
        """Whether text[a:b] holds a boundary (a line break that does not merely wrap a sentence)."""
        return a < b and bisect_left(self.boundaries, a) < bisect_left(self.boundaries, b)

    def breaks_at(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """`breaks` of each pair `(a[k], b[k])`."""
        return (a < b) & (np.searchsorted(self.boundaries_at, a) < np.searchsorted(self.boundaries_at, b))

    def line(self, pos: int) -> int:
        return bisect_right(self.newlines, pos)

MIX = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constant that mixes hashes (golden ratio)


def ngram_hashes(word_hash: np.ndarray, n: int) -> np.ndarray:
    """Hash of each word n-gram (position i covers words i..i+n-1), as uint64."""
    if len(word_hash) < n:
        return np.zeros(0, dtype=np.uint64)
    out = word_hash[: len(word_hash) - n + 1].copy()
    with np.errstate(over="ignore"):
        for k in range(1, n):
            out = out * MIX + word_hash[k : len(word_hash) - n + 1 + k]
    return out


RUN_GRAM = 6  # words of the n-grams that `exact_runs` matches


@dataclass(frozen=True)
class Grams:
    """A text's word n-grams for `exact_runs`, hashed and sorted once per text (a text meets many partners)."""

    hashes: np.ndarray  # hash of the n-gram starting at each word
    order: np.ndarray  # argsort of `hashes`
    sorted: np.ndarray  # hashes[order]

    @classmethod
    def of(cls, word_hash: np.ndarray, n: int = RUN_GRAM) -> Grams:
        h = ngram_hashes(word_hash, n)
        order = np.argsort(h, kind="stable")
        return cls(h, order, h[order])


def exact_runs(src: Grams, cp: Grams, *, n: int = RUN_GRAM, max_gap: int = 3, max_shift: int = 8,
               max_hits: int = 2, min_words: int = 12) -> list[tuple[Box, int]]:
    """Verbatim runs of at least `min_words` words, bridged over typos: (box, words matched).

    Word n-grams shared by both texts (seen at most `max_hits` times in the source) are chained in copy order
    while the diagonal (source minus copy position) moves by at most `max_shift` words (a phrase added or dropped)
    and at most `max_gap` copy words are left unmatched (a typo breaks the n-grams that cover it).
    """
    ch, order, sk = cp.hashes, src.order, src.sorted
    if not len(sk) or not len(ch):
        return []
    left = np.searchsorted(sk, ch, side="left")
    count = np.searchsorted(sk, ch, side="right") - left
    ok = np.nonzero((count > 0) & (count <= max_hits))[0]
    if not len(ok):
        return []
    rep = np.repeat(np.arange(len(ok)), count[ok])
    offset = np.arange(len(rep)) - np.repeat(np.cumsum(count[ok]) - count[ok], count[ok])
    ci = ok[rep]
    diag = order[left[ok][rep] + offset] - ci
    by = np.lexsort((ci, diag))
    ci, diag = ci[by], diag[by]
    # exact runs: consecutive n-grams on one diagonal
    start = np.ones(len(ci), dtype=bool)
    start[1:] = (diag[1:] != diag[:-1]) | (ci[1:] != ci[:-1] + 1)
    firsts = np.nonzero(start)[0]
    lasts = np.append(firsts[1:], len(ci)) - 1
    runs = sorted(zip(ci[firsts].tolist(), (ci[lasts] + n - 1).tolist(), diag[firsts].tolist(), strict=True))
    # chain runs across typos and one-word shifts, in copy order
    out: list[tuple[Box, int]] = []
    used = [False] * len(runs)
    for a in range(len(runs)):
        if used[a]:
            continue
        used[a] = True
        c0, c1, d = runs[a]
        s0, s1, words = c0 + d, c1 + d, c1 - c0 + 1
        for b in range(a + 1, len(runs)):
            b0, b1, bd = runs[b]
            if b0 > c1 + max_gap + 1:
                break
            if used[b] or abs(bd - d) > max_shift or b1 <= c1:
                continue
            used[b] = True
            words += b1 - max(b0, c1 + 1) + 1
            c1, d = b1, bd
            s1 = max(s1, c1 + d)
        if words >= min_words:
            out.append(((c0, c1, s0, s1), words))
    return out


def line_tokens(side: Side) -> list[tuple[int, int]]:
    """Inclusive token ranges of the text's lines (its paragraphs, in news text), empty lines left out."""
    t = side.tokens
    bounds = [-1] + side.newlines + [len(side.text)]
    out = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        i, j = bisect_left(t.starts, a + 1), bisect_left(t.starts, b) - 1
        if i <= j:
            out.append((i, j))
    return out


def moved_lines(src: Side, cp: Side, boxes: list[Box], *, min_words: int = 10,
                min_equal: float = 0.7) -> list[Box]:
    """Paragraphs of the copy that no passage holds and that stand, lightly edited, in a paragraph of the source:
    a short paragraph moved elsewhere, whose typos leave no verbatim run long enough (`exact_runs`).

    A copy line of `min_words` words or more (not the first or the last of either page), under half inside the
    copy side of `boxes`, is diffed with the source line that holds most of its words (the source may have
    joined it to the paragraph next to it); the stretch from the first to the last equal word (or to the lines'
    ends, when both are a word or two away) is a passage when it holds `min_words` equal words, `min_equal` of
    its words on either side."""
    # the first and last lines of a page are its masthead and footer, which pages of one outlet share
    lines = [(c0, c1) for c0, c1 in line_tokens(cp)[1:-1]
             if c1 - c0 + 1 >= min_words and sum(overlap(c0, c1, b[0], b[1]) for b in boxes) < (c1 - c0 + 1) / 2]
    if not lines:
        return []
    s_lines = [(i, j, set(src.ids[i:j + 1])) for i, j in line_tokens(src)[1:-1]]
    out: list[Box] = []
    for c0, c1 in lines:
        words = set(cp.ids[c0:c1 + 1])
        s0, s1, shared = max(s_lines, key=lambda x: len(words & x[2]), default=(0, -1, set()))
        if len(words & shared) < min_equal * len(words):
            continue
        equal = [(i1 + s0, j1 + c0, i2 - i1) for tag, i1, i2, j1, j2 in diff_id_opcodes(src.ids_at[s0:s1 + 1],
                                                                                       cp.ids_at[c0:c1 + 1])
                 if tag == "equal"]
        if not equal:
            continue
        (si, cj, _), (sl, cl, k) = equal[0], equal[-1]
        box = (cj, cl + k - 1, si, sl + k - 1)
        # a typo in the first or last word or two of both lines: the paragraph still starts (ends) there
        if cj - c0 <= 2 and si - s0 <= 2:
            box = (c0, box[1], s0, box[3])
        if c1 - box[1] <= 2 and s1 - box[3] <= 2:
            box = (box[0], c1, box[2], s1)
        total = sum(k for _, _, k in equal)
        if total >= min_words and total >= min_equal * max(box[1] - box[0] + 1, box[3] - box[2] + 1):
            out.append(box)
    return out


def overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    """Tokens shared by the inclusive ranges a0..a1 and b0..b1."""
    return max(0, min(a1, b1) - max(a0, b0) + 1)


def same_place(run: Box, box: Box) -> bool:
    """Whether `run` is a piece of `box` where it stands: mostly inside it on the copy side, and on its diagonal
    there (the source position the box's slope gives at the run's start, give or take the drift that the
    insertions and cuts inside a passage cause)."""
    if overlap(run[0], run[1], box[0], box[1]) <= 0.5 * (run[1] - run[0] + 1):
        return False
    slope = (box[3] - box[2] + 1) / max(1, box[1] - box[0] + 1)
    expected = box[2] + (run[0] - box[0]) * slope
    return abs(run[2] - expected) <= max(15.0, 0.1 * (box[1] - box[0] + 1))


def reordered_runs(box: Box, runs: list[Box], cover: float, drift: int = 15, max_ratio: float = 1.5) -> bool:
    """Whether `box` is verbatim runs out of order: its sides about as long (within `max_ratio`: a summary keeps
    sentences of a far longer source), and runs that lie mostly inside it on both sides cover `cover` of its
    copy side, standing on two or more diagonals (source minus copy position, `drift` words apart)."""
    short, long_ = sorted((box[1] - box[0] + 1, box[3] - box[2] + 1))
    if long_ > max_ratio * short:
        return False
    inside = sorted(r for r in runs if within(r, box))
    if len({(r[2] - r[0]) // drift for r in inside}) < 2:
        return False
    covered, reach = 0, box[0] - 1
    for r in inside:
        lo, hi = max(r[0], reach + 1, box[0]), min(r[1], box[1])
        if hi >= lo:
            covered += hi - lo + 1
            reach = hi
    return covered >= cover * (box[1] - box[0] + 1)


def holds_moved(b: Box, o: Box) -> bool:
    """Whether passage `o` sits inside `b` on both sides but off b's diagonal (a paragraph moved within it)."""
    inside = b[0] < o[0] and o[1] < b[1] and b[2] <= o[2] and o[3] <= b[3]
    return inside and not same_place(o, b)


def within(o: Box, b: Box) -> bool:
    """Whether most of `o` lies inside `b` on both sides."""
    return (overlap(b[0], b[1], o[0], o[1]) > 0.5 * (o[1] - o[0] + 1)
            and overlap(b[2], b[3], o[2], o[3]) > 0.5 * (o[3] - o[2] + 1))


def swallows(b: Box, o: Box) -> bool:
    """Whether `b` spans the text of a smaller passage `o` on one side only: o's copy side (or source side) lies
    inside b's, clear of its ends and at most a third of its length, and o's other side is outside b (a
    sentence moved away from the middle of a passage, which the passage bridged)."""
    def held(a0: int, a1: int, x0: int, x1: int) -> bool:
        return a0 < x0 and x1 < a1 and 3 * (x1 - x0 + 1) <= a1 - a0 + 1

    in_c, in_s = held(b[0], b[1], o[0], o[1]), held(b[2], b[3], o[2], o[3])
    out_c = overlap(b[0], b[1], o[0], o[1]) == 0
    out_s = overlap(b[2], b[3], o[2], o[3]) == 0
    return (in_c and out_s) or (in_s and out_c)


@dataclass(frozen=True)
class Columns:
    """The word diff of a passage as columns, one per equal word and one per change, as parallel arrays: `score`
    (+1 an equal word, minus its cost a change), the token ranges `cf..cl` (copy) and `sf..sl` (source), both
    inclusive (a change with no word on a side has last = first - 1), and their character spans `cs:ce`, `ss:se`
    (an empty side at the end of the word before it)."""

    score: np.ndarray
    cf: np.ndarray
    cl: np.ndarray
    sf: np.ndarray
    sl: np.ndarray
    cs: np.ndarray
    ce: np.ndarray
    ss: np.ndarray
    se: np.ndarray


def common_words(a: np.ndarray, b: np.ndarray) -> int:
    """How many words the two id arrays have in common, counted with multiplicity (the size of their multiset
    intersection): the most equal words any diff of the two can find."""
    a, b = np.sort(a), np.sort(b)
    rank = np.arange(len(b)) - np.searchsorted(b, b, side="left")  # k for the k-th copy of a word in b
    return int(np.count_nonzero(rank < np.searchsorted(a, b, side="right") - np.searchsorted(a, b, side="left")))


def refine_edges(box: Box, src: Side, cp: Side, *, margin: int = 30, min_equal: float = 0.8, min_words: int = 12,
                 line_cost: float = 2.0, line_share: float = 0.75, gap_open: float = 1.0, gap_extend: float = 0.25,
                 wall_chars: int = 300, walls: tuple[Box, ...] = (), max_ratio: float = 1.5) -> list[Box] | None:
    """The settled pieces of a near-verbatim passage, from a word diff (see the module docstring).

    Scores: an equal word +1; a replaced word -1; words only one side has (an added clause, a cut sentence) an
    affine `gap_open` + `gap_extend` per further word, since one insertion is one editing act however long;
    crossing a line break (between two columns in both texts, or inside a change on either side) a further
    `line_cost`. A first or last line of the copy with under `line_share` of its words equal (a masthead or a
    footer that shares a phrase) is then given up.

    Walls split the diff into stretches: a change longer than `wall_chars` on either side (a reordered
    paragraph) and any word of the boxes in `walls` (other passages), on either side. Each stretch with at
    least `min_words` equal words inside the box settles its edges from the middle of its longest run of equal
    words, and is one piece. None when the passage is not near-verbatim (under `min_equal` of the words of its
    shorter side equal, in place, or one side over `max_ratio` times the other): its seeds' box stands.
    """
    c0, c1, s0, s1 = box
    short, long_ = sorted((c1 - c0 + 1, s1 - s0 + 1))
    if long_ > max_ratio * short:
        return None
    # equal words can be no more than the words both sides hold: a cheap test before the diff
    if common_words(src.ids_at[s0:s1 + 1], cp.ids_at[c0:c1 + 1]) < min_equal * short:
        return None
    wc0, wc1 = max(0, c0 - margin), min(len(cp.ids), c1 + 1 + margin)
    ws0, ws1 = max(0, s0 - margin), min(len(src.ids), s1 + 1 + margin)
    ops = diff_id_opcodes(src.ids_at[ws0:ws1], cp.ids_at[wc0:wc1])
    if not ops:
        return None
    cols = _columns(ops, ws0, wc0, src, cp, line_cost, gap_open, gap_extend)
    eq = np.array([op[0] == "equal" for op in ops])
    o = np.array([op[1:] for op in ops], dtype=np.int64)[eq]
    i1, j1, j2 = o[:, 0] + ws0, o[:, 2] + wc0, o[:, 3] + wc0
    # equal words inside the box: each equal run's words on the box's copy rows and source columns
    inside = int(np.maximum(0, np.minimum(np.minimum(j2 - 1, c1), s1 - i1 + j1)
                            - np.maximum(np.maximum(j1, c0), s0 - i1 + j1) + 1).sum())
    if inside < min_equal * short:
        return None
    # brk[k]: a line break between columns k-1 and k in both texts (a paragraph boundary the copy kept; text
    # merely wrapped otherwise is no boundary, and a change that holds a line break was charged above)
    brk = np.zeros(len(cols.score), dtype=bool)
    brk[1:] = (_between(cols.cf, cols.cl, cols.ce, cols.cs, cp) & _between(cols.sf, cols.sl, cols.se, cols.ss, src))
    wall = ((cols.ce - cols.cs) > wall_chars) | ((cols.se - cols.ss) > wall_chars)
    for w in walls:
        wall |= ((w[0] <= cols.cl) & (cols.cf <= w[1])) | ((w[2] <= cols.sl) & (cols.sf <= w[3]))
    good = (cols.score > 0) & (cols.cf >= c0) & (cols.cf <= c1)
    # stretches: runs of columns between walls
    edges = np.flatnonzero(np.diff(np.r_[0, (~wall).view(np.int8), 0]))
    pieces: list[Box] = []
    for lo_k, hi_k in zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True):
        mid = _middle(good, lo_k, hi_k, min_words)
        if mid is not None:
            pieces.append(_settle_stretch(cols, brk, lo_k, hi_k, mid, line_cost, src, cp, line_share))
    return pieces


def _columns(ops: list, ws0: int, wc0: int, src: Side, cp: Side, line_cost: float, gap_open: float,
             gap_extend: float) -> Columns:
    """The columns of `ops` (opcodes of the windows starting at source token `ws0` and copy token `wc0`)."""
    o = np.array([op[1:] for op in ops], dtype=np.int64) + np.array([ws0, ws0, wc0, wc0], dtype=np.int64)
    i1, i2, j1, j2 = o[:, 0], o[:, 1], o[:, 2], o[:, 3]
    eq = np.array([op[0] == "equal" for op in ops])
    width = np.where(eq, j2 - j1, 1)
    op_of = np.repeat(np.arange(len(ops)), width)
    step = np.arange(int(width.sum())) - np.repeat(np.cumsum(width) - width, width)
    col_eq = eq[op_of]
    cf = j1[op_of] + step
    sf = i1[op_of] + step
    cl = np.where(col_eq, cf, j2[op_of] - 1)
    sl = np.where(col_eq, sf, i2[op_of] - 1)
    cs, ce = _char_spans(cp, cf, cl)
    ss, se = _char_spans(src, sf, sl)
    score = np.ones(len(cf), dtype=np.float64)
    change = np.flatnonzero(~col_eq)
    if len(change):
        n, m = sl[change] - sf[change] + 1, cl[change] - cf[change] + 1
        cost = np.minimum(n, m) + np.where(n != m, gap_open + gap_extend * (np.abs(n - m) - 1), 0.0)
        crossed = cp.breaks_at(cs[change], ce[change]) | src.breaks_at(ss[change], se[change])
        score[change] = -(cost + np.where(crossed, line_cost, 0.0))
    return Columns(score, cf, cl, sf, sl, cs, ce, ss, se)


def _char_spans(side: Side, first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Character spans of the token ranges `first..last`; an empty range sits at the end of the token before it
    (0 at the start of the text)."""
    n = len(side.starts_at)
    empty = last < first
    at_start = side.starts_at[np.minimum(first, n - 1)]
    at_end = side.ends_at[np.maximum(last, 0)]
    before = np.where(first > 0, side.ends_at[np.clip(first - 1, 0, n - 1)], 0)
    return np.where(empty, before, at_start), np.where(empty, before, at_end)


def _between(first: np.ndarray, last: np.ndarray, end: np.ndarray, start: np.ndarray, side: Side) -> np.ndarray:
    """For each pair of neighbouring columns k-1, k: whether a line break lies between them on this side (the
    token flag when both hold a word and they are neighbours, the characters between them otherwise)."""
    nxt = first[1:]
    adjacent = (nxt == last[:-1] + 1) & (last[:-1] >= first[:-1]) & (last[1:] >= nxt)
    flag = side.broken_at[np.minimum(nxt, len(side.broken_at) - 1)]
    return np.where(adjacent, flag, side.breaks_at(end[:-1], start[1:]))


def _settle_stretch(cols: Columns, brk: np.ndarray, lo_k: int, hi_k: int, mid: int, line_cost: float, src: Side,
                    cp: Side, line_share: float, short_line: int = 20) -> Box:
    """Edges of one stretch of columns lo_k..hi_k-1: scanning out from `mid`, where the running score peaks; then
    the copy's first or last line, when the passage holds a short part of it (at most `short_line` words) with
    under `line_share` of its words equal (a masthead or a footer that shares a phrase), is given up, and an
    edge a few words from the end of its line on both sides is moved there (`_snap`)."""
    crossing = np.where(brk, line_cost, 0.0)  # crossing[k]: the cost of the break between columns k-1 and k
    positive = cols.score > 0
    # outward from mid, each edge goes to the last equal word where the running score reaches its peak (ties go
    # outward: a short line the same on both sides joins), unless no equal word brings it to 0 or above
    hi = _peak(np.cumsum(cols.score[mid + 1:hi_k] - crossing[mid + 1:hi_k]), positive[mid + 1:hi_k])
    hi = mid if hi is None else mid + 1 + hi
    lo = _peak(np.cumsum((cols.score[lo_k:mid] - crossing[lo_k + 1:mid + 1])[::-1]), positive[lo_k:mid][::-1])
    lo = mid if lo is None else mid - 1 - lo
    # furniture sits at the ends of a page: only the copy's first and last lines are judged
    line = np.searchsorted(cp.newlines_at, cols.cs, side="right")  # copy line of each column, non-decreasing
    top, bottom = cp.line(cp.tokens.starts[0]), cp.line(cp.tokens.starts[-1])
    for _ in range(3):
        first, last = int(line[lo]), int(line[hi])
        if first == last:
            break
        end = int(np.searchsorted(line, first, side="right"))  # the first line's columns: lo..end-1
        if first == top and _furniture_line(positive[lo:end], cp, first, short_line, line_share):
            lo = end + int(np.argmax(positive[end:hi + 1]))
            continue
        begin = int(np.searchsorted(line, last, side="left"))  # the last line's columns: begin..hi
        if last == bottom and _furniture_line(positive[begin:hi + 1], cp, last, short_line, line_share):
            hi = begin - 1 - int(np.argmax(positive[lo:begin][::-1]))
            continue
        break
    c0, s0 = _snap(int(cols.cf[lo]), int(cols.sf[lo]), -1, src, cp)
    c1, s1 = _snap(int(cols.cl[hi]), int(cols.sl[hi]), 1, src, cp)
    return c0, c1, s0, s1


def _peak(cum: np.ndarray, positive: np.ndarray) -> int | None:
    """The last index among `positive` ones where `cum` reaches its highest value over them, if that is at least
    0: where a scan keeping the best running score (ties to the later) stops."""
    at = np.flatnonzero(positive)
    if not len(at):
        return None
    vals = cum[at]
    top = vals.max()
    if top < 0:
        return None
    return int(at[len(vals) - 1 - int(np.argmax(vals[::-1] == top))])


def _snap(cj: int, si: int, step: int, src: Side, cp: Side, most: int = 10) -> tuple[int, int]:
    """The copy and source token at one edge (`cj`, `si`), moved to the start (step -1) or end (step 1) of its line
    on both sides when the rest of the line is short there (at most `most` words) and shares a word, or is at most
    three words on both: the opening words of a paragraph that a relabel or an insertion kept out of the
    passage ("Orsk [Front fighters -> gangs, funded by Velmar,] took control ...")."""
    cl, sl = _line_end(cp, cj, step), _line_end(src, si, step)
    rest_c = cp.tokens.words[min(cl, cj):max(cl, cj) + 1]
    rest_s = src.tokens.words[min(sl, si):max(sl, si) + 1]
    nc, ns = len(rest_c) - 1, len(rest_s) - 1
    if not nc and not ns:
        return cj, si
    # the edge word itself is on both sides; the rest must share another word, unless it is very short
    shared = (set(rest_c) & set(rest_s)) - {cp.tokens.words[cj]}
    if (max(nc, ns) <= most and shared) or max(nc, ns) <= 3:
        return cl, sl
    return cj, si


def _line_end(side: Side, j: int, step: int) -> int:
    """The first (step -1) or last (step 1) token on token j's line."""
    t = side.tokens
    line = side.line(t.starts[j])
    if step < 0:
        start = side.newlines[line - 1] + 1 if line else 0
        return max(bisect_left(t.starts, start), 0)
    end = side.newlines[line] if line < len(side.newlines) else len(side.text)
    return bisect_right(t.ends, end) - 1


def _furniture_line(positive: np.ndarray, cp: Side, line_no: int, most: int, share: float) -> bool:
    """Whether copy line `line_no`, of whose columns the passage holds those with flags `positive` (equal words),
    is short (at most `most` words) and has under `share` of its words equal (counting the words the passage left
    out of it as unequal)."""
    t = cp.tokens
    start = cp.newlines[line_no - 1] + 1 if line_no else 0
    end = cp.newlines[line_no] if line_no < len(cp.newlines) else len(cp.text)
    words = bisect_left(t.starts, end) - bisect_left(t.starts, start)
    return 0 < words <= most and int(np.count_nonzero(positive)) < share * words


def _middle(good: np.ndarray, lo_k: int, hi_k: int, min_words: int) -> int | None:
    """The column in the middle of the first longest run of `good` columns (equal words inside the box's copy
    side) among lo_k..hi_k-1, when those hold at least `min_words`."""
    run = good[lo_k:hi_k]
    if int(np.count_nonzero(run)) < min_words:
        return None
    edges = np.flatnonzero(np.diff(np.r_[0, run.view(np.int8), 0]))
    starts, ends = edges[0::2], edges[1::2]
    k = int(np.argmax(ends - starts))
    length = int(ends[k] - starts[k])
    return lo_k + int(starts[k]) + length - 1 - length // 2


def merge_interrupted(boxes: list[Box], st: Tokens, ct: Tokens, gap_chars: int, drift: int = 10) -> list[Box]:
    """Join passages the copier only interrupted, and pieces of one passage that overlap (see the module
    docstring). Overlapping pieces must lie on one diagonal, give or take `drift` words."""
    boxes = sorted(boxes)
    out: list[Box] = []
    for b in boxes:
        if out:
            a = out[-1]
            cgap, sgap = b[0] - a[1] - 1, b[2] - a[3] - 1  # in words; negative: the two overlap
            forward = b[1] > a[1] and b[3] > a[3] and b[2] > a[2]
            if cgap >= 0 and sgap >= 0:
                near = (ct.starts[b[0]] - ct.ends[a[1]] <= gap_chars and st.starts[b[2]] - st.ends[a[3]] <= gap_chars)
            else:
                near = abs(cgap - sgap) <= drift
            between = any(a[1] < o[0] < b[0] or a[3] < o[2] < b[2] for o in boxes if o != a and o != b)
            if forward and near and not between:
                out[-1] = (a[0], b[1], min(a[2], b[2]), max(a[3], b[3]))
                continue
        out.append(b)
    return out


_LIST_END = re.compile(r"[.;:,…][\"'”’)\]]*\s*$")
_LIST_START = re.compile(r"\s*[\"“‘'(]?[A-Z0-9]")
# prose wrapped at a fixed width breaks its lines anywhere, often after a function word; a headline never ends so
_WRAPPED = re.compile(r"\b(?:a|an|and|as|at|by|for|from|in|into|of|on|or|the|to|with|that|than|after|before|"
                      r"is|are|was|were|has|have|had|its|their|his|her)\s*$", re.IGNORECASE)


_CLOSERS = "\"'”’)]"
_SENTENCE_END = ".;:,…"


def _open_end(line: str) -> bool:
    """`not _LIST_END.search(line)`, with the regex only for a line that ends in a closing quote or bracket."""
    last = line.rstrip()[-1:]
    if last and last in _SENTENCE_END:
        return False
    return last not in _CLOSERS or not _LIST_END.search(line)


def furniture(text: str, *, run: int = 3, max_words: int = 40, headline_words: int = 4) -> list[tuple[int, int]]:
    """Character spans of headline lists: `run`+ consecutive non-blank lines of at most `max_words` words that
    start with a capital (or a digit) and do not end like a sentence or a clause, nor with a function word as wrapped
    prose does (a headline may end with "?" or "!"; a list's title line, "Most Read", is one of its lines), of which
    `run`+ have `headline_words` words or more: headlines are phrases, while the lines of a list of names ("Ines
    Marlow", "Tomas Rell") are a story's own text.

    Blank lines neither join nor break a list. Shingling calls this on every text: `_kernels.furniture` runs it in
    one pass (six times faster), `_furniture_py` is the reference."""
    if _kernels is not None:
        return _kernels.furniture(text, run, max_words, headline_words, _WRAPPED.search)
    return _furniture_py(text, run=run, max_words=max_words, headline_words=headline_words)


def _furniture_py(text: str, *, run: int = 3, max_words: int = 40, headline_words: int = 4) -> list[tuple[int, int]]:
    """`furniture` in Python, the cheap tests first: a text with fewer than `run` lines that do not end like a
    sentence has no list."""
    out: list[tuple[int, int]] = []
    if text.count("\n") < run - 1:
        return out
    lines = text.split("\n")
    if sum(1 for line in lines if _open_end(line) and not line.isspace() and line) < run:
        return out
    cur_start = cur_end = -1
    n_cur = long_lines = 0
    pos = 0
    for line in lines:
        start, pos = pos, pos + len(line) + 1
        if not line.strip():
            continue
        words = line.count(" ") + 1  # words counted by spaces: a bound, not a tokenisation
        # the function word that ends wrapped prose is at most 6 letters: its last 8 characters tell
        if (words <= max_words and _open_end(line) and _LIST_START.match(line)
                and not _WRAPPED.search(line.rstrip()[-8:])):
            if n_cur == 0:
                cur_start = start
            cur_end = start + len(line)
            n_cur += 1
            long_lines += words >= headline_words
            continue
        if n_cur >= run and long_lines >= run:
            out.append((cur_start, cur_end))
        n_cur = long_lines = 0
    if n_cur >= run and long_lines >= run:
        out.append((cur_start, cur_end))
    return out


def lone_line(side: Side, i: int, j: int, most: int = 40, share: float = 0.8) -> bool:
    """Whether tokens i..j are a line of their own, as a headline is: at least `share` of one line of at most
    `most` words."""
    n = side.line(side.tokens.starts[i])
    if n != side.line(side.tokens.starts[j]):
        return False
    start = side.newlines[n - 1] + 1 if n else 0
    end = side.newlines[n] if n < len(side.newlines) else len(side.text)
    words = bisect_left(side.tokens.starts, end) - bisect_left(side.tokens.starts, start)
    return words <= most and j - i + 1 >= share * words


def token_spans(t: Tokens, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Character spans as inclusive token index ranges (the tokens inside each)."""
    out = []
    for a, b in spans:
        i, j = bisect_left(t.starts, a), bisect_right(t.ends, b) - 1
        if i <= j:
            out.append((i, j))
    return out


def inside_share(lo: int, hi: int, spans: list[tuple[int, int]]) -> float:
    """Share of tokens lo..hi that lie in `spans` (inclusive token ranges)."""
    n = sum(max(0, min(hi, b) - max(lo, a) + 1) for a, b in spans)
    return n / (hi - lo + 1) if hi >= lo else 0.0


def clip(box: Box, c_spans: list[tuple[int, int]], s_spans: list[tuple[int, int]]) -> Box:
    """Move an end of `box` that lies in a headline list on both sides (`c_spans`, `s_spans`: token ranges) to the
    first (or last) word outside those lists."""
    c0, c1, s0, s1 = box
    ca = next(((a, b) for a, b in c_spans if a <= c0 <= b < c1), None)
    sa = next(((a, b) for a, b in s_spans if a <= s0 <= b < s1), None)
    if ca and sa:
        c0, s0 = ca[1] + 1, sa[1] + 1
    cb = next(((a, b) for a, b in c_spans if c0 < a <= c1 <= b), None)
    sb = next(((a, b) for a, b in s_spans if s0 < a <= s1 <= b), None)
    if cb and sb:
        c1, s1 = cb[0] - 1, sb[0] - 1
    return c0, c1, s0, s1
