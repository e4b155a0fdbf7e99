"""Local alignment of two texts: which passages of `source` reappear in `copy`.

Seed-extend-filter (the PAN text-alignment recipe), on the word tokens of `newstrace.tokens.tokenize`:

1. seeds: hashed keys shared by both texts. The keys are unordered pairs of nearby content words (stop words
   dropped, crude stems; each word with each of the next `window`), so a seed survives inserted phrases,
   swapped or replaced words and most synonym edits that break exact n-grams;
2. extend: seeds are chained along diagonals (source minus copy position) in copy order, bridging gaps up to a
   tolerance while the diagonal drifts only a little; chains that sit next to each other on both sides are
   then merged, so a passage with a phrase injected every sentence comes out whole, while a reordered
   paragraph (a jump of the diagonal with a gap in the copy) becomes a passage of its own;
3. filter: a near-verbatim passage is shrunk to its longest in-order chain of matches (a topical word matched
   far away no longer stretches it), stray matches are trimmed off both ends, passages with few shared words,
   a low share of matched words or very unequal sides are dropped, and passages that mostly overlap a
   stronger one in the copy are dropped (text repeated in the source).

An adaptive second pass looks for summaries: a run of the copy in which nearly every content word occurs in
the source, well above the chance rate for that pair, while the rarer of those words are spread over a much
longer stretch of the source. A summary replaces the first-pass fragments it overlaps (the sentences that kept
a phrase of the source) unless one of them already explains most of it.

Offsets in the returned `Passage`s are raw `str` indices into the input texts.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from newstrace.model import Passage
from newstrace.reuse import refine
from newstrace.tokens import Tokens, tokenize

try:  # the compiled inner loops (setup.py); each has its Python reference below, with the same results
    from newstrace.reuse import _kernels
except ImportError:  # pragma: no cover - an install without a C compiler
    _kernels = None

# Function words carry no evidence of reuse; seeds are built from the other words only.
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having he
    her here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not
    now of off on once only or other our ours ourselves out over own same she should so some such than that the
    their theirs them themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves said says one two
    new may might must us also been 's s t""".split()
)


@dataclass(frozen=True)
class AlignParams:
    """Knobs of the aligner. Lengths are in words (tokens); defaults were tuned on half of the PAN 2013
    training pairs (`benchmarks/pan13.py --split` scores the other half).

    stem: characters of a content word kept as its stem (crude stemming: `government` ~ `governor`).
    window: a seed pairs each content word with each of the next `window` content words.
    max_hits: keys that occur more often than this in the source are too common to seed.
    gap: widest gap bridged between seeds of one passage, on either side (an injected phrase must be shorter).
    drift: how far the diagonal (source minus copy position) may move between consecutive seeds of a chain.
    min_chain: fewest seeds a chain needs before chains are merged into passages.
    exact: a passage is shrunk to its longest in-order chain of matches when the shrunk passage still shares
        this share of its word trigrams verbatim (near-verbatim reuse; shuffled text keeps its box).
    trim_gap, trim_run: a passage's ends are moved in to the first run of `trim_run` matched words spaced at
        most `trim_gap` words apart.
    min_words: fewest words a passage needs on each side.
    min_matched: fewest distinct matched content words a passage needs on each side.
    min_shared: fewest distinct content stems a passage's two sides must have in common. Texts on one topic
        match on a handful of topical words; reuse, even obfuscated, keeps more.
    min_cover: fewest matched content words, as a share of the content words, on each side.
    max_ratio: longest side over shortest side, at most.
    overlap: a passage overlapping a stronger one over this share of its copy side is dropped.
    exact_words: verbatim runs (`refine.exact_runs`) of this many words are passages in a pair that has one
        already; `exact_alone` words make one on their own.
    refine: settle the edges of near-verbatim passages word by word (`refine.refine_edges`), looking `margin`
        words beyond them, a line break costing `line_cost` and an edge line with under `line_share` of its
        words equal given up; then passages the copier only interrupted (gaps of at most `merge_chars`
        characters on both sides) are joined, and passages inside headline lists on both sides dropped.
    reorder_cover, reorder_words: a box that is not near-verbatim but whose copy side is `reorder_cover` verbatim
        runs of `reorder_words` words or more, on two or more diagonals (short paragraphs reordered, which the
        seeds' merge took for a local reshuffle), gives way to those runs; pieces of a passage split around a
        moved paragraph need `reorder_words` equal words.
    line_words: in a pair with a near-verbatim passage, a copy paragraph of this many words or more that no
        passage holds and that stands, lightly edited, in a paragraph of the source is a passage
        (`refine.moved_lines`).
    summary: run the second pass for summaries. Its copy side is a run of content words (found by X-drop with
        drop `summary_xdrop`) in which a word found in the source scores 1 - t and any other -t, where t is
        `summary_cover` or the pair's chance rate plus `summary_lift`, whichever is higher; the run needs
        `summary_words` words and `summary_matched` distinct matched stems. Its source side runs from the
        first to the last occurrence of its matched words that occur at most `summary_rare` times in the
        source; 80% of those occurrences must spread over at least `summary_spread` times the copy side, and
        the whole between `summary_min_ratio` and `summary_max_ratio` times it. A summary gives way to a
        first-pass passage that alone explains `summary_keep` of its copy side.
    """

    stem: int = 6
    drift: int = 10
    window: int = 3
    max_hits: int = 4
    gap: int = 25
    min_chain: int = 2
    trim_gap: int = 6
    trim_run: int = 3
    min_words: int = 15
    min_matched: int = 8
    min_shared: int = 12
    exact: float = 0.65
    min_cover: float = 0.4
    max_ratio: float = 2.5
    overlap: float = 0.5
    summary: bool = True
    summary_cover: float = 0.6
    summary_xdrop: float = 6.0
    summary_words: int = 40
    summary_matched: int = 20
    summary_rare: int = 3
    summary_lift: float = 0.3
    summary_spread: float = 1.0
    summary_min_ratio: float = 2.0
    summary_max_ratio: float = 25.0
    summary_keep: float = 0.7
    exact_words: int = 20
    exact_alone: int = 25
    refine: bool = True
    margin: int = 30
    line_cost: float = 2.0
    line_share: float = 0.75
    merge_chars: int = 300
    reorder_cover: float = 0.6
    reorder_words: int = 10
    line_words: int = 15


