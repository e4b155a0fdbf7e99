"""The reuse engine: articles -> candidate pairs -> aligned passages -> directed pairs and families.

Stages, each a pure function over a batch (DESIGN.md §1):
1. `shingles.shingle_rows`: winnowed shingle hashes per article;
2. `candidates`: pairs sharing enough keys, boilerplate and common phrases dropped (numpy in memory, or DuckDB
   at corpus scale or when a connection is given);
3. `analyse_pair`, the per-pair stage, in a process pool: `align.align` on the pair (when the two texts share
   boilerplate keys, boilerplate regions are blanked with spaces first: length-preserving, so offsets stay
   raw), then only verified passages are kept (long enough, mostly outside boilerplate, and sharing most of
   their word trigrams, see `exact_share`), then direction and score;
4. `families.build_families`: connected components and origins.

The per-pair stage calls `align` itself rather than `align_many`, so that verification and direction run in
the same worker as the alignment instead of serially in the parent.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from newstrace.forkmap import fork_map, frozen_heap
from newstrace.model import Article, Family, Passage, ReusePair
from newstrace.reuse.candidates import (
    CandidateParams,
    Candidates,
    candidates_duckdb,
    candidates_numpy,
    mark_shared_boilerplate,
)
from newstrace.reuse.families import build_families
from newstrace.reuse.refine import ngram_hashes
from newstrace.reuse.shingles import ShingleParams, all_shingles, shingle_rows, word_spans, words_of
from newstrace.timelimit import DocumentTimeout, time_limit

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class EngineParams:
    """shingles/candidates: stage knobs. boiler_max_frac: a passage with more of its characters than this in
    boilerplate (on either side) is dropped. duckdb_min_articles: from this corpus size on, candidates are
    joined in DuckDB even without a given connection. phrase_words: the longest insertion, in words, counted as
    textual evidence of copying (longer gaps are as likely cuts in the copy as additions). min_exact_share: a
    passage must share at least this share of its word trigrams verbatim (see `exact_share`). align: an
    `align.AlignParams`; None means the aligner's defaults without the summary pass."""

    shingles: ShingleParams = field(default_factory=ShingleParams)
    candidates: CandidateParams = field(default_factory=CandidateParams)
    boiler_max_frac: float = 0.5
    duckdb_min_articles: int = 20_000
    phrase_words: int = 12
    min_exact_share: float = 0.3
    align: object | None = None


@dataclass
class ReuseResult:
    pairs: list[ReusePair]
    families: list[Family]
    timed_out: list[tuple[str, str]] = field(default_factory=list)  # (source, copy) pairs over the time limit


def shingle_corpus(
    texts: Sequence[str], params: ShingleParams, workers: int = 2, *, min_parallel: int = 20_000, chunk: int = 5000
) -> tuple[np.ndarray, np.ndarray]:
    """`shingle_rows` over the whole corpus; doc = index in `texts`. From `min_parallel` texts on, `workers`
    forked processes share the work in ranges of `chunk` texts (`forkmap.fork_map`).

    Workers inherit the texts through fork (copy-on-write) and get only index ranges, so no text is pickled;
    only the rows come back. (At 100k texts one process needs about 80 us of CPU a text; two workers add ~10% CPU
    for the transfers and halve the wall time only when two cores are actually free.)
    """
    if workers <= 1 or len(texts) < min_parallel:
        return shingle_rows(texts, params)

    def rows(lo: int, hi: int) -> list[tuple[np.ndarray, np.ndarray]]:
        d, h = shingle_rows(texts[lo:hi], params)
        return [(d + lo, h)]

    parts = [part for batch in fork_map(rows, len(texts), workers=workers, chunk=chunk, min_parallel=min_parallel)
             for part in batch]
    return np.concatenate([d for d, _ in parts]), np.concatenate([h for _, h in parts])


