"""Substring search over article titles and ids for the web app's articles list.

It answers exactly what `newstrace.report.data.articles(q=...)` answers (title or id ILIKE '%q%', in list
order) without stepping through every matching article in Python. A scan of all titles costs little in C
(`str.find` over a few MB), but a common word matches one article in six, and the per-match Python step
(about half a microsecond each) is what made a search page cost 10 ms on a 100k-article store.

So titles and ids are cut into whitespace-free tokens, and each distinct token keeps the sorted list of lines
it occurs in (a flat int32 array with offsets: about 4 bytes per token occurrence, plus the token text). A
query without whitespace can only occur inside one token, so its lines are the union of the lists of the
tokens that contain it: the search runs over the vocabulary (much shorter than the titles, and mostly one hit
per matching word) and the union is a numpy gather. A phrase is looked up word by word (the lines in every
word's union), then checked against each candidate's text. Words inside thousands of distinct tokens (one
letter, a digit of the ids) fall back to the plain scan."""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections import defaultdict
from itertools import accumulate

import numpy as np

MAX_TOKENS = 2000  # a word inside more distinct tokens than this is searched by a scan of all lines


class TitleSearch:
    """Lines are `lower(title) NUL lower(id)` with newlines replaced by spaces, in list order."""

    def __init__(self, lines: list[str]):
        self.n = len(lines)
        self.blob = "\n".join(lines) + "\n"
        # Where each line starts, ending with len(blob); an int64 array is a fifth of a list of ints.
        self.starts = array("q", accumulate((len(line) + 1 for line in lines), initial=0))
        postings: dict[str, list[int]] = defaultdict(list)
        for pos, line in enumerate(lines):
            title, _, aid = line.partition("\x00")
            for token in set(title.split()) | set(aid.split()):
                postings[token].append(pos)
        vocab = list(postings)
        self.vocab = "\n".join(vocab) + "\n"
        self.vocab_starts = array("q", accumulate((len(t) + 1 for t in vocab), initial=0))
        self.offsets = np.fromiter(
            accumulate((len(postings[t]) for t in vocab), initial=0), dtype=np.int64, count=len(vocab) + 1
        )
        self.rows = np.fromiter(
            (p for t in vocab for p in postings[t]), dtype=np.int32, count=int(self.offsets[-1])
        )

    def find(self, q: str) -> list[int]:
        """Positions (line numbers, ascending) of the lines containing `q`, which the caller lower-cased."""
        if not q or "\x00" in q or "\n" in q:
            return []
        words = q.split()
        if not words:
            return self._scan(q)
        # Each word of q lies inside one token of a matching line, so a matching line is in every word's
        # token lists; a phrase is then checked against the candidates' own text.
        found: np.ndarray | None = None
        for w in sorted(set(words), key=len, reverse=True):
            rows = self._containing(w)
            if rows is None:
                return self._scan(q)
            if found is None:
                found = rows
            else:
                keep = np.zeros(self.n, dtype=bool)
                keep[rows] = True
                found = found[keep[found]]
            if not len(found):
                return []
        assert found is not None
        if words == [q]:
            return found.tolist()
        blob, starts = self.blob, self.starts
        return [p for p in found.tolist() if blob.find(q, starts[p], starts[p + 1]) >= 0]

    def _containing(self, word: str) -> np.ndarray | None:
        """Sorted lines with a token containing `word` (no whitespace in it); None when too many tokens do
        (a one-letter word, say), where a plain scan is cheaper."""
        tokens: list[int] = []
        vocab, starts, at = self.vocab, self.vocab_starts, 0
        while (at := vocab.find(word, at)) >= 0:
            k = bisect_right(starts, at) - 1
            tokens.append(k)
            if len(tokens) > MAX_TOKENS:
                return None
            at = starts[k + 1]  # the next token: each token once
        if len(tokens) <= 1:
            k = tokens[0] if tokens else 0
            return self.rows[self.offsets[k] : self.offsets[k + 1]] if tokens else self.rows[:0]
        ks = np.array(tokens, dtype=np.int64)
        first, lens = self.offsets[ks], self.offsets[ks + 1] - self.offsets[ks]
        ends = np.cumsum(lens)
        # The concatenation of rows[first[i] : first[i] + lens[i]] for every i, gathered in one go.
        idx = np.arange(int(ends[-1])) + np.repeat(first - (ends - lens), lens)
        hit = np.zeros(self.n, dtype=bool)  # a union by marking: no sort
        hit[self.rows[idx]] = True
        return np.flatnonzero(hit)

    def _scan(self, q: str) -> list[int]:
        # One C-speed `find` over all lines, jumping to the next line after each hit.
        hits: list[int] = []
        blob, starts, at = self.blob, self.starts, 0
        while (at := blob.find(q, at)) >= 0:
            row = bisect_right(starts, at) - 1
            hits.append(row)
            at = starts[row + 1]
        return hits
