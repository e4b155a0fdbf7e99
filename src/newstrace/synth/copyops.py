"""The recorded operations a copying outlet applies to its parent's text (DESIGN.md §4).

Each function edits `CopyState.paras` in place through `operations.splice`, appends the planted `Edit`s it
made, and logs a plain-dict description in `CopyState.log`. Functions return False (and change nothing)
when the text offers nothing to edit, for example no entity mentioned three times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from newstrace.synth.base import sentence_spans
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
    sep: str = "\n\n"  # between paragraphs ("\n" as a text extractor joins them: `realism.page`)

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


_DETERMINERS = ("the ", "a ", "an ", "this ", "that ", "its ", "their ")


def relabel(st: CopyState, wraps: list[str]) -> bool:
    """Relabels a frequent name with a label that keeps it ("Delhi" -> "the Delhi regime", "Israel" ->
    "Israel-led aggressors"), throughout but for one mention in four or more (two in seven or more).

    A mention after a determiner ("the Delhi government"), inside a longer name ("Kyrsten Sinema", "Ms. Ford")
    or, for a plural label, one with a possessive, is left alone as an editor would (it reads wrong wrapped) and
    counts among the misses.
    """
    template = wraps[int(st.rng.integers(len(wraps)))]
    term = _pick_term(st)
    if term is None:
        return False
    label = template.format(term)
    found = mentions(st.paras, term)
    misses = 2 if len(found) >= 7 else 1 if len(found) >= 4 else 0
    skip = set(int(i) for i in st.rng.choice(len(found), size=misses, replace=False)) if misses else set()
    spots = []
    for n, (k, s, e) in enumerate(found):
        text = ptext(st.paras[k])
        after_determiner = template.startswith("the ") and text[max(0, s - 6):s].lower().endswith(_DETERMINERS)
        plural_possessive = label.endswith("s") and text[e:e + 1] in ("'", "’")
        # "Kyrsten Sinema", "Ms. Ford": the mention is part of a longer name, which an editor relabels whole or
        # not at all
        in_name = bool(re.search(r"(?:\b[A-Z][\w’'-]*\.?)\s+$", text[max(0, s - 30):s]))
        if n not in skip and not after_determiner and not plural_possessive and not in_name:
            spots.append((k, s, e))
    if len(spots) < 2:
        return False
    tag = st.add(Edit("relabel", term, label, misses=len(found) - len(spots)))
    for k, s, e in sorted(spots, key=lambda x: (x[0], -x[1])):  # right to left in each paragraph
        text = ptext(st.paras[k])
        at_start = s == 0 or bool(re.search(r"[.!?][\"”’]?\s+$", text[:s]))
        new = label[:1].upper() + label[1:] if at_start else label
        st.paras[k] = splice(st.paras[k], s, e, [Piece(new, src_span(st.paras[k], s, e), False, tag)])
    st.log.append({"op": "relabel", "term": term, "label": label, "misses": len(found) - len(spots)})
    return True


# Words a rewriting editor swaps for another ("said" -> "stated"): one changed word every few sentences.
_SWAPS = {
    "said": "stated", "says": "claims", "told": "informed", "big": "large", "large": "huge", "many": "numerous",
    "people": "citizens", "country": "nation", "government": "administration", "help": "assist",
    "show": "reveal", "shows": "reveals", "showed": "revealed", "began": "started", "start": "begin",
    "started": "began", "about": "around", "also": "further", "attack": "assault", "attacks": "assaults",
    "killed": "slain", "important": "crucial", "recent": "latest", "major": "key", "official": "officer",
    "officials": "authorities", "leaders": "chiefs", "leader": "chief", "city": "town", "week": "weekend",
    "month": "period", "year": "season", "new": "fresh", "old": "former", "house": "home", "children": "kids",
    "police": "officers", "forces": "troops", "war": "conflict", "however": "but", "but": "yet",
    "because": "since", "against": "versus", "before": "prior to", "after": "following", "very": "highly",
    "would": "will", "could": "might", "should": "must", "claimed": "alleged", "report": "account",
    "reports": "accounts", "reported": "noted", "asked": "requested", "added": "continued", "called": "named",
    "group": "faction", "groups": "factions", "public": "popular", "world": "globe", "media": "press",
}


def noise(st: CopyState, rate: float) -> bool:
    """Light word-level noise, not systematic: in each sentence of exact text, with probability `rate`, one word
    is changed, half the time for a word an editor might use instead ("said" -> "stated"), otherwise misspelt."""
    picks = []
    used: set[str] = set()  # a word is changed once at most: the same change twice would be systematic
    for k, para in enumerate(st.paras):
        text = ptext(para)
        for s, e in sentence_spans(text):
            if st.rng.random() >= rate:
                continue
            words = [m for m in re.finditer(r"\b[a-z]{3,}\b", text[s:e])
                     if m.group() not in used and is_exact(para, s + m.start(), s + m.end())]
            swaps = [m for m in words if m.group() in _SWAPS]
            swap = bool(swaps) and st.rng.random() < 0.5
            pool = swaps if swap else [m for m in words if len(m.group()) >= 5]
            if pool:
                m = pool[int(st.rng.integers(len(pool)))]
                used.add(m.group())
                picks.append((k, s + m.start(), s + m.end(), swap))
    if not picks:
        return False
    for k, a, b, swap in sorted(picks, key=lambda x: (x[0], -x[1])):
        word = ptext(st.paras[k])[a:b]
        bad = _SWAPS[word] if swap else typo(word, st.rng)
        tag = st.add(Edit("noise", word, bad))
        st.paras[k] = splice(st.paras[k], a, b, [Piece(bad, src_span(st.paras[k], a, b), False, tag)])
    st.log.append({"op": "noise", "words": len(picks)})
    return True


# One-off appositives a rewriting editor adds after a name (each used once in a copy: never systematic).
APPOSITIVES = [
    "a longtime observer of the region", "once a close ally of the capital", "whose term ends next year",
    "a veteran of several election campaigns", "which has drawn criticism in the past", "the second in a week",
    "a former adviser to the cabinet", "long a rival of the ruling party", "who rarely speaks to reporters",
    "a figure well known to local viewers", "which opened its doors two decades ago", "not for the first time",
    "according to people familiar with the matter", "by most accounts a cautious man", "itself under scrutiny",
    "a name that recurs in the court papers", "who declined to say more", "an outspoken voice in the debate",
    "a relative newcomer to national politics", "whose family has deep roots in the north",
]


def appositives(st: CopyState, n: int) -> bool:
    """Inserts `n` different appositives (", a former adviser to the cabinet,") after names mid-sentence."""
    spots = []
    for k, para in enumerate(st.paras):
        text = ptext(para)
        for m in _ENT_RE.finditer(text):
            a, b = m.span()
            # a name mid-sentence (after a lower-case word or a comma), followed by a lower-case word
            mid = a >= 2 and text[a - 1] == " " and (text[a - 2].islower() or text[a - 2] == ",")
            if not mid or b + 2 > len(text) or text[b] != " " or not text[b + 1].islower():
                continue
            if is_exact(para, a, b + 1):
                spots.append((k, b))
    if not spots:
        return False
    chosen = [spots[int(i)] for i in st.rng.choice(len(spots), size=min(n, len(spots)), replace=False)]
    phrases = [APPOSITIVES[int(i)] for i in st.rng.choice(len(APPOSITIVES), size=len(chosen), replace=False)]
    for (k, at), phrase in sorted(zip(chosen, phrases, strict=True), key=lambda x: (x[0][0], -x[0][1])):
        tag = st.add(Edit("appositive", "", f", {phrase},"))
        st.paras[k] = splice(st.paras[k], at, at, [Piece(f", {phrase},", None, False, tag)])
    st.log.append({"op": "appositive", "count": len(chosen)})
    return True


def reorder(st: CopyState, moves: int = 1) -> bool:
    """Moves `moves` paragraphs, one at a time, each from after the first to another place after the first."""
    if len(st.paras) < 4:
        return False
    for _ in range(moves):
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
