"""The recorded operations a copying outlet applies to its parent's text (DESIGN.md §4).

Each function edits `CopyState.paras` in place through `operations.splice`, appends the planted `Edit`s it
made, and logs a plain-dict description in `CopyState.log`. Functions return False (and change nothing)
when the text offers nothing to edit, for example no entity mentioned three times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from newstrace.synth.ngram import NGramModel
from newstrace.synth.operations import (
    _ENT_RE,
    ATTRIBUTION_RE,
    DENIAL_RE,
    Edit,
    Para,
    Piece,
    entities,
    find_sentence,
    is_exact,
    mentions,
    ptext,
    splice,
    src_span,
    typo,
)


@dataclass
class CopyState:
    paras: list[Para]
    rng: np.random.Generator
    edits: list[Edit] = field(default_factory=list)
    log: list[dict] = field(default_factory=list)
    used_terms: set[str] = field(default_factory=set)

    def add(self, edit: Edit) -> int:
        self.edits.append(edit)
        return len(self.edits) - 1


def from_parent(parent_text: str, body_spans: list[tuple[int, int]]) -> list[Para]:
    """The parent's body paragraphs as exact pieces (its boilerplate is not copied)."""
    return [[Piece(parent_text[s:e], (s, e), True)] for s, e in body_spans]


def lead(st: CopyState, model: NGramModel, drop: bool) -> bool:
    """Rewrites the first paragraph with new prose that keeps its first names, or drops it."""
    if len(st.paras) < 3 or not is_exact(st.paras[0], 0, len(ptext(st.paras[0]))):
        return False
    old = ptext(st.paras[0])
    span = src_span(st.paras[0], 0, len(old))
    if drop:
        st.paras.pop(0)
        st.add(Edit("lead", old, "", source_spans=[list(span)] if span else []))
        st.log.append({"op": "lead_drop"})
        return True
    names = [m.group() for m in _ENT_RE.finditer(old)][:2]
    prose = model.sentence(st.rng, 40)
    new = (" and ".join(dict.fromkeys(names)) + ": " + prose) if names else prose
    tag = st.add(Edit("lead", old, new, source_spans=[list(span)] if span else []))
    st.paras[0] = [Piece(new, span, False, tag)]
    st.log.append({"op": "lead_rewrite"})
    return True


def cut(st: CopyState, kind: str) -> bool:
    """Cuts one sentence that carries an attribution (kind "cut_attribution") or a denial ("cut_denial")."""
    rx = ATTRIBUTION_RE if kind == "cut_attribution" else DENIAL_RE
    found = find_sentence(st.paras, rx, skip_first=False)
    if not found:
        return False
    k, s, e = found[int(st.rng.integers(len(found)))]
    text = ptext(st.paras[k])
    sentence = text[s:e]
    span = src_span(st.paras[k], s, e)
    # take the whitespace after the sentence (or before it, for the last one) so no double space is left
    if e < len(text) and text[e] == " ":
        e += 1
    elif s > 0 and text[s - 1] == " ":
        s -= 1
    st.paras[k] = splice(st.paras[k], s, e, [])
    st.add(Edit(kind, sentence, "", source_spans=[list(span)] if span else []))
    st.log.append({"op": kind, "sentence": sentence})
    return True


def _pick_term(st: CopyState, min_count: int = 3) -> str | None:
    for name in entities(st.paras, min_count):
        if any(name in u or u in name for u in st.used_terms):
            continue
        st.used_terms.add(name)
        return name
    return None


def _seamed(phrase: str, base: str, variant: str, rng: np.random.Generator) -> tuple[str, tuple[int, int] | None]:
    """The inserted text for one mention and its seam span (local), for one seam variant."""
    pre, post = base.split("{}")
    if variant == "space_comma":  # "Daesh terrorists , backed by ..." - the space before the comma
        return " ," + " " + phrase + post, (0, 2)
    words = phrase.split(" ")
    if variant == "glued" and len(words) >= 2:  # "backedby"
        i = int(rng.integers(0, len(words) - 1))
        glued = " ".join(words[:i] + [words[i] + words[i + 1]] + words[i + 2 :])
        start = len(pre) + len(" ".join(words[:i])) + (1 if i else 0)
        return pre + glued + post, (start, start + len(words[i]) + len(words[i + 1]))
    if variant == "misspell":
        i = max(range(len(words)), key=lambda j: len(words[j]))
        bad = words[i]
        if len(bad) >= 4:
            bad = typo(bad, rng)
            start = len(pre) + len(" ".join(words[:i])) + (1 if i else 0)
            return pre + " ".join(words[:i] + [bad] + words[i + 1 :]) + post, (start, start + len(bad))
    return pre + phrase + post, None