# A seed: the token ranges [c0, c1] in the copy and [s0, s1] in the source that share one key. A pair's seeds are
# held as four arrays, sorted by (c0, c1, s0, s1); a chain or a group of seeds is an array of indices into them.


@dataclass(frozen=True)
class _Seeds:
    c0: np.ndarray
    c1: np.ndarray
    s0: np.ndarray
    s1: np.ndarray

    def __len__(self) -> int:
        return len(self.c0)


_NO_INDEX = np.zeros(0, dtype=np.int64)


@dataclass
class _Text:
    tokens: Tokens
    cpos: list[int]  # token index of each content word
    cstem: list[str]  # its stem
    pos: np.ndarray  # cpos as an array
    stem_hash: np.ndarray  # hash of each stem, as uint64
    word_id: np.ndarray  # hash of each word (equal words, equal ids), as uint64
    grams: refine.Grams  # its word n-grams, for the verbatim runs of `refine`
    side: refine.Side  # the text as the word diff of `refine` sees it
    furniture: list[tuple[int, int]]  # token ranges of headline lists (`refine.furniture`)


def _prepare(text: str, p: AlignParams) -> _Text:
    return _prepare_cached(text, p.stem)


# In batch work one document meets many partners (a PAN suspicious document has up to 18 sources; a news
# article many candidate copies); tokenising is half the cost of an alignment, so recent texts are kept.
@lru_cache(maxsize=32)
def _prepare_cached(text: str, stem: int) -> _Text:
    tok = tokenize(text)
    # short numbers (dates, counts) recur by chance; long ones (years, figures) are evidence
    cpos = [i for i, w in enumerate(tok.words) if w not in STOPWORDS and not (len(w) < 4 and w.isdigit())]
    words = tok.words
    cstem = [words[i][:stem] for i in cpos]
    hashes = np.array([hash(x) for x in cstem], dtype=np.int64).view(np.uint64)
    word_ids = [hash(w) for w in words]
    word_hash = np.array(word_ids, dtype=np.int64).view(np.uint64)
    return _Text(tok, cpos, cstem, np.array(cpos, dtype=np.int64), hashes, word_hash, refine.Grams.of(word_hash),
                 refine.Side.of(text, tok, word_ids, word_hash.view(np.int64)),
                 refine.token_spans(tok, refine.furniture(text)))


