"""Filler prose from a word bigram model trained on the base texts, generated many documents at a time.

Filler is the bulk of a scale run, and it must not look like reuse: two fillers, or a filler and a base text,
must share no long passage by chance. Two rules keep runs short:

- with probability `jump` the next word is drawn from the unigram distribution instead of the bigram one,
  which keeps the per-word entropy high, so the chance that two fillers share an 8-word run is negligible;
- a word that would complete a 4-gram seen in the base texts (looked up in a hashed bit table, so a few
  false hits only cause extra jumps) is redrawn from the unigrams, so no filler reproduces more than a
  short run of base text.

Generation is vectorised across a batch of documents (one numpy step per word position), which is what makes
100k filler articles take seconds rather than minutes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

_TOK_RE = re.compile(r"\w+(?:['’]\w+)*|[.,;:!?]")
_END = {".", "!", "?"}
_PUNCT = {".", ",", ";", ":", "!", "?"}
_BLOOM_BITS = 24
_H = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9),
      np.uint64(0x27D4EB2F165667C5))


class NGramModel:
    """A bigram model with unigram jumps; `generate` returns paragraphs of filler text per document."""

    def __init__(self, texts: Iterable[str], *, jump: float = 0.3):
        self.jump = jump
        vocab: dict[str, int] = {".": 0}
        seqs: list[list[int]] = []
        lower_seen: set[str] = set()
        raw_seqs: list[list[str]] = []
        for text in texts:
            toks = _TOK_RE.findall(text)
            raw_seqs.append(toks)
            lower_seen.update(t for t in toks if t.islower())
        for toks in raw_seqs:
            ids = [0]
            prev_end = True
            for t in toks:
                # a sentence-initial capital is not part of the word ("The" -> "the"); detok restores it
                if prev_end and t[:1].isupper() and t.lower() in lower_seen:
                    t = t.lower()
                ids.append(vocab.setdefault(t, len(vocab)))
                prev_end = t in _END
            seqs.append(ids)
        words = [""] * len(vocab)
        for w, i in vocab.items():
            words[i] = w
        self.words = words
        stream = np.fromiter((i for s in seqs for i in s), dtype=np.int64)
        prev, nxt = stream[:-1], stream[1:]
        order = np.argsort(prev, kind="stable")
        self.succ = nxt[order].astype(np.int32)
        counts = np.bincount(prev, minlength=len(words))
        self.succ_off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.succ_len = counts.astype(np.int64)
        is_word = np.array([w not in _PUNCT for w in words])
        self.uni = stream[is_word[stream]].astype(np.int32)  # jumps land on words, never on punctuation
        self.bloom = np.zeros(1 << _BLOOM_BITS, dtype=bool)
        if len(stream) >= 4:
            self.bloom[self._hash4(stream[:-3], stream[1:-2], stream[2:-1], stream[3:])] = True
        self._end_ids = np.array([vocab.get(w, 0) for w in sorted(_END)], dtype=np.int64)
        # surface forms: " word", ",", " Word" (sentence start)
        self._sp = np.array([w if w in _PUNCT else " " + w for w in words], dtype=object)
        self._cap = np.array([w if w in _PUNCT else " " + w[:1].upper() + w[1:] for w in words], dtype=object)
        self._par = np.array(["\n\n" + w[:1].upper() + w[1:] for w in words], dtype=object)

    @staticmethod
    def _hash4(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            h = (a.astype(np.uint64) * _H[0] + b.astype(np.uint64) * _H[1] + c.astype(np.uint64) * _H[2]
                 + d.astype(np.uint64) * _H[3])
        return (h >> np.uint64(64 - _BLOOM_BITS)).astype(np.int64)

    def generate_ids(self, rng: np.random.Generator, n_docs: int, n_tokens: int) -> np.ndarray:
        """Token ids of shape (n_docs, n_tokens); column 0 is the sentence boundary that starts each doc."""
        toks = np.zeros((n_docs, n_tokens), dtype=np.int64)
        uni = self.uni
        for t in range(1, n_tokens):
            cur = toks[:, t - 1]
            lens = self.succ_len[cur]
            pick = self.succ_off[cur] + (rng.random(n_docs) * np.maximum(lens, 1)).astype(np.int64)
            nxt = self.succ[np.minimum(pick, len(self.succ) - 1)].astype(np.int64)
            jump = (rng.random(n_docs) < self.jump) | (lens == 0)
            if t >= 4:
                seen = self.bloom[self._hash4(toks[:, t - 3], toks[:, t - 2], cur, nxt)]
                jump |= seen
            # never two punctuation marks in a row, never a doc that is all jumps into "."
            jump |= (cur == 0) & (nxt == 0)
            k = int(jump.sum())
            if k:
                nxt[jump] = uni[rng.integers(0, len(uni), k)]
            toks[:, t] = nxt
        return toks

    def generate(self, rng: np.random.Generator, n_docs: int, n_tokens: int = 560,
                 para_sentences: int = 4) -> list[str]:
        """`n_docs` filler bodies of about `n_tokens` tokens, in paragraphs of about `para_sentences` sentences.

        Each text ends at its last full stop; paragraphs are separated by a blank line.
        """
        toks = self.generate_ids(rng, n_docs, n_tokens + 1)
        body = toks[:, 1:]
        prev = toks[:, :-1]
        is_start = np.isin(prev, self._end_ids)
        sent_no = np.cumsum(is_start, axis=1)
        offset = rng.integers(0, para_sentences, size=(n_docs, 1))
        para_start = is_start & (((sent_no + offset) % para_sentences) == 0)
        para_start[:, 0] = False
        surf = self._sp[body]
        surf[is_start] = self._cap[body[is_start]]
        surf[para_start] = self._par[body[para_start]]
        out = []
        for row in surf:
            text = "".join(row).lstrip()
            cut = max(text.rfind("."), text.rfind("?"), text.rfind("!"))
            out.append(text[: cut + 1] if cut > 0 else text + ".")
        return out

    def sentence(self, rng: np.random.Generator, n_tokens: int = 24) -> str:
        """One short run of filler words (no paragraph breaks), for rewritten leads and paraphrases."""
        text = self.generate(rng, 1, n_tokens, para_sentences=10_000)[0]
        return text.replace("\n\n", " ")