def boilerplate_spans(text: str, boiler: np.ndarray, params: ShingleParams) -> list[tuple[int, int]]:
    """Raw character spans of `text` covered by boilerplate shingles.

    Only winnowed hashes are known to be boilerplate, and winnowing keeps at least one per `window` shingles,
    so gaps of up to `window` words between hits are closed, and each run is widened by `window - 1` words
    within its lines.
    """
    wh, starts, ends = word_spans(text)
    if len(wh) < params.n:
        return []
    hit = np.flatnonzero(np.isin(all_shingles(wh, params.n), boiler))
    if len(hit) == 0:
        return []
    w = max(1, params.window)
    spans: list[tuple[int, int]] = []
    lo, hi = int(hit[0]), int(hit[0]) + params.n - 1
    for i in hit[1:].tolist():
        if i - hi <= w:
            hi = max(hi, i + params.n - 1)
        else:
            spans.append((lo, hi))
            lo, hi = i, i + params.n - 1
    spans.append((lo, hi))
    last = len(wh) - 1
    out: list[tuple[int, int]] = []
    for a, b in spans:
        s, e = int(starts[max(0, a - w + 1)]), int(ends[min(last, b + w - 1)])
        # boilerplate is whole lines (a masthead, a footer): the widening stops at the line's ends, short of the
        # story's first and last words
        s = max(s, text.rfind("\n", 0, int(starts[a])) + 1)
        nl = text.find("\n", int(ends[b]))
        e = min(e, nl) if nl >= 0 else e
        if out and s <= out[-1][1]:  # widening can make neighbours overlap
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with the characters of `spans` made spaces, line breaks kept: the aligner reads paragraphs from
    them (`reuse.refine`), and a blanked masthead must not join the story's first paragraph."""
    if not spans:
        return text
    parts, pos = [], 0
    for a, b in spans:
        parts.append(text[pos:a])
        parts.append(re.sub(r"[^\n]", " ", text[a:b]))
        pos = b
    parts.append(text[pos:])
    return "".join(parts)


def _overlap(a: int, b: int, spans: list[tuple[int, int]]) -> int:
    return sum(max(0, min(b, e) - max(a, s)) for s, e in spans)


def _covered(intervals: list[tuple[int, int]]) -> int:
    total, end = 0, -1
    for s, e in sorted(intervals):
        if e > end:
            total += e - max(s, end)
            end = e
    return total


def score_pair(source: str, copy: str, passages: Sequence[Passage]) -> float:
    """Aligned characters over the shorter text: the share of the shorter text that the pair has in common."""
    src = _covered([(p.source_start, p.source_end) for p in passages])
    cp = _covered([(p.copy_start, p.copy_end) for p in passages])
    if len(source) <= len(copy):
        return min(1.0, src / max(1, len(source)))
    return min(1.0, cp / max(1, len(copy)))


def _solid(op: tuple[str, int, int, int, int], words: int = 4) -> bool:
    return op[0] == "equal" and op[2] - op[1] >= words


def textual_direction(a: str, b: str, passages: Sequence[Passage], phrase_words: int = 12) -> int:
    """Which text holds the other plus insertions: +1 if `b` looks like the copy of `a`, -1 for the reverse,
    0 without clear evidence. `passages` align `a` (source side) with `b` (copy side).

    Inside each passage the word sequences are diffed; a phrase-sized insertion (1..`phrase_words` words more
    on one side, between two runs of at least 4 equal words) counts for that side being the copy. Launderers
    inject phrases; whole sentences cut from a copy look the same as sentences added to it, so longer gaps
    count for neither. One side must have at least two such insertions and more than twice the other side's.
    """
    in_a = in_b = 0
    for p in passages:
        wa = words_of(a[p.source_start : p.source_end])
        wb = words_of(b[p.copy_start : p.copy_end])
        sm = difflib.SequenceMatcher(None, wa, wb, autojunk=False)
        ops = sm.get_opcodes()
        for k in range(1, len(ops) - 1):
            op, i1, i2, j1, j2 = ops[k]
            # only an edit between two solid runs of equal words is an insertion: elsewhere it is the
            # aligner's ragged passage edge, where a few common words match by chance
            if op == "equal" or not (_solid(ops[k - 1]) and _solid(ops[k + 1])):
                continue
            la, lb = i2 - i1, j2 - j1
            if max(la, lb) > phrase_words:
                continue
            if lb > la:
                in_b += 1
            elif la > lb:
                in_a += 1
    if in_b >= 2 and in_b > 2 * in_a:
        return 1
    if in_a >= 2 and in_a > 2 * in_b:
        return -1
    return 0


