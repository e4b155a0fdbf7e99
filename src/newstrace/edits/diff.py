"""A fast word-level diff: patience anchors, then difflib inside the small gaps that remain.

Aligned copies of news articles are mostly identical, so the work is in finding the few differences quickly:
1. the common prefix and suffix are stripped;
2. words that occur exactly once on each side anchor the alignment (the longest increasing run of such pairs,
   as in patience diff), and the gaps between anchors are diffed recursively;
3. a gap with no unique common word is handed to `difflib.SequenceMatcher`, which is cheap on a few words.

Finally, very short equal runs squeezed between two much larger changes are folded into one change, so that a
rewritten sentence is reported as one replacement rather than as fragments around a shared "the".

Inputs are sequences of hashable tokens (the edits package interns words to ints); the output is a list of
difflib-style opcodes `(tag, i1, i2, j1, j2)` with tag in equal/insert/delete/replace, covering both sequences.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Hashable, Sequence
from difflib import SequenceMatcher

import numpy as np

try:  # the compiled diff (setup.py builds reuse/_kernels.c); `diff_opcodes` is its reference, with equal results
    from newstrace.reuse import _kernels
except ImportError:  # pragma: no cover - an install without a C compiler
    _kernels = None

Opcode = tuple[str, int, int, int, int]

# Gaps at most this large (words on each side multiplied) go to difflib; larger ones without anchors become
# one replacement, which is what a rewritten paragraph is anyway.
_DIFFLIB_CELLS = 40_000


def _lis(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Longest run of `pairs` (sorted by first item) increasing in the second item."""
    tails: list[int] = []
    tail_idx: list[int] = []
    prev = [-1] * len(pairs)
    for k, (_, b) in enumerate(pairs):
        pos = bisect_left(tails, b)
        if pos == len(tails):
            tails.append(b)
            tail_idx.append(k)
        else:
            tails[pos] = b
            tail_idx[pos] = k
        prev[k] = tail_idx[pos - 1] if pos else -1
    out: list[tuple[int, int]] = []
    k = tail_idx[-1] if tail_idx else -1
    while k >= 0:
        out.append(pairs[k])
        k = prev[k]
    out.reverse()
    return out


def _diff(a: Sequence[Hashable], b: Sequence[Hashable], a0: int, a1: int, b0: int, b1: int,
          out: list[tuple[int, int, int]]) -> None:
    """Append matching blocks `(i, j, n)` of a[a0:a1] vs b[b0:b1] to `out`, in order."""
    # common prefix
    n = 0
    while a0 + n < a1 and b0 + n < b1 and a[a0 + n] == b[b0 + n]:
        n += 1
    if n:
        out.append((a0, b0, n))
        a0 += n
        b0 += n
    # common suffix (appended after the middle)
    m = 0
    while a1 - m > a0 and b1 - m > b0 and a[a1 - m - 1] == b[b1 - m - 1]:
        m += 1
    a1 -= m
    b1 -= m
    if a0 < a1 and b0 < b1:
        _middle(a, b, a0, a1, b0, b1, out)
    if m:
        out.append((a1, b1, m))


def _middle(a: Sequence[Hashable], b: Sequence[Hashable], a0: int, a1: int, b0: int, b1: int,
            out: list[tuple[int, int, int]]) -> None:
    sa, sb = a[a0:a1], b[b0:b1]
    count_a, count_b = Counter(sa), Counter(sb)
    pos_a = {t: i for i, t in enumerate(sa, a0)}  # the last occurrence: the only one of a unique word
    pos_b = {t: j for j, t in enumerate(sb, b0)}
    pairs = sorted((pos_a[t], pos_b[t]) for t, c in count_b.items() if c == 1 and count_a[t] == 1)
    if pairs:
        anchors = _lis(pairs)
        ca, cb = a0, b0
        for i, j in anchors:
            if i < ca or j < cb:  # already consumed by a previous anchor's extension
                continue
            _diff(a, b, ca, i, cb, j, out)
            # extend the anchor forward while the words keep matching
            n = 1
            while i + n < a1 and j + n < b1 and a[i + n] == b[j + n]:
                n += 1
            out.append((i, j, n))
            ca, cb = i + n, j + n
        _diff(a, b, ca, a1, cb, b1, out)
        return
    if (a1 - a0) * (b1 - b0) <= _DIFFLIB_CELLS:
        sm = SequenceMatcher(None, a[a0:a1], b[b0:b1], autojunk=False)
        for i, j, n in sm.get_matching_blocks():
            if n:
                out.append((a0 + i, b0 + j, n))
    # else: no anchor in a large gap: leave it as one replacement


