"""What real laundering does to a copy beyond the planted edits: the `--realism web` options of the benchmark.

A copy on a real site was rewritten in places and went through an HTML page and a text extractor on both ends.
Each option is off by default (the standard benchmark does not change); `Realism.web()` turns them all on at
rates a hurried rewriting editor and a page template give:

- `paraphrase`: per sentence, a clause of 3-8 words reworded, or (one time in four) the whole sentence rewritten
  with new words, as a copier who rewrites every few sentences does;
- `add`: per paragraph after the first, a sentence of the copy's own added inside or after it;
- `drop`: per paragraph of two sentences or more, one sentence left out (never one that attributes or denies:
  those are the planted cuts);
- `page`: the text of an HTML page, extracted: another paragraph layout (paragraphs joined or split at a
  sentence, one line break between paragraphs instead of a blank line), the other quote style (straight or
  curly), other dashes, non-breaking spaces, a doubled or a lost space after a full stop;
- `formatting`: house style for numbers and abbreviations ("1,200" -> "1200", "percent" -> "%", "U.S." -> "US");
- `respell`: a name spelt another way throughout, as a name translated and back ("Mohammed" -> "Muhammad"):
  a `replace` edit in the truth;
- `briefs`: a share of the base articles cut to their first 4-8 paragraphs, as news wires run short items
  (short stories make short passages, which are the hardest to find).

Every change is spliced in as new text (operations.splice), so the truth's passages stay exact; each is logged
in the article's operations, and the word-level ones are listed with their copy spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from newstrace.synth.base import BaseArticle, sentence_spans
from newstrace.synth.copyops import CopyState
from newstrace.synth.ngram import NGramModel
from newstrace.synth.operations import (
    ATTRIBUTION_RE,
    DENIAL_RE,
    Edit,
    Piece,
    cut_at,
    entities,
    is_exact,
    mentions,
    ptext,
    splice,
    src_span,
)


@dataclass(frozen=True)
class Realism:
    """Rates of the realistic changes (module docstring); zero or False: off."""

    paraphrase: float = 0.0  # per sentence
    add: float = 0.0  # per paragraph
    drop: float = 0.0  # per paragraph
    page: bool = False
    formatting: float = 0.0  # per number or abbreviation
    respell: float = 0.0  # per copy
    briefs: float = 0.0  # per base article

    @classmethod
    def web(cls) -> Realism:
        return cls(paraphrase=0.1, add=0.04, drop=0.04, page=True, formatting=0.6, respell=0.3, briefs=0.5)

    @property
    def on(self) -> bool:
        return any(self.to_json().values())

    def to_json(self) -> dict:
        return {"paraphrase": self.paraphrase, "add": self.add, "drop": self.drop, "page": self.page,
                "formatting": self.formatting, "respell": self.respell, "briefs": self.briefs}


def briefs(base: list[BaseArticle], rate: float, rng: np.random.Generator) -> list[BaseArticle]:
    """The base articles, a share `rate` of them cut to their first 4-8 paragraphs."""
    out = []
    for b in base:
        if rng.random() < rate:
            b = BaseArticle(b.name, b.title, b.paragraphs[:int(rng.integers(4, 9))])
        out.append(b)
    return out


def apply(st: CopyState, r: Realism, model: NGramModel, rng: np.random.Generator) -> None:
    """Applies the options of `r` to a copy, drawing from `rng` (a stream of its own, so that the planted
    edits of a corpus do not depend on the options)."""
    if r.respell and rng.random() < r.respell:
        respell(st, rng)
    if r.paraphrase:
        paraphrase(st, model, rng, r.paraphrase)
    if r.drop:
        drop_sentences(st, rng, r.drop)
    if r.add:
        add_sentences(st, model, rng, r.add)
    if r.formatting:
        house_style(st, rng, r.formatting)
    if r.page:
        page(st, rng)


def _words(model: NGramModel, rng: np.random.Generator, n: int) -> str:
    """`n` filler words, lower case, no punctuation: the words of a reworded clause."""
    words = re.findall(r"[A-Za-z]+", model.sentence(rng, n + 8))
    while len(words) < n:
        words += re.findall(r"[A-Za-z]+", model.sentence(rng, n + 8))
    return " ".join(w.lower() if w != "I" else w for w in words[:n])


def _sentence(model: NGramModel, rng: np.random.Generator, n: int) -> str:
    text = _words(model, rng, n)
    return text[:1].upper() + text[1:] + "."


def paraphrase(st: CopyState, model: NGramModel, rng: np.random.Generator, rate: float) -> bool:
    """Rewords a clause of 3-8 words in a share `rate` of the exact sentences, or rewrites the sentence whole."""
    picks = []
    for k, para in enumerate(st.paras):
        text = ptext(para)
        for s, e in sentence_spans(text):
            if rng.random() >= rate or not is_exact(para, s, e):
                continue
            words = list(re.finditer(r"[A-Za-z]+", text[s:e]))
            if len(words) < 8:
                continue
            if rng.random() < 0.25:
                # a new sentence in place of the old one, about as long; its full stop stays
                picks.append((k, s, s + words[-1].end(), _sentence(model, rng, len(words))[:-1]))
                continue
            n = int(rng.integers(3, 9))
            i = int(rng.integers(1, max(2, len(words) - n)))
            j = min(len(words) - 1, i + n - 1)
            picks.append((k, s + words[i].start(), s + words[j].end(), _words(model, rng, j - i + 1)))
    for k, a, b, new in sorted(picks, key=lambda x: (x[0], -x[1])):
        old = ptext(st.paras[k])[a:b]
        tag = st.add(Edit("paraphrase", old, new))
        st.paras[k] = splice(st.paras[k], a, b, [Piece(new, src_span(st.paras[k], a, b), False, tag)])
    if picks:
        st.log.append({"op": "paraphrase", "count": len(picks)})
    return bool(picks)


def add_sentences(st: CopyState, model: NGramModel, rng: np.random.Generator, rate: float) -> bool:
    """Adds a sentence of 12-30 words of the copy's own after a sentence of a share `rate` of the paragraphs."""
    done = 0
    for k in range(1, len(st.paras)):
        if rng.random() >= rate:
            continue
        text = ptext(st.paras[k])
        ends = [e for _, e in sentence_spans(text) if is_exact(st.paras[k], max(0, e - 1), e)]
        if not ends:
            continue
        at = ends[int(rng.integers(len(ends)))]
        new = _sentence(model, rng, int(rng.integers(12, 31)))
        tag = st.add(Edit("added_sentence", "", new))
        st.paras[k] = splice(st.paras[k], at, at, [Piece(" ", None, False), Piece(new, None, False, tag)])
        done += 1
    if done:
        st.log.append({"op": "add_sentence", "count": done})
    return bool(done)


