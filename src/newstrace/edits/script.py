"""The edit script between a source and its copy: what was inserted, deleted, replaced and moved.

`edit_script(source, copy, passages)` turns the aligner's passages into `Edit`s with exact raw offsets:
`source[e.source_start:e.source_end] == e.source_text` and `copy[e.copy_start:e.copy_end] == e.copy_text`.

How the texts are covered:
- Passages are put in copy order; the heaviest run of passages that is also in source order is the spine.
  Passages off the spine were reordered: each yields one `move` edit spanning the whole passage in both texts,
  and is then diffed internally like any other block.
  When the aligner shows no reordering (one passage over a reordered pair), a deleted and an inserted stretch of
  8+ words with 80%+ of their words in common are one `move` too (`_moves`).
- Consecutive spine passages with nothing reordered between them form one block, diffed word by word as a whole,
  so that the unaligned bits between passages (an injected phrase, a cut sentence) are diffed too.
- Inside a block, a changed run of words maps to the character region from the end of the last equal word before
  it to the start of the first equal word after it, in both texts: an edit always includes the punctuation and
  spacing that changed with the words (", backed by Saudi Arabia," with its commas). The common prefix and suffix
  of the two regions are then trimmed, suffix first, but never into a word; a pure insertion therefore ends
  before the whitespace that follows it. Between two equal words, a change of punctuation alone (a comma added or
  removed) is an edit too; a change of whitespace or of quote style alone is not.
- Outside the blocks there are no edits: text that no passage covers was not copied (a rewritten lead, outlet
  boilerplate, a sidebar of headlines, the rest of a longer article). Pairing its words with the other text's
  unaligned words would invent edits between unrelated sentences, so it is reported as it is: `Script` gives the
  stretches of each text outside every block (`source_free`, `copy_free`), and the passages, the edits and those
  stretches together account for both texts.

Edits are returned sorted by copy offset, then source offset.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from newstrace.edits.diff import diff_opcodes
from newstrace.model import Edit, Passage
from newstrace.tokens import Tokens, tokenize

_WORD = re.compile(r"\w")
_PUNCT = re.compile(r"[^\w\s]")
_FOLD_GAP = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "«": '"', "»": '"'})


@dataclass(frozen=True)
class _Block:
    s0: int
    s1: int
    c0: int
    c1: int
    moved: bool


def _gap_key(gap: str) -> str:
    # Whitespace and quote style are layout, not edits.
    return "".join(gap.translate(_FOLD_GAP).split())


def _trim(source: str, copy: str, s0: int, s1: int, c0: int, c1: int,
          s_lim: tuple[int, int], c_lim: tuple[int, int]) -> tuple[int, int, int, int]:
    """Trim the common suffix, then prefix, of source[s0:s1] and copy[c0:c1], at most to the limits (whitespace
    matches whitespace).

    `s_lim`/`c_lim` are the (prefix, suffix) character counts that may be trimmed on each side: the gaps before the
    first and after the last changed word, so that trimming never cuts into a word.
    """
    k = 0
    kmax = min(s_lim[1], c_lim[1], s1 - s0, c1 - c0)
    while k < kmax and _same(source[s1 - 1 - k], copy[c1 - 1 - k]):
        k += 1
    s1 -= k
    c1 -= k
    k = 0
    kmax = min(s_lim[0], c_lim[0], s1 - s0, c1 - c0)
    while k < kmax and _same(source[s0 + k], copy[c0 + k]):
        k += 1
    return s0 + k, s1, c0 + k, c1


def _same(a: str, b: str) -> bool:
    """Two characters that an edit need not include: equal, or both whitespace (a line wrapped elsewhere)."""
    return a == b or (a.isspace() and b.isspace())


def _make(kind_hint: str, source: str, copy: str, s0: int, s1: int, c0: int, c1: int) -> Edit | None:
    if s0 == s1 and c0 == c1:
        return None
    kind = "replace" if (s0 < s1 and c0 < c1) else ("delete" if s0 < s1 else "insert")
    if kind_hint == "move":
        kind = "move"
    return Edit(kind, s0, s1, c0, c1, source[s0:s1], copy[c0:c1])


def _diff_block(source: str, copy: str, st: Tokens, ct: Tokens, sid: list[int], cid: list[int],
                b: _Block) -> list[Edit]:
    si0, si1 = bisect_left(st.starts, b.s0), bisect_right(st.ends, b.s1)
    ci0, ci1 = bisect_left(ct.starts, b.c0), bisect_right(ct.ends, b.c1)
    si1, ci1 = max(si0, si1), max(ci0, ci1)
    out: list[Edit] = []
    ops = [(tag, i1 + si0, i2 + si0, j1 + ci0, j2 + ci0)
           for tag, i1, i2, j1, j2 in diff_opcodes(sid[si0:si1], cid[ci0:ci1])]
    for tag, i1, i2, j1, j2 in _place(ops, source, copy, st, ct, sid, cid):
        if tag == "equal":
            for i, j in zip(range(i1, i2 - 1), range(j1, j2 - 1), strict=True):
                sg0, sg1 = st.ends[i], st.starts[i + 1]
                cg0, cg1 = ct.ends[j], ct.starts[j + 1]
                if source[sg0:sg1] != copy[cg0:cg1] and _gap_key(source[sg0:sg1]) != _gap_key(copy[cg0:cg1]):
                    r = _trim(source, copy, sg0, sg1, cg0, cg1, (sg1 - sg0,) * 2, (cg1 - cg0,) * 2)
                    e = _make("", source, copy, *r)
                    if e:
                        out.append(e)
            continue
        # region from the end of the last equal word to the start of the next one, within the block
        rs0 = st.ends[i1 - 1] if i1 > si0 else b.s0
        rs1 = st.starts[i2] if i2 < si1 else b.s1
        rc0 = ct.ends[j1 - 1] if j1 > ci0 else b.c0
        rc1 = ct.starts[j2] if j2 < ci1 else b.c1
        s_lim = (st.starts[i1] - rs0, rs1 - st.ends[i2 - 1]) if i1 < i2 else (rs1 - rs0, rs1 - rs0)
        c_lim = (ct.starts[j1] - rc0, rc1 - ct.ends[j2 - 1]) if j1 < j2 else (rc1 - rc0, rc1 - rc0)
        if (i1 == i2 or j1 == j2) and _PUNCT.search(copy[rc0:rc1] if j1 == j2 else source[rs0:rs1]):
            # One side is only a gap that holds punctuation ("." where a clause was cut): keep that
            # punctuation aligned, so the cut is reported as pure deletions rather than a replacement.
            out.extend(_refine(source, copy, rs0, rs1, rc0, rc1))
            continue
        e = _make("", source, copy, *_trim(source, copy, rs0, rs1, rc0, rc1, s_lim, c_lim))
        if e:
            out.append(e)
    return out


def _refine(source: str, copy: str, s0: int, s1: int, c0: int, c1: int) -> list[Edit]:
    sm = SequenceMatcher(None, source[s0:s1], copy[c0:c1], autojunk=False)
    out: list[Edit] = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag != "equal":
            e = _make("", source, copy, s0 + i1, s0 + i2, c0 + j1, c0 + j2)
            if e and (_WORD.search(e.source_text) or _WORD.search(e.copy_text) or _gap_key(e.source_text)
                      != _gap_key(e.copy_text)):
                out.append(e)
    return out


_OPENS = set(",;:(–—-")
_CLOSES = set(",;:.!?)–—-")


def _place(ops: list[tuple[str, int, int, int, int]], source: str, copy: str, st: Tokens, ct: Tokens,
           sid: list[int], cid: list[int]) -> list[tuple[str, int, int, int, int]]:
    """Place each pure insertion or deletion where its text is set off by punctuation.

    Inserting "a Veldran front company" into "Harlow Company announced" can be read as inserting it after
    "Company" or as inserting "Company, a Veldran front" after "Harlow": the words alone cannot tell. Of the
    equivalent placements (sliding left over the equal words before it), the one whose changed text begins and
    ends with punctuation (", a Veldran front company,") is taken, so that the same injection reads the same at
    each place; ties keep the diff's own placement.
    """
    out = list(ops)
    for k in range(1, len(out)):
        tag, i1, i2, j1, j2 = out[k]
        prev = out[k - 1]
        if tag not in ("insert", "delete") or prev[0] != "equal":
            continue
        ids, lo, hi = (cid, j1, j2) if tag == "insert" else (sid, i1, i2)
        room = prev[2] - prev[1] - (0 if k == 1 else 1)  # keep one equal word between changes
        best, best_score = 0, _score(tag, i1, i2, j1, j2, source, copy, st, ct)
        shift = 1
        while shift <= room and ids[hi - shift] == ids[lo - shift]:
            sc = _score(tag, i1 - shift, i2 - shift, j1 - shift, j2 - shift, source, copy, st, ct)
            if sc > best_score:
                best, best_score = shift, sc
            shift += 1
        if not best:
            continue
        out[k - 1] = ("equal", prev[1], prev[2] - best, prev[3], prev[4] - best)
        out[k] = (tag, i1 - best, i2 - best, j1 - best, j2 - best)
        if k + 1 < len(out) and out[k + 1][0] == "equal":
            nxt = out[k + 1]
            out[k + 1] = ("equal", nxt[1] - best, nxt[2], nxt[3] - best, nxt[4])
        else:
            out.insert(k + 1, ("equal", i2 - best, i2, j2 - best, j2))
    return [op for op in out if op[1] < op[2] or op[3] < op[4]]


def _score(tag: str, i1: int, i2: int, j1: int, j2: int, source: str, copy: str, st: Tokens, ct: Tokens) -> int:
    # the changed words with the gaps on both sides, as in _diff_block
    if tag == "insert":
        t, starts, ends, lo, hi = copy, ct.starts, ct.ends, j1, j2
    else:
        t, starts, ends, lo, hi = source, st.starts, st.ends, i1, i2
    a = ends[lo - 1] if lo > 0 else starts[lo]
    b = starts[hi] if hi < len(starts) else ends[hi - 1]
    region = t[a:b].strip()
    return (region[:1] in _OPENS) + (region[-1:] in _CLOSES) if region else 0


def _spine(passages: list[Passage]) -> list[bool]:
    """For passages in copy order: True for those on the heaviest source-ordered run (by passage length)."""
    n = len(passages)
    if n == 0:
        return []
    weight = [p.copy_end - p.copy_start + p.source_end - p.source_start for p in passages]
    best = weight[:]
    prev = [-1] * n
    for k in range(n):
        for m in range(k):
            if passages[m].source_start <= passages[k].source_start and best[m] + weight[k] > best[k]:
                best[k] = best[m] + weight[k]
                prev[k] = m
    on = [False] * n
    k = max(range(n), key=best.__getitem__)
    while k >= 0:
        on[k] = True
        k = prev[k]
    return on


def _blocks(passages: list[Passage]) -> list[_Block]:
    ps = sorted(passages, key=lambda p: (p.copy_start, p.source_start))
    on = _spine(ps)
    moved_starts = sorted(p.source_start for p, o in zip(ps, on, strict=True) if not o)
    blocks: list[_Block] = []
    last_spine: Passage | None = None
    for p, o in zip(ps, on, strict=True):
        if not o:
            blocks.append(_Block(p.source_start, p.source_end, p.copy_start, p.copy_end, True))
            last_spine = None
            continue
        if last_spine is not None and blocks and not blocks[-1].moved:
            # merge with the previous spine block unless a reordered passage sits between them in the source
            lo, hi = last_spine.source_start, p.source_start
            k = bisect_right(moved_starts, lo)
            if not (k < len(moved_starts) and moved_starts[k] < hi):
                prev = blocks.pop()
                blocks.append(_Block(min(prev.s0, p.source_start), max(prev.s1, p.source_end),
                                     prev.c0, max(prev.c1, p.copy_end), False))
                last_spine = p
                continue
        blocks.append(_Block(p.source_start, p.source_end, p.copy_start, p.copy_end, False))
        last_spine = p
    return blocks


def _uncovered(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Stretches of `text` outside `spans` that hold a word, stripped of surrounding whitespace."""
    out: list[tuple[int, int]] = []
    pos = 0
    for a, b in sorted(spans) + [(len(text), len(text))]:
        if a > pos:
            seg = text[pos:a]
            if _WORD.search(seg):
                lead = len(seg) - len(seg.lstrip())
                out.append((pos + lead, pos + len(seg.rstrip())))
        pos = max(pos, b)
    return out