def _pair_keys(t: _Text, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keys of each content word paired with each of its next `window` ones: (key, first token, last token).

    A key is the unordered pair of stem hashes, so a pair still matches with its two words swapped.
    """
    keys, lo, hi = [], [], []
    h, pos = t.stem_hash, t.pos
    for d in range(1, window + 1):
        if d >= len(h):
            break
        a, b = h[:-d], h[d:]
        with np.errstate(over="ignore"):
            keys.append(np.minimum(a, b) * refine.MIX + np.maximum(a, b))
        lo.append(pos[:-d])
        hi.append(pos[d:])
    if not keys:
        empty = np.zeros(0, dtype=np.int64)
        return empty.view(np.uint64), empty, empty
    return np.concatenate(keys), np.concatenate(lo), np.concatenate(hi)


def _pair_seeds(src: _Text, cp: _Text, p: AlignParams) -> _Seeds:
    """Every (copy pair, source pair) with the same key, skipping keys found more than `max_hits` times in
    the source; sorted by (c0, c1, s0, s1)."""
    skey, slo, shi = _pair_keys(src, p.window)
    ckey, clo, chi = _pair_keys(cp, p.window)
    if not len(skey) or not len(ckey):
        return _Seeds(_NO_INDEX, _NO_INDEX, _NO_INDEX, _NO_INDEX)
    order = np.argsort(skey)
    sk = skey[order]
    left = np.searchsorted(sk, ckey, side="left")
    count = np.searchsorted(sk, ckey, side="right") - left
    ok = np.nonzero((count > 0) & (count <= p.max_hits))[0]
    if not len(ok):
        return _Seeds(_NO_INDEX, _NO_INDEX, _NO_INDEX, _NO_INDEX)
    count, left = count[ok], left[ok]
    rep = np.repeat(np.arange(len(ok)), count)
    offset = np.arange(len(rep)) - np.repeat(np.cumsum(count) - count, count)
    sidx = order[left[rep] + offset]
    cidx = ok[rep]
    c0, c1, s0, s1 = clo[cidx], chi[cidx], slo[sidx], shi[sidx]
    by = np.lexsort((s1, s0, c1, c0))
    return _Seeds(c0[by], c1[by], s0[by], s1[by])


def _chain(seeds: _Seeds, gap: int, drift: int) -> np.ndarray:
    """The chain of each seed (`_chain_py`, in C where built), as an int64 array."""
    if _kernels is None:
        return np.array(_chain_py(seeds, gap, drift), dtype=np.int64)
    out = np.empty(len(seeds), dtype=np.int64)
    _kernels.chain(seeds.c0, seeds.c1, seeds.s0, seeds.s1, out, gap, drift)
    return out


def _chain_py(seeds: _Seeds, gap: int, drift: int) -> list[int]:
    """The chain of each seed: seeds grouped along diagonals, in copy order. Chains are numbered in the order
    they open.

    A seed joins the open chain whose copy side ends at most `gap` words before it, whose source side it does
    not jump past by more than `gap`, and whose last diagonal (source minus copy position) is within `drift`
    words of its own; the closest diagonal wins. Injected or dropped phrases shift the diagonal a little at a
    time and are bridged; chance matches between unrelated stretches land on scattered diagonals and stay
    isolated.
    """
    ids: list[int] = []
    n_chains = 0
    # open chain state: [copy reach, source low, source reach, last diagonal, chain number]
    open_: list[list[int]] = []
    last_c0 = -1
    for c0, c1, s0, s1 in zip(seeds.c0.tolist(), seeds.c1.tolist(), seeds.s0.tolist(), seeds.s1.tolist(),
                              strict=True):
        d = s0 - c0
        if c0 != last_c0:  # seeds come in copy order: chains close only when the copy position moves on
            open_ = [o for o in open_ if c0 - o[0] <= gap]
            last_c0 = c0
        best, best_dd = None, drift + 1
        lo_s, hi_s = s0 - gap, s1 + gap
        for o in open_:
            dd = d - o[3]
            if dd < 0:
                dd = -dd
            if dd < best_dd and o[2] >= lo_s and o[1] <= hi_s:
                best, best_dd = o, dd
                if not dd:  # no later chain can be closer, and ties go to the first
                    break
        if best is None:
            ids.append(n_chains)
            open_.append([c1, s0, s1, d, n_chains])
            n_chains += 1
        else:
            ids.append(best[4])
            if c1 > best[0]:
                best[0] = c1
            if s0 < best[1]:
                best[1] = s0
            if s1 > best[2]:
                best[2] = s1
            best[3] = d
    return ids


@dataclass
class _Candidate:
    c0: int
    c1: int
    s0: int
    s1: int
    seeds: int
    share_copy: float  # share of the copy side's content words found on the source side
    share_source: float
    shared: int = 0  # distinct content stems found on both sides
    cmatched: np.ndarray = field(default_factory=lambda: _NO_INDEX)  # copy tokens some seed covers (sorted)
    smatched: np.ndarray = field(default_factory=lambda: _NO_INDEX)
    # (copy token, source token) matched by a seed, as copy << 32 | source (sorted)
    points: np.ndarray = field(default_factory=lambda: _NO_INDEX)

    @property
    def strength(self) -> float:
        return self.seeds * (self.share_copy + self.share_source)


def _content_in(t: _Text, lo: int, hi: int) -> list[str]:
    return t.cstem[bisect_left(t.cpos, lo) : bisect_right(t.cpos, hi)]


def _count_content(t: _Text, lo: int, hi: int) -> int:
    return bisect_right(t.cpos, hi) - bisect_left(t.cpos, lo)


@dataclass
class _Group:
    """Chains whose boxes `_merge` joined: the box and all their seeds (index arrays, one per chain)."""

    c0: int
    c1: int
    s0: int
    s1: int
    seeds: list[np.ndarray]
    n_seeds: int


def _groups(seeds: _Seeds, chain: np.ndarray, min_chain: int) -> list[_Group]:
    """One group per chain of at least `min_chain` seeds, in chain order, boxed by its seeds."""
    if not len(chain):
        return []
    counts = np.bincount(chain)
    order = np.argsort(chain, kind="stable")
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    c0 = np.minimum.reduceat(seeds.c0[order], starts).tolist()
    c1 = np.maximum.reduceat(seeds.c1[order], starts).tolist()
    s0 = np.minimum.reduceat(seeds.s0[order], starts).tolist()
    s1 = np.maximum.reduceat(seeds.s1[order], starts).tolist()
    bounds = starts.tolist() + [len(order)]
    return [_Group(c0[k], c1[k], s0[k], s1[k], [order[bounds[k]:bounds[k + 1]]], n)
            for k, n in enumerate(counts.tolist()) if n >= min_chain]


def _candidate(g: _Group, seeds: _Seeds, src: _Text, cp: _Text) -> _Candidate:
    idx = np.concatenate(g.seeds) if len(g.seeds) > 1 else g.seeds[0]
    a, b, x, y = seeds.c0[idx], seeds.c1[idx], seeds.s0[idx], seeds.s1[idx]
    cm = np.unique(np.concatenate((a, b)))
    sm = np.unique(np.concatenate((x, y)))
    # a key is an unordered pair: when the two words come in the other order in the source, they cross
    cw, sw = cp.word_id, src.word_id
    cross = (cw[a] != sw[x]) & (cw[b] == sw[x])
    pc = np.concatenate((a, b))
    ps = np.concatenate((np.where(cross, y, x), np.where(cross, x, y)))
    pts = np.unique((pc << 32) | ps)
    # the shares are scored once the box is straightened and trimmed (`align`)
    return _Candidate(g.c0, g.c1, g.s0, g.s1, g.n_seeds, 0.0, 0.0, 0, cm, sm, pts)


def _rescore(c: _Candidate, src: _Text, cp: _Text) -> _Candidate:
    cw, sw = _content_in(cp, c.c0, c.c1), _content_in(src, c.s0, c.s1)
    cset, sset = set(cw), set(sw)
    share_c = sum(w in sset for w in cw) / len(cw) if cw else 0.0
    share_s = sum(w in cset for w in sw) / len(sw) if sw else 0.0
    # a new candidate, as `replace` makes, built directly: this runs for every chain of every pair
    return _Candidate(c.c0, c.c1, c.s0, c.s1, c.seeds, share_c, share_s, len(cset & sset), c.cmatched, c.smatched,
                      c.points)


def _resolve(cands: list[_Candidate], overlap: float, kept: list[_Candidate] | None = None) -> list[_Candidate]:
    """Drop candidates that mostly overlap a stronger one (or one already `kept`) on the copy side."""
    kept = list(kept or [])
    for c in sorted(cands, key=lambda c: -c.strength):
        size = c.c1 - c.c0 + 1
        if all(min(c.c1, k.c1) - max(c.c0, k.c0) + 1 <= overlap * size for k in kept):
            kept.append(c)
    return kept


def _take_identical(box: refine.Box, src: _Text, cp: _Text, in_line: bool = False) -> refine.Box:
    """Seeds start and end on content words: take in the identical words (stop words included) around them; with
    `in_line`, only as far as the line goes on both sides (a settled edge only misses a word the diff paired
    with another occurrence of it)."""
    sw, cw = src.tokens.words, cp.tokens.words
    ss, cs = src.side, cp.side

    def joined(a: int, b: int, t: Tokens, side: refine.Side) -> bool:
        return not in_line or not side.breaks(t.ends[a], t.starts[b])

    c0, c1, s0, s1 = box
    st, ct = src.tokens, cp.tokens
    while (c0 > 0 and s0 > 0 and cw[c0 - 1] == sw[s0 - 1] and joined(c0 - 1, c0, ct, cs)
           and joined(s0 - 1, s0, st, ss)):
        c0, s0 = c0 - 1, s0 - 1
    while (c1 + 1 < len(cw) and s1 + 1 < len(sw) and cw[c1 + 1] == sw[s1 + 1] and joined(c1, c1 + 1, ct, cs)
           and joined(s1, s1 + 1, st, ss)):
        c1, s1 = c1 + 1, s1 + 1
    return c0, c1, s0, s1


def _to_passage(c: _Candidate, source: str, copy: str, src: _Text, cp: _Text, extend: bool = True) -> Passage:
    # the settled edges of `refine` need no more; the seeds' boxes take in the identical words around them
    c0, c1, s0, s1 = _take_identical((c.c0, c.c1, c.s0, c.s1), src, cp) if extend else (c.c0, c.c1, c.s0, c.s1)
    return Passage(
        src.tokens.starts[s0],
        _close(source, src.tokens.ends[s1]),
        cp.tokens.starts[c0],
        _close(copy, cp.tokens.ends[c1]),
    )


def _close(text: str, end: int) -> int:
    """Take in the sentence punctuation right after a passage's last word."""
    if end < len(text) and text[end] in ".!?;:)\"'’”»":
        return end + 1
    return end


def _edges(pos: list[int], gap: int, run: int) -> tuple[int, int] | None:
    """First and last matched token that open / close a run of `run` matches spaced at most `gap` words."""
    n = len(pos)
    lo = hi = None
    for i in range(n - run + 1):
        if pos[i + run - 1] - pos[i] <= gap * (run - 1) and all(
            pos[j + 1] - pos[j] <= gap for j in range(i, i + run - 1)
        ):
            lo = pos[i]
            break
    for i in range(n - 1, run - 2, -1):
        if all(pos[j] - pos[j - 1] <= gap for j in range(i, i - run + 1, -1)):
            hi = pos[i]
            break
    if lo is None or hi is None or lo > hi:
        return None
    return lo, hi


def _monotone(points: np.ndarray) -> list[tuple[int, int]]:
    """The longest chain of matched points (copy << 32 | source) that runs forward on both sides (patience
    sorting).

    Of the longest chains, the one whose last step keeps closest to its diagonal is taken, so that a passage's
    last word is matched with its own copy rather than with another occurrence of the same word.
    """
    c, s = points >> 32, points & 0xFFFFFFFF
    by = np.lexsort((-s, c))
    c, s = c[by], s[by]
    if _kernels is not None:
        at = np.empty(len(c), dtype=np.int64)
        n = _kernels.monotone(c, s, at)
        return list(zip(c[at[:n]].tolist(), s[at[:n]].tolist(), strict=True))
    return _monotone_py(list(zip(c.tolist(), s.tolist(), strict=True)))


def _monotone_py(pts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`_monotone`'s patience sort over points sorted by (copy ascending, source descending)."""
    tails: list[int] = []  # source position ending the best chain of each length
    tail_at: list[int] = []  # index in pts of that end
    prev = [-1] * len(pts)
    length = [0] * len(pts)
    for i, (_, sv) in enumerate(pts):
        k = bisect_right(tails, sv)
        if k == len(tails):
            tails.append(sv)
            tail_at.append(i)
        else:
            tails[k] = sv
            tail_at[k] = i
        prev[i] = tail_at[k - 1] if k else -1
        length[i] = k + 1
    out: list[tuple[int, int]] = []
    # the first longest chain whose last step bends least (the bend is computed for the longest ones only)
    longest = max(length, default=0)
    i, least = -1, -1
    for j, n in enumerate(length):
        if n == longest:
            bend = _bend(pts, prev, j)
            if i < 0 or bend < least:
                i, least = j, bend
    while i >= 0:
        out.append(pts[i])
        i = prev[i]
    return out[::-1]


def _bend(pts: list[tuple[int, int]], prev: list[int], j: int) -> int:
    """How far point j leaves the diagonal (source minus copy position) of the point before it in its chain."""
    if prev[j] < 0:
        return 0
    (c, s), (pc, ps) = pts[j], pts[prev[j]]
    return abs((s - c) - (ps - pc))


def _exact_share(c: _Candidate, src: _Text, cp: _Text, n: int = 3) -> float:
    """Share of the copy side's word n-grams (stop words included) found verbatim on the source side."""
    sw, cw = src.tokens.words, cp.tokens.words
    total = c.c1 - c.c0 - n + 2
    if total <= 0:
        return 0.0
    grams = set(zip(*(sw[c.s0 + k : c.s1 + 1] for k in range(n)), strict=False))  # slices shorten
    return sum(g in grams for g in zip(*(cw[c.c0 + k : c.c1 + 1] for k in range(n)), strict=False)) / total


def _straighten(c: _Candidate, src: _Text, cp: _Text, exact: float) -> _Candidate:
    """Shrink a near-verbatim passage's box to its longest in-order chain of matches.

    A topical word that also occurs far from the reused text (the subject's name in a heading) seeds a match
    at an odd position on one side, and the box of all seeds then stretches that side over unrelated text.
    The matches of a copied passage run forward together on both sides, so its box is taken from them only.
    A passage whose words were shuffled (sentences swapped, phrases moved) has no long in-order chain: it
    keeps its box unless the straightened box still shares `exact` of its word trigrams verbatim.
    """
    chain = _monotone(c.points)
    if len(chain) < 2:
        return c
    # the chain runs forward on both sides (`_monotone`), so its ends are its extremes
    c0, c1, s0, s1 = chain[0][0], chain[-1][0], chain[0][1], chain[-1][1]
    if _exact_share(_Candidate(c0, c1, s0, s1, 0, 0.0, 0.0), src, cp) < exact:
        return c
    cm, sm, pts = c.cmatched, c.smatched, c.points
    pc, ps = pts >> 32, pts & 0xFFFFFFFF
    return _Candidate(c0, c1, s0, s1, c.seeds, c.share_copy, c.share_source, c.shared,
                      cm[(cm >= c0) & (cm <= c1)], sm[(sm >= s0) & (sm <= s1)],
                      pts[(pc >= c0) & (pc <= c1) & (ps >= s0) & (ps <= s1)])


def _trim(c: _Candidate, gap: int, run: int) -> _Candidate:
    """Cut stray matches off both ends of a passage.

    Topical words next to a reused passage (same subject, different text) chain onto it; real reuse matches
    densely, so each end is moved in to the first run of `run` matches no more than `gap` words apart.
    """
    ce = _edges(c.cmatched.tolist(), gap, run)
    se = _edges(c.smatched.tolist(), gap, run)
    if ce is None or se is None:
        return c
    c0, c1 = ce
    s0, s1 = se
    cm, sm = c.cmatched, c.smatched
    return _Candidate(c0, c1, s0, s1, c.seeds, c.share_copy, c.share_source, c.shared,
                      cm[(cm >= c0) & (cm <= c1)], sm[(sm >= s0) & (sm <= s1)], c.points)


def _merge(groups: list[_Group], gap: int) -> list[_Group]:
    """Merge chains whose boxes lie within `gap` words of each other on both sides.

    Chains break where local reordering scrambles the diagonal; the pieces of one reused passage still sit
    next to each other on both sides, so they are joined back into one passage (granularity near 1).
    """
    groups = sorted(groups, key=lambda c: c.c0)
    changed = True
    while changed:
        changed = False
        out: list[_Group] = []
        for c in groups:
            for k in out:
                # c starts no earlier than k in the copy. A long c that starts well before k in the source is
                # a reordered paragraph, not a piece of the same passage; short pieces are local reshuffles.
                if (
                    c.c0 - k.c1 <= gap
                    and c.s0 - k.s1 <= gap
                    and k.s0 - c.s1 <= gap
                    and (c.s0 >= k.s0 - gap or c.c1 - c.c0 < 2 * gap)
                ):
                    k.c0, k.c1 = min(k.c0, c.c0), max(k.c1, c.c1)
                    k.s0, k.s1 = min(k.s0, c.s0), max(k.s1, c.s1)
                    k.seeds = k.seeds + c.seeds
                    k.n_seeds += c.n_seeds
                    changed = True
                    break
            else:
                out.append(_Group(c.c0, c.c1, c.s0, c.s1, c.seeds, c.n_seeds))
        groups = out
    return groups


def align(source: str, copy: str, params: AlignParams | None = None) -> list[Passage]:
    """Passages of `source` reused in `copy`, sorted by `copy_start`; offsets are raw `str` indices."""
    p = params or AlignParams()
    src, cp = _prepare(source, p), _prepare(copy, p)
    seeds = _pair_seeds(src, cp, p)
    chains = _groups(seeds, _chain(seeds, p.gap, p.drift), p.min_chain)
    longest_chain = max((g.n_seeds for g in chains), default=0)
    cands: list[_Candidate] = []
    for g in _merge(chains, p.gap):
        # a passage needs `min_matched` matched words on each side; a seed matches two, and straightening and
        # trimming only drop matches: most groups (chance matches of a few seeds) end here
        if 2 * g.n_seeds < p.min_matched:
            continue
        b = _candidate(g, seeds, src, cp)
        if min(len(b.cmatched), len(b.smatched)) < p.min_matched:
            continue
        c = _rescore(_trim(_straighten(b, src, cp, p.exact), p.trim_gap, p.trim_run), src, cp)
        clen, slen = c.c1 - c.c0 + 1, c.s1 - c.s0 + 1
        ncw, nsw = _count_content(cp, c.c0, c.c1), _count_content(src, c.s0, c.s1)
        if (
            min(clen, slen) >= p.min_words
            and max(clen, slen) <= p.max_ratio * min(clen, slen)
            and min(len(c.cmatched), len(c.smatched)) >= p.min_matched
            and c.shared >= p.min_shared
            and min(len(c.cmatched) / max(ncw, 1), len(c.smatched) / max(nsw, 1)) >= p.min_cover
        ):
            cands.append(c)
    kept = _resolve(cands, p.overlap)
    if p.summary:
        kept = _add_summaries(kept, _summaries(src, cp, p), p.summary_keep)
    boxes = [(c.c0, c.c1, c.s0, c.s1) for c in kept]
    # a verbatim run long enough to stand alone leaves a long chain of seeds; without one, no run is looked for
    if p.refine and (boxes or longest_chain >= p.exact_alone // 3):
        boxes = _settle(boxes, src, cp, p)
    out = [_to_passage(_Candidate(*b, 0, 0.0, 0.0), source, copy, src, cp, extend=not p.refine) for b in boxes]
    out.sort(key=lambda x: (x.copy_start, x.source_start))
    return out


def _settle(boxes: list[refine.Box], src: _Text, cp: _Text, p: AlignParams) -> list[refine.Box]:
    """Passage boundaries word by word (`refine`): verbatim runs the seeds missed, edges through noise, passages
    split around text moved into them, passages the copier only interrupted joined, headline lists left out."""
    st, ct = src.tokens, cp.tokens

    def settle(b: refine.Box, walls: tuple[refine.Box, ...] = (), min_words: int = p.exact_words,
               margin: int = p.margin) -> list[refine.Box] | None:
        return refine.refine_edges(b, src.side, cp.side, margin=margin, min_words=min_words,
                                   line_cost=p.line_cost, line_share=p.line_share, wall_chars=p.merge_chars,
                                   walls=walls)

    # one pass finds the runs of both lengths (the length only filters the chained runs)
    found = refine.exact_runs(src.grams, cp.grams, min_words=min(p.exact_words, p.reorder_words))
    all_runs = [(r, words) for r, words in found if words >= p.exact_words]
    short_runs = [r for r, words in found if words >= p.reorder_words]
    # boxes that are not near-verbatim (paraphrase, summaries) keep the seeds' edges and explain any verbatim run
    # that touches them; short runs count only in a pair with a near-verbatim passage. A box that is mostly
    # verbatim runs out of order (short paragraphs reordered, which the seeds' merge took for a local reshuffle)
    # is those runs, settled one by one, and no box of its own.
    settled: list[refine.Box] = []
    loose: list[refine.Box] = []
    reordered = False
    for b in boxes:
        pieces = settle(b)
        if pieces is None:
            inside = [r for r in short_runs if refine.within(r, b)]
            if refine.reordered_runs(b, inside, p.reorder_cover):
                reordered = True
                # settled within themselves: a word diff beyond one would pair it with its reordered neighbours
                settled += [x for r in inside for x in settle(r, min_words=p.reorder_words, margin=0) or [r]]
                continue
            b = _take_identical(b, src, cp)
            loose.append(b)
        settled += [b] if pieces is None else pieces
    verbatim = reordered or len(settled) > len(loose)
    runs = [r for r, words in all_runs
            if (verbatim or words >= p.exact_alone)
            and not any(refine.overlap(r[0], r[1], b[0], b[1]) for b in loose)]
    # a run where a passage already has it adds nothing; nor does another reading of the same copy words (text
    # the source repeats elsewhere)
    placed = [r for r in runs if any(refine.same_place(r, b) for b in settled)]
    for run in runs:
        if run in placed or any(refine.overlap(run[0], run[1], r[0], r[1]) > 0.5 * (run[1] - run[0] + 1)
                                for r in placed):
            continue
        settled += [x for x in settle(run) or [run] if not any(refine.same_place(x, b) for b in settled)]
    # a short paragraph moved elsewhere, its typos breaking every run long enough: matched as a paragraph
    if verbatim:
        settled += refine.moved_lines(src.side, cp.side, settled, min_words=p.line_words)
    # a passage that holds, on one side, the text of another passage (a paragraph moved into it, or moved out
    # of it) is settled again in pieces that do not cross it
    boxes = []
    for b in settled:
        walls = tuple(o for o in settled if o != b and (refine.swallows(b, o) or refine.holds_moved(b, o)))
        boxes += (settle(b, walls) or [b]) if walls and b not in loose else [b]
    if not boxes:
        return []
    boxes = refine.merge_interrupted(boxes, st, ct, p.merge_chars)
    # two pages that list the same headlines share page furniture, not an article: a passage mostly in such lists on
    # both sides goes, and so does one in such a list on one side that is a line of its own on the other (a
    # headline the other page prints alone); one that starts (or ends) in them on both sides is cut back
    out = []
    for b in boxes:
        in_c, in_s = refine.inside_share(b[0], b[1], cp.furniture), refine.inside_share(b[2], b[3], src.furniture)
        if min(in_c, in_s) >= 0.5 or (in_c >= 0.5 and refine.lone_line(src.side, b[2], b[3])) or \
                (in_s >= 0.5 and refine.lone_line(cp.side, b[0], b[1])):
            continue
        out.append(refine.clip(b, cp.furniture, src.furniture))
    out = [b for b in out if b[0] <= b[1] and b[2] <= b[3]]
    out = [b if b in loose else _take_identical(b, src, cp, in_line=True) for b in out]
    # a box mostly inside another on the copy side (a run the merged passage took in) is not a passage of its own
    out.sort(key=lambda b: b[0] - b[1])
    kept: list[refine.Box] = []
    for b in out:
        if all(refine.overlap(b[0], b[1], k[0], k[1]) <= 0.5 * (b[1] - b[0] + 1) for k in kept):
            kept.append(b)
    return kept


def _segments(score: list[float], xdrop: float, min_score: float) -> list[tuple[int, int]]:
    """Maximal high-scoring runs of `score` (X-drop): each run ends at its best prefix sum and is given up once
    the running sum falls `xdrop` below that best or to zero."""
    out: list[tuple[int, int]] = []
    n, k = len(score), 0
    while k < n:
        if score[k] <= 0:
            k += 1
            continue
        start, cur, best, best_end = k, 0.0, 0.0, k
        while k < n:
            cur += score[k]
            if cur > best:
                best, best_end = cur, k
            elif cur <= 0 or cur < best - xdrop:
                break
            k += 1
        if best >= min_score:
            out.append((start, best_end))
        k = best_end + 1
    return out


def _summaries(src: _Text, cp: _Text, p: AlignParams) -> list[_Candidate]:
    """Stretches of the copy whose content words nearly all occur in the source, spread over far more source.

    A summary keeps the vocabulary of its source but not its word order or length: on the copy side it is a run
    in which most content words are found in the source (outside reuse, unrelated text of the same topic finds
    about a third); on the source side its rarer words are scattered over a stretch several times longer.
    """
    occ: dict[str, list[int]] = {}
    for i, st in zip(src.cpos, src.cstem, strict=True):
        occ.setdefault(st, []).append(i)
    hit = [st in occ for st in cp.cstem]
    if not hit:
        return []
    # the longer the source, the more of any copy's words it holds by chance: ask for a lift over that rate
    theta = max(p.summary_cover, sum(hit) / len(hit) + p.summary_lift)
    if theta >= 0.95:  # the copy shares nearly all its words with the source anyway: nothing stands out
        return []
    segs = _segments([(1.0 - theta) if h else -theta for h in hit], p.summary_xdrop, p.summary_xdrop)
    out: list[_Candidate] = []
    for a, b in segs:
        c0, c1 = cp.cpos[a], cp.cpos[b]
        clen = c1 - c0 + 1
        stems = {cp.cstem[k] for k in range(a, b + 1) if hit[k]}
        if clen < p.summary_words or len(stems) < p.summary_matched:
            continue
        # rare words place a summary in its source; common ones occur everywhere
        pts = sorted(i for st in stems if len(occ[st]) <= p.summary_rare for i in occ[st])
        if len(pts) < p.summary_matched // 2:
            continue
        m = max(2, int(0.8 * len(pts)))
        core = min(pts[j + m - 1] - pts[j] for j in range(len(pts) - m + 1))
        span = pts[-1] - pts[0] + 1
        if core < p.summary_spread * clen or not p.summary_min_ratio * clen <= span <= p.summary_max_ratio * clen:
            continue
        s0, s1 = pts[0], pts[-1]
        cm = sorted({cp.cpos[k] for k in range(a, b + 1) if hit[k]})
        c = _Candidate(c0, c1, s0, s1, len(cm), 0.0, 0.0, 0, np.array(cm, dtype=np.int64),
                       np.array(sorted(set(pts)), dtype=np.int64))
        out.append(_rescore(c, src, cp))
    return out


def _add_summaries(kept: list[_Candidate], summaries: list[_Candidate], keep: float) -> list[_Candidate]:
    """Summaries fill what the first pass left unexplained, and absorb its fragments.

    The first pass finds the sentences of a summary that kept a phrase of the source, each a short passage of
    its own. A summary replaces the first-pass passages it overlaps, taking in their extent, unless one of them
    alone explains `keep` of its copy side: then the copy is a reuse the first pass already found.
    """
    for s in sorted(summaries, key=lambda c: -c.strength):
        size = s.c1 - s.c0 + 1
        hit = [k for k in kept if min(s.c1, k.c1) >= max(s.c0, k.c0)]
        if all(min(s.c1, k.c1) - max(s.c0, k.c0) + 1 < keep * size for k in hit):
            s = replace(
                s,
                c0=min([s.c0] + [k.c0 for k in hit]),
                c1=max([s.c1] + [k.c1 for k in hit]),
                s0=min([s.s0] + [k.s0 for k in hit]),
                s1=max([s.s1] + [k.s1 for k in hit]),
            )
            kept = [k for k in kept if k not in hit] + [s]
    return kept


def _align_star(args: tuple[str, str, AlignParams | None]) -> list[Passage]:
    return align(*args)


def align_many(
    pairs: Iterable[tuple[str, str]], params: AlignParams | None = None, workers: int = 2
) -> list[list[Passage]]:
    """`align` over `(source, copy)` pairs, in a process pool when `workers > 1`; results in input order."""
    jobs = [(s, c, params) for s, c in pairs]
    if workers <= 1 or len(jobs) < 8:
        return [_align_star(j) for j in jobs]
    with ProcessPoolExecutor(max_workers=workers) as ex:
        return list(ex.map(_align_star, jobs, chunksize=max(1, len(jobs) // (workers * 8))))
