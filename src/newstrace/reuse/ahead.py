"""Shingling while ingest is still reading: the reuse stage's first step, moved off its critical path.

Ingest is one process parsing input and writing the store; shingling (`shingles.shingle_rows`) is pure numpy over
each text. `ShingleAhead` hands each batch that ingest has just stored to a small pool of forked workers, so the
second core shingles batch k while the first parses batch k + 1. When the reuse stage starts, `rows_for` puts the
batches' rows in the order of the stage's article list; articles that were not shingled ahead (stored by an
earlier run, or a batch whose worker failed) are shingled then. The result is exactly `shingle_corpus` of the
articles' texts: a text's rows depend only on that text, never on its batch.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor

import numpy as np

from newstrace.model import Article
from newstrace.reuse.shingles import ShingleParams, shingle_rows


class ShingleAhead:
    """A pool of `workers` forked processes shingling stored batches in the background.

    `add(batch)` after each batch is stored (from any thread); `rows_for(articles)` once, when the reuse stage
    needs the rows; `close()` in any case (idempotent), so no worker outlives the run."""

    def __init__(self, params: ShingleParams, workers: int = 2, part_size: int = 1000):
        self.params = params
        self.part_size = part_size
        self._pool: ProcessPoolExecutor | None = ProcessPoolExecutor(
            max_workers=max(1, workers), mp_context=mp.get_context("fork"))
        # the workers are forked now, from this thread: `add` is called from ingest's commit thread, and a fork from
        # there could copy a lock that this thread holds at that moment
        self._pool.submit(int).result()
        self._parts: list[tuple[list[str], list[str], Future]] = []  # (ids, texts, future rows)

    def add(self, batch: Sequence[Article]) -> None:
        if self._pool is None:
            return
        # in parts small enough that the last stored batch is shingled by every worker, not by one
        for lo in range(0, len(batch), self.part_size):
            part = batch[lo : lo + self.part_size]
            ids, texts = [a.id for a in part], [a.text for a in part]
            # sent as bytes: pickling a str would leave its UTF-8 form cached inside it, a second copy of every
            # non-ASCII text for the rest of the run (93 MB at 30,000 articles)
            blobs = [t.encode("utf-8", "surrogatepass") for t in texts]
            self._parts.append((ids, texts, self._pool.submit(_shingle_utf8, blobs, self.params)))

    def rows_for(self, articles: Sequence[Article], workers: int = 2) -> tuple[np.ndarray, np.ndarray]:
        """`(doc, hash)` rows of `articles` (doc = index in the sequence), sorted by doc and, within a doc, by hash:
        what `shingle_corpus` returns for their texts. The articles not shingled ahead are shingled now, by
        `workers` processes."""
        from newstrace.reuse.engine import shingle_corpus

        index = {a.id: k for k, a in enumerate(articles)}
        done = np.zeros(len(articles), dtype=bool)
        parts: list[tuple[np.ndarray, np.ndarray]] = []  # (global doc of each row, hashes), each sorted by doc
        pending, self._parts = self._parts, []
        while pending:
            ids, texts, future = pending.pop(0)
            try:
                local_docs, hashes = future.result()
            except Exception:  # a worker that died (out of memory, killed): its batch is shingled below instead
                continue
            where = np.array([index.get(i, -1) for i in ids], dtype=np.int32)
            # used only for the articles asked for, with the text that was shingled, and not already covered
            ok = np.array([w >= 0 and not done[w] and (articles[w].text is t or articles[w].text == t)
                           for w, t in zip(where.tolist(), texts, strict=True)], dtype=bool)
            keep = ok[local_docs]
            parts.append((where[local_docs[keep]], hashes[keep]))
            done[where[ok]] = True
        self.close()
        missing = np.flatnonzero(~done)
        if len(missing):
            d, h = shingle_corpus([articles[k].text for k in missing.tolist()], self.params, workers)
            parts.append((missing[d].astype(np.int32), h))
        return _merge_by_doc(parts, len(articles))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _shingle_utf8(blobs: list[bytes], params: ShingleParams) -> tuple[np.ndarray, np.ndarray]:
    return shingle_rows([b.decode("utf-8", "surrogatepass") for b in blobs], params)


def _merge_by_doc(parts: list[tuple[np.ndarray, np.ndarray]], n_docs: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of disjoint sets of docs, each part grouped by doc, merged into one array sorted by doc with each
    doc's rows in their order: every row is scattered to its doc's slot, with no sort of the whole corpus."""
    counts = np.zeros(n_docs, dtype=np.int64)
    for docs, _ in parts:
        counts += np.bincount(docs, minlength=n_docs)
    first = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(counts, out=first[1:])
    out_docs = np.repeat(np.arange(n_docs, dtype=np.int32), counts)
    out_hashes = np.empty(int(first[-1]), dtype=np.int64)
    while parts:
        docs, hashes = parts.pop()  # each part's rows freed once placed
        if not len(docs):
            continue
        # a row's place in its doc: its index minus the index of its doc's first row in the part
        starts = np.flatnonzero(np.r_[True, docs[1:] != docs[:-1]])
        rank = np.arange(len(docs)) - np.repeat(starts, np.diff(np.r_[starts, len(docs)]))
        out_hashes[first[docs] + rank] = hashes
    return out_docs, out_hashes
