"""Systematic edits: the changes an editor made over and over between a source and its copy.

`systematic_edits(edits, source, copy)` groups the edit script into findings. Kinds:
- `insert`: the same phrase inserted 2+ times (", backed by Saudi Arabia,"), grouped through spacing and
  punctuation seams and small typos; `anchor` holds the copy words it most often follows ("Daesh terrorists").
- `replace`: the same term replaced by the same term 2+ times (ISIS -> Daesh).
- `replace_missed`: for each `replace` finding, the places where the copy still holds the source term: the
  replacement that the editor forgot. `source_text` and `copy_text` are the term; `copy_spans` its occurrences.
- `delete`: the same text deleted 2+ times.
- `cut_denial`, `cut_counterclaim`, `cut_attribution`: a deletion of 2-80 words (or a replacement that keeps less
  than half of them) that carried a denial ("denied", "baseless", "no evidence"), a counter-claim ("however",
  "disputed") or an attribution ("said", "according to"), checked in that order. These count even once: one
  cut denial changes a story.
  `copy_spans` holds the point in the copy where the text was cut (an empty span).
- `move`: passages that the copy has in another order than the source (reordered paragraphs); `count` is the
  number of moved passages, `copy_spans` where they are in the copy, `source_text`/`copy_text` the first one.
- `lead`: the insertions, replacements and deletions, 3+ words in all, at the start of the copy (before its first
  run of three unchanged words; deletions before the source's first unchanged word), as one finding spanning
  them: a rewritten, added or dropped lead or headline (`copy_text` is empty for a dropped one).
- `boilerplate`: the same at the end of the copy (after its last run of three unchanged words, 2+ words in all):
  outlet boilerplate such as a footer or a "Source:" line. One pair cannot tell boilerplate from a new
  closing paragraph; `outlet_fingerprints` decides across an outlet's copies.

A replacement that both relabels and injects ("ISIS have" -> "Daesh, backed by X, have") is split before grouping
when its added tail (or head) matches a phrase inserted elsewhere in the pair, or recurs in 2+ replacements.

`diff_pair(source, copy, passages)` runs the edit script and the grouping together.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field

from newstrace.edits.keys import cluster_keys, common_anchor, cut_kind, letter_key, osa_distance, tolerance
from newstrace.edits.script import edit_script_tokens
from newstrace.model import Edit, Passage, SystematicEdit
from newstrace.tokens import Tokens, tokenize

_CUT_MAX_WORDS = 80


@dataclass
class SystematicFinding(SystematicEdit):
    """A `SystematicEdit` with the context that explains it; `contract_row()` gives the contract's fields only.

    anchor: for inserts, the copy words the phrase most often follows; for others, empty.
    variants: the distinct raw forms grouped together (seams and typos included), most frequent first.
    """

    anchor: str = ""
    variants: list[str] = field(default_factory=list)

    def contract_row(self) -> dict:
        return {"kind": self.kind, "source_text": self.source_text, "copy_text": self.copy_text,
                "count": self.count, "copy_spans": [list(s) for s in self.copy_spans]}


@dataclass
class PairEdits:
    """Everything `diff_pair` found for one pair.

    anchors: parallel to `edits`; for an insert or replace, the (up to two) copy words just before it, raw case,
    which `outlet_fingerprints` uses to tell narrative insertions from boilerplate; "" otherwise.
    """

    edits: list[Edit]
    systematic: list[SystematicFinding]
    anchors: list[str] = field(default_factory=list)


@dataclass
class _Unit:
    kind: str  # insert | delete | replace
    s0: int
    s1: int
    c0: int
    c1: int
    swords: list[str]
    cwords: list[str]


def _words(t: Tokens, a: int, b: int) -> tuple[int, int]:
    return bisect_left(t.starts, a), bisect_right(t.ends, b)


def _unit(e: Edit, st: Tokens, ct: Tokens) -> _Unit:
    i0, i1 = _words(st, e.source_start, e.source_end)
    j0, j1 = _words(ct, e.copy_start, e.copy_end)
    swords, cwords = st.words[i0:max(i0, i1)], ct.words[j0:max(j0, j1)]
    kind = e.kind
    if kind == "replace" and not swords:
        kind = "insert"  # " " -> ", backed by X," : only spacing was lost, the change is an insertion
    elif kind == "replace" and not cwords:
        kind = "delete"
    return _Unit(kind, e.source_start, e.source_end, e.copy_start, e.copy_end, swords, cwords)


def anchor_before(copy: str, ct: Tokens, c0: int, n: int = 2) -> str:
    """The `n` copy words just before offset `c0`, raw case, joined by single spaces."""
    j = bisect_right(ct.ends, c0)
    return " ".join(copy[ct.starts[k]:ct.ends[k]] for k in range(max(0, j - n), j))


def _split_replaces(units: list[_Unit], copy: str, ct: Tokens) -> list[_Unit]:
    """Split replacements in which a relabelling and an insertion touch (see the module docstring).

    The added tail (or head) of a replacement is taken for an insertion when its letters (6+, within typo
    tolerance) recur in 2+ edits of the pair: pure insertions, or tails (heads) of other replacements. Failing
    that, a tail (or head) that, with the same source words, makes up another replacement of the pair is taken for
    that replacement, and the rest for an insertion ("Kavanaugh" -> "World desk\n\nVarnia" next to "Kavanaugh"
    -> "Varnia" elsewhere).
    """
    def tails(u: _Unit) -> list[tuple[int, str]]:
        return [(k, "".join(u.cwords[k:])) for k in range(1, len(u.cwords))]

    def heads(u: _Unit) -> list[tuple[int, str]]:
        return [(k, "".join(u.cwords[:k])) for k in range(len(u.cwords) - 1, 0, -1)]

    reps_of = [u for u in units if u.kind == "replace" and len(u.cwords) >= 2]
    inserted = [k for k in (letter_key(" ".join(u.cwords)) for u in units if u.kind == "insert") if len(k) >= 6]
    ins_reps = cluster_keys(inserted)
    seen: Counter[str] = Counter()
    for u in reps_of:
        seen.update({key for _, key in tails(u) + heads(u) if len(key) >= 6})
    # the forms others are matched to, with typo tolerance: inserted phrases, and tails/heads seen twice
    distinct = sorted(set(ins_reps.values()) | {k for k, c in seen.items() if c >= 2}, key=lambda k: -seen[k])
    canon: dict[str, str] = dict(ins_reps)
    canon.update((k, k) for k in distinct if k not in canon)

    def rep(key: str) -> str:
        if key not in canon:
            tol = tolerance(key)
            canon[key] = next((r for r in distinct if tol and abs(len(r) - len(key)) <= tol
                               and osa_distance(key, r, tol) <= tol), key)
        return canon[key]

    # tails are supported by insertions and other tails, heads by insertions and other heads
    tail_support: Counter[str] = Counter(ins_reps[k] for k in inserted)
    head_support = Counter(tail_support)
    for u in reps_of:
        tail_support.update({rep(key) for _, key in tails(u) if len(key) >= 6})
        head_support.update({rep(key) for _, key in heads(u) if len(key) >= 6})
    replaced = Counter(_replace_key(u) for u in units if u.kind == "replace")

    out: list[_Unit] = []
    for u in units:
        if u.kind != "replace" or len(u.cwords) < 2:
            out.append(u)
            continue
        j0, _ = _words(ct, u.c0, u.c1)
        split = None
        for k, key in tails(u):  # longest tail first
            if len(key) >= 6 and tail_support[rep(key)] >= 2:
                split = _cut(u, k, ct.ends[j0 + k - 1], insert_tail=True)
                break
        if split is None:
            for k, key in heads(u):  # longest head first
                if len(key) >= 6 and head_support[rep(key)] >= 2:
                    split = _cut(u, k, ct.starts[j0 + k], insert_tail=False)
                    break
        if split is None:
            skey = letter_key(" ".join(u.swords))
            for k in range(1, len(u.cwords)):
                if replaced[(skey, letter_key(" ".join(u.cwords[k:])))]:
                    split = _cut(u, k, ct.starts[j0 + k], insert_tail=False)
                    break
                if replaced[(skey, letter_key(" ".join(u.cwords[:k])))]:
                    split = _cut(u, k, ct.ends[j0 + k - 1], insert_tail=True)
                    break
        out.extend(split or (u,))
    return out


def _cut(u: _Unit, k: int, at: int, insert_tail: bool) -> tuple[_Unit, _Unit]:
    """Split replacement `u` after its k-th copy word, at copy offset `at`, into a replacement and an insertion."""
    if insert_tail:
        return (_Unit("replace", u.s0, u.s1, u.c0, at, u.swords, u.cwords[:k]),
                _Unit("insert", u.s1, u.s1, at, u.c1, [], u.cwords[k:]))
    return (_Unit("insert", u.s0, u.s0, u.c0, at, [], u.cwords[:k]),
            _Unit("replace", u.s0, u.s1, at, u.c1, u.swords, u.cwords[k:]))


def _base(word: str) -> str:
    """A normalised word without its possessive: "Jean’s" -> "Varnia’s" is the relabelling "Jean" -> "Varnia"."""
    return word[:-2] if word.endswith("'s") else word


def _replace_key(u: _Unit) -> tuple[str, str]:
    return letter_key(" ".join(map(_base, u.swords))), letter_key(" ".join(map(_base, u.cwords)))


def _finding(kind: str, group: list[_Unit], source: str, copy: str, anchor: str = "") -> SystematicFinding:
    cvars = Counter(copy[u.c0:u.c1] for u in group)
    svars = Counter(source[u.s0:u.s1] for u in group)
    return SystematicFinding(kind, svars.most_common(1)[0][0], cvars.most_common(1)[0][0], len(group),
                             [[u.c0, u.c1] for u in group], anchor, [v for v, _ in cvars.most_common()])


def _first_kept(units: list[_Unit], st: Tokens) -> int:
    """Source offset of the first source word no edit touches (the end of the source if none)."""
    same = _untouched(st, _merge([(u.s0, u.s1) for u in units if u.s0 < u.s1]))
    return next((st.starts[j] for j, ok in enumerate(same) if ok), st.ends[-1] if len(st) else 0)


def _edge(kind: str, group: list[_Unit], source: str, copy: str) -> SystematicFinding:
    """One finding for all the changes in the lead (or footer) region, spanning from the first to the last."""
    c0, c1 = min(u.c0 for u in group), max(u.c1 for u in group)
    changed = [u for u in group if u.s0 < u.s1]
    s0, s1 = (min(u.s0 for u in changed), max(u.s1 for u in changed)) if changed else (group[0].s0, group[0].s0)
    return SystematicFinding(kind, source[s0:s1], copy[c0:c1], 1, [[c0, c1]], "", [copy[c0:c1]])


def _missed(group: list[_Unit], source: str, copy: str, ct: Tokens) -> SystematicFinding | None:
    """Occurrences in the copy of the replaced source term that were left alone."""
    term = Counter(tuple(_base(w) for w in u.swords) for u in group).most_common(1)[0][0]
    if not term:
        return None
    done = [(u.c0, u.c1) for u in group]
    spans: list[list[int]] = []
    n = len(term)
    for j in range(len(ct.words) - n + 1):
        if ct.words[j] in (term[0], term[0] + "'s") and tuple(_base(w) for w in ct.words[j:j + n]) == term:
            a, b = ct.starts[j], ct.ends[j + n - 1]
            if not any(a < d1 and d0 < b for d0, d1 in done):
                spans.append([a, b])
    if not spans:
        return None
    raw = copy[spans[0][0]:spans[0][1]]
    return SystematicFinding("replace_missed", Counter(source[u.s0:u.s1] for u in group).most_common(1)[0][0],
                             raw, len(spans), spans, "", sorted({copy[a:b] for a, b in spans}))


def systematic_edits(edits: list[Edit], source: str, copy: str) -> list[SystematicFinding]:
    """Group `edits` of one pair into systematic findings (kinds in the module docstring), most frequent first."""
    return _systematic(edits, source, copy, tokenize(source), tokenize(copy))


def _systematic(edits: list[Edit], source: str, copy: str, st: Tokens, ct: Tokens) -> list[SystematicFinding]:
    units = _split_replaces([_unit(e, st, ct) for e in edits if e.kind != "move"], copy, ct)
    # copy words no edit touches: the lead is what comes before the first of them, boilerplate after the last
    # The lead is what comes before the copy's first run of 3 unchanged words (one shared word does not make a
    # headline the same), the footer what comes after its last such run.
    touched = _merge([(u.c0, u.c1) for u in units if u.c0 < u.c1])
    same = _untouched(ct, touched)
    runs = [j for j in range(len(ct) - 2) if same[j] and same[j + 1] and same[j + 2]]
    first = ct.starts[runs[0]] if runs else None
    last = ct.ends[runs[-1] + 2] if runs else None

    found: list[SystematicFinding] = []
    used: set[int] = set()
    ins = [k for k, u in enumerate(units) if u.kind == "insert" and letter_key(" ".join(u.cwords))]
    reps = cluster_keys(letter_key(" ".join(units[k].cwords)) for k in ins)
    by_key: dict[str, list[int]] = {}
    for k in ins:
        by_key.setdefault(reps[letter_key(" ".join(units[k].cwords))], []).append(k)
    for ks in by_key.values():
        if len(ks) >= 2:
            group = [units[k] for k in ks]
            anchor = common_anchor([anchor_before(copy, ct, u.c0) for u in group])
            found.append(_finding("insert", group, source, copy, anchor))
            used.update(ks)

    for kind in ("replace", "delete"):
        groups: dict[tuple[str, str], list[int]] = {}
        for k, u in enumerate(units):
            if u.kind == kind and k not in used:
                key = _replace_key(u) if kind == "replace" else (letter_key(" ".join(u.swords)), "")
                if key[0] or key[1]:
                    groups.setdefault(key, []).append(k)
        for ks in groups.values():
            if len(ks) >= 2:
                group = [units[k] for k in ks]
                found.append(_finding(kind, group, source, copy))
                used.update(ks)
                if kind == "replace":
                    miss = _missed(group, source, copy, ct)
                    if miss:
                        found.append(miss)

    if first is not None and last is not None:
        # a lead may also be dropped (deleted, nothing in its place); a footer only counts when something was added
        for kind, pick, least, kinds in (("lead", lambda u: u.c1 <= first, 3, ("insert", "replace", "delete")),
                                         ("boilerplate", lambda u: u.c0 >= last, 2, ("insert", "replace"))):
            ks = [k for k, u in enumerate(units) if k not in used and u.kind in kinds and pick(u)
                  and (u.kind != "delete" or u.s0 < _first_kept(units, st))]
            if sum(max(len(units[k].cwords), len(units[k].swords)) for k in ks) >= least:
                found.append(_edge(kind, [units[k] for k in ks], source, copy))
                used.update(ks)
    moves = [e for e in edits if e.kind == "move"]
    if moves:
        found.append(SystematicFinding("move", moves[0].source_text, moves[0].copy_text, len(moves),
                                       [[e.copy_start, e.copy_end] for e in moves], "", []))
    for k, u in enumerate(units):
        # a targeted cut is a clause to a paragraph, gone without a replacement; a long stretch of source that a
        # partial copy never took up is not one
        if k in used or u.kind == "insert" or not 2 <= len(u.swords) <= _CUT_MAX_WORDS or \
                2 * len(u.cwords) > len(u.swords):
            continue
        cut = cut_kind(set(u.swords) - set(u.cwords))
        if cut:
            found.append(SystematicFinding(cut, source[u.s0:u.s1], copy[u.c0:u.c1], 1, [[u.c0, u.c1]],
                                           "", [copy[u.c0:u.c1]]))
    order = {k: i for i, k in enumerate(
        ("insert", "replace", "replace_missed", "delete", "cut_denial", "cut_counterclaim", "cut_attribution",
         "move", "lead", "boilerplate"))}
    found.sort(key=lambda f: (order[f.kind], -f.count, f.copy_spans[0][0] if f.copy_spans else 0))
    return found


def _untouched(ct: Tokens, spans: list[tuple[int, int]]) -> list[bool]:
    """For each copy word: True when it overlaps none of `spans` (disjoint and sorted)."""
    out: list[bool] = []
    k = 0
    for a, b in zip(ct.starts, ct.ends, strict=True):
        while k < len(spans) and spans[k][1] <= a:
            k += 1
        out.append(not (k < len(spans) and spans[k][0] < b))
    return out


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def diff_pair(source: str, copy: str, passages: list[Passage]) -> PairEdits:
    """The edit script of one aligned pair with its systematic findings, and each change's copy anchor."""
    st, ct = tokenize(source), tokenize(copy)
    edits = edit_script_tokens(source, copy, passages, st, ct)
    anchors = [anchor_before(copy, ct, e.copy_start) if e.kind in ("insert", "replace") else "" for e in edits]
    return PairEdits(edits, _systematic(edits, source, copy, st, ct), anchors)