def drop_sentences(st: CopyState, rng: np.random.Generator, rate: float) -> bool:
    """Leaves out one sentence (none that attributes or denies) of a share `rate` of the paragraphs of two or more."""
    dropped = []
    for k in range(len(st.paras)):
        text = ptext(st.paras[k])
        spans = sentence_spans(text)
        if len(spans) < 2 or rng.random() >= rate:
            continue
        ok = [(s, e) for s, e in spans if is_exact(st.paras[k], s, e)
              and not ATTRIBUTION_RE.search(text[s:e]) and not DENIAL_RE.search(text[s:e])]
        if not ok:
            continue
        s, e = ok[int(rng.integers(len(ok)))]
        dropped.append(text[s:e])
        if e < len(text) and text[e] == " ":
            e += 1
        elif s > 0 and text[s - 1] == " ":
            s -= 1
        st.paras[k] = splice(st.paras[k], s, e, [])
    if dropped:
        st.log.append({"op": "drop_sentence", "sentences": dropped})
    return bool(dropped)


_NUMBER_STYLES: list[tuple[re.Pattern, str]] = [
    (re.compile(r"\b(\d{1,3}),(\d{3})\b"), r"\1\2"),
    (re.compile(r"\b(\d+) ?(?:percent|per cent)\b"), r"\1%"),
    (re.compile(r"\b(\d+)%"), r"\1 percent"),
    (re.compile(r"\bU\.S\."), "US"),
    (re.compile(r"\bU\.N\."), "UN"),
    (re.compile(r"\bMr\. "), "Mr "),
    (re.compile(r"\bDr\. "), "Dr "),
]


def _restyle(st: CopyState, rng: np.random.Generator, rx: re.Pattern, repl, rate: float, kind: str) -> int:
    """Replaces matches of `rx` in exact text by `repl` (a template or a function of the match) with
    probability `rate` each; returns how many."""
    n = 0
    for k in range(len(st.paras)):
        text = ptext(st.paras[k])
        found = [m for m in rx.finditer(text) if is_exact(st.paras[k], m.start(), m.end()) and rng.random() < rate]
        for m in reversed(found):
            new = m.expand(repl) if isinstance(repl, str) else repl(m)
            if new == m.group():
                continue
            tag = st.add(Edit(kind, m.group(), new)) if kind else None
            st.paras[k] = splice(st.paras[k], m.start(), m.end(),
                                 [Piece(new, src_span(st.paras[k], m.start(), m.end()), False, tag)])
            n += 1
    return n


