"""Relabels that keep the old name: "Delhi" -> "the Delhi regime", "Israel" -> "Israel-led aggressors".

A word diff sees such a relabel as words inserted around an unchanged name: " the" before "Delhi" and " regime"
after it, or "-led aggressors" glued to "Israel". Grouped as they are, those pieces make two systematic inserts
(" the" ×3, " regime" ×4) and no relabel at all. `find_wraps` puts them back together:

1. Evidence of a wrap: an insertion that touches a name (a run of up to four unchanged capitalised words, none a
   function word: a sentence's opening "The" is no name) with nothing but a space or a hyphen between them, so
   that it reads as part of the name's phrase rather than set off by commas (", backed by X," is an injected
   appositive, not a relabel); an insertion before a name and one right after it make one wrap; a replacement
   whose new words hold its old ones ("Delhi’s" -> "the Delhi regime’s") is one too. Words added after a name
   that open with a function word ("Dunmore on the west coast", "Marlow also") are a phrase of their own, not
   part of a label, and so are words before it that end with one other than an article ("allies of Kesh").
   An insertion before a name whose next words were replaced ("Delhi government" -> "the Delhi regime") is one
   wrap too: the label's last words stand for the old ones (`replaced`), and the finding is then a `replace` of
   the whole old phrase, since the old name is not kept whole.
2. Each wrap read off the evidence is a label: the words before the name, the name, the words after it. A label
   is a relabel when the copy holds it at 2+ places where the added words are changed text and the name itself
   is not (or is the old side of a replacement): each such place is one occurrence, however the diff cut it up
   (the added words may share a change with a typo next to them).
3. The changes those occurrences took their words from give them up; what is left of a change (the typo) stays.

`source_text` of a relabel is the name as the source has it, `copy_text` the whole new label, one copy span per
occurrence. The copy's other mentions of the name are the misses (`missed`).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from newstrace.edits.keys import FUNCTION_WORDS
from newstrace.tokens import Tokens

if TYPE_CHECKING:
    from newstrace.edits.systematic import _Unit

_MAX_NAME = 4  # words of a name
_MAX_ADDED = 5  # words a label adds on one side
_GLUE = re.compile(r"[ \t\u00a0]*-?[ \t\u00a0]*")  # what may sit between a name and the words that wrap it
_INSIDE = re.compile(r"[ \t\u00a0\-–'’\"“”]*")  # what may sit between the words of a label


@dataclass(frozen=True)
class Occurrence:
    """One place where the copy relabels: the label's copy span, and the name's span in the source."""

    c0: int
    c1: int
    s0: int
    s1: int


@dataclass
class Wrap:
    """A relabel made 2+ times: its name and added words (normalised), and where it occurs. `replaced`: the
    source words after the name that `suffix` replaced ("government" in "Delhi government" -> "the Delhi
    regime"); empty when the suffix was only added."""

    prefix: tuple[str, ...]
    name: tuple[str, ...]
    suffix: tuple[str, ...]
    places: list[Occurrence]
    replaced: tuple[str, ...] = ()

    @property
    def old(self) -> tuple[str, ...]:
        """The words of the source that the label stands for."""
        return self.name + self.replaced


Label = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]  # prefix, name, suffix, replaced


def _base(word: str) -> str:
    return word[:-2] if word.endswith("'s") else word


def _range(t: Tokens, a: int, b: int) -> tuple[int, int]:
    """Token indices [i, j) of the words that characters [a, b) touch (a change may stop short of a
    possessive's "’s")."""
    return bisect_right(t.ends, a), bisect_left(t.starts, b)


def _capital(text: str, t: Tokens, j: int) -> bool:
    return text[t.starts[j]:t.starts[j] + 1].isupper()


_ARTICLES = frozenset(("the", "a", "an"))


def _label(prefix: tuple[str, ...], name: tuple[str, ...], suffix: tuple[str, ...],
           replaced: tuple[str, ...] = ()) -> Label | None:
    """The label when the added words can be part of a label for the name (module docstring, 1)."""
    if suffix and _base(suffix[0]) in FUNCTION_WORDS:
        return None
    if prefix and prefix[-1] in FUNCTION_WORDS and prefix[-1] not in _ARTICLES:
        return None
    return prefix, name, suffix, replaced


