"""Injections and relabelling found within one text, with no source to compare against.

`find_injections(text)` finds a phrase of 3+ words that is repeatedly set off as an appositive after the same
anchor: ", backed by Saudi Arabia," after "terrorists". Ordinary news names an actor's backer once, if at all;
a find-and-replace editor attaches it to every mention. A candidate must
- be a run of 3-8 words whose letters recur at 3+ places (spacing ignored, so "backedby Saudi Arabia" counts);
- hold a word that is not a function word;
- be set off by punctuation (a comma, dash, colon, semicolon or bracket just before it) at 3+ places and at
  least 60% of them;
- follow the same anchor word at 3+ places;
- be attached to different sentences (the two words before and after differ at 75%+ of places), which a
  quotation repeated in the headline and the body is not;
- unless some occurrence shows seams: start with a lower-case word at most places (a repeated list of names is
  not an appositive) and be closed by punctuation at half the places or more.
Once a phrase is accepted, its misspelt variants ("backed bySaudi Arabai", within `keys.tolerance` letters) are
collected too. Each occurrence's span runs from the set-off punctuation before the phrase to the punctuation just
after it, when that touches the phrase. Seams are the marks of hurried editing within or at the edges of an
occurrence: a space before a comma, a comma glued to the next word, words glued together ("backedby"), a
misspelt word ("Arabai"), and odd or doubled spaces (a non-breaking space).

`find_naming_inconsistencies(text)` reports one entity called by two of its names in one text (ISIS and
"Daesh"), from a small table of names used to relabel groups and places, with the quote seams around the labels
(“Daesh “fighters, “Daesh”terrorists). These are `NamingInconsistency` records, not `Injection`s, because the
contract's `injections` are phrases attached to an anchor; `as_injection()` converts one if a caller wants it
listed there.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from newstrace.edits.keys import FUNCTION_WORDS, common_anchor, osa_distance, tolerance
from newstrace.model import Injection
from newstrace.tokens import Tokens, tokenize

_SETOFF = set(",;:([–—-")
_CLOSE = set(",;:)]–—-")
_ODD_SPACE = re.compile(r"[\u00a0\u2000-\u200b\u202f\u205f\u3000]| {2,}")


def _key(words: list[str]) -> str:
    return "".join(words).replace("'", "")


def _prev_char(text: str, pos: int) -> tuple[str, int]:
    """The first non-space character before `pos`, and its offset (-1 if none)."""
    k = pos - 1
    while k >= 0 and text[k].isspace():
        k -= 1
    return (text[k], k) if k >= 0 else ("", -1)


def _set_off(text: str, pos: int) -> bool:
    """Whether the word at `pos` is set off by punctuation, as an appositive is (not "1,000", "9:59", "year-old")."""
    ch, k = _prev_char(text, pos)
    if ch not in _SETOFF:
        return False
    if ch in ",;:" and k > 0 and text[k - 1].isdigit() and text[pos].isdigit():
        return False
    return ch != "-" or (k > 0 and text[k - 1].isspace())


def _closed(text: str, end: int) -> bool:
    """Whether the phrase ending at `end` is closed by punctuation, as an appositive is."""
    k = end
    while k < len(text) and text[k] in " \u00a0":
        k += 1
    return k < len(text) and text[k] in _CLOSE


def _occurrence_span(text: str, a: int, b: int) -> tuple[int, int]:
    if _set_off(text, a):
        a = _prev_char(text, a)[1]
    if b < len(text) and text[b] in _CLOSE:
        b += 1
    return a, b


def _fuzzy_occurrences(t: Tokens, key: str, taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(first word, word count) of stretches whose letters are within tolerance of `key`, not overlapping `taken`."""
    tol = tolerance(key)
    out: list[tuple[int, int]] = []
    if not tol:
        return out
    for i, w in enumerate(t.words):
        if not key.startswith(w[:3]) or any(s <= i < s + n for s, n in taken + out):
            continue
        best: tuple[int, int] | None = None
        acc = ""
        for n in range(1, 10):
            if i + n > len(t.words):
                break
            acc += t.words[i + n - 1].replace("'", "")
            if len(acc) > len(key) + tol:
                break
            d = osa_distance(acc, key, tol)
            if d <= tol and (best is None or d < best[0]):
                best = (d, n)
        if best:
            out.append((i, best[1]))
    return out


