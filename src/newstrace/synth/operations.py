"""Copy operations that record, by construction, where every character of the copy came from.

A copy is a list of paragraphs; a paragraph is a list of `Piece`s. A piece either carries text taken verbatim
from the parent (`exact`, with `src` its span in the parent's text) or new text (`exact=False`): an injected
phrase, a replaced term, a noisy word, a rewritten lead, boilerplate. Operations split and splice pieces and
never re-align text, so the offsets in the ground truth are exact. Each planted edit tags its pieces, and its
copy spans are read off the final layout (`render`), after every later operation has moved text around.

Operations only touch exact text, so two edits never overlap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from newstrace.synth.base import sentence_spans


@dataclass
class Piece:
    text: str
    src: tuple[int, int] | None  # span in the parent's text this piece stands for (None: new text)
    exact: bool  # text == parent[src[0]:src[1]]
    tag: int | None = None  # index of the planted edit this piece belongs to
    seams: tuple[tuple[int, int], ...] = ()  # seam spans, local to this piece


@dataclass
class Edit:
    """A planted edit of one copy against its parent; `copy_spans`/`seams` are filled in by `render`."""

    kind: str  # insert | replace | relabel | cut_attribution | cut_denial | lead | boilerplate | sidebar | noise
    #            | appositive | paraphrase | added_sentence | restyle (sidebar and after: not systematic)
    source_text: str
    copy_text: str
    phrase: str | None = None
    anchor: str | None = None
    source_spans: list[list[int]] = field(default_factory=list)
    copy_spans: list[list[int]] = field(default_factory=list)
    seams: list[list[int]] = field(default_factory=list)
    misses: int = 0

    @property
    def count(self) -> int:
        return len(self.copy_spans) if self.kind in ("insert", "replace", "relabel") else 1


Para = list[Piece]


def ptext(para: Para) -> str:
    return "".join(p.text for p in para)


def _split(para: Para, pos: int) -> tuple[Para, Para]:
    """Splits at local offset `pos`; only exact pieces can be cut inside."""
    left: Para = []
    off = 0
    for i, p in enumerate(para):
        end = off + len(p.text)
        if pos <= off:
            return left, para[i:]
        if pos < end:
            if not p.exact or p.src is None:
                raise ValueError("cannot split inside an edited piece")
            k = pos - off
            a = Piece(p.text[:k], (p.src[0], p.src[0] + k), True)
            b = Piece(p.text[k:], (p.src[0] + k, p.src[1]), True)
            return left + [a], [b] + para[i + 1 :]
        left.append(p)
        off = end
    return left, []


def cut_at(para: Para, pos: int) -> tuple[Para, Para]:
    """The paragraph cut in two at local offset `pos` (inside exact text only)."""
    return _split(para, pos)


def splice(para: Para, a: int, b: int, new: Para) -> Para:
    """Replaces local range [a, b) of the paragraph with `new` pieces."""
    left, rest = _split(para, a)
    _, right = _split(rest, b - a)
    return left + new + right


def is_exact(para: Para, a: int, b: int) -> bool:
    off = 0
    for p in para:
        end = off + len(p.text)
        if end > a and off < b and not p.exact:
            return False
        off = end
    return True


def src_span(para: Para, a: int, b: int) -> tuple[int, int] | None:
    """The parent span covered by the exact pieces overlapping local range [a, b)."""
    off, lo, hi = 0, None, None
    for p in para:
        end = off + len(p.text)
        if end > a and off < b and p.exact and p.src is not None:
            s = p.src[0] + max(0, a - off)
            e = p.src[0] + (min(b, end) - off)
            lo = s if lo is None else min(lo, s)
            hi = e if hi is None else max(hi, e)
        off = end
    return None if lo is None else (lo, hi)


@dataclass
class Rendered:
    text: str
    pieces: list[tuple[int, int, Piece]]  # (copy_start, copy_end, piece)


def render(paras: list[Para], edits: list[Edit], sep: str = "\n\n") -> Rendered:
    """Joins paragraphs and fills each edit's copy spans and seams from its tagged pieces."""
    out: list[str] = []
    pieces: list[tuple[int, int, Piece]] = []
    pos = 0
    for k, para in enumerate(paras):
        if k:
            out.append(sep)
            pos += len(sep)
        for p in para:
            pieces.append((pos, pos + len(p.text), p))
            out.append(p.text)
            pos += len(p.text)
    for e in edits:
        e.copy_spans, e.seams = [], []
    for s, e, p in pieces:
        if p.tag is not None:
            ed = edits[p.tag]
            ed.copy_spans.append([s, e])
            ed.seams.extend([s + a, s + b] for a, b in p.seams)
    return Rendered("".join(out), pieces)


