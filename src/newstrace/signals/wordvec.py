"""Static word vectors for the default technique model: semantic features at the cost of a dictionary lookup.

The hashed features of `signals.features` know only the words seen in training; "vile" teaches nothing about
"despicable". A small table of word vectors does: each word's vector is the mean of MiniLM's input embeddings of
its word pieces (`signals.encoder`), reduced by PCA to `DIM` dimensions and stored as int8 with one scale per
dimension, inside the model file. Building the table needs `make minilm`; using it needs only numpy.

From the vectors of a text's tokens, `doc_vectors` derives what the model's dense layers read (the same layout as
`signals.contextual`, so the training and inference code serve both): per clause, the mean vector of its tokens
followed by the mean vector of its sentence; per token, its own vector (the token layer adds the mean over a
window either side, `contextual.token_context`). Unknown words get the zero vector.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from newstrace.signals.contextual import prefix_sums
from newstrace.signals.features import Doc

DIM = 64  # PCA dimensions kept


@dataclass
class WordVectors:
    words: list[str]
    quantised: np.ndarray  # (n_words, dim) int8
    scale: np.ndarray  # (dim,) float32: a vector is quantised * scale

    def __post_init__(self) -> None:
        self.index = {w: i for i, w in enumerate(self.words)}
        # the float table, with a zero row at the end for unknown words
        self.table = np.vstack([self.quantised.astype(np.float32) * self.scale,
                                np.zeros((1, self.quantised.shape[1]), dtype=np.float32)])

    @property
    def dim(self) -> int:
        return int(self.quantised.shape[1])

    def lookup(self, words: Iterable[str]) -> np.ndarray:
        words = list(words)
        # map over dict.get in C, not a generator expression: a third of the vectors' time went to it
        rows = map(self.index.get, words, repeat(len(self.words), len(words)))  # unknown words: the zero row
        return self.table[np.fromiter(rows, dtype=np.int64, count=len(words))]


def _span_means(cum: np.ndarray, first: np.ndarray, stop: np.ndarray) -> np.ndarray:
    count = np.maximum(stop - first, 1)[:, None]
    return ((cum[stop] - cum[first]) / count).astype(np.float32)


def doc_vectors(doc: Doc, wv: WordVectors) -> tuple[np.ndarray, np.ndarray]:
    """(clause vectors (n_clauses, 2 * dim), token vectors (n_tokens, dim)) of one analysed text."""
    clause_x, tok_x, _ = doc_vectors_and_sums(doc, wv)
    return clause_x, tok_x


def doc_vectors_and_sums(doc: Doc, wv: WordVectors) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`doc_vectors`, plus the token vectors' `prefix_sums`, which `contextual.token_context` reads too: they are
    the better part of the vectors' cost (a sequential float64 sum down each of the 64 columns)."""
    tok_x = wv.lookup(doc.toks.words)
    cum = prefix_sums(tok_x)
    if not doc.clauses:
        return np.zeros((0, 2 * wv.dim), dtype=np.float32), tok_x, cum
    c_first = np.array([c.first_tok for c in doc.clauses])
    c_stop = np.array([c.end_tok for c in doc.clauses])
    s_first = np.array([doc.sents[c.sent].first_tok for c in doc.clauses])
    s_stop = np.array([doc.sents[c.sent].end_tok for c in doc.clauses])
    return np.hstack([_span_means(cum, c_first, c_stop), _span_means(cum, s_first, s_stop)]), tok_x, cum


def build_word_vectors(words: Iterable[str], dim: int = DIM) -> WordVectors:
    """The table for `words` (plus MiniLM's own whole-word vocabulary) from MiniLM's input embeddings. Needs
    `make minilm`. Deterministic: sorted words, an exact SVD, signs fixed so each component's largest entry is
    positive."""
    from newstrace.signals.encoder import load_encoder

    enc = load_encoder()
    vocab = enc.tokenizer.get_vocab()
    pieces = {w for w in vocab if w.isalpha() and w.islower()}
    all_words = sorted(set(words) | pieces)
    emb = np.asarray(enc.word, dtype=np.float32)
    vecs = np.zeros((len(all_words), emb.shape[1]), dtype=np.float32)
    for i, w in enumerate(all_words):
        ids = vocab.get(w)
        vecs[i] = emb[ids] if ids is not None else emb[enc.tokenizer.encode(w, add_special_tokens=False).ids].mean(0)
    vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-6)  # direction, not piece frequency
    centred = vecs - vecs.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    comps = vt[:dim]
    comps *= np.sign(comps[np.arange(dim), np.abs(comps).argmax(axis=1)])[:, None]
    low = centred @ comps.T
    scale = (np.abs(low).max(axis=0) / 127.0).astype(np.float32)
    quantised = np.round(low / scale).astype(np.int8)
    return WordVectors(all_words, quantised, scale)