def inject(st: CopyState, phrase: str) -> bool:
    """Inserts `, phrase,` after each mention of a frequent name; a third of the later ones carry a seam."""
    anchor = _pick_term(st)
    if anchor is None:
        return False
    found = mentions(st.paras, anchor)
    saved = [list(p) for p in st.paras]
    tag = len(st.edits)
    edit = Edit("insert", "", f", {phrase},", phrase=phrase, anchor=anchor)
    done = 0
    # right to left inside each paragraph, so earlier offsets stay valid
    for n, (k, _s, e) in sorted(enumerate(found), key=lambda x: (x[1][0], -x[1][1])):
        text = ptext(st.paras[k])
        after = text[e : e + 2]
        if after[:1] in ("'", "’"):  # a possessive: "X's, backed by Y, ..." reads wrong even to a hurried editor
            continue
        base = ", {}" if (e == len(text) or after[:1] in ",.;:)!?") else ", {},"
        variant = "clean"
        if n > 0 and st.rng.random() < 0.35:
            variant = ["space_comma", "glued", "misspell"][int(st.rng.integers(3))]
        new, seam = _seamed(phrase, base, variant, st.rng)
        st.paras[k] = splice(st.paras[k], e, e, [Piece(new, None, False, tag, (seam,) if seam else ())])
        done += 1
    if done < 2:
        st.paras[:] = saved
        return False
    st.edits.append(edit)
    st.log.append({"op": "inject", "anchor": anchor, "phrase": phrase, "count": done})
    return True


def replace(st: CopyState, labels: list[str]) -> bool:
    """Relabels a frequent name throughout, missing one mention in four or more (two in seven or more)."""
    term = _pick_term(st)
    if term is None:
        return False
    label = labels[int(st.rng.integers(len(labels)))]
    found = mentions(st.paras, term)
    misses = 2 if len(found) >= 7 else 1 if len(found) >= 4 else 0
    skip = set(int(i) for i in st.rng.choice(len(found), size=misses, replace=False)) if misses else set()
    tag = st.add(Edit("replace", term, label, misses=misses))
    for n, (k, s, e) in sorted(enumerate(found), key=lambda x: (x[1][0], -x[1][1])):
        if n in skip:
            continue
        text = ptext(st.paras[k])
        at_start = s == 0 or bool(re.search(r"[.!?][\"”’]?\s+$", text[:s]))
        new = label[:1].upper() + label[1:] if at_start else label
        span = src_span(st.paras[k], s, e)
        st.paras[k] = splice(st.paras[k], s, e, [Piece(new, span, False, tag)])
    st.log.append({"op": "replace", "term": term, "label": label, "misses": misses})
    return True


def noise(st: CopyState, n: int) -> bool:
    """Misspells `n` words of five or more letters (light word-level noise, not systematic)."""
    cands = []
    for k, para in enumerate(st.paras):
        for m in re.finditer(r"\b[a-z]{5,}\b", ptext(para)):
            if is_exact(para, m.start(), m.end()):
                cands.append((k, m.start(), m.end()))
    if not cands:
        return False
    picks = sorted((cands[int(i)] for i in st.rng.choice(len(cands), size=min(n, len(cands)), replace=False)),
                   key=lambda x: (x[0], -x[1]))
    for k, s, e in picks:
        word = ptext(st.paras[k])[s:e]
        tag = st.add(Edit("noise", word, ""))
        bad = typo(word, st.rng)
        st.edits[tag].copy_text = bad
        st.paras[k] = splice(st.paras[k], s, e, [Piece(bad, src_span(st.paras[k], s, e), False, tag)])
    st.log.append({"op": "noise", "words": len(picks)})
    return True


def reorder(st: CopyState) -> bool:
    """Moves one paragraph after the first to another place after the first."""
    if len(st.paras) < 4:
        return False
    i = int(st.rng.integers(1, len(st.paras)))
    j = int(st.rng.integers(1, len(st.paras) - 1))
    j = j if j < i else j + 1
    st.paras.insert(j, st.paras.pop(i))
    st.log.append({"op": "reorder", "from": i, "to": j})
    return True


def partial(st: CopyState, host: list[str]) -> bool:
    """Keeps 2-4 consecutive parent paragraphs and embeds them among the paragraphs of a host article."""
    n = len(st.paras)
    if n < 3 or len(host) < 2:
        return False
    size = int(st.rng.integers(2, min(4, n - 1) + 1))
    first = int(st.rng.integers(1, n - size + 1))
    kept = st.paras[first : first + size]
    at = int(st.rng.integers(1, len(host)))
    host_paras = [[Piece(h, None, False)] for h in host]
    st.paras[:] = host_paras[:at] + kept + host_paras[at:]
    st.log.append({"op": "partial", "paragraphs": [first, first + size], "at": at})
    return True
