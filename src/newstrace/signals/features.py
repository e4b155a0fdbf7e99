"""Segmentation and feature extraction for the propaganda-technique model.

Everything here is plain Python + numpy so that inference needs no scikit-learn. Features are hashed into a fixed
number of buckets (signed hashing with a stable hash, never Python's salted `hash`), so the shipped model is just a
weight matrix plus a few thresholds.

Two units are featurised:
- sentences (for sentence-level techniques and for the SI decision), and
- tokens (for lexical techniques whose gold spans are a few words: Loaded_Language, Name_Calling,Labeling, ...).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate, chain, repeat

import numpy as np

from newstrace.tokens import Tokens, tokenize

TECHNIQUES: tuple[str, ...] = (
    "Appeal_to_Authority",
    "Appeal_to_fear-prejudice",
    "Bandwagon,Reductio_ad_hitlerum",
    "Black-and-White_Fallacy",
    "Causal_Oversimplification",
    "Doubt",
    "Exaggeration,Minimisation",
    "Flag-Waving",
    "Loaded_Language",
    "Name_Calling,Labeling",
    "Repetition",
    "Slogans",
    "Thought-terminating_Cliches",
    "Whataboutism,Straw_Men,Red_Herring",
)

N_SENT_FEATURES = 1 << 18
N_TOK_FEATURES = 1 << 18
N_CLAUSE_FEATURES = 1 << 18

# A sentence ends at . ! ? (plus closing quotes/brackets) followed by whitespace, unless the dot ends a short
# abbreviation. Newlines always end a sentence: PTC has one sentence per line and web text one paragraph per line.
_SENT_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)")
_ABBREV = {
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "gen", "col", "lt", "sgt", "gov", "sen", "rep", "rev",
    "vs", "etc", "inc", "ltd", "co", "corp", "no", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n", "e.g", "i.e", "a.m", "p.m",
}
_STRIP = " \t\r\n\u00a0.,:;"


@dataclass(frozen=True)
class Sentence:
    start: int  # raw offsets, trimmed of whitespace and the characters PTC trims from annotations
    end: int
    first_tok: int  # token index range [first_tok, end_tok) within the document's Tokens
    end_tok: int


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s] in _STRIP:
        s += 1
    while e > s and text[e - 1] in _STRIP:
        e -= 1
    return s, e


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (raw offsets) of `text`, trimmed; empty pieces dropped."""
    out: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        ls, le = pos, pos + len(line)
        pos = le + 1
        start = ls
        for m in _SENT_END.finditer(line):
            end = ls + m.end()
            if line[m.start()] == "." and m.end() - m.start() == 1:
                # the word before the stop, looked for in the last few characters only (see attribution.LOOKBACK)
                word = re.search(r"([\w.]+)$", line[max(0, m.start() - 64) : m.start()])
                if word and (word.group(1).lower() in _ABBREV or len(word.group(1)) == 1):
                    continue
            s, e = _trim(text, start, end)
            if e > s:
                out.append((s, e))
            start = end
        s, e = _trim(text, start, le)
        if e > s:
            out.append((s, e))
    return out


def sentences(text: str, toks: Tokens) -> list[Sentence]:
    """Sentences with their token ranges; token lists are sorted so a linear sweep suffices."""
    out: list[Sentence] = []
    ti = 0
    n = len(toks)
    for s, e in split_sentences(text):
        while ti < n and toks.starts[ti] < s:
            ti += 1
        tj = ti
        while tj < n and toks.ends[tj] <= e:
            tj += 1
        out.append(Sentence(s, e, ti, tj))
        ti = tj
    return out


@dataclass(frozen=True)
class Clause:
    start: int
    end: int
    first_tok: int
    end_tok: int
    sent: int  # index of the enclosing sentence
    pos: int  # clause number within the sentence
    n: int  # clauses in the sentence


# Clause boundaries: , ; : or a dash, followed by whitespace. Gold PTC spans are often one clause of a longer
# sentence; predicting clauses instead of sentences raises the oracle SI precision from 0.48 to 0.66.
_CLAUSE_CUT = re.compile(r"(?:[,;:]|\s[-–—])\s")
MIN_CLAUSE_TOKENS = 3


