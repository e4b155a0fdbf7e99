"""Normalised keys for grouping edited phrases, with a small tolerance for the typos of hurried editing.

Grouping looks through seams: ", backed by Saudi Arabia,", " ,backedby Saudi Arabia" and "backed bySaudi Arabai"
all belong to one group. The key keeps letters and digits only, lower-cased with quotes folded, so spacing and
punctuation seams vanish; `cluster_keys` then joins keys within a small edit distance (a transposed or dropped
letter). Raw text and spans are always kept beside the key; the key is never shown as a finding.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from newstrace.tokens import normalise_word

_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)


def letter_key(text: str) -> str:
    """Letters and digits of `text`, lower-cased: the grouping key that ignores spacing and punctuation."""
    return _NON_ALNUM.sub("", normalise_word(text))


def osa_distance(a: str, b: str, limit: int = 3) -> int:
    """Edit distance with adjacent transpositions (optimal string alignment); returns `limit + 1` once exceeded."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def tolerance(key: str) -> int:
    """Typos allowed between two keys of this length: none for short words, where one letter changes meaning."""
    return 0 if len(key) < 8 else (1 if len(key) < 16 else 2)


def cluster_keys(keys: Iterable[str]) -> dict[str, str]:
    """Map each key to a representative: the most frequent key within `tolerance` edits of it."""
    counts = Counter(keys)
    reps: list[str] = []
    out: dict[str, str] = {}
    for k, _ in counts.most_common():
        for r in reps:
            tol = min(tolerance(k), tolerance(r))
            if tol and osa_distance(k, r, tol) <= tol:
                out[k] = r
                break
        else:
            reps.append(k)
            out[k] = k
    return out


def common_anchor(anchors: list[str]) -> str:
    """The most common one-word anchor, widened to two words when (nearly) all of those share the same two."""
    last = Counter(a.split()[-1].lower() for a in anchors if a)
    if not last:
        return ""
    w, n = last.most_common(1)[0]
    pairs = Counter(" ".join(a.split()[-2:]) for a in anchors if a and a.split()[-1].lower() == w)
    pair, pn = pairs.most_common(1)[0]
    if len(pair.split()) == 2 and pn >= max(2, 0.8 * n):
        return pair
    return next(a.split()[-1] for a in anchors if a and a.split()[-1].lower() == w)


# Function words (lower-case, compared with normalised words): they link or frame a phrase and name nothing.
FUNCTION_WORDS = frozenset(
    "a an the of to in on at by for from with and or but as is are was were be been being that this these those it "
    "its their his her he she they we you i not no so than then there here which who whom whose what when where "
    "how all any some such into over under about after before between also has have had do does did will would "
    "can could may might must shall should very more most other out up down off".split()
)


# Cue words of the sentences whose cut changes what a story claims (lower-case, compared with normalised words).
DENIAL_CUES = frozenset(
    "deny denies denied denying denial denials rejected rejects refuted refutes refute dismissed dismisses "
    "baseless unfounded fabricated fabrication untrue".split()
)
COUNTER_CUES = frozenset(
    "however contrary disputed disputes dispute insisted insists countered counters contradicted contradicts "
    "contradict although whereas nevertheless".split()
)
ATTRIBUTION_CUES = frozenset(
    "said says say told according reported reports stated claimed claims announced spokesman spokeswoman "
    "spokesperson confirmed quoted statement cited sources alleged added explained noted".split()
)


# Words of a rebuttal that names no denial: the accused says it acted normally ("the checks were standard
# procedure", "the company follows all international rules") or negates the claim ("were not aimed at").
REBUTTAL_CUES = frozenset(
    "not never standard routine procedure procedures rules regulations lawful legal legitimate complies comply "
    "complied compliance follows followed abides proper properly".split()
)


def cut_kind(words: Iterable[str]) -> str | None:
    """Which kind of cut a run of removed words is, most specific first; None when it carries no cue.

    A sourced rebuttal (an attribution cue with a rebuttal cue, or a negation such as "wasn't") is a denial too:
    cutting the official line that contradicts the story changes the story as much as cutting "denied".
    """
    ws = set(words)
    if ws & DENIAL_CUES or {"no", "evidence"} <= ws or {"not", "true"} <= ws:
        return "cut_denial"
    if ws & ATTRIBUTION_CUES and (ws & REBUTTAL_CUES or any(w.endswith("n't") for w in ws)):
        return "cut_denial"
    if ws & COUNTER_CUES:
        return "cut_counterclaim"
    if ws & ATTRIBUTION_CUES:
        return "cut_attribution"
    return None
