"""The edges of a copy: outlet boilerplate (a masthead line, a footer) and the lead, told apart from the body.

A copying outlet wraps the story in its own furniture and often rewrites or drops its lead. Those changes are
one finding each (`boilerplate`, `lead`), and the words they change must not be grouped as systematic
replacements: an outlet name swapped in the masthead and again in the footer is boilerplate, not a relabelling.

Lines are the unit here: text between newlines, blank lines skipped (trafilatura joins paragraphs with one
newline; plain-text corpora with a blank line; wrapped text then just has more lines).

- masthead: the first line of a text when it is short (at most 15 words), does not end like a sentence, is
  touched by an edit, and is about the outlet rather than the story: fewer than half of its content words occur
  in the rest of the text. A rewritten headline ("Orsk gangs close in on Delvan") shares its names with the
  story, so it stays a lead.
- footer: the copy's text after its last run of three unchanged words (added lines such as "Source # Link" or
  a "Follow us" line), and the last line of either text when it is short (at most 30 words), changed, and
  either a third or more of its words are changed or the text has a masthead (the same footer with another
  outlet's name and dates); the source's last line is none when it carries a denial or an attribution cue (the
  copy cut the story's closing sentence).
- lead: the changes before the copy's first run of three unchanged words, or in its first line (after any
  masthead) when a third of that line changed, widened to whole lines on both sides, when they touch at most
  two lines of each text.

In a partial copy (under half of either text unchanged) the text around the reused paragraphs is another
article, not a lead or an added footer: only a masthead, and a last line beside one, count there.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from newstrace.edits.keys import cut_kind
from newstrace.tokens import Tokens

_LINE = re.compile(r"[^\n]*\S[^\n]*")
_STOP = frozenset(
    "a an the of to in on at by for from with and or but as is are was were be been that this it its their his "
    "her they we you not no so than which who what when where how all any some into over about after before "
    "also has have had do does did will would can could may since more most out up news".split()
)
_MASTHEAD_WORDS = 15
_FURNITURE = re.compile(r"[|©•]|\s[-–—:]\s|\w\.(?:com|net|org|info|news|press|co)\b")
_FOOTER_WORDS = 30

Span = tuple[int, int]


@dataclass
class Edges:
    """Where the furniture and the lead are. Spans are raw offsets; None when there is none.

    masthead_c/masthead_s: the masthead line of the copy/source; footer_c/footer_s: the footer of each;
    lead_end: copy offset before which a change may belong to the lead (None: no lead region, a partial copy).
    partial: under half of either text is unchanged.
    """

    masthead_c: Span | None = None
    masthead_s: Span | None = None
    footer_c: Span | None = None
    footer_s: Span | None = None
    lead_end: int | None = None
    partial: bool = False

    def boiler(self, s0: int, s1: int, c0: int, c1: int) -> bool:
        """Whether a change with these spans lies in the masthead or footer of either text."""
        def hit(span: Span | None, a: int, b: int) -> bool:
            return span is not None and (a < span[1] and span[0] < b if a < b else span[0] <= a < span[1])
        return (hit(self.masthead_c, c0, c1) or hit(self.footer_c, c0, c1)) if c0 < c1 else \
            (hit(self.masthead_s, s0, s1) or hit(self.footer_s, s0, s1))


def lines(text: str) -> list[Span]:
    """The non-blank lines of `text`, stripped of surrounding whitespace."""
    out = []
    for m in _LINE.finditer(text):
        seg = m.group()
        lead = len(seg) - len(seg.lstrip())
        out.append((m.start() + lead, m.start() + len(seg.rstrip())))
    return out


def line_of(spans: list[Span], pos: int) -> int:
    """Index of the line holding (or, in a gap, following) offset `pos`; len(spans) past the last line."""
    k = bisect_right([a for a, _ in spans], pos) - 1
    if k >= 0 and pos <= spans[k][1]:
        return k
    return k + 1


def _words_in(t: Tokens, span: Span) -> tuple[int, int]:
    return bisect_left(t.starts, span[0]), bisect_right(t.ends, span[1])


def _masthead(text: str, t: Tokens, ls: list[Span], changed: list[bool]) -> Span | None:
    if len(ls) < 3:
        return None
    first = ls[0]
    i0, i1 = _words_in(t, first)
    if not 0 < i1 - i0 <= _MASTHEAD_WORDS or not any(changed[i0:i1]):
        return None
    if text[first[1] - 1] in ".!?\"”'’":
        return None
    content = {w for w in t.words[i0:i1] if w.isalpha() and len(w) >= 3 and w not in _STOP}
    if not content:
        return first
    j0, j1 = _words_in(t, (ls[1][0], ls[-2][1]))
    shared = len(content & set(t.words[j0:j1]))
    # a line set out like furniture ("Name | tagline", a domain, ©) may share a word with the story; a plain line
    # that shares any is the story's own headline
    furniture = _FURNITURE.search(text[first[0]:first[1]]) is not None
    return first if (2 * shared < len(content) if furniture else shared == 0) else None


def _last_line(t: Tokens, ls: list[Span], changed: list[bool], template: bool, partial: bool) -> Span | None:
    """The last line, when it is a footer: short and changed, and either a third changed or with a masthead."""
    if len(ls) < 3:
        return None
    i0, i1 = _words_in(t, ls[-1])
    n, k = i1 - i0, sum(changed[i0:i1])
    if not (0 < n <= _FOOTER_WORDS and k) or (not template and (partial or 3 * k < n)):
        return None
    return ls[-1]


def locate(source: str, copy: str, st: Tokens, ct: Tokens, same_c: list[bool], same_s: list[bool],
           tail_units: list[Span]) -> Edges:
    """The edges of one pair.

    same_c/same_s: for each copy/source word, whether no edit touches it. tail_units: copy spans of the changes
    after the copy's last run of three unchanged words (added footer lines).
    """
    partial = 2 * sum(same_c) < len(same_c) or 2 * sum(same_s) < len(same_s)
    lc, ls_ = lines(copy), lines(source)
    changed_c = [not x for x in same_c]
    changed_s = [not x for x in same_s]
    e = Edges(masthead_c=_masthead(copy, ct, lc, changed_c), masthead_s=_masthead(source, st, ls_, changed_s),
              partial=partial)
    foot_c = _last_line(ct, lc, changed_c, e.masthead_c is not None, partial)
    if tail_units and not partial:
        a, b = min(u[0] for u in tail_units), max(u[1] for u in tail_units)
        foot_c = (min(a, foot_c[0]), max(b, foot_c[1])) if foot_c else (a, b)
    e.footer_c = foot_c
    if foot_c is not None or e.masthead_s is not None:
        foot_s = _last_line(st, ls_, changed_s, e.masthead_s is not None, partial)
        # a last line that denies or attributes is the story's own, which the copy cut, not a footer it swapped
        if foot_s is not None and cut_kind(st.words[slice(*_words_in(st, foot_s))]) is None:
            e.footer_s = foot_s
    if not partial:
        runs = [j for j in range(len(ct) - 2) if same_c[j] and same_c[j + 1] and same_c[j + 2]]
        e.lead_end = ct.starts[runs[0]] if runs else None
        # a rewritten lead keeps a few words ("at the Tarnholm"): its whole first line counts when a third of
        # it changed
        k = 1 if e.masthead_c else 0
        if e.lead_end is not None and k < len(lc):
            i0, i1 = _words_in(ct, lc[k])
            if i1 > i0 and 3 * sum(changed_c[i0:i1]) >= i1 - i0:
                e.lead_end = max(e.lead_end, lc[k][1])
    return e


def widen(text: str, spans: list[Span]) -> Span:
    """The whole lines that `spans` touch, as one span (an empty point stays a point)."""
    real = [s for s in spans if s[0] < s[1]]
    if not real:
        return spans[0] if spans else (0, 0)
    ls = lines(text)
    a, b = min(s[0] for s in real), max(s[1] for s in real)
    ka, kb = line_of(ls, a), line_of(ls, b - 1)
    lo = ls[ka][0] if ka < len(ls) else a
    hi = ls[kb][1] if kb < len(ls) else b
    return min(lo, a), max(hi, b)


def line_count(text: str, spans: list[Span]) -> int:
    """How many lines of `text` the non-empty `spans` touch."""
    ls = lines(text)
    touched = set()
    for a, b in spans:
        if a < b:
            touched.update(range(line_of(ls, a), line_of(ls, b - 1) + 1))
    return len(touched)