def clauses(doc_text: str, toks: Tokens, sents: list[Sentence]) -> list[Clause]:
    out: list[Clause] = []
    for si, sent in enumerate(sents):
        cuts = [sent.start]
        for m in _CLAUSE_CUT.finditer(doc_text, sent.start, sent.end):
            cuts.append(m.end())
        cuts.append(sent.end)
        pieces: list[list[int]] = []  # [start, end, first_tok, end_tok]
        ti = sent.first_tok
        for a, b in zip(cuts, cuts[1:], strict=False):
            tj = ti
            while tj < sent.end_tok and toks.ends[tj] <= b:
                tj += 1
            s0, e0 = _trim(doc_text, a, b)
            if e0 > s0:
                # a piece of a word or two ("However,") is glued to the next piece, or to the previous at the end
                if pieces and (pieces[-1][3] - pieces[-1][2] < MIN_CLAUSE_TOKENS):
                    pieces[-1][1], pieces[-1][3] = e0, tj
                else:
                    pieces.append([s0, e0, ti, tj])
            ti = tj
        if len(pieces) > 1 and pieces[-1][3] - pieces[-1][2] < MIN_CLAUSE_TOKENS:
            last = pieces.pop()
            pieces[-1][1], pieces[-1][3] = last[1], last[3]
        for k, (a, b, t0, t1) in enumerate(pieces):
            out.append(Clause(a, b, t0, t1, si, k, len(pieces)))
    return out


@dataclass
class Doc:
    """A document analysed once: tokens, sentences, and per-document statistics that features reuse."""

    text: str
    toks: Tokens
    sents: list[Sentence]
    counts: dict[str, int]  # token frequency within the document (Repetition cue)
    clauses: list[Clause]

    # What the sentence and clause features of every unit read, built once per text on first use: the same names
    # and counts over and over (a clause reads its sentence's words too) were most of the features' cost.

    @cached_property
    def word_names(self) -> list[str]:
        """"w=" + each token's word."""
        return ["w=" + w for w in self.toks.words]

    @cached_property
    def pair_names(self) -> list[str]:
        """"b=" + each pair of neighbouring words joined by "_": entry k is tokens k and k+1."""
        words = self.toks.words
        return ["b=" + a + "_" + b for a, b in zip(words, words[1:], strict=False)]

    @cached_property
    def sentence_words(self) -> list[dict[str, float]]:
        """Per sentence, the "sw=" features that each of its clauses carries (its words, each once, weight 0.5)."""
        words = self.toks.words
        return [{"sw=" + w: 0.5 for w in words[s.first_tok : s.end_tok]} for s in self.sents]

    @cached_property
    def capitalised_before(self) -> list[int]:
        """Entry k: how many of tokens 0..k-1 start with a capital letter."""
        text = self.text
        return list(accumulate((text[a].isupper() for a in self.toks.starts), initial=0))

    @cached_property
    def shouted_before(self) -> list[int]:
        """Entry k: how many of tokens 0..k-1 are shouted (ALL CAPS, two letters or more)."""
        text, ends = self.text, self.toks.ends
        # a word that starts lower-case is not shouted: most words are settled without slicing them out
        shouted = (b - a > 1 and not text[a].islower() and text[a:b].isupper()
                   for a, b in zip(self.toks.starts, ends, strict=True))
        return list(accumulate(shouted, initial=0))

    @cached_property
    def repeated_words(self) -> frozenset[str]:
        """The words of 4+ letters seen 3+ times in the text (the Repetition cue of `rep=`)."""
        return frozenset(w for w, c in self.counts.items() if len(w) > 3 and c >= 3)


def analyse(text: str, toks: Tokens | None = None) -> Doc:
    """`toks`: `tokenize(text)`, when the caller has it already."""
    toks = toks if toks is not None else tokenize(text)
    counts: dict[str, int] = {}
    for w in toks.words:
        counts[w] = counts.get(w, 0) + 1
    sents = sentences(text, toks)
    return Doc(text, toks, sents, counts, clauses(text, toks, sents))


def _shape(raw: str) -> str:
    if raw.isupper() and len(raw) > 1:
        return "UP"
    if raw[:1].isupper():
        return "Cap"
    if raw.isdigit():
        return "D"
    return "l"


def _allcaps(doc: Doc, a: int, b: int) -> int:
    """Shouted words (ALL CAPS, two letters or more) among tokens a..b."""
    shouted = doc.shouted_before
    return shouted[b] - shouted[a]