def _grams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return set(zip(*(words[k:] for k in range(n)), strict=False))  # each slice one shorter: n-grams


def exact_share(a: str, b: str, q: Passage, n: int = 3) -> float:
    """Share of the word n-grams of the passage's shorter side that the other side has verbatim.

    The aligner seeds on loose content-word pairs (to survive obfuscation); two articles on the same topic
    then align where they merely talk about the same things. A reused passage, even lightly edited, keeps
    most of its word trigrams; such a coincidental one keeps few.
    """
    ga = _grams(words_of(a[q.source_start : q.source_end]), n)
    gb = _grams(words_of(b[q.copy_start : q.copy_end]), n)
    if not ga or not gb:
        return 0.0
    return len(ga & gb) / min(len(ga), len(gb))


def _gram_hashes(t, start: int, end: int, n: int) -> np.ndarray | None:
    """Distinct hashes of the word n-grams of `text[start:end]`, from its prepared form `t` (an `align._Text`):
    the n-grams `exact_share` compares, as numbers. None when a word straddles either edge, where `words_of` of
    the slice would see a piece of it."""
    starts, ends = t.side.starts_at, t.side.ends_at
    i0 = int(np.searchsorted(starts, start))
    i1 = int(np.searchsorted(ends, end, side="right"))
    if (i0 > 0 and ends[i0 - 1] > start) or (i1 < len(starts) and starts[i1] < end):
        return None
    return np.unique(ngram_hashes(t.word_id[i0:max(i0, i1)], n))


def _exact_share_prepared(ta, tb, q: Passage, n: int = 3) -> float | None:
    """`exact_share` from the two texts' prepared forms (what `align` tokenised), without cutting and hashing the
    passage's words again; None where a word straddles a passage edge (then `exact_share` decides)."""
    ga = _gram_hashes(ta, q.source_start, q.source_end, n)
    gb = _gram_hashes(tb, q.copy_start, q.copy_end, n)
    if ga is None or gb is None:
        return None
    if not len(ga) or not len(gb):
        return 0.0
    return len(np.intersect1d(ga, gb, assume_unique=True)) / min(len(ga), len(gb))


def _flip(p: Passage) -> Passage:
    return Passage(p.copy_start, p.copy_end, p.source_start, p.source_end)


def order_pair(x: Article, y: Article) -> tuple[Article, Article, bool]:
    """Tentative (source, copy) and whether the order is dated."""
    if x.published is not None and y.published is not None and x.published != y.published:
        return (x, y, True) if x.published < y.published else (y, x, True)
    return (x, y, False) if x.id <= y.id else (y, x, False)


def find_candidates(
    articles: Sequence[Article],
    params: EngineParams | None = None,
    con=None,
    workers: int = 2,
    progress: Progress | None = None,
    shingles: tuple[np.ndarray, np.ndarray] | None = None,
) -> Candidates:
    """Stages 1-2: candidate pairs over `articles` (indices into the sequence) and the boilerplate keys.

    `shingles`: the articles' `shingle_corpus` rows under `params.shingles`, when already computed."""
    p = params or EngineParams()
    if shingles is None:
        shingles = shingle_corpus([a.text for a in articles], p.shingles, workers)
    docs, hashes = shingles
    if progress:
        progress("shingles", len(articles), len(articles))
    codes: dict[str, int] = {}
    outlets = np.array([codes.setdefault(a.outlet, len(codes)) if a.outlet else -1 for a in articles], np.int32)
    if con is not None or len(articles) >= p.duckdb_min_articles:
        import duckdb

        own = con is None
        c = duckdb.connect() if own else con
        try:
            cands = candidates_duckdb(c, docs, hashes, outlets, p.candidates)
        finally:
            if own:
                c.close()
    else:
        cands = candidates_numpy(docs, hashes, outlets, p.candidates)
    mark_shared_boilerplate(cands, docs, hashes)
    if progress:
        progress("candidates", len(cands.a), len(cands.a))
    return cands