@dataclass(frozen=True)
class Script:
    """The edit script of a pair: `edits` inside the aligned regions, and the stretches of each text that no
    passage covers, which are "not copied" rather than edited: `source_free` as (start, end, copy point) and
    `copy_free` as (start, end, source point), spans that hold a word, each with the offset in the other text
    where it sits (the end of the aligned region before it)."""

    edits: list[Edit]
    source_free: list[tuple[int, int, int]]
    copy_free: list[tuple[int, int, int]]


@dataclass(frozen=True)
class Row:
    """One row of a side-by-side view, in copy order: an aligned region (`aligned`, or `moved` when the copy has
    it elsewhere), or text that no passage covers on one side or both (`unaligned`: not copied from the
    source, or not in the source). Spans are (start, end) or None for an empty side."""

    kind: str
    source: tuple[int, int] | None
    copy: tuple[int, int] | None


def diff_rows(source: str, copy: str, passages: Sequence[Passage]) -> list[Row]:
    """The two texts as rows aligned passage by passage (see `Row`): each aligned region beside its source, and
    unaligned text where it stands, source text at the place of the copy where it would have been."""
    blocks = _blocks(list(passages))
    st, ct = tokenize(source), tokenize(copy)
    items: list[tuple[int, int, Row]] = []
    for b in blocks:
        kind = "moved" if b.moved else "aligned"
        for s0, s1, c0, c1 in _paragraphs(source, copy, st, ct, b):
            items.append((c0, 0, Row(kind, (s0, s1), (c0, c1))))
    first_s = min((b.s0 for b in blocks if not b.moved), default=len(source))
    for a, b in _uncovered(source, [(x.s0, x.s1) for x in blocks]):
        # before every aligned region of the source: before the first row it would have preceded
        items.append((_copy_point(blocks, a, len(copy)), -1 if b <= first_s else 1, Row("unaligned", (a, b), None)))
    for a, b in _uncovered(copy, [(x.c0, x.c1) for x in blocks]):
        items.append((a, 1, Row("unaligned", None, (a, b))))
    rows: list[Row] = []
    for _, _, r in sorted(items, key=lambda x: (x[0], x[1])):
        last = rows[-1] if rows else None
        # text that only the source has beside text that only the copy has (a rewritten lead): one row
        if last is not None and last.kind == r.kind == "unaligned" and (last.source is None) != (r.source is None) \
                and (last.copy is None or r.copy is None):
            rows[-1] = Row("unaligned", last.source or r.source, last.copy or r.copy)
            continue
        rows.append(r)
    return rows


