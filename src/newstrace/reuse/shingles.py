"""Hashed word n-gram shingles, thinned by winnowing: the keys that candidate generation joins on.

Words are those of `newstrace.tokens.tokenize` (a run of word characters, `\\w` as Python's `re` defines it,
optionally joined by apostrophes; lower-cased, with the curly apostrophe folded to `'`). They are found and
hashed here without Python-level loops: a whole batch of texts is lower-cased, encoded as UTF-16 (or UTF-32
when it holds characters outside the BMP) into one numpy array of code points, word characters are marked
through a code-point lookup table, word boundaries come from the mask's changes, and each word's 64-bit hash
is a polynomial over its code points (`sum c[k] * P**k`, uint64 wrap-around) summed with `np.add.reduceat`,
then finalised. An n-gram's hash is a polynomial combination of its word hashes, finalised again.
Python's `hash()` is salted per process and is never used: shingles written to a store by one process must be
found by another.

Because lower-casing happens on the whole text before words are cut, one text in a Greek corner case can differ
from `tokenize` (a final sigma followed by a mid-word full stop); the keys stay consistent everywhere, since
queries (`fingerprint`), the corpus (`shingle_rows`) and boilerplate spans (`word_spans`) all use this code.

Winnowing (Schleimer, Wilkerson & Aiken 2003) keeps the minimum hash of every window of `window` consecutive
shingles. Any run of at least `window + n - 1` shared words therefore shares at least one kept shingle, while
only about `2 / (window + 1)` of the shingles are kept. The kept set depends only on the local text, so a copy
and its source keep the same shingles over their shared passages.

Everything here is a pure function of article text: `shingle_rows` maps an article batch to rows, as a
Spark `mapPartitions` would.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from newstrace.tokens import WORD_RE

try:  # the compiled word scan (setup.py); `_scan_words_np` below is its reference, with the same results
    from newstrace.reuse import _kernels
except ImportError:  # pragma: no cover - an install without a C compiler
    _kernels = None

# Odd multiplier for the polynomial n-gram combination (a 64-bit constant from splitmix64).
_MULT = np.uint64(0x9E3779B97F4A7C15)
# Odd multiplier for the per-word polynomial over code points (a 64-bit prime).
_CP_MULT = np.uint64(0xFFFFFFFFFFFFFFC5)
_APOS = 0x27
_SEP = "\x00"  # joins the texts of a batch: not a word character, so no word spans two texts
_WORDCHAR = re.compile(r"\w")

# Code point -> 1 word character (`\w`), 0 not, -1 not looked up yet. Filled lazily: a batch looks up only its
# unseen code points, so a process pays for the few scripts it meets rather than for all of Unicode.
_WORD_TABLE = np.full(0x110000, -1, dtype=np.int8)
_WORD_TABLE[:128] = [1 if _WORDCHAR.match(chr(c)) else 0 for c in range(128)]
_CP_INV = np.uint64(pow(int(_CP_MULT), -1, 1 << 64))
_POWERS_CACHED = 1 << 21  # longest (P**i, P**-i) tables kept between calls: 32 MB
_powers: tuple[np.ndarray, np.ndarray] = (np.ones(1, dtype=np.uint64), np.ones(1, dtype=np.uint64))


@dataclass(frozen=True)
class ShingleParams:
    """n: words per shingle. window: winnowing window in shingles (1 keeps every shingle). furniture: leave out the
    words of headline lists (`refine.furniture`: a "Recent Posts" sidebar), which the aligner never reports as
    reuse either; two pages listing the same headlines would otherwise be a candidate pair to align."""

    n: int = 5
    window: int = 8
    furniture: bool = True


def words_of(text: str) -> list[str]:
    """The words of `tokenize(text)`, without the offsets (about 3x faster, for word-level diffs)."""
    raw = WORD_RE.findall(text)
    if not raw:
        return []
    # Words hold no spaces, so one lower()/replace over the joined string equals tokenize's per-word fold
    # (only the apostrophe can occur inside a word; the other folded characters are never word characters).
    return " ".join(raw).lower().replace("\u2019", "'").split(" ")


def _code_points(s: str) -> np.ndarray:
    """`s` as an array of code points (UTF-16 when that has no surrogates, as it is half the bytes)."""
    cp = np.frombuffer(s.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
    if np.any((cp >= 0xD800) & (cp < 0xE000)):
        return np.frombuffer(s.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return cp


def _is_word(cp: np.ndarray) -> np.ndarray:
    m = _WORD_TABLE[cp]
    if len(m) and m.min() < 0:
        for c in np.unique(cp[m < 0]).tolist():
            _WORD_TABLE[c] = 1 if _WORDCHAR.match(chr(c)) else 0
        m = _WORD_TABLE[cp]
    return m.view(bool)


def _fold(text: str) -> str:
    """Lower case and the curly apostrophe folded, as `tokenize` folds words; never changes the length."""
    low = text.lower()
    if len(low) != len(text):
        # 'İ' is the one character whose lower case is two (i + combining dot); keep offsets aligned
        low = text.replace("\u0130", "i").lower()
    return low.replace("\u2019", "'")


_lower_bmp: np.ndarray | None = None


def _lower_table() -> np.ndarray:
    """UTF-16 code unit -> its `_fold`ed code unit, for texts without surrogates: lower case (U+0130 to "i", as
    `_fold` does), the curly apostrophe to "'". Built once, in about 20 ms."""
    global _lower_bmp
    if _lower_bmp is None:
        table = np.arange(0x10000, dtype=np.uint16)
        for c in range(0x10000):
            if 0xD800 <= c < 0xE000:
                continue
            low = chr(c).lower()
            if len(low) == 1:
                table[c] = ord(low)
        table[0x130] = ord("i")
        table[0x2019] = _APOS
        _lower_bmp = table
    return _lower_bmp


def _folded_code_points(texts: Sequence[str]) -> np.ndarray:
    """`_code_points` of the `_fold`ed texts joined by `_SEP`. Lower-casing text by text in Python is the costly
    part of a scan, so BMP text is folded through a code-unit table instead; that is exact except for the Greek
    capital sigma, whose lower case depends on its neighbours, and text with surrogates goes the slow way."""
    cp = _code_points(_SEP.join(texts))
    if cp.dtype == np.uint16 and not np.any(cp == 0x03A3):
        return _lower_table()[cp]
    return _code_points(_SEP.join(map(_fold, texts)))


def _mix(h: np.ndarray) -> np.ndarray:
    # splitmix64 finaliser: spreads the polynomial combination's bits so that minima are unbiased.
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def _pow(k: int) -> tuple[np.ndarray, np.ndarray]:
    """`(_CP_MULT ** i, _CP_MULT ** -i)` modulo 2**64 for i < at least k (cached up to `_POWERS_CACHED`)."""
    global _powers
    cached = _powers  # one tuple, swapped whole, so a concurrent caller never sees mismatched tables
    if len(cached[0]) >= k:
        return cached
    size = max(k, min(2 * len(cached[0]), _POWERS_CACHED))
    tables = []
    for mult in (_CP_MULT, _CP_INV):
        arr = np.full(size, mult, dtype=np.uint64)
        arr[0] = 1
        tables.append(np.cumprod(arr, dtype=np.uint64))
    out = (tables[0], tables[1])
    if size <= _POWERS_CACHED:
        _powers = out
    return out


def _span_hashes(cp: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Hash of each word `cp[starts[i]:ends[i]]`.

    One prefix sum of `c[k] * P**k` over the whole array gives every word's polynomial as a difference, shifted
    to the word's start by the modular inverse of P: cheaper than gathering each word's characters."""
    if len(starts) == 0:
        return np.empty(0, dtype=np.uint64)
    pw, inv = _pow(len(cp))
    with np.errstate(over="ignore"):
        prefix = np.zeros(len(cp) + 1, dtype=np.uint64)
        np.cumsum(np.multiply(cp, pw[: len(cp)], dtype=np.uint64), out=prefix[1:])
        sums = (prefix[ends] - prefix[starts]) * inv[starts]
        return _mix(sums + (ends - starts).astype(np.uint64))


