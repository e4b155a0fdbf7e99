"""Hashed word n-gram shingles, thinned by winnowing: the keys that candidate generation joins on.

Words are exactly `newstrace.tokens.tokenize(text).words` (lower-cased, quote-folded), so every stage agrees on
what a word is. Each word gets a stable 64-bit hash (blake2b, cached); an n-gram's hash is a polynomial
combination of its word hashes followed by a 64-bit finaliser, computed for all positions at once in numpy.
Python's `hash()` is salted per process and is never used: shingles written to a store by one process must be
found by another.

Winnowing (Schleimer, Wilkerson & Aiken 2003) keeps the minimum hash of every window of `window` consecutive
shingles. Any run of at least `window + n - 1` shared words therefore shares at least one kept shingle, while
only about `2 / (window + 1)` of the shingles are kept. The kept set depends only on the local text, so a copy
and its source keep the same shingles over their shared passages.

Everything here is a pure function of article text: `shingle_rows` maps an article batch to rows, as a
Spark `mapPartitions` would.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from hashlib import blake2b

import numpy as np

from newstrace.tokens import WORD_RE

_MASK64 = (1 << 64) - 1
# Odd multiplier for the polynomial n-gram combination (a 64-bit constant from splitmix64).
_MULT = np.uint64(0x9E3779B97F4A7C15)
_word_cache: dict[str, int] = {}
_CACHE_LIMIT = 2_000_000


@dataclass(frozen=True)
class ShingleParams:
    """n: words per shingle. window: winnowing window in shingles (1 keeps every shingle)."""

    n: int = 5
    window: int = 8


def words_of(text: str) -> list[str]:
    """The words of `tokenize(text)`, without the offsets (about 3x faster, for hashing only)."""
    raw = WORD_RE.findall(text)
    if not raw:
        return []
    # Words hold no spaces, so one lower()/replace over the joined string equals tokenize's per-word fold
    # (only the apostrophe can occur inside a word; the other folded characters are never word characters).
    return " ".join(raw).lower().replace("\u2019", "'").split(" ")


def _word_hash(word: str) -> int:
    return int.from_bytes(blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


def word_hashes(words: list[str]) -> np.ndarray:
    """Stable 64-bit hash of each word, as uint64."""
    cache = _word_cache
    hs = list(map(cache.get, words))
    if None in hs:
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
        for i, h in enumerate(hs):
            if h is None:
                w = words[i]
                h = cache.get(w)
                if h is None:
                    h = cache[w] = _word_hash(w)
                hs[i] = h
    return np.array(hs, dtype=np.uint64)


def _mix(h: np.ndarray) -> np.ndarray:
    # splitmix64 finaliser: spreads the polynomial combination's bits so that minima are unbiased.
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def ngram_hashes(wh: np.ndarray, n: int) -> np.ndarray:
    """Hash of the n-gram starting at each position (length `len(wh) - n + 1`, empty if too short)."""
    m = len(wh) - n + 1
    if m <= 0:
        return np.empty(0, dtype=np.uint64)
    with np.errstate(over="ignore"):
        h = wh[:m].copy()
        for k in range(1, n):
            h = h * _MULT + wh[k : k + m]
        return _mix(h)


def winnow(h: np.ndarray, window: int) -> np.ndarray:
    """Positions kept by winnowing `h` (sorted, unique). A text shorter than one window keeps its minimum."""
    if len(h) == 0:
        return np.empty(0, dtype=np.int64)
    if window <= 1:
        return np.arange(len(h), dtype=np.int64)
    if len(h) <= window:
        return np.array([int(np.argmin(h))], dtype=np.int64)
    win = np.lib.stride_tricks.sliding_window_view(h, window)
    pos = win.argmin(axis=1) + np.arange(len(win))
    return np.unique(pos)


def fingerprint(text: str, params: ShingleParams | None = None) -> np.ndarray:
    """The kept shingle hashes of `text`: sorted, distinct, as int64 (the DuckDB BIGINT the store holds)."""
    p = params or ShingleParams()
    h = ngram_hashes(word_hashes(words_of(text)), p.n)
    kept = h[winnow(h, p.window)]
    return np.unique(kept.view(np.int64))


def shingle_rows(texts: Iterable[str], params: ShingleParams | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Article batch -> rows: `(doc, hash)` arrays, `doc` being the index of the text in the batch.

    Each text contributes its distinct kept hashes (exactly `fingerprint(text)`) once, so counts over rows are
    document frequencies. The batch is hashed and winnowed as one array, which is much faster than per text.
    """
    p = params or ShingleParams()
    words: list[str] = []
    bounds = [0]
    for text in texts:
        words.extend(words_of(text))
        bounds.append(len(words))
    n_docs = len(bounds) - 1
    if n_docs == 0:
        return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.int64)
    b = np.array(bounds, dtype=np.int64)
    h = ngram_hashes(word_hashes(words), p.n)
    doc_of = np.repeat(np.arange(n_docs, dtype=np.int32), np.diff(b))
    w = max(1, p.window)
    span = w + p.n - 1  # words covered by one window of shingles
    n_sh = np.diff(b) - p.n + 1  # shingles per document (may be <= 0)
    pos_parts, doc_parts = [], []
    if len(h) >= w:
        starts = np.arange(len(h) - w + 1)
        # a window is valid when all the words it covers lie in one document
        ok = doc_of[starts] == doc_of[starts + span - 1]
        win = np.lib.stride_tricks.sliding_window_view(h, w)
        pos = win.argmin(axis=1)[ok] + starts[ok]
        # consecutive windows' minima positions never decrease, so duplicates are adjacent
        pos = pos[np.concatenate(([True], pos[1:] != pos[:-1]))]
        pos_parts.append(pos)
        doc_parts.append(doc_of[pos])
    # documents with at least one shingle but fewer than a window keep their minimum, as `winnow` does
    for d in np.flatnonzero((n_sh >= 1) & (n_sh < w)).tolist():
        lo = int(b[d])
        pos_parts.append(np.array([lo + int(np.argmin(h[lo : lo + int(n_sh[d])]))]))
        doc_parts.append(np.array([d], dtype=np.int32))
    if not pos_parts:
        return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.int64)
    docs = np.concatenate(doc_parts).astype(np.int32)
    hashes = h[np.concatenate(pos_parts)].view(np.int64)
    order = np.lexsort((hashes, docs))
    docs, hashes = docs[order], hashes[order]
    keep = np.ones(len(docs), dtype=bool)
    keep[1:] = (docs[1:] != docs[:-1]) | (hashes[1:] != hashes[:-1])
    return docs[keep], hashes[keep]


def all_shingles(words_hashes: np.ndarray, n: int) -> np.ndarray:
    """Every n-gram hash (not winnowed) as int64, aligned with token positions: entry i covers words i..i+n-1."""
    return ngram_hashes(words_hashes, n).view(np.int64)