def _seams(text: str, t: Tokens, canon: tuple[str, ...], i: int, n: int, span: tuple[int, int]) -> list[list[int]]:
    seams: list[list[int]] = []
    a = t.ends[i - 1] if i > 0 else span[0]
    b = min(len(text), span[1] + 1)
    region = text[a:b]
    for m in re.finditer(r"\s+[,;:]", region):  # space before a comma
        seams.append([a + m.start(), a + m.end()])
    for m in re.finditer(r"[,;:]\w+", region):  # comma glued to the next word
        end = a + m.end()
        while end < len(text) and (text[end].isalnum()):
            end += 1
        seams.append([a + m.start(), end])
    for m in _ODD_SPACE.finditer(region):
        seams.append([a + m.start(), a + m.end()])
    canon_set = set(canon)
    glued = {x + y for x, y in zip(canon, canon[1:], strict=False)}
    for k in range(i, i + n):
        w = t.words[k]
        if w in glued or (w not in canon_set and any(w.startswith(c) and w[len(c):] in canon_set for c in canon)):
            seams.append([t.starts[k], t.ends[k]])  # words glued together
        elif w not in canon_set:
            seams.append([t.starts[k], t.ends[k]])  # misspelt
    return sorted({(s, e): [s, e] for s, e in seams}.values())