def _opcodes(blocks: list[tuple[int, int, int]], la: int, lb: int) -> list[Opcode]:
    ops: list[Opcode] = []
    i = j = 0
    for bi, bj, n in blocks + [(la, lb, 0)]:
        if i < bi and j < bj:
            ops.append(("replace", i, bi, j, bj))
        elif i < bi:
            ops.append(("delete", i, bi, j, j))
        elif j < bj:
            ops.append(("insert", i, i, j, bj))
        if n:
            ops.append(("equal", bi, bi + n, bj, bj + n))
        i, j = bi + n, bj + n
    return ops


def _cleanup(ops: list[Opcode]) -> list[Opcode]:
    """Fold an equal run of 1-2 words into its neighbours when both neighbouring changes are much larger."""
    out: list[Opcode] = []
    k = 0
    while k < len(ops):
        op = ops[k]
        if (op[0] == "equal" and out and out[-1][0] != "equal" and k + 1 < len(ops)
                and ops[k + 1][0] != "equal"):
            n = op[2] - op[1]
            before = max(out[-1][2] - out[-1][1], out[-1][4] - out[-1][3])
            after = max(ops[k + 1][2] - ops[k + 1][1], ops[k + 1][4] - ops[k + 1][3])
            if n <= 2 and 2 * n < before and 2 * n < after:
                prev, nxt = out.pop(), ops[k + 1]
                out.append(("replace", prev[1], nxt[2], prev[3], nxt[4]))
                k += 2
                continue
        if out and op[0] != "equal" and out[-1][0] != "equal":
            prev = out.pop()
            i1, i2, j1, j2 = prev[1], op[2], prev[3], op[4]
            tag = "replace" if (i1 < i2 and j1 < j2) else ("delete" if i1 < i2 else "insert")
            out.append((tag, i1, i2, j1, j2))
        else:
            out.append(op)
        k += 1
    return out


def diff_opcodes(a: Sequence[Hashable], b: Sequence[Hashable]) -> list[Opcode]:
    """Opcodes `(tag, i1, i2, j1, j2)` turning `a` into `b`, like `SequenceMatcher.get_opcodes()`."""
    blocks: list[tuple[int, int, int]] = []
    _diff(a, b, 0, len(a), 0, len(b), blocks)
    # merge adjacent blocks so that equal runs are maximal
    merged: list[tuple[int, int, int]] = []
    for i, j, n in blocks:
        if merged and merged[-1][0] + merged[-1][2] == i and merged[-1][1] + merged[-1][2] == j:
            pi, pj, pn = merged.pop()
            merged.append((pi, pj, pn + n))
        else:
            merged.append((i, j, n))
    return _cleanup(_opcodes(merged, len(a), len(b)))


def diff_id_opcodes(a: np.ndarray, b: np.ndarray) -> list[Opcode]:
    """`diff_opcodes` of two int64 arrays (word ids), its recursion in C where the kernels are built: the
    aligner diffs every near-verbatim passage it settles."""
    if _kernels is None:
        return diff_opcodes(a.tolist(), b.tolist())
    return _cleanup(_opcodes(_kernels.diff_blocks(a, b), len(a), len(b)))
