"""Contextual vectors for the clauses and tokens of a `features.Doc`, pooled from the word-piece states of the
MiniLM encoder (`signals.encoder`). Used only by the optional `minilm` technique model.

A clause's vector is the mean of its pieces' states from blocks 3 and 6, followed by the mean block-6 state of its
whole sentence (so the classifier sees the clause and what surrounds it); a token's vector is the mean of its
pieces' block-3 and block-6 states. Pooling is by character offsets, so it is independent of how the encoder and
`newstrace.tokens` cut words.

Two views are derived from those pooled vectors (so the per-article cache of clause and token vectors serves
them too): a sentence's vector (its mean block-6 state, the tail of any of its clauses' vectors), and a token's
vector in context (its own vector followed by the mean over a window of `TOKEN_WINDOW` tokens either side).
"""

from __future__ import annotations

import numpy as np

from newstrace.signals.features import Doc

LAYERS = (3, 6)  # encoder blocks whose states are pooled (1-based)
PIECE_DIM = 384 * len(LAYERS)
CLAUSE_DIM = PIECE_DIM + 384
TOKEN_DIM = PIECE_DIM
SENT_DIM = 384
TOKEN_WINDOW = 2  # tokens either side averaged into a token's context vector
TOKEN_CTX_DIM = 2 * TOKEN_DIM


def prefix_sums(x: np.ndarray) -> np.ndarray:
    """(n + 1, dim) float64: row k is the sum of x's first k rows, added in order. Accumulated in column-major
    order, where each column's running sum is contiguous, then made row-major for the row gathers that follow:
    faster than `np.cumsum(x, axis=0)` on a row-major (700, 64) array, with the same sums bit for bit."""
    cum = np.zeros((len(x) + 1, x.shape[1]), dtype=np.float64, order="F")
    cum[1:] = x
    np.cumsum(cum[1:], axis=0, out=cum[1:])
    return np.ascontiguousarray(cum)  # row-major again: callers gather rows


def pool(starts: np.ndarray, ends: np.ndarray, states: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """Mean state of the pieces overlapping each [a, b) span; zeros for a span that no piece overlaps."""
    out = np.zeros((len(spans), states.shape[1]), dtype=np.float32)
    if len(starts) == 0 or not spans:
        return out
    cum = prefix_sums(states)
    a = np.array([s for s, _ in spans])
    b = np.array([e for _, e in spans])
    first = np.searchsorted(ends, a, side="right")  # first piece ending after a
    stop = np.searchsorted(starts, b, side="left")  # first piece starting at or after b
    count = np.maximum(stop - first, 0)
    hit = count > 0
    out[hit] = ((cum[stop[hit]] - cum[first[hit]]) / count[hit, None]).astype(np.float32)
    return out


def doc_vectors(doc: Doc, starts: np.ndarray, ends: np.ndarray,
                states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(clause vectors (n_clauses, CLAUSE_DIM), token vectors (n_tokens, TOKEN_DIM)) of one analysed text, from
    the encoder's output for the same text (`states` holds the `LAYERS` blocks side by side)."""
    states = np.asarray(states, dtype=np.float32)
    clause = pool(starts, ends, states, [(c.start, c.end) for c in doc.clauses])
    sent = pool(starts, ends, states[:, -384:], [(s.start, s.end) for s in doc.sents])
    sent_of_clause = np.array([c.sent for c in doc.clauses], dtype=np.int64)
    clause_x = np.hstack([clause, sent[sent_of_clause] if len(sent_of_clause) else np.zeros((0, 384), np.float32)])
    tok_x = pool(starts, ends, states, list(zip(doc.toks.starts, doc.toks.ends, strict=True)))
    return clause_x, tok_x


def encode_doc(doc: Doc) -> tuple[np.ndarray, np.ndarray]:
    """Run the encoder over `doc.text` and pool it (see `doc_vectors`)."""
    from newstrace.signals.encoder import load_encoder

    starts, ends, states = load_encoder().encode(doc.text, layers=LAYERS)
    return doc_vectors(doc, starts, ends, states)


def sentence_vectors(doc: Doc, clause_x: np.ndarray) -> np.ndarray:
    """(n_sents, SENT_DIM): each sentence's mean block-6 state, read from the tail of its first clause's vector
    (every clause of a sentence carries the same tail); zeros for a sentence without a clause."""
    out = np.zeros((len(doc.sents), SENT_DIM), dtype=np.float32)
    seen: set[int] = set()
    for i, c in enumerate(doc.clauses):
        if c.sent not in seen:
            seen.add(c.sent)
            out[c.sent] = clause_x[i, -SENT_DIM:]
    return out


def token_context(tok_x: np.ndarray, window: int = TOKEN_WINDOW, sums: np.ndarray | None = None) -> np.ndarray:
    """(n_tokens, 2 * dim): each token's vector, then the mean of the vectors of tokens k-window..k+window of the
    same text (fewer at its edges). On 2 of 5 PTC article folds the window's mean raised the contextual token
    layer's average precision for ANY from 0.322 to 0.337 and for Loaded_Language from 0.220 to 0.237 (the
    previous and next vectors side by side did less, at 1.5 times the width); span scores did not move (see
    `train.Params.emb_window`), so the shipped model does not use it. `sums`: `prefix_sums(tok_x)`, when the
    caller has them (`wordvec.doc_vectors_and_sums`)."""
    tok_x = np.asarray(tok_x, dtype=np.float32)
    n = len(tok_x)
    if n == 0:
        return np.zeros((0, 2 * tok_x.shape[1]), dtype=np.float32)
    cum = prefix_sums(tok_x) if sums is None else sums
    k = np.arange(n)
    lo = np.maximum(k - window, 0)
    hi = np.minimum(k + window + 1, n)
    mean = (cum[hi] - cum[lo]) / (hi - lo)[:, None]
    return np.hstack([tok_x, mean.astype(np.float32)])