@dataclass(frozen=True)
class PairJob:
    """One candidate pair in tentative order (`source` earlier when `dated`, else the smaller id)."""

    source_id: str
    copy_id: str
    source_text: str
    copy_text: str
    boiler: bool  # whether the texts share boilerplate keys, so boilerplate must be found and blanked
    dated: bool
    same_outlet: bool = False


@dataclass(frozen=True)
class PairContext:
    """What every pair job needs besides its texts; sent once per worker process."""

    params: EngineParams
    align_params: object
    boilerplate: np.ndarray
    min_passage_chars: int
    pair_seconds: float | None = None  # wall-clock limit per pair; one over it is reported, not aligned


def _edges_only(a: str, b: str, passages: Sequence[Passage], slack: int = 3) -> bool:
    """Whether the pair's one passage is short and sits at the very start of both texts or the very end of both.

    Two articles of one outlet that share only their opening or closing lines share a header or footer: the
    boilerplate of an outlet with too few articles in the corpus for `candidates` to learn it.
    """
    ea, eb = len(a.rstrip()), len(b.rstrip())
    sa, sb = len(a) - len(a.lstrip()), len(b) - len(b.lstrip())
    tail = all(q.source_end >= ea - slack and q.copy_end >= eb - slack for q in passages)
    head = all(q.source_start <= sa + slack and q.copy_start <= sb + slack for q in passages)
    small = all(q.copy_end - q.copy_start < 0.25 * min(len(a), len(b)) for q in passages)
    return (tail or head) and small and len(passages) == 1


def analyse_pair(job: PairJob, ctx: PairContext) -> ReusePair | None:
    """The per-pair stage: align (boilerplate blanked), keep verified passages, decide direction and score.

    Returns None when no passage of `min_passage_chars` survives; the pair is then not reuse.
    """
    from newstrace.reuse.align import align

    p = ctx.params
    ms = boilerplate_spans(job.source_text, ctx.boilerplate, p.shingles) if job.boiler else []
    mc = boilerplate_spans(job.copy_text, ctx.boilerplate, p.shingles) if job.boiler else []
    passages = align(_blank(job.source_text, ms), _blank(job.copy_text, mc), ctx.align_params)
    # texts without boilerplate went to `align` as they are, so their prepared forms are in its cache
    prepared = None
    if not ms and not mc:
        from newstrace.reuse.align import _prepare_cached

        stem = ctx.align_params.stem
        prepared = (_prepare_cached(job.source_text, stem), _prepare_cached(job.copy_text, stem))

    def verbatim_enough(q: Passage) -> bool:
        share = _exact_share_prepared(*prepared, q) if prepared is not None else None
        if share is None:
            share = exact_share(job.source_text, job.copy_text, q)
        return share >= p.min_exact_share

    kept = [
        q
        for q in passages
        if _overlap(q.source_start, q.source_end, ms) <= p.boiler_max_frac * (q.source_end - q.source_start)
        and _overlap(q.copy_start, q.copy_end, mc) <= p.boiler_max_frac * (q.copy_end - q.copy_start)
        and verbatim_enough(q)
    ]
    # the pair needs one long verified passage; once it has one, its shorter passages (a sentence moved on its
    # own) are reported too
    if not any(min(q.source_end - q.source_start, q.copy_end - q.copy_start) >= ctx.min_passage_chars for q in kept):
        return None
    if job.same_outlet and _edges_only(job.source_text, job.copy_text, kept):
        return None
    s, c, st, ct = job.source_id, job.copy_id, job.source_text, job.copy_text
    direction = "dated"
    if not job.dated:
        d = textual_direction(st, ct, kept, p.phrase_words)
        direction = "textual" if d else "unknown"
        if d < 0:
            s, c, st, ct = c, s, ct, st
            kept = sorted((_flip(q) for q in kept), key=lambda q: (q.copy_start, q.source_start))
    return ReusePair(s, c, round(score_pair(st, ct, kept), 4), direction, kept)


TIMED_OUT = "timed out"  # what `_analyse_limited` returns for a pair over its time limit