def _paragraphs(source: str, copy: str, st: Tokens, ct: Tokens, b: _Block) -> list[tuple[int, int, int, int]]:
    """An aligned region cut where both texts break the line between the same two equal words: its paragraphs,
    each beside its source, as (source start, end, copy start, end)."""
    si0, si1 = bisect_left(st.starts, b.s0), bisect_right(st.ends, b.s1)
    ci0, ci1 = bisect_left(ct.starts, b.c0), bisect_right(ct.ends, b.c1)
    cuts: list[tuple[int, int]] = []  # (source token, copy token) that start a new paragraph
    for tag, i1, i2, j1, j2 in diff_opcodes(st.words[si0:si1], ct.words[ci0:ci1]):
        if tag != "equal":
            continue
        for i, j in zip(range(si0 + i1 + 1, si0 + i2), range(ci0 + j1 + 1, ci0 + j2), strict=True):
            if "\n" in source[st.ends[i - 1]:st.starts[i]] and "\n" in copy[ct.ends[j - 1]:ct.starts[j]]:
                cuts.append((i, j))
    out = []
    s0, c0 = b.s0, b.c0
    for i, j in cuts:
        # a paragraph runs to its line break, closing punctuation included
        out.append((s0, source.index("\n", st.ends[i - 1]), c0, copy.index("\n", ct.ends[j - 1])))
        s0, c0 = st.starts[i], ct.starts[j]
    out.append((s0, b.s1, c0, b.c1))
    return out