def house_style(st: CopyState, rng: np.random.Generator, rate: float) -> bool:
    """Numbers and abbreviations in the copy's house style, each with probability `rate`."""
    n = sum(_restyle(st, rng, rx, repl, rate, "restyle") for rx, repl in _NUMBER_STYLES)
    if n:
        st.log.append({"op": "house_style", "count": n})
    return bool(n)


_SPELLINGS = [("ph", "f"), ("ou", "u"), ("ee", "i"), ("oo", "u"), ("ck", "k"), ("y", "i"), ("e", "a"),
              ("i", "y"), ("a", "e"), ("o", "u")]


def _variant(name: str) -> str | None:
    """Another spelling of a name, as transliteration gives ("Mohammed" -> "Mohammad"): the last applicable
    change of letters, made once, after the first letter."""
    for old, new in _SPELLINGS:
        i = name.rfind(old, 1)
        if i > 0 and name[i - 1].isalpha():
            return name[:i] + new + name[i + len(old):]
    return None


def respell(st: CopyState, rng: np.random.Generator) -> bool:
    """Spells one name mentioned twice or more another way throughout (a `replace` in the truth)."""
    names = [n for n in entities(st.paras, 2) if " " not in n and len(n) >= 5
             and not any(n in u or u in n for u in st.used_terms)]
    if not names:
        return False
    name = names[int(rng.integers(min(3, len(names))))]
    new = _variant(name)
    if new is None:
        return False
    st.used_terms.add(name)
    found = mentions(st.paras, name)
    tag = st.add(Edit("replace", name, new))
    for k, s, e in sorted(found, key=lambda x: (x[0], -x[1])):
        st.paras[k] = splice(st.paras[k], s, e, [Piece(new, src_span(st.paras[k], s, e), False, tag)])
    st.log.append({"op": "respell", "term": name, "spelling": new})
    return True


_CURLY = {'"': ("“", "”"), "'": ("‘", "’")}
_STRAIGHT = {"“": '"', "”": '"', "‘": "'", "’": "'"}


_NBSP = re.compile(r"(?<=\b(?:Mr|Dr|Ms)\.) (?=[A-Z])|(?<=\d) (?=[a-z%])")  # "Mr. Smith", "20 km"
_SENTENCE_SPACE = re.compile(r"(?<=[a-z][.!?]) (?=[A-Z])")


def _curl(m: re.Match) -> str:
    ch = m.group()
    text = m.string
    opening = m.start() == 0 or text[m.start() - 1] in " \n(—–-"
    return _CURLY[ch][0 if opening else 1]


def page(st: CopyState, rng: np.random.Generator) -> bool:
    """The copy as a text extractor returns an HTML page (module docstring): its layout and typography."""
    # layout: paragraphs joined, or split after a sentence
    k = 0
    joined = split = 0
    while k < len(st.paras) - 1:
        if rng.random() < 0.12:
            st.paras[k] = st.paras[k] + [Piece(" ", None, False)] + st.paras.pop(k + 1)
            joined += 1
        k += 1
    k = 0
    while k < len(st.paras):
        text = ptext(st.paras[k])
        spans = sentence_spans(text)
        if len(spans) >= 2 and rng.random() < 0.2:
            s = spans[int(rng.integers(1, len(spans)))][0]
            if text[s - 1:s] == " " and is_exact(st.paras[k], s - 1, s):
                left, right = cut_at(st.paras[k], s - 1)
                st.paras[k:k + 1] = [left, cut_at(right, 1)[1]]
                split += 1
                k += 1
        k += 1
    if rng.random() < 0.5:
        st.sep = "\n"
    # typography: the other quote style, dashes, non-breaking spaces, a doubled or a lost space
    curly = rng.random() < 0.5
    n = _restyle(st, rng, re.compile(r"[\"']" if curly else r"[“”‘’]"),
                 _curl if curly else (lambda m: _STRAIGHT[m.group()]), 0.9, "")
    n += _restyle(st, rng, re.compile(r" - | – |—"), lambda m: " — " if m.group() != " — " else " – ", 0.8, "")
    n += _restyle(st, rng, _NBSP, "\u00a0", 0.7, "")
    n += _restyle(st, rng, _SENTENCE_SPACE, "  ", 0.04, "")
    n += _restyle(st, rng, _SENTENCE_SPACE, "", 0.02, "")
    st.log.append({"op": "page", "joined": joined, "split": split, "sep": st.sep, "quotes": "curly" if curly else
                   "straight", "characters": n})
    return True