def _analyse_limited(job: PairJob, ctx: PairContext) -> ReusePair | str | None:
    """`analyse_pair` within the context's time limit (armed in the worker process's main thread)."""
    try:
        with time_limit(ctx.pair_seconds):
            return analyse_pair(job, ctx)
    except DocumentTimeout:
        return TIMED_OUT


_CTX: PairContext | None = None


def _init_worker(ctx: PairContext) -> None:
    global _CTX
    _CTX = ctx


def _analyse_in_worker(job: PairJob) -> ReusePair | str | None:
    assert _CTX is not None
    return _analyse_limited(job, _CTX)


def component_order(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Indices of the pairs `(a[k], b[k])` grouped by connected component (each component at its smallest
    document, pairs in their given order inside it).

    Every text of a family meets each of its partners inside one run of jobs, so a worker's cache of prepared
    texts (`align._prepare_cached`) holds it for all of them, rather than tokenising it again for each pair."""
    if len(a) == 0:
        return np.empty(0, dtype=np.int64)
    label = np.arange(int(max(a.max(), b.max())) + 1)
    while True:  # label propagation with pointer jumping: every document ends at its component's smallest
        low = np.minimum(label[a], label[b])
        before = label.copy()
        np.minimum.at(label, a, low)
        np.minimum.at(label, b, low)
        label = label[label]
        if np.array_equal(label, before):
            break
    return np.argsort(label[a], kind="stable")


def find_reuse(
    articles: Sequence[Article],
    *,
    min_passage_chars: int = 150,
    progress: Progress | None = None,
    con=None,
    params: EngineParams | None = None,
    workers: int = 2,
    pair_seconds: float | None = None,
    shingles: tuple[np.ndarray, np.ndarray] | None = None,
) -> ReuseResult:
    """Reused passages between `articles`: one `ReusePair` per unordered pair that shares content, and families.

    A pair needs at least one verified passage of `min_passage_chars` characters on both sides, outside
    boilerplate. `con`: a DuckDB connection for the candidate join (temporary tables only; without one, large
    inputs use an in-memory DuckDB). `progress(stage, done, total)` is called as stages advance. `workers`
    processes run shingling and the per-pair stage. Results do not depend on input order. A pair whose alignment
    takes longer than `pair_seconds` is left out and listed in `ReuseResult.timed_out`. `shingles`: the articles'
    shingle rows when already computed (`reuse.ahead`), exactly as `shingle_corpus` gives them.
    """
    from newstrace.reuse.align import AlignParams

    p = params or EngineParams()
    # The summary pass matches loose content words over long source stretches: it pairs same-topic articles
    # that are not copies, so corpus-wide reuse runs without it.
    aparams = p.align if p.align is not None else AlignParams(summary=False)
    cands = find_candidates(articles, p, con, workers, progress, shingles)
    ctx = PairContext(p, aparams, cands.boilerplate, min_passage_chars, pair_seconds)
    jobs: list[PairJob] = []
    order = component_order(cands.a, cands.b).tolist()
    for i, j, shared in zip(cands.a[order].tolist(), cands.b[order].tolist(), cands.shared_boiler[order].tolist(),
                            strict=True):
        src, cp, dated = order_pair(articles[i], articles[j])
        same = src.outlet is not None and src.outlet == cp.outlet
        jobs.append(PairJob(src.id, cp.id, src.text, cp.text, shared, dated, same))
    if workers > 1 and len(jobs) >= 64:
        with frozen_heap(), ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(ctx,)) as ex:
            found = list(ex.map(_analyse_in_worker, jobs, chunksize=max(1, min(256, len(jobs) // (workers * 8)))))
    else:
        found = [_analyse_limited(j, ctx) for j in jobs]
    timed_out = sorted((j.source_id, j.copy_id) for j, r in zip(jobs, found, strict=True) if r is TIMED_OUT)
    pairs = sorted((r for r in found if isinstance(r, ReusePair)), key=lambda r: (r.source, r.copy))
    if progress:
        progress("align", len(jobs), len(jobs))
    families = build_families(pairs, {a.id: a.published for a in articles})
    if progress:
        progress("families", len(families), len(families))
    return ReuseResult(pairs, families, timed_out)