def _extend(text: str, t: Tokens, places: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Extend the phrase word by word while 75%+ of its places go on with the same word and are not closed."""
    while True:
        nxt = Counter(t.words[i + n] for i, n in places
                      if i + n < len(t.words) and not _closed(text, t.ends[i + n - 1]))
        if not nxt:
            return places
        w, c = nxt.most_common(1)[0]
        if c < 0.75 * len(places) or c < 3:
            return places
        places = [(i, n + 1) if i + n < len(t.words) and t.words[i + n] == w else (i, n) for i, n in places]


def _trim_at_close(text: str, t: Tokens, places: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Cut the phrase at the first word boundary (after 3+ words) where half its places have closing punctuation.

    The letters of the Holy See, a phrase injected after "Holy" recur as "... Velmar, See": the phrase ends at
    the comma.
    """
    n_max = max(n for _, n in places)
    for k in range(3, n_max):
        closed = sum(n > k and any(c in _CLOSE for c in text[t.ends[i + k - 1]:t.starts[i + k]]) for i, n in places)
        if closed * 2 >= len(places):
            return [(i, min(n, k)) for i, n in places]
    return places


def _phrase_places(text: str, t: Tokens) -> dict[str, dict[int, int]]:
    """key -> {first word: word count} of the 3-8 word runs that could be an injected phrase, keys in order of
    first occurrence (each place with its shortest run).

    Only a key set off by punctuation at 3+ places can pass `find_injections`, so the keys are first collected at
    set-off words alone (a tenth of a text's words); then only their places are looked for among all the words.
    A key is a run's letters without spacing, so a place is found from its first word, which starts the key."""
    words = t.words
    nw = len(words)
    setoff: dict[str, int] = {}
    for i in range(nw):
        if _set_off(text, t.starts[i]):
            for n in range(3, min(8, nw - i) + 1):
                key = _key(words[i:i + n])
                setoff[key] = setoff.get(key, 0) + 1
    wanted = {k for k, c in setoff.items() if c >= 3}
    occ: dict[str, dict[int, int]] = {}
    if not wanted:
        return occ
    heads = {k[:j] for k in wanted for j in range(1, 4)}
    for i in range(nw):
        head = words[i].replace("'", "")
        if head and head[:3] not in heads:
            continue
        for n in range(3, min(8, nw - i) + 1):
            key = _key(words[i:i + n])
            if key in wanted:
                occ.setdefault(key, {}).setdefault(i, n)
    return occ


def find_injections(text: str, toks: Tokens | None = None) -> list[Injection]:
    """Phrases repeatedly set off after the same anchor in `text`, with their seams (see the module docstring).
    `toks`: `tokenize(text)`, when the caller has it already."""
    t = toks if toks is not None else tokenize(text)
    occ = _phrase_places(text, t)
    cands = [(k, v) for k, v in occ.items() if len(v) >= 3]
    # The phrase is the longest run shared by the most places: a longer run that takes in the next word at a
    # few places only ("backed by X, said") is not the phrase.
    cands.sort(key=lambda kv: (-len(kv[1]), -len(kv[0])))
    taken: list[tuple[int, int]] = []  # accepted occurrences, (first word, word count)
    groups: list[tuple[str, tuple[str, ...], list[tuple[int, int]]]] = []  # (key, canonical words, places)
    for key, starts in cands:
        places = sorted(starts.items())
        if sum(any(s <= i < s + m for s, m in taken) for i, _ in places) * 2 >= len(places):
            continue
        # what follows an accepted phrase is set off by its closing comma, but is not a phrase of its own
        places = [(i, n) for i, n in places if not any(s <= i - 1 < s + m for s, m in taken)]
        if len(places) < 3:
            continue
        if all(w in FUNCTION_WORDS for i, n in places[:1] for w in t.words[i:i + n]):
            continue
        setoff = sum(_set_off(text, t.starts[i]) for i, _ in places)
        if setoff < 3 or setoff < 0.6 * len(places):
            continue
        anchors = Counter(t.words[i - 1] for i, _ in places if i > 0)
        if not anchors or anchors.most_common(1)[0][1] < 3:
            continue
        # An injection is attached to many different sentences; a quotation repeated (headline, then body)
        # brings its surroundings along.
        contexts = {(tuple(t.words[max(0, i - 2):i]), tuple(t.words[i + n:i + n + 2])) for i, n in places}
        if len(contexts) < 0.75 * len(places):
            continue
        places = _trim_at_close(text, t, _extend(text, t, places))
        if len(places) < 3:
            continue
        canon = Counter(tuple(t.words[i:i + n]) for i, n in places).most_common(1)[0][0]
        seamy = any(_seams(text, t, canon, i, n, _occurrence_span(text, t.starts[i], t.ends[i + n - 1]))
                    for i, n in places)
        capital = sum(text[t.starts[i]].isupper() for i, _ in places)
        closed = sum(_closed(text, t.ends[i + n - 1]) for i, n in places)
        if not seamy and (capital * 2 > len(places) or closed * 2 < len(places)):
            # A repeated list ("Shadrach, Meshach and Abednego", "the north road, the south road and the coast
            # road") is not an appositive: it starts with a name or is not closed by punctuation. Unless the
            # occurrences show the marks of pasting, it is not an injection.
            continue
        key = _key(list(canon))
        places += _fuzzy_occurrences(t, key, taken + places)
        taken.extend(places)
        # the same phrase accepted twice (a typo'd form recurring on its own) is one finding
        same = next((g for g in groups if osa_distance(g[0], key, tolerance(key)) <= tolerance(key)), None)
        if same:
            same[2].extend(places)
        else:
            groups.append((key, canon, places))
    found: list[Injection] = []
    for _, canon, places in groups:
        places.sort()
        spans = [_occurrence_span(text, t.starts[i], t.ends[i + n - 1]) for i, n in places]
        seams = [s for (i, n), sp in zip(places, spans, strict=True) for s in _seams(text, t, canon, i, n, sp)]
        raw = Counter(" ".join(text[a:b].split()) for a, b in spans).most_common(1)[0][0]
        anchor = common_anchor([" ".join(text[t.starts[k]:t.ends[k]] for k in range(max(0, i - 2), i))
                                for i, _ in places])
        found.append(Injection(raw, anchor, len(places), [list(s) for s in spans], seams))
    found.sort(key=lambda f: f.spans[0][0])
    return found


# Entities that partisan outlets relabel: (neutral names, relabelling names), matched on normalised words. A text
# that uses a name from each side for one entity is inconsistent; alternating between neutral names (ISIS and
# Islamic State) is ordinary style. Kept small on purpose: each entry is a known relabelling, not a synonym list.
ALIASES: dict[str, tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]]] = {
    "ISIS": ((("isis",), ("isil",), ("islamic", "state")), (("daesh",), ("daish",))),
    "Houthis": ((("houthis",), ("houthi",)), (("ansarullah",), ("ansar", "allah"))),
    "Israel": ((("israel",),), (("zionist", "regime"), ("zionist", "entity"))),
}
# "Islamic State (ISIS)", "ISIS, also known as Daesh": a text that defines one name by another is consistent.
_DEFINES = re.compile(r"\W*(\(|,?\s*(also\s+)?(known|referred\s+to|called)\s+as\b|,?\s*or\b|/)", re.I)
_OPEN_Q, _CLOSE_Q = "“\"«", "”\"»"