def edit_script(source: str, copy: str, passages: list[Passage]) -> list[Edit]:
    """Edits that turn `source` into `copy` inside the aligned `passages` (see the module docstring)."""
    return edit_script_tokens(source, copy, passages, tokenize(source), tokenize(copy)).edits


def edit_script_tokens(source: str, copy: str, passages: list[Passage], st: Tokens, ct: Tokens) -> Script:
    """`edit_script` with both texts already tokenized (`newstrace.tokens.tokenize`), with the unaligned text."""
    vocab: dict[str, int] = {}
    sid = [vocab.setdefault(w, len(vocab)) for w in st.words]
    cid = [vocab.setdefault(w, len(vocab)) for w in ct.words]
    edits: list[Edit] = []
    blocks = _blocks(passages)
    for b in blocks:
        if b.moved:
            edits.append(Edit("move", b.s0, b.s1, b.c0, b.c1, source[b.s0:b.s1], copy[b.c0:b.c1]))
        # Passages may overlap a little (a moved passage starting early in the source): a cut or addition that
        # another block already accounts for is not one.
        s_other = [(o.s0, o.s1) for o in blocks if o is not b]
        c_other = [(o.c0, o.c1) for o in blocks if o is not b]
        edits.extend(e for e in _diff_block(source, copy, st, ct, sid, cid, b)
                     if not (e.kind == "delete" and _covered(e.source_start, e.source_end, s_other))
                     and not (e.kind == "insert" and _covered(e.copy_start, e.copy_end, c_other)))
    s_free = [(a, b, _copy_point(blocks, a, len(copy)))
              for a, b in _uncovered(source, [(x.s0, x.s1) for x in blocks])]
    c_free = [(a, b, _source_point(blocks, a, len(source)))
              for a, b in _uncovered(copy, [(x.c0, x.c1) for x in blocks])]
    edits = _moves(source, copy, st, ct, sid, cid, edits)
    edits.sort(key=lambda e: (e.copy_start, e.source_start, e.kind != "move"))
    return Script(edits, s_free, c_free)



