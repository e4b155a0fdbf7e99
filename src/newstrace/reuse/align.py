"""Local alignment of two texts: which passages of `source` reappear in `copy`.

Seed-extend-filter (the PAN text-alignment recipe), on the word tokens of `newstrace.tokens.tokenize`:

1. seeds: hashed keys shared by both texts. The keys are sorted pairs of nearby content words (stop words
   dropped, crude stems), so a seed survives inserted phrases, swapped words and most synonym edits that break
   exact n-grams;
2. extend: seeds are chained along diagonals (source minus copy position) in copy order, bridging gaps up to a
   tolerance while the diagonal drifts only a little; chains that sit next to each other on both sides are
   then merged, so a passage with a phrase injected every sentence comes out whole, while a reordered
   paragraph (a jump of the diagonal with a gap in the copy) becomes a passage of its own;
3. filter: stray matches are trimmed off both ends, passages with few matched words, a low share of matched
   words or very unequal sides are dropped, and passages that mostly overlap a stronger one in the copy are
   dropped (text repeated in the source).

An adaptive second pass looks for summaries: a stretch of the copy whose content words are spread thinly over a
much longer stretch of the source (single-word seeds, a wide source-side gap, strict thresholds). It only fills
parts of the copy that the first pass left unexplained, or replaces first-pass fragments lying inside it.

Offsets in the returned `Passage`s are raw `str` indices into the input texts.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import lru_cache

from newstrace.model import Passage
from newstrace.tokens import Tokens, tokenize

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
    """Knobs of the aligner. Lengths are in words (tokens); defaults were tuned on PAN 2013 training data.

    stem: characters of a content word kept as its stem (crude stemming: `government` ~ `governor`).
    window: a seed pairs each content word with each of the next `window` content words.
    max_hits: keys that occur more often than this in the source are too common to seed.
    gap: widest gap bridged between seeds of one passage, on either side (an injected phrase must be shorter).
    drift: how far the diagonal (source minus copy position) may move between consecutive seeds of a chain.
    min_chain: fewest seeds a chain needs before chains are merged into passages.
    trim_gap, trim_run: a passage's ends are moved in to the first run of `trim_run` matched words spaced at
        most `trim_gap` words apart.
    min_words: fewest words a passage needs on each side.
    min_matched: fewest distinct matched content words a passage needs on each side.
    min_cover: fewest matched content words, as a share of the content words, on each side.
    max_ratio: longest side over shortest side, at most.
    overlap: a passage overlapping a stronger one over this share of its copy side is dropped.
    summary: run the second pass for summaries; the `summary_*` knobs are its own thresholds (its seeds are
        single content words, its source-side gap is `summary_gap`, and its source side must be between
        `summary_min_ratio` and `summary_max_ratio` times its copy side).
    """

    stem: int = 6
    drift: int = 10
    window: int = 2
    max_hits: int = 4
    gap: int = 25
    min_chain: int = 2
    trim_gap: int = 6
    trim_run: int = 3
    min_words: int = 15
    min_matched: int = 8
    min_cover: float = 0.4
    max_ratio: float = 2.5
    overlap: float = 0.5
    summary: bool = True
    summary_gap: int = 150
    summary_words: int = 60
    summary_matched: int = 25
    summary_cover: float = 0.35
    summary_share: float = 0.6
    summary_min_ratio: float = 2.0
    summary_max_ratio: float = 10.0


# A seed: the token ranges [c0, c1] in the copy and [s0, s1] in the source that share one key.
Seed = tuple[int, int, int, int]


@dataclass
class _Text:
    tokens: Tokens
    cpos: list[int]  # token index of each content word
    cstem: list[str]  # its stem


def _prepare(text: str, p: AlignParams) -> _Text:
    return _prepare_cached(text, p.stem)


# In batch work one document meets many partners (a PAN suspicious document has up to 18 sources; a news
# article many candidate copies); tokenising is half the cost of an alignment, so recent texts are kept.
@lru_cache(maxsize=32)
def _prepare_cached(text: str, stem: int) -> _Text:
    tok = tokenize(text)
    cpos: list[int] = []
    cstem: list[str] = []
    for i, w in enumerate(tok.words):
        # short numbers (dates, counts) recur by chance; long ones (years, figures) are evidence
        if w not in STOPWORDS and not (w.isdigit() and len(w) < 4):
            cpos.append(i)
            cstem.append(w[:stem])
    return _Text(tok, cpos, cstem)


def _pair_keys(t: _Text, window: int) -> Iterable[tuple[int, int, int]]:
    """(hashed sorted stem pair, first token, last token) for each content word and its next `window` ones."""
    pos, stem = t.cpos, t.cstem
    n = len(pos)
    for k in range(n):
        a = stem[k]
        for d in range(1, window + 1):
            if k + d >= n:
                break
            b = stem[k + d]
            yield hash((a, b) if a <= b else (b, a)), pos[k], pos[k + d]


def _pair_seeds(src: _Text, cp: _Text, p: AlignParams) -> list[Seed]:
    index: dict[int, list[tuple[int, int]]] = {}
    for key, lo, hi in _pair_keys(src, p.window):
        index.setdefault(key, []).append((lo, hi))
    out: list[Seed] = []
    for key, lo, hi in _pair_keys(cp, p.window):
        hits = index.get(key)
        if hits and len(hits) <= p.max_hits:
            out.extend((lo, hi, s0, s1) for s0, s1 in hits)
    return out


def _word_seeds(src: _Text, cp: _Text, p: AlignParams) -> list[Seed]:
    """Single content-word matches: the loose seeds of the summary pass."""
    index: dict[str, list[int]] = {}
    for i, s in zip(src.cpos, src.cstem, strict=True):
        index.setdefault(s, []).append(i)
    out: list[Seed] = []
    for j, s in zip(cp.cpos, cp.cstem, strict=True):
        hits = index.get(s)
        if hits and len(hits) <= p.max_hits:
            out.extend((j, j, i, i) for i in hits)
    return out


def _split(seeds: list[Seed], lo: int, hi: int, gap: int) -> list[list[Seed]]:
    seeds = sorted(seeds, key=lambda s: s[lo])
    groups = [[seeds[0]]]
    reach = seeds[0][hi]
    for s in seeds[1:]:
        if s[lo] - reach > gap:
            groups.append([s])
            reach = s[hi]
        else:
            groups[-1].append(s)
            reach = max(reach, s[hi])
    return groups


def _chain(seeds: list[Seed], gap: int, drift: int) -> list[list[Seed]]:
    """Group seeds into chains along diagonals, in copy order.

    A seed joins the open chain whose copy side ends at most `gap` words before it, whose source side it does
    not jump past by more than `gap`, and whose last diagonal (source minus copy position) is within `drift`
    words of its own; the closest diagonal wins. Injected or dropped phrases shift the diagonal a little at a
    time and are bridged; chance matches between unrelated stretches land on scattered diagonals and stay
    isolated.
    """
    seeds = sorted(seeds)
    chains: list[list[Seed]] = []
    # open chain state: [copy reach, source low, source reach, last diagonal, chain index]
    open_: list[list[int]] = []
    for seed in seeds:
        c0, c1, s0, s1 = seed
        d = s0 - c0
        open_ = [o for o in open_ if c0 - o[0] <= gap]
        best, best_dd = None, drift + 1
        for o in open_:
            dd = abs(d - o[3])
            if dd < best_dd and s0 - o[2] <= gap and o[1] - s1 <= gap:
                best, best_dd = o, dd
        if best is None:
            chains.append([seed])
            open_.append([c1, s0, s1, d, len(chains) - 1])
        else:
            chains[best[4]].append(seed)
            best[0] = max(best[0], c1)
            best[1] = min(best[1], s0)
            best[2] = max(best[2], s1)
            best[3] = d
    return chains


def _cluster(seeds: list[Seed], copy_gap: int, source_gap: int) -> list[list[Seed]]:
    """Split on the copy axis, then the source axis, and again, until no group splits."""
    todo = [seeds]
    done: list[list[Seed]] = []
    while todo:
        g = todo.pop()
        parts = _split(g, 0, 1, copy_gap)
        if len(parts) == 1:
            parts = _split(g, 2, 3, source_gap)
            if len(parts) == 1:
                done.append(g)
                continue
        todo.extend(parts)
    return done


@dataclass
class _Candidate:
    c0: int
    c1: int
    s0: int
    s1: int
    seeds: int
    share_copy: float  # share of the copy side's content words found on the source side
    share_source: float
    cmatched: set[int] = field(default_factory=set)  # copy tokens that some seed covers
    smatched: set[int] = field(default_factory=set)

    @property
    def strength(self) -> float:
        return self.seeds * (self.share_copy + self.share_source)


def _content_in(t: _Text, lo: int, hi: int) -> list[str]:
    return t.cstem[bisect_left(t.cpos, lo) : bisect_right(t.cpos, hi)]


def _count_content(t: _Text, lo: int, hi: int) -> int:
    return bisect_right(t.cpos, hi) - bisect_left(t.cpos, lo)


def _candidate(g: list[Seed], src: _Text, cp: _Text) -> _Candidate:
    c0, c1 = min(s[0] for s in g), max(s[1] for s in g)
    s0, s1 = min(s[2] for s in g), max(s[3] for s in g)
    cm = {s[0] for s in g} | {s[1] for s in g}
    sm = {s[2] for s in g} | {s[3] for s in g}
    return _rescore(_Candidate(c0, c1, s0, s1, len(g), 0.0, 0.0, cm, sm), src, cp)


def _rescore(c: _Candidate, src: _Text, cp: _Text) -> _Candidate:
    cw, sw = _content_in(cp, c.c0, c.c1), _content_in(src, c.s0, c.s1)
    cset, sset = set(cw), set(sw)
    share_c = sum(w in sset for w in cw) / len(cw) if cw else 0.0
    share_s = sum(w in cset for w in sw) / len(sw) if sw else 0.0
    return replace(c, share_copy=share_c, share_source=share_s)


def _resolve(cands: list[_Candidate], overlap: float, kept: list[_Candidate] | None = None) -> list[_Candidate]:
    """Drop candidates that mostly overlap a stronger one (or one already `kept`) on the copy side."""
    kept = list(kept or [])
    for c in sorted(cands, key=lambda c: -c.strength):
        size = c.c1 - c.c0 + 1
        if all(min(c.c1, k.c1) - max(c.c0, k.c0) + 1 <= overlap * size for k in kept):
            kept.append(c)
    return kept


def _to_passage(c: _Candidate, source: str, copy: str, src: _Text, cp: _Text) -> Passage:
    # Seeds start and end on content words: take in the identical words (stop words included) around them.
    sw, cw = src.tokens.words, cp.tokens.words
    c0, c1, s0, s1 = c.c0, c.c1, c.s0, c.s1
    while c0 > 0 and s0 > 0 and cw[c0 - 1] == sw[s0 - 1]:
        c0, s0 = c0 - 1, s0 - 1
    while c1 + 1 < len(cw) and s1 + 1 < len(sw) and cw[c1 + 1] == sw[s1 + 1]:
        c1, s1 = c1 + 1, s1 + 1
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


def _trim(c: _Candidate, gap: int, run: int) -> _Candidate:
    """Cut stray matches off both ends of a passage.

    Topical words next to a reused passage (same subject, different text) chain onto it; real reuse matches
    densely, so each end is moved in to the first run of `run` matches no more than `gap` words apart.
    """
    ce = _edges(sorted(c.cmatched), gap, run)
    se = _edges(sorted(c.smatched), gap, run)
    if ce is None or se is None:
        return c
    c0, c1 = ce
    s0, s1 = se
    return replace(
        c,
        c0=c0,
        c1=c1,
        s0=s0,
        s1=s1,
        cmatched={x for x in c.cmatched if c0 <= x <= c1},
        smatched={x for x in c.smatched if s0 <= x <= s1},
    )


def _merge(cands: list[_Candidate], gap: int) -> list[_Candidate]:
    """Merge candidates whose boxes lie within `gap` words of each other on both sides.

    Chains break where local reordering scrambles the diagonal; the pieces of one reused passage still sit
    next to each other on both sides, so they are joined back into one passage (granularity near 1).
    """
    cands = sorted(cands, key=lambda c: c.c0)
    changed = True
    while changed:
        changed = False
        out: list[_Candidate] = []
        for c in cands:
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
                    k.seeds += c.seeds
                    k.cmatched |= c.cmatched
                    k.smatched |= c.smatched
                    changed = True
                    break
            else:
                out.append(replace(c, cmatched=set(c.cmatched), smatched=set(c.smatched)))
        cands = out
    return cands


def align(source: str, copy: str, params: AlignParams | None = None) -> list[Passage]:
    """Passages of `source` reused in `copy`, sorted by `copy_start`; offsets are raw `str` indices."""
    p = params or AlignParams()
    src, cp = _prepare(source, p), _prepare(copy, p)
    chains = [g for g in _chain(_pair_seeds(src, cp, p), p.gap, p.drift) if len(g) >= p.min_chain]
    boxes = _merge([_candidate(g, src, cp) for g in chains], p.gap)
    cands: list[_Candidate] = []
    for b in boxes:
        c = _rescore(_trim(b, p.trim_gap, p.trim_run), src, cp)
        clen, slen = c.c1 - c.c0 + 1, c.s1 - c.s0 + 1
        ncw, nsw = _count_content(cp, c.c0, c.c1), _count_content(src, c.s0, c.s1)
        if (
            min(clen, slen) >= p.min_words
            and max(clen, slen) <= p.max_ratio * min(clen, slen)
            and min(len(c.cmatched), len(c.smatched)) >= p.min_matched
            and min(len(c.cmatched) / max(ncw, 1), len(c.smatched) / max(nsw, 1)) >= p.min_cover
        ):
            cands.append(c)
    kept = _resolve(cands, p.overlap)
    if p.summary:
        kept = _add_summaries(kept, _summaries(src, cp, p))
    out = [_to_passage(c, source, copy, src, cp) for c in kept]
    out.sort(key=lambda x: (x.copy_start, x.source_start))
    return out


def _summaries(src: _Text, cp: _Text, p: AlignParams) -> list[_Candidate]:
    seeds = _word_seeds(src, cp, p)
    if not seeds:
        return []
    out: list[_Candidate] = []
    for g in _cluster(seeds, p.gap, p.summary_gap):
        if len(g) < p.summary_matched:
            continue
        c = _candidate(g, src, cp)
        clen, slen = c.c1 - c.c0 + 1, c.s1 - c.s0 + 1
        if (
            clen >= p.summary_words
            and p.summary_min_ratio * clen <= slen <= p.summary_max_ratio * clen
            and len(c.cmatched) >= p.summary_matched
            and len(c.cmatched) / max(_count_content(cp, c.c0, c.c1), 1) >= p.summary_cover
            and c.share_copy >= p.summary_share
        ):
            out.append(c)
    return out


def _add_summaries(kept: list[_Candidate], summaries: list[_Candidate]) -> list[_Candidate]:
    """Summaries fill what the first pass left unexplained.

    A summary that overlaps first-pass passages replaces them only when they sit inside its copy side and explain
    less than half of its copy side (fragments of the summary itself); otherwise the first pass wins.
    """
    for s in sorted(summaries, key=lambda c: -c.strength):
        hit = [k for k in kept if min(s.c1, k.c1) >= max(s.c0, k.c0)]
        inside = all(s.c0 <= k.c0 and k.c1 <= s.c1 for k in hit)
        if inside and sum(k.c1 - k.c0 + 1 for k in hit) < 0.5 * (s.c1 - s.c0 + 1):
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