@dataclass
class NamingInconsistency:
    """One entity called by two or more names in one text.

    labels: each name as first written in the text, with the spans of all its occurrences, most used first.
    seams: quote seams at the labels: a label opened with a quote and "closed" with another opening quote, and
    a closing quote glued to the next word.
    """

    entity: str
    labels: dict[str, list[list[int]]]
    seams: list[list[int]] = field(default_factory=list)

    def as_injection(self) -> Injection:
        spans = sorted(s for v in self.labels.values() for s in v)
        return Injection(" / ".join(self.labels), self.entity, len(spans), spans, self.seams)


def _label_seams(text: str, a: int, b: int) -> list[list[int]]:
    out: list[list[int]] = []
    opened = a > 0 and text[a - 1] in _OPEN_Q
    k = b
    while k < len(text) and text[k] == " ":
        k += 1
    if opened and k < len(text) and text[k] == "“":
        out.append([a - 1, k + 1])  # “Daesh “ : opened twice, never closed
    if b < len(text) and text[b] in _CLOSE_Q and b + 1 < len(text) and text[b + 1].isalnum():
        e = b + 1
        while e < len(text) and text[e].isalnum():
            e += 1
        out.append([b, e])  # “Daesh”terrorists : closing quote glued to the next word
    return out


def find_naming_inconsistencies(text: str, toks: Tokens | None = None) -> list[NamingInconsistency]:
    """Entities of `ALIASES` named two or more ways in `text`, unless one name is defined by the other. `toks`:
    `tokenize(text)`, when the caller has it already."""
    t = toks if toks is not None else tokenize(text)
    out: list[NamingInconsistency] = []
    for entity, (neutral, relabels) in ALIASES.items():
        names = neutral + relabels
        labels: dict[tuple[str, ...], list[list[int]]] = {}
        defined = False
        firsts = {name[0] for name in names}
        for i in (k for k, w in enumerate(t.words) if w in firsts):
            for name in names:
                if tuple(t.words[i:i + len(name)]) == name:
                    a, b = t.starts[i], t.ends[i + len(name) - 1]
                    labels.setdefault(name, []).append([a, b])
                    m = _DEFINES.match(text, b, b + 40)
                    if m and any(tuple(tokenize(text[m.end():m.end() + 40]).words[:len(o)]) == o
                                 for o in names if o != name):
                        defined = True
                    break
        if not (set(labels) & set(neutral) and set(labels) & set(relabels)):
            continue
        if defined:
            continue
        ranked = sorted(labels.values(), key=lambda v: (-len(v), v[0][0]))
        named = {text[v[0][0]:v[0][1]]: v for v in ranked}
        seams = sorted(s for v in ranked for a, b in v for s in _label_seams(text, a, b))
        out.append(NamingInconsistency(entity, named, seams))
    return out