_MOVE_WORDS = 8


def _moves(source: str, copy: str, st: Tokens, ct: Tokens, sid: list[int], cid: list[int],
           edits: list[Edit]) -> list[Edit]:
    """Turn a cut and an addition of the same paragraph into a move, which no passage showed.

    When the aligner returns one passage over a reordered pair, the moved text is deleted at one place and
    inserted at another, inside that passage. A deletion and an insertion of 8+ words each, with 80%+ of their
    words in common, are one move (diffed inside like any block, so an edit within the moved text is still reported).
    """
    def words(t: Tokens, a: int, b: int) -> tuple[int, int]:
        return bisect_left(t.starts, a), bisect_right(t.ends, b)

    dels = _runs([e for e in edits if e.kind == "delete"], source, lambda e: (e.source_start, e.source_end))
    ins = _runs([e for e in edits if e.kind == "insert"], copy, lambda e: (e.copy_start, e.copy_end))
    if not dels or not ins:
        return edits
    gone: set[int] = set()
    added: list[Edit] = []
    for d_run in dels:
        i0, i1 = words(st, d_run[0].source_start, d_run[-1].source_end)
        if i1 - i0 < _MOVE_WORDS:
            continue
        for e_run in ins:
            if id(e_run[0]) in gone:
                continue
            j0, j1 = words(ct, e_run[0].copy_start, e_run[-1].copy_end)
            n, m = i1 - i0, j1 - j0
            if m < _MOVE_WORDS or 5 * abs(n - m) > max(n, m):
                continue
            same = sum(op[2] - op[1] for op in diff_opcodes(sid[i0:i1], cid[j0:j1]) if op[0] == "equal")
            if 5 * same < 4 * max(n, m):
                continue
            b = _Block(st.starts[i0], st.ends[i1 - 1], ct.starts[j0], ct.ends[j1 - 1], True)
            added.append(Edit("move", b.s0, b.s1, b.c0, b.c1, source[b.s0:b.s1], copy[b.c0:b.c1]))
            added.extend(_diff_block(source, copy, st, ct, sid, cid, b))
            gone.update(id(x) for x in d_run + e_run)
            break
    if not gone:
        return edits
    return [e for e in edits if id(e) not in gone] + added


def _runs(edits: list[Edit], text: str, span) -> list[list[Edit]]:
    """Edits of one side grouped into runs with no word between them (a paragraph cut in two edits)."""
    out: list[list[Edit]] = []
    for e in sorted(edits, key=span):
        if out and not _WORD.search(text[span(out[-1][-1])[1]:span(e)[0]]):
            out[-1].append(e)
        else:
            out.append([e])
    return out


def _covered(a: int, b: int, spans: list[tuple[int, int]]) -> bool:
    """Whether 80%+ of [a, b) lies within `spans`."""
    inside = sum(max(0, min(b, y) - max(a, x)) for x, y in spans)
    return b > a and 5 * inside >= 4 * (b - a)


def _copy_point(blocks: list[_Block], s: int, n_copy: int) -> int:
    """Where in the copy a cut at source offset `s` happened: the copy end of the nearest block before it."""
    before = [b for b in blocks if b.s1 <= s and not b.moved]
    if before:
        return max(before, key=lambda b: b.s1).c1
    after = [b for b in blocks if b.s0 >= s and not b.moved]
    return min(after, key=lambda b: b.s0).c0 if after else (0 if not blocks else n_copy)


def _source_point(blocks: list[_Block], c: int, n_source: int) -> int:
    """The source offset an insertion at copy offset `c` attaches to: the source end of the block before it."""
    before = [b for b in blocks if b.c1 <= c and not b.moved]
    if before:
        return max(before, key=lambda b: b.c1).s1
    after = [b for b in blocks if b.c0 >= c and not b.moved]
    return min(after, key=lambda b: b.c0).s0 if after else (0 if not blocks else n_source)