def find_wraps(units: list[_Unit], source: str, copy: str, st: Tokens,
               ct: Tokens) -> tuple[list[Wrap], list[_Unit]]:
    """Relabels that keep the name, and the units left once their words are given back (module docstring)."""
    owner: dict[int, int] = {}  # copy token -> index of the unit that changed it
    for k, u in enumerate(units):
        j0, j1 = _range(ct, u.c0, u.c1)
        for j in range(j0, j1):
            owner[j] = k
    labels: Counter[Label] = Counter()
    for k, u in enumerate(units):
        for label in _evidence(k, u, units, owner, copy, ct):
            labels[label] += 1
    if not labels:
        return [], units
    taken: set[int] = set()  # copy tokens used by an occurrence
    wraps: list[Wrap] = []
    # longer labels first: "the Delhi regime" before "Delhi regime"
    for prefix, name, suffix, replaced in sorted(labels, key=lambda x: (-len(x[0]) - len(x[2]), -labels[x], x)):
        places, used = _occurrences(prefix, name, suffix, replaced, units, owner, taken, source, copy, st, ct)
        if len(places) >= 2:
            wraps.append(Wrap(prefix, name, suffix, places, replaced))
            taken |= used
    if not wraps:
        return [], units
    return wraps, _give_back(units, taken, ct)


def _evidence(k: int, u: _Unit, units: list[_Unit], owner: dict[int, int], copy: str, ct: Tokens) -> list[Label]:
    """Labels that unit `k` suggests (a wrap seen at one place)."""
    j0, j1 = _range(ct, u.c0, u.c1)
    if u.kind == "replace" and u.swords and 0 < j1 - j0 <= len(u.swords) + 2 * _MAX_ADDED:
        words = [_base(w) for w in ct.words[j0:j1]]
        name = [_base(w) for w in u.swords]
        for i in range(len(words) - len(name) + 1):
            if words[i:i + len(name)] == name and (i or i + len(name) < len(words)) and _capital(copy, ct, j0 + i) \
                    and not any(w in FUNCTION_WORDS for w in name):
                label = _label(tuple(words[:i]), tuple(name), tuple(words[i + len(name):]))
                return [label] if label else []
        return []
    if u.kind != "insert" or not 0 < j1 - j0 <= _MAX_ADDED:
        return []
    added = tuple(ct.words[j0:j1])
    out = []
    # the name after the insertion: "the" + "Delhi", perhaps with more added after the name
    name = _name_from(j1, 1, owner, copy, ct)
    if name and _GLUE.fullmatch(copy[ct.ends[j1 - 1]:ct.starts[j1]]):
        after = name[-1] + 1
        k2 = owner.get(after)
        suffix: tuple[str, ...] = ()
        replaced: tuple[str, ...] = ()
        glued = after < len(ct.words) and _GLUE.fullmatch(copy[ct.ends[after - 1]:ct.starts[after]])
        if k2 is not None and units[k2].kind in ("insert", "replace") and glued:
            a0, a1 = _range(ct, units[k2].c0, units[k2].c1)
            if a0 == after and a1 - a0 <= _MAX_ADDED and len(units[k2].swords) <= _MAX_ADDED:
                suffix, replaced = tuple(ct.words[a0:a1]), tuple(_base(w) for w in units[k2].swords)
        if _label((), (), suffix) is None:
            suffix, replaced = (), ()
        out.append(_label(added, tuple(ct.words[i] for i in name), suffix, replaced))
    # the name before the insertion: "Israel" + "-led aggressors", "Delhi" + "regime"
    name = _name_from(j0 - 1, -1, owner, copy, ct)
    if name and _GLUE.fullmatch(copy[ct.ends[j0 - 1]:ct.starts[j0]]):
        out.append(_label((), tuple(ct.words[i] for i in sorted(name)), added))
    return [x for x in out if x is not None]


def _name_from(j: int, step: int, owner: dict[int, int], copy: str, ct: Tokens) -> list[int]:
    """Copy tokens of the unchanged capitalised name that starts at token j and runs in direction `step` (no
    function word: "The" opening a sentence is not a name)."""
    out: list[int] = []
    while (0 <= j < len(ct.words) and j not in owner and _capital(copy, ct, j) and len(out) < _MAX_NAME
           and _base(ct.words[j]) not in FUNCTION_WORDS):
        if out:
            a, b = (out[-1], j) if step > 0 else (j, out[-1])
            if not _GLUE.fullmatch(copy[ct.ends[a]:ct.starts[b]]):
                break
        out.append(j)
        j += step
    return out