def _scan_words_np(cp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`(hashes, starts, ends)` of the words in the folded code points `cp`, in numpy (`_kernels.scan_words` does
    the same in one pass)."""
    m = _is_word(cp)
    # an apostrophe joins two words into one when it sits between word characters
    apos = np.flatnonzero(cp == _APOS)
    if len(apos):
        apos = apos[(apos > 0) & (apos < len(cp) - 1)]
        apos = apos[m[apos - 1] & m[apos + 1]]
        m = m.copy()
        m[apos] = True
    edge = np.diff(m.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edge == 1)
    ends = np.flatnonzero(edge == -1)
    return _span_hashes(cp, starts, ends), starts, ends


def _scan_words(cp: np.ndarray, lower: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """`_scan_words_np(cp)`, in one pass of `_kernels.scan_words` where it is built. With `lower` (the
    `_lower_table`), `cp` is raw UTF-16 and is folded on the way; None when it holds what the table cannot fold."""
    if _kernels is None:
        return _scan_words_np(lower[cp] if lower is not None else cp)
    cap = (len(cp) + 1) // 2
    starts, ends = np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.int64)
    hashes = np.empty(cap, dtype=np.uint64)
    n = _kernels.scan_words(cp, _WORD_TABLE, lower, starts, ends, hashes)
    if n == -1:  # code points not looked up yet in this process
        _is_word(lower[cp] if lower is not None else cp)
        n = _kernels.scan_words(cp, _WORD_TABLE, lower, starts, ends, hashes)
    if n == -2:
        return None
    return hashes[:n], starts[:n], ends[:n]


def _scan(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Words of a batch: `(hashes, starts, ends, bounds)`; the words of text d are `bounds[d]:bounds[d + 1]`, and
    `starts`/`ends` are str offsets into that text (for text d, relative to its own start)."""
    if not texts:
        e = np.empty(0, dtype=np.int64)
        return np.empty(0, dtype=np.uint64), e, e, np.zeros(1, dtype=np.int64)
    joined = _SEP.join(texts)
    cp = np.frombuffer(joined.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
    # folded on the way through the code-unit table, unless the text holds surrogates or the Greek capital sigma
    words = _scan_words(cp, _lower_table()) if _kernels is not None else None
    if words is None:
        cp = _folded_code_points(texts)
        words = _scan_words(cp)
        assert words is not None
    hashes, starts, ends = words
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    base = np.zeros(len(texts), dtype=np.int64)
    np.cumsum(lengths[:-1] + 1, out=base[1:])
    bounds = np.searchsorted(starts, np.append(base, len(cp)))
    doc_base = np.repeat(base, np.diff(bounds))
    return hashes, starts - doc_base, ends - doc_base, bounds


def word_spans(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`(hashes, starts, ends)` of the words of `text`, with raw str offsets: the words `shingle_rows` hashes."""
    h, s, e, _ = _scan([text])
    return h, s, e


def word_hashes(words: list[str]) -> np.ndarray:
    """Stable 64-bit hash of each (already normalised) word, as uint64: the same hash the text scan gives."""
    if not words:
        return np.empty(0, dtype=np.uint64)
    cp = _code_points(_SEP.join(words))
    lens = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    starts = np.zeros(len(words), dtype=np.int64)
    np.cumsum(lens[:-1] + 1, out=starts[1:])
    return _span_hashes(cp, starts, starts + lens)


def ngram_hashes(wh: np.ndarray, n: int) -> np.ndarray:
    """Hash of the n-gram starting at each position (length `len(wh) - n + 1`, empty if too short)."""
    m = len(wh) - n + 1
    if m <= 0:
        return np.empty(0, dtype=np.uint64)
    with np.errstate(over="ignore"):
        h = wh[:m].copy()
        for k in range(1, n):
            h *= _MULT
            h += wh[k : k + m]
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
    return shingle_rows([text], params)[1]


def _window_minima(h: np.ndarray, w: int) -> np.ndarray:
    """`min(h[j : j + w])` for every j, by doubling (a sparse table): log2(w) passes instead of w."""
    mv, k = h, 1
    while 2 * k <= w:
        mv = np.minimum(mv[:-k], mv[k:])
        k *= 2
    if k < w:
        mv = np.minimum(mv[: len(mv) - (w - k)], mv[w - k :])
    return mv


def _winnow_batch(h: np.ndarray, b: np.ndarray, p: ShingleParams) -> tuple[np.ndarray, np.ndarray]:
    """Kept `(doc, hash)` (uint64, possibly repeated) for the n-gram hashes `h` of a batch whose words of doc d
    are `b[d]:b[d+1]`. Only the kept values matter downstream, so window minima are taken as values."""
    w = max(1, p.window)
    span = w + p.n - 1  # words covered by one window of shingles
    words = np.diff(b)
    n_win = words - span + 1  # full windows per document
    n_sh = words - p.n + 1  # shingles per document
    vals, docs = [], []
    full = np.flatnonzero(n_win >= 1)
    if len(full) and len(h) >= w:
        mv = _window_minima(h, w)
        # windows lying inside one document: j in [b[d], b[d] + n_win[d])
        delta = np.zeros(len(mv) + 1, dtype=np.int32)
        np.add.at(delta, b[full], 1)
        np.add.at(delta, b[full] + n_win[full], -1)
        ok = np.cumsum(delta[:-1]).astype(bool)
        v = mv[ok]
        d = np.repeat(full.astype(np.int32), n_win[full])
        # neighbouring windows mostly share their minimum
        keep = np.ones(len(v), dtype=bool)
        keep[1:] = (v[1:] != v[:-1]) | (d[1:] != d[:-1])
        vals.append(v[keep])
        docs.append(d[keep])
    # documents with at least one shingle but fewer than a window keep their minimum, as `winnow` does
    short = np.flatnonzero((n_sh >= 1) & (n_win < 1))
    if len(short):
        seg = np.empty(2 * len(short), dtype=np.int64)
        seg[0::2], seg[1::2] = b[short], b[short] + n_sh[short]
        vals.append(np.minimum.reduceat(h, seg[:-1] if seg[-1] == len(h) else seg)[0::2])
        docs.append(short.astype(np.int32))
    if not vals:
        return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.uint64)
    return np.concatenate(docs), np.concatenate(vals)


_SIGN = np.uint64(1 << 63)


def _sorted_distinct(docs: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows sorted by (doc, hash as int64), duplicates dropped. Docs must be < 4096."""
    # One argsort of a packed key (12 bits of doc, the top 52 of the hash in signed order) instead of a
    # two-key lexsort; rows whose packed keys tie but whose hashes differ (p ~ 2**-52) fall back to lexsort.
    with np.errstate(over="ignore"):
        key = (docs.astype(np.uint64) << np.uint64(52)) | ((vals ^ _SIGN) >> np.uint64(12))
    order = np.argsort(key)
    k, v = key[order], vals[order]
    tie = np.flatnonzero(k[1:] == k[:-1])
    if len(tie) and np.any(v[tie] != v[tie + 1]):
        order = np.lexsort((vals.view(np.int64), docs))
        v = vals[order]
    d = docs[order]
    keep = np.ones(len(d), dtype=bool)
    keep[1:] = (d[1:] != d[:-1]) | (v[1:] != v[:-1])
    return d[keep], v[keep].view(np.int64)


def shingle_rows(texts: Iterable[str], params: ShingleParams | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Article batch -> rows: `(doc, hash)` arrays, `doc` being the index of the text in the batch.

    Each text contributes its distinct kept hashes (exactly `fingerprint(text)`) once, so counts over rows are
    document frequencies. The batch is scanned, hashed and winnowed as one array, which is much faster than
    per text; very large batches are cut into slices of a few MB to bound the temporary arrays.
    """
    p = params or ShingleParams()
    texts = texts if isinstance(texts, Sequence) else list(texts)
    out_d, out_h = [], []
    lo = 0
    while lo < len(texts):
        hi, size = lo, 0
        while hi < len(texts) and (hi == lo or size < 1_000_000) and hi - lo < 4096:
            size += len(texts[hi])
            hi += 1
        d, h = _rows_slice(texts[lo:hi], p)
        out_d.append(d + lo)
        out_h.append(h)
        lo = hi
    if not out_d:
        return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.int64)
    return np.concatenate(out_d).astype(np.int32), np.concatenate(out_h)


def without_furniture(text: str) -> str:
    """`text` with its headline lists (`refine.furniture`) made spaces, so that no shingle holds their words."""
    from newstrace.reuse.refine import furniture

    spans = furniture(text)
    if not spans:
        return text
    parts, pos = [], 0
    for a, b in spans:
        parts += [text[pos:a], " " * (b - a)]
        pos = b
    parts.append(text[pos:])
    return "".join(parts)


def _rows_slice(texts: Sequence[str], p: ShingleParams) -> tuple[np.ndarray, np.ndarray]:
    if p.furniture:
        texts = [without_furniture(t) for t in texts]
    if _kernels is not None and texts:
        return _rows_in_c(texts, p)
    wh, _, _, b = _scan(texts)
    docs, vals = _winnow_batch(ngram_hashes(wh, p.n), b, p)
    return _sorted_distinct(docs, vals)


def _rows_in_c(texts: Sequence[str], p: ShingleParams) -> tuple[np.ndarray, np.ndarray]:
    """`_rows_slice` of texts already without furniture, in one pass of `_kernels.shingle_rows`: scan, n-grams,
    winnowing and the per-document sort, with no batch-sized temporary arrays."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    base = np.zeros(len(texts), dtype=np.int64)
    np.cumsum(lengths[:-1] + 1, out=base[1:])
    cp = np.frombuffer(_SEP.join(texts).encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
    lower: np.ndarray | None = _lower_table()
    for _ in range(4):  # at most: unknown BMP code points, then unfoldable text, then unknown astral ones
        cap = (len(cp) + 1) // 2
        docs, keys = np.empty(cap, dtype=np.int32), np.empty(cap, dtype=np.int64)
        n = _kernels.shingle_rows(cp, _WORD_TABLE, lower, base, p.n, max(1, p.window), docs, keys)
        if n == -2:  # surrogates or the Greek capital sigma: folded the slow way (UTF-32 when astral)
            cp, lower = _folded_code_points(texts), None
        elif n == -1:  # code points not looked up yet in this process
            _is_word(lower[cp] if lower is not None else cp)
        else:
            return docs[:n].copy(), keys[:n].copy()
    raise AssertionError("shingle_rows did not settle")  # pragma: no cover - each retry removes its cause


def all_shingles(words_hashes: np.ndarray, n: int) -> np.ndarray:
    """Every n-gram hash (not winnowed) as int64, aligned with token positions: entry i covers words i..i+n-1."""
    return ngram_hashes(words_hashes, n).view(np.int64)