# ---------------------------------------------------------------- finding things to edit

_STOP_CAPS = {"The", "A", "An", "He", "She", "It", "They", "We", "I", "In", "On", "At", "But", "And", "This",
              "That", "These", "Those", "His", "Her", "Their", "Our", "Mr", "Mrs", "Ms", "Dr", "If", "As", "For",
              "When", "While", "After", "Before", "There", "What", "Who", "However", "According", "So", "Also",
              "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January",
              "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December", "Not", "No", "Yes", "Of", "To", "By", "With", "From", "Why", "How"}
_ENT_RE = re.compile(r"\b(?:[A-Z][a-z]+|[A-Z]{2,})(?:[ -](?:[A-Z][a-z]+|[A-Z]{2,}))*\b")
ATTRIBUTION_RE = re.compile(r"\b(?:said|says|told|according to|stated|claimed|reported|added|noted)\b")
DENIAL_RE = re.compile(r"\b(?:den(?:y|ies|ied|ial)|rejected|dismissed|refuted|disputed|no evidence)\b", re.I)


def mentions(paras: list[Para], term: str) -> list[tuple[int, int, int]]:
    """(paragraph, start, end) of whole-word mentions of `term` that lie wholly in exact text."""
    rx = re.compile(r"(?<![\w-])" + re.escape(term) + r"(?![\w-])")
    out = []
    for k, para in enumerate(paras):
        for m in rx.finditer(ptext(para)):
            if is_exact(para, m.start(), m.end()):
                out.append((k, m.start(), m.end()))
    return out


def entities(paras: list[Para], min_count: int = 3) -> list[str]:
    """Capitalised names mentioned at least `min_count` times, most frequent first (ties by name)."""
    counts: dict[str, int] = {}
    for para in paras:
        for m in _ENT_RE.finditer(ptext(para)):
            name = m.group()
            if name in _STOP_CAPS or len(name) < 3:
                continue
            counts[name] = counts.get(name, 0) + 1
    names = [n for n, c in counts.items() if c >= min_count]
    names = [n for n in names if len(mentions(paras, n)) >= min_count]
    return sorted(names, key=lambda n: (-counts[n], n))


def find_sentence(paras: list[Para], rx: re.Pattern, skip_first: bool) -> list[tuple[int, int, int]]:
    """(paragraph, start, end) of exact sentences matching `rx`, in paragraphs with at least two sentences."""
    out = []
    for k, para in enumerate(paras):
        if skip_first and k == 0:
            continue
        text = ptext(para)
        spans = sentence_spans(text)
        if len(spans) < 2:
            continue
        for s, e in spans:
            if rx.search(text[s:e]) and is_exact(para, s, e):
                out.append((k, s, e))
    return out


def typo(word: str, rng: np.random.Generator) -> str:
    """A plausible misspelling: two inner letters swapped (or a letter doubled when swapping changes nothing)."""
    if len(word) >= 4:
        for _ in range(4):
            i = int(rng.integers(1, len(word) - 2))
            if word[i] != word[i + 1]:
                return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    i = int(rng.integers(0, len(word)))
    return word[: i + 1] + word[i] + word[i + 1 :]