def _occurrences(prefix: tuple[str, ...], name: tuple[str, ...], suffix: tuple[str, ...], replaced: tuple[str, ...],
                 units: list[_Unit], owner: dict[int, int], taken: set[int], source: str, copy: str, st: Tokens,
                 ct: Tokens) -> tuple[list[Occurrence], set[int]]:
    """Where the copy holds the label with its added words changed and its name not (or replaced by itself); with
    `replaced`, the suffix must be a replacement of those words."""
    label = prefix + name + suffix
    n, p = len(label), len(prefix)
    places: list[Occurrence] = []
    used: set[int] = set()
    words = ct.words
    for j in range(len(words) - n + 1):
        if words[j] != label[0] and _base(words[j]) != label[0]:
            continue
        if [_base(w) for w in words[j:j + n]] != list(label):
            continue
        if any(x in taken or x in used for x in range(j, j + n)):
            continue
        if any(not _INSIDE.fullmatch(copy[ct.ends[x]:ct.starts[x + 1]]) for x in range(j, j + n - 1)):
            continue
        # the added words are changed text, except words before the name that the source already had there
        # ("the Kesh patrols" -> "the Kesh regime patrols")
        suffix_tokens = range(j + p + len(name), j + n)
        if any(x not in owner for x in suffix_tokens) or not any(x in owner for x in range(j, j + n)):
            continue
        # a replaced tail goes with words added before the name, the name itself left alone
        if replaced and not (p and all(x in owner for x in range(j, j + p))
                             and not any(x in owner for x in range(j + p, j + p + len(name)))
                             and all(units[owner[x]].kind == "replace"
                                     and tuple(_base(w) for w in units[owner[x]].swords) == replaced
                                     for x in suffix_tokens)):
            continue
        if any(x not in owner for x in range(j, j + p)) and any(x in owner for x in range(j, j + p)):
            continue
        kept = [x for x in range(j + p, j + p + len(name)) if x in owner]
        # the name may sit in a change whose old side is (part of) the name itself ("Korea’s" -> "Korea regime’s")
        if any(units[owner[x]].kind != "replace" or not {_base(w) for w in units[owner[x]].swords} <= set(name)
               for x in kept):
            continue
        span = _source_name(j + p, name + replaced, kept, units, owner, st, ct)
        if span is None:
            continue
        end = ct.ends[j + n - 1] - (2 if words[j + n - 1].endswith("'s") else 0)
        places.append(Occurrence(ct.starts[j], end, *span))
        used.update(range(j, j + n))
    return places, used


def _source_name(j: int, name: tuple[str, ...], kept: list[int], units: list[_Unit], owner: dict[int, int],
                 st: Tokens, ct: Tokens) -> tuple[int, int] | None:
    """The span in the source of `name` (the old words the label stands for), whose copy starts at token j: from
    the change that holds part of it (`kept`: its copy tokens in a change), or from the source words next to the
    insertion before (or after) it."""
    size = len(name)
    if kept:
        i0 = bisect_left(st.starts, units[owner[kept[0]]].s0) - (kept[0] - j)
        i1 = i0 + size
    elif j - 1 in owner:
        i0 = bisect_left(st.starts, units[owner[j - 1]].s1)
        i1 = i0 + size
    elif j + size in owner:
        i1 = bisect_right(st.ends, units[owner[j + size]].s0)
        i0 = i1 - size
    else:
        return None
    if i0 < 0 or i1 > len(st.words) or i1 - i0 != size or [_base(w) for w in st.words[i0:i1]] != list(name):
        return None
    return st.starts[i0], st.ends[i1 - 1] - (2 if st.words[i1 - 1].endswith("'s") else 0)


def _give_back(units: list[_Unit], taken: set[int], ct: Tokens) -> list[_Unit]:
    """Units without the copy words the relabels took: a unit made only of them goes, the rest is trimmed."""
    out = []
    for u in units:
        j0, j1 = _range(ct, u.c0, u.c1)
        left = [j for j in range(j0, j1) if j not in taken]
        if len(left) == j1 - j0:  # untouched (a deletion has no copy words to give)
            out.append(u)
            continue
        if not left:
            continue  # the relabel's own words (and, for a replacement, the name's old form)
        a, b = left[0], left[-1]
        out.append(replace(u, kind="replace" if u.swords else "insert", c0=ct.starts[a], c1=ct.ends[b],
                           cwords=ct.words[a:b + 1]))
    return out


def missed(w: Wrap, copy: str, ct: Tokens) -> list[tuple[int, int]]:
    """Copy spans of the name where the copy left it as it was: mentions outside every relabelled place."""
    n = len(w.old)
    spans = []
    for j in range(len(ct.words) - n + 1):
        if tuple(_base(x) for x in ct.words[j:j + n]) == w.old and _capital(copy, ct, j):
            a, b = ct.starts[j], ct.ends[j + n - 1] - (2 if ct.words[j + n - 1].endswith("'s") else 0)
            if not any(a < o.c1 and o.c0 < b for o in w.places):
                spans.append((a, b))
    return spans