def _unigrams_and_bigrams(doc: Doc, a: int, b: int) -> dict[str, float]:
    """The bias, "w=" and "b=" features of tokens a..b: each name once, in order of first occurrence."""
    return dict.fromkeys(chain(("bias",), doc.word_names[a:b], doc.pair_names[a : max(a, b - 1)]), 1.0)


def sentence_features(doc: Doc, i: int) -> dict[str, float]:
    """Named features of sentence i (hashed later). Names are short strings so they are cheap to hash."""
    sent = doc.sents[i]
    words = doc.toks.words[sent.first_tok : sent.end_tok]
    raw = doc.text[sent.start : sent.end]
    f = _unigrams_and_bigrams(doc, sent.first_tok, sent.end_tok)
    n = len(words)
    if n:
        f["first=" + words[0]] = 1.0
        if n > 1:
            f["first2=" + words[0] + "_" + words[1]] = 1.0
    f["len=" + str(min(n // 5, 12))] = 1.0
    f["q?"] = float("?" in raw)
    f["q!"] = float("!" in raw)
    f["quote"] = float(any(c in raw for c in "\"“”"))
    f["is_title"] = float(sent.start == doc.sents[0].start)
    f["pos=" + str(min(i, 5))] = 1.0
    caps = doc.capitalised_before[sent.end_tok] - doc.capitalised_before[sent.first_tok]  # `_shape` "Cap" words
    f["capfrac=" + str(int(4 * caps / n) if n else 0)] = 1.0
    upper = _allcaps(doc, sent.first_tok, sent.end_tok)
    if upper:
        f["allcaps"] = float(min(upper, 3))
    # Repetition: content words this sentence shares with the rest of the document
    rep = len(doc.repeated_words.intersection(words))
    f["rep=" + str(min(rep, 6))] = 1.0
    return f


def clause_features(doc: Doc, i: int) -> dict[str, float]:
    """Named features of clause i: its own n-grams and cues, plus the enclosing sentence's words as context."""
    c = doc.clauses[i]
    sent = doc.sents[c.sent]
    words = doc.toks.words[c.first_tok : c.end_tok]
    raw = doc.text[c.start : c.end]
    n = len(words)
    f = _unigrams_and_bigrams(doc, c.first_tok, c.end_tok)
    f.update(doc.sentence_words[c.sent])
    if n:
        f["first=" + words[0]] = 1.0
    f["len=" + str(min(n // 3, 12))] = 1.0
    f["slen=" + str(min((sent.end_tok - sent.first_tok) // 5, 12))] = 1.0
    f["cpos=" + ("only" if c.n == 1 else "first" if c.pos == 0 else "last" if c.pos == c.n - 1 else "mid")] = 1.0
    f["q?"] = float("?" in raw)
    f["q!"] = float("!" in raw)
    f["s?"] = float("?" in doc.text[sent.start : sent.end])
    f["quote"] = float(any(ch in raw for ch in "\"“”"))
    f["is_title"] = float(c.sent == 0)
    f["spos=" + str(min(c.sent, 5))] = 1.0
    upper = _allcaps(doc, c.first_tok, c.end_tok)
    if upper:
        f["allcaps"] = float(min(upper, 3))
    rep = len(doc.repeated_words.intersection(words))
    f["rep=" + str(min(rep, 6))] = 1.0
    return f


def token_features(doc: Doc, k: int) -> dict[str, float]:
    """Named features of token k: identity, neighbourhood, shape and in-document frequency."""
    words = doc.toks.words
    w = words[k]
    raw = doc.text[doc.toks.starts[k] : doc.toks.ends[k]]
    prev = words[k - 1] if k > 0 else "<s>"
    nxt = words[k + 1] if k + 1 < len(words) else "</s>"
    f: dict[str, float] = {"bias": 1.0, "w=" + w: 1.0, "p=" + prev: 1.0, "n=" + nxt: 1.0,
                           "pw=" + prev + "_" + w: 1.0, "wn=" + w + "_" + nxt: 1.0,
                           "sh=" + _shape(raw): 1.0}
    if len(w) > 3:
        f["suf3=" + w[-3:]] = 1.0
    c = doc.counts.get(w, 0)
    f["cnt=" + str(min(c, 5))] = 1.0
    # quotes immediately around a word are a classic scare-quote cue for Name_Calling
    s0 = doc.toks.starts[k]
    e0 = doc.toks.ends[k]
    if s0 > 0 and doc.text[s0 - 1] in "\"“'‘":
        f["qL"] = 1.0
    if e0 < len(doc.text) and doc.text[e0] in "\"”'’":
        f["qR"] = 1.0
    return f


_QUOTE_LEFT, _QUOTE_RIGHT = "\"“'‘", "\"”'’"


def _crc32s(names: list[str]) -> np.ndarray:
    """The crc32 of each name's UTF-8 bytes (int64): a feature's column and sign come from it (`hash_names`)."""
    return np.fromiter(map(zlib.crc32, map(str.encode, names)), dtype=np.int64, count=len(names))


_BIAS_CRC = zlib.crc32(b"bias")
_SHAPE_CRC = {sh: zlib.crc32(("sh=" + sh).encode()) for sh in ("UP", "Cap", "D", "l")}
_COUNT_CRC = np.array([zlib.crc32(f"cnt={c}".encode()) for c in range(6)], dtype=np.int64)
_QL_CRC, _QR_CRC = zlib.crc32(b"qL"), zlib.crc32(b"qR")
_CRC_P_START, _CRC_N_END = zlib.crc32(b"p=<s>"), zlib.crc32(b"n=</s>")
_CRC_PW_START = zlib.crc32(b"pw=<s>_")
_QUOTE_LEFT_POINTS = np.array([ord(c) for c in _QUOTE_LEFT], dtype=np.uint32)
_QUOTE_RIGHT_POINTS = np.array([ord(c) for c in _QUOTE_RIGHT], dtype=np.uint32)


def _crc32s_after(start: int | np.ndarray, parts: list[bytes]) -> np.ndarray:
    """The crc32 of each of `parts` continued from the checksum `start` of earlier bytes (one for all parts, or
    one per part): `zlib.crc32(prefix + part)` is `zlib.crc32(part, zlib.crc32(prefix))`."""
    begin = repeat(start, len(parts)) if isinstance(start, int) else start.tolist()
    return np.fromiter(map(zlib.crc32, parts, begin), dtype=np.int64, count=len(parts))


def token_feature_columns(doc: Doc, n_features: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`hash_rows` of every token's `token_features`, built without them: the same CSR pieces, bit for bit.

    A token's row is, in order: bias, w=, p=, n=, pw=, wn=, sh=, suf3= (words of 4+ letters), cnt=, qL and qR
    (when a quote touches the word). The names that depend on one word are hashed once per distinct word and the
    constant ones once per process; the two names of a pair of neighbours ("pw=a_b", "wn=a_b") are hashed by
    continuing the crc32 of their head ("pw=a_", hashed per distinct word) over the second word's bytes, which
    gives the crc32 of the whole name without building it. The rows are laid out as an (n_tokens, 11) table of
    hashes whose absent cells a mask drops."""
    words, text = doc.toks.words, doc.text
    n = len(words)
    if n == 0:
        return hash_names([], None, [0], n_features)
    vocab = list(doc.counts)  # the distinct words: `counts` holds every word of the text
    index = {w: i for i, w in enumerate(vocab)}
    ids = np.fromiter(map(index.__getitem__, words), dtype=np.intp, count=n)
    # crc32(prefix + name) is crc32(name, crc32(prefix)): each word's bytes are hashed after each prefix, and the
    # names are never built. The p= and n= tables end with the start and end markers.
    encoded = [w.encode() for w in vocab]
    crc_p = np.append(_crc32s_after(zlib.crc32(b"p="), encoded), _CRC_P_START)
    crc_n = np.append(_crc32s_after(zlib.crc32(b"n="), encoded), _CRC_N_END)
    long_word = np.array([len(w) > 3 for w in vocab])
    crc_suf = np.zeros(len(vocab), dtype=np.int64)
    crc_suf[long_word] = _crc32s_after(zlib.crc32(b"suf3="), [w[-3:].encode() for w in vocab if len(w) > 3])
    crc_cnt = _COUNT_CRC[np.minimum(np.fromiter(doc.counts.values(), dtype=np.int64, count=len(vocab)), 5)]
    # a pair of neighbours a, b: "pw=a_b" and "wn=a_b" are b's bytes hashed after "pw=a_" and "wn=a_"
    underscores = [b"_"] * len(vocab)
    pw_head = np.append(_CRC_PW_START, _crc32s_after(_crc32s_after(zlib.crc32(b"pw="), encoded), underscores))
    wn_head = _crc32s_after(_crc32s_after(zlib.crc32(b"wn="), encoded), underscores)
    tail = [encoded[i] for i in ids.tolist()] + [b"</s>"]  # each token's bytes, then the end marker's
    cells = np.empty((n, 11), dtype=np.int64)
    cells[:, 0] = _BIAS_CRC
    cells[:, 1] = _crc32s_after(zlib.crc32(b"w="), encoded)[ids]
    cells[0, 2] = crc_p[-1]
    cells[1:, 2] = crc_p[ids[:-1]]
    cells[:-1, 3] = crc_n[ids[1:]]
    cells[-1, 3] = crc_n[-1]
    cells[:, 4] = _crc32s_after(pw_head[np.concatenate([[0], ids[:-1] + 1])], tail[:n])
    cells[:, 5] = _crc32s_after(wn_head[ids], tail[1:])
    cells[:, 7] = crc_suf[ids]
    cells[:, 8] = crc_cnt[ids]
    cells[:, 9] = _QL_CRC
    cells[:, 10] = _QR_CRC
    # the characters at, before and after each word, as code points: 0 stands before and after the text
    points = np.zeros(len(text) + 2, dtype=np.uint32)
    points[1:-1] = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    starts = np.asarray(doc.toks.starts, dtype=np.intp) + 1
    ends = np.asarray(doc.toks.ends, dtype=np.intp) + 1
    # a word that starts with a-z is "l" (`_shape`): only the others need their raw text looked at
    first = points[starts]
    shapes = np.full(n, _SHAPE_CRC["l"], dtype=np.int64)
    others = np.flatnonzero((first < ord("a")) | (first > ord("z")))
    st, en = doc.toks.starts, doc.toks.ends
    shapes[others] = [_SHAPE_CRC[_shape(text[st[k] : en[k]])] for k in others.tolist()]
    cells[:, 6] = shapes
    present = np.ones((n, 11), dtype=bool)
    present[:, 7] = long_word[ids]
    present[:, 9] = (points[starts - 1, None] == _QUOTE_LEFT_POINTS).any(axis=1)
    present[:, 10] = (points[ends, None] == _QUOTE_RIGHT_POINTS).any(axis=1)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(present.sum(axis=1), out=indptr[1:])
    return hashed_columns(cells[present], None, indptr, n_features)


def hash_rows(rows: Iterable[dict[str, float]], n_features: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR pieces (indptr, indices, data) for hashed rows; the sign bit of the hash decorrelates collisions.

    Names and values are gathered in plain lists and hashed, masked and signed as arrays: the per-feature work
    in Python is two list extensions and one hash."""
    indptr = [0]
    names: list[str] = []
    values: list[float] = []
    for row in rows:
        names.extend(row)
        values.extend(row.values())
        indptr.append(len(names))
    return hash_names(names, values, indptr, n_features)


def hash_names(names: list[str], values: list[float] | None, indptr: list[int],
               n_features: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`hash_rows` of rows already flattened into `names` and `values` (None: every value is 1.0), each row ending
    at its `indptr` entry."""
    # a feature's column is the crc32 of its UTF-8 name (stable across processes, unlike `hash`); hashing every
    # name again costs less than looking it up in a cache (the names are new strings, whose own hash a lookup
    # computes first: a per-text cache of the sentence and clause layers' names cost 0.1 ms more per article)
    return hashed_columns(_crc32s(names), values, indptr, n_features)


def hashed_columns(hashes: np.ndarray, values: list[float] | None, indptr: list[int] | np.ndarray,
                   n_features: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`hash_names` from the names' crc32s: the low bits give the column, bit 31 the sign."""
    data = np.ones(len(hashes)) if values is None else np.asarray(values, dtype=np.float64)
    data[(hashes >> 31) & 1 == 1] *= -1.0
    return (np.asarray(indptr, dtype=np.int64), hashes & (n_features - 1), data.astype(np.float32))
