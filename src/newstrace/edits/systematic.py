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
- `lead`: the changes in the copy's lead (see `edges`), widened to whole lines: a rewritten, added or dropped
  lead or headline (`copy_text` is empty for a dropped one).
- `boilerplate`: the outlet furniture (see `edges`): the copy's masthead line and footer, `copy_text` their texts
  joined by a blank line, `source_text` what they replaced. One pair cannot tell boilerplate from a new
  closing paragraph; `outlet_fingerprints` decides across an outlet's copies. A repeated edit made only in the
  masthead and footer (an outlet name swapped in both) is part of this finding, not a `replace`.

Inserts, replaces and deletes are systematic only when they repeat (2+ times in the pair); one-offs stay in
`edits`. A multi-word relabelling ("Guatemalan" -> "the occupation forces") is kept whole. A replacement that
both relabels and injects ("ISIS have" -> "Daesh, backed by X, have") is split before grouping (`_split_replaces`),
and a one-off replacement that swallowed a repeated relabelling (the relabel beside a typo or a cut sentence)
gives that relabelling back (`_resplit`).

`diff_pair(source, copy, passages)` runs the edit script and the grouping together.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field

from newstrace.edits.edges import Edges, line_count, locate, widen
from newstrace.edits.keys import cluster_keys, common_anchor, cut_kind, letter_key, osa_distance, tolerance
from newstrace.edits.relabels import Wrap, find_wraps, missed
from newstrace.edits.script import Script, edit_script_tokens
from newstrace.model import Edit, Passage, SystematicEdit
from newstrace.tokens import Tokens, tokenize

_CUT_MAX_WORDS = 80
_FOOTER_WORDS = 30  # words a copy may print after its story (a footer) and still end where its source was cut


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
    source_free, copy_free: (start, end) of the text of each side that no passage covers: not copied, not
    edited.
    """

    edits: list[Edit]
    systematic: list[SystematicFinding]
    anchors: list[str] = field(default_factory=list)
    source_free: list[tuple[int, int]] = field(default_factory=list)  # source text outside every aligned region
    copy_free: list[tuple[int, int]] = field(default_factory=list)  # copy text outside every aligned region


@dataclass
class _Unit:
    kind: str  # insert | delete | replace
    s0: int
    s1: int
    c0: int
    c1: int
    swords: list[str]
    cwords: list[str]
    aligned: bool = True  # False: text outside every aligned region, which only the edges and cuts look at
    may_cut: bool = False  # unaligned source text that may still be a targeted cut (see `diff_pair`)


def _words(t: Tokens, a: int, b: int) -> tuple[int, int]:
    return bisect_left(t.starts, a), bisect_right(t.ends, b)


def _unit(e: Edit, st: Tokens, ct: Tokens) -> _Unit:
    i0, i1 = _words(st, e.source_start, e.source_end)
    j0, j1 = _words(ct, e.copy_start, e.copy_end)
    swords, cwords = st.words[i0:max(i0, i1)], ct.words[j0:max(j0, j1)]
    s1, c1 = e.source_end, e.copy_end
    kind = e.kind
    if kind == "replace" and not swords:
        kind = "insert"  # " " -> ", backed by X," : only spacing was lost, the change is an insertion
    elif kind == "replace" and not cwords:
        kind = "delete"
    elif (kind == "replace" and swords[-1].endswith("'s") and st.ends[i1 - 1] == s1 and ct.ends[j1 - 1] == c1
          and e.copy_text[-2:] in ("'s", "’s")):
        # "Obama’s" -> "the regime’s" (or "“rebels”’s") relabels "Obama"; the possessive stays, as in the
        # mentions without one
        s1, c1 = s1 - 2, c1 - 2
        swords = swords[:-1] + [swords[-1][:-2]]
        cwords = cwords[:-1] if cwords[-1] == "s" else cwords[:-1] + [cwords[-1][:-2]]
    return _Unit(kind, e.source_start, s1, e.copy_start, c1, swords, cwords)


def anchor_before(copy: str, ct: Tokens, c0: int, n: int = 2) -> str:
    """The `n` copy words just before offset `c0`, raw case, joined by single spaces."""
    j = bisect_right(ct.ends, c0)
    return " ".join(copy[ct.starts[k]:ct.ends[k]] for k in range(max(0, j - n), j))


# A replacement longer than this many copy words is a rewrite and is never split; the tails and heads tried are
# at most this long too, which keeps the split linear in the size of the pair.
_SPLIT_WORDS = 16
_SETOFF = set(",;:()[]–—\n")


def _set_off(gap: str) -> bool:
    """Whether the text between two words sets off what follows (a comma, bracket, dash or line break)."""
    return bool(_SETOFF & set(gap)) or " - " in gap


def _split_replaces(units: list[_Unit], copy: str, ct: Tokens) -> list[_Unit]:
    """Split replacements in which a relabelling and an insertion touch (see the module docstring).

    A multi-word replacement is kept whole ("Guatemalan" -> "the occupation forces" everywhere is one
    relabelling). Its added tail (or head) is split off as an insertion when
    - it is set off by punctuation or a line break from the rest (", allied with Brussels,") and its letters
      (6+, within typo tolerance) recur in 2+ edits of the pair: pure insertions, or tails (heads) of other
      replacements; or
    - it recurs as a pure insertion elsewhere in the pair, set off or not ("backedby Saudi Arabia" glued on).
    Failing that, a tail (or head) that, with the same source words, makes up another replacement of the pair is
    taken for that replacement, and the rest for an insertion ("Kavanaugh" -> "World desk\n\nVarnia" next to
    "Kavanaugh" -> "Varnia" elsewhere).
    """
    def tails(u: _Unit) -> list[tuple[int, str]]:
        n = len(u.cwords)
        return [(k, letter_key(" ".join(u.cwords[k:]))) for k in range(max(1, n - _SPLIT_WORDS), n)]

    def heads(u: _Unit) -> list[tuple[int, str]]:
        n = len(u.cwords)
        return [(k, letter_key(" ".join(u.cwords[:k]))) for k in range(min(n - 1, _SPLIT_WORDS), 0, -1)]

    reps_of = [u for u in units if u.kind == "replace" and 2 <= len(u.cwords) <= _SPLIT_WORDS]
    if not reps_of:
        return units
    inserted = [k for k in (letter_key(" ".join(u.cwords)) for u in units if u.kind == "insert"
                            and len(u.cwords) <= _SPLIT_WORDS) if len(k) >= 6]
    ins_reps = cluster_keys(inserted)
    parts = {id(u): (tails(u), heads(u)) for u in reps_of}
    seen: Counter[str] = Counter()
    for t, h in parts.values():
        seen.update({key for _, key in t + h if len(key) >= 6})
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
    pure: Counter[str] = Counter(ins_reps[k] for k in inserted)
    tail_support = Counter(pure)
    head_support = Counter(pure)
    for t, h in parts.values():
        tail_support.update({rep(key) for _, key in t if len(key) >= 6})
        head_support.update({rep(key) for _, key in h if len(key) >= 6})
    replaced = Counter(_replace_key(u) for u in units if u.kind == "replace")

    def splits(key: str, gap: str, support: Counter[str]) -> bool:
        if len(key) < 6:
            return False
        r = rep(key)
        return support[r] >= 2 and (_set_off(gap) or pure[r] >= 1)

    out: list[_Unit] = []
    for u in units:
        if id(u) not in parts:
            out.append(u)
            continue
        j0, _ = _words(ct, u.c0, u.c1)
        split = None
        t, h = parts[id(u)]
        for k, key in t:  # longest tail first
            if splits(key, copy[ct.ends[j0 + k - 1]:ct.starts[j0 + k]], tail_support):
                split = _cut(u, k, ct.ends[j0 + k - 1], insert_tail=True)
                break
        if split is None:
            for k, key in h:  # longest head first
                if splits(key, copy[ct.ends[j0 + k - 1]:ct.starts[j0 + k]], head_support):
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


def _split_at(units: list[_Unit], at: int, ct: Tokens) -> list[_Unit]:
    """Split the change that runs across copy offset `at` (the end of a masthead line) into an insertion of the
    copy text up to `at` and the rest, so that the masthead and a rewritten lead are told apart."""
    out: list[_Unit] = []
    for u in units:
        if u.c0 < at < u.c1:
            j0, j1 = _words(ct, u.c0, u.c1)
            jm = bisect_right(ct.ends, at)
            if j0 < jm < j1:
                out.append(_Unit("insert", u.s0, u.s0, u.c0, ct.ends[jm - 1], [], u.cwords[:jm - j0], u.aligned))
                rest = u.cwords[jm - j0:]
                out.append(_Unit("replace" if u.swords else "insert", u.s0, u.s1, ct.starts[jm], u.c1,
                                 u.swords, rest, u.aligned))
                continue
        out.append(u)
    return out


def _resplit(units: list[_Unit], st: Tokens, ct: Tokens) -> list[_Unit]:
    """Take a repeated relabelling out of a one-off replacement that swallowed it.

    A relabelled word next to another change ("Orban poses" -> "the occupation forces psoes", or a relabel
    beside a cut sentence) is one replacement to the word diff. When its first (or last) words on both sides
    are a replacement made 2+ times elsewhere in the pair, that part is split off, and the rest becomes its own
    edit (or nothing, when what is left is the same on both sides).
    """
    counts = Counter(_replace_key(u) for u in units if u.kind == "replace")
    known = {k for k, c in counts.items() if c >= 2}
    if not known:
        return units
    src_keys = {k[0] for k in known}
    out: list[_Unit] = []
    for u in units:
        if u.kind != "replace" or _replace_key(u) in known:
            out.append(u)
            continue
        out.extend(_resplit_one(u, known, src_keys, st, ct) or (u,))
    return out


def _resplit_one(u: _Unit, known: set[tuple[str, str]], src_keys: set[str], st: Tokens,
                 ct: Tokens) -> list[_Unit] | None:
    i0, i1 = _words(st, u.s0, u.s1)
    j0, j1 = _words(ct, u.c0, u.c1)
    ns, nc = i1 - i0, j1 - j0
    if ns != len(u.swords) or nc != len(u.cwords):
        return None  # a possessive already trimmed off: leave it whole
    for front in (True, False):
        for ks in range(1, min(ns, 6) + 1):
            sw = u.swords[:ks] if front else u.swords[ns - ks:]
            skey = letter_key(" ".join(map(_base, sw)))
            if skey not in src_keys:
                continue
            for kc in range(1, min(nc, 8) + 1):
                cw = u.cwords[:kc] if front else u.cwords[nc - kc:]
                if (skey, letter_key(" ".join(map(_base, cw)))) not in known:
                    continue
                if front:
                    part = _Unit("replace", u.s0, st.ends[i0 + ks - 1], u.c0, ct.ends[j0 + kc - 1], sw, cw)
                    rs = (st.starts[i0 + ks], u.s1) if ks < ns else (part.s1, part.s1)
                    rc = (ct.starts[j0 + kc], u.c1) if kc < nc else (part.c1, part.c1)
                    rest_s, rest_c = u.swords[ks:], u.cwords[kc:]
                else:
                    part = _Unit("replace", st.starts[i1 - ks], u.s1, ct.starts[j1 - kc], u.c1, sw, cw)
                    rs = (u.s0, st.ends[i1 - ks - 1]) if ks < ns else (part.s0, part.s0)
                    rc = (u.c0, ct.ends[j1 - kc - 1]) if kc < nc else (part.c0, part.c0)
                    rest_s, rest_c = u.swords[:ns - ks], u.cwords[:nc - kc]
                if rest_s == rest_c:
                    return [part]
                kind = "replace" if rest_s and rest_c else ("delete" if rest_s else "insert")
                rest = _Unit(kind, rs[0], rs[1], rc[0], rc[1], rest_s, rest_c)
                return [part, rest] if front else [rest, part]
    return None


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


def _boilerplate(group: list[_Unit], ed: Edges, source: str, copy: str) -> SystematicFinding:
    """One finding for the outlet furniture: the masthead and footer of the copy (and what they replaced)."""
    tail = [(u.c0, u.c1) for u in group if u.c0 < u.c1 and not (ed.masthead_c and u.c0 < ed.masthead_c[1])]
    cspans = [sp for sp in (ed.masthead_c, ed.footer_c) if sp]
    if tail and not ed.footer_c:
        cspans.append((min(a for a, _ in tail), max(b for _, b in tail)))
    sspans = [sp for sp in (ed.masthead_s, ed.footer_s) if sp]
    if not sspans:
        changed = [(u.s0, u.s1) for u in group if u.s0 < u.s1]
        if changed:
            sspans = [(min(a for a, _ in changed), max(b for _, b in changed))]
    cspans = [_strip(copy, sp) for sp in cspans]
    sspans = [_strip(source, sp) for sp in sspans]
    text = "\n\n".join(copy[a:b] for a, b in cspans)
    if not cspans:
        c = min(u.c0 for u in group)
        cspans = [(c, c)]
    return SystematicFinding("boilerplate", "\n\n".join(source[a:b] for a, b in sspans), text, 1,
                             [list(sp) for sp in cspans], "", [text])


def _strip(text: str, span: tuple[int, int]) -> tuple[int, int]:
    a, b = span
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def _lead(group: list[_Unit], source: str, copy: str) -> SystematicFinding | None:
    """One finding for the changes in the lead, widened to whole lines; None when they run past two lines. A lead
    made only of unaligned text (an opening the copy wrote itself) is not widened into the aligned text after
    it."""
    cs = [(u.c0, u.c1) for u in group]
    ss = [(u.s0, u.s1) for u in group]
    if line_count(copy, cs) > 2 or line_count(source, ss) > 2:
        return None
    if all(not u.aligned for u in group):
        real_c, real_s = [x for x in cs if x[0] < x[1]], [x for x in ss if x[0] < x[1]]
        c0, c1 = (min(a for a, _ in real_c), max(b for _, b in real_c)) if real_c else cs[0]
        s0, s1 = (min(a for a, _ in real_s), max(b for _, b in real_s)) if real_s else ss[0]
    else:
        c0, c1 = widen(copy, cs)
        s0, s1 = widen(source, ss)
    return SystematicFinding("lead", source[s0:s1], copy[c0:c1], 1, [[c0, c1]], "", [copy[c0:c1]])


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


def _groups(units: list[_Unit]) -> list[tuple[str, list[int]]]:
    """Repeated edits: (kind, unit indices) for each insert, replace or delete made 2+ times."""
    out: list[tuple[str, list[int]]] = []
    ins = [k for k, u in enumerate(units) if u.aligned and u.kind == "insert" and letter_key(" ".join(u.cwords))]
    reps = cluster_keys(letter_key(" ".join(units[k].cwords)) for k in ins)
    by_key: dict[str, list[int]] = {}
    for k in ins:
        by_key.setdefault(reps[letter_key(" ".join(units[k].cwords))], []).append(k)
    out.extend(("insert", ks) for ks in by_key.values() if len(ks) >= 2)
    for kind in ("replace", "delete"):
        groups: dict[tuple[str, str], list[int]] = {}
        for k, u in enumerate(units):
            if u.aligned and u.kind == kind:
                key = _replace_key(u) if kind == "replace" else (letter_key(" ".join(u.swords)), "")
                if key[0] or key[1]:
                    groups.setdefault(key, []).append(k)
        out.extend((kind, ks) for ks in groups.values() if len(ks) >= 2)
    return out


def _edges(units: list[_Unit], source: str, copy: str, st: Tokens, ct: Tokens) -> Edges:
    """Masthead, footer and lead region (see `edges`), judged from `units` (the changes outside the groups)."""
    same_c = _untouched(ct, _merge([(u.c0, u.c1) for u in units if u.c0 < u.c1]))
    same_s = _untouched(st, _merge([(u.s0, u.s1) for u in units if u.s0 < u.s1]))
    runs = [j for j in range(len(ct) - 2) if same_c[j] and same_c[j + 1] and same_c[j + 2]]
    if not runs:
        return Edges()
    last = ct.ends[runs[-1] + 2]
    tail = [(u.c0, u.c1) for u in units if u.c0 >= last and u.cwords and u.kind in ("insert", "replace")]
    return locate(source, copy, st, ct, same_c, same_s, tail)


# `Script.source_free` (each with whether it may be a targeted cut), `Script.copy_free`
Free = tuple[list[tuple[int, int, int, bool]], list[tuple[int, int, int]]]


def _systematic(edits: list[Edit], source: str, copy: str, st: Tokens, ct: Tokens,
                free: Free = ([], [])) -> list[SystematicFinding]:
    # relabels that keep the name first, so that their added words do not pass for insertions elsewhere
    wraps, units = find_wraps([_unit(e, st, ct) for e in edits if e.kind != "move"], source, copy, st, ct)
    units = _resplit(_split_replaces(units, copy, ct), st, ct)
    # Text outside the aligned regions was not copied: it is no edit, but it is where an outlet's masthead and
    # footer and a rewritten lead are, so it takes part in judging those (and nothing else).
    outside = [_outside(a, b, p, st, ct, source_side=True, may_cut=cut) for a, b, p, cut in free[0]] + \
              [_outside(a, b, p, st, ct, source_side=False) for a, b, p in free[1]]
    found = _from_units(units, outside, edits, source, copy, st, ct)
    for w in wraps:
        found.extend(_relabel(w, source, copy, ct))
    order = {k: i for i, k in enumerate(
        ("insert", "relabel", "replace", "relabel_missed", "replace_missed", "delete", "cut_denial",
         "cut_counterclaim", "cut_attribution", "move", "lead", "boilerplate"))}
    found.sort(key=lambda f: (order[f.kind], -f.count, f.copy_spans[0][0] if f.copy_spans else 0))
    return found


def _outside(a: int, b: int, point: int, st: Tokens, ct: Tokens, source_side: bool, may_cut: bool = False) -> _Unit:
    """A stretch of unaligned text as a unit (a delete for the source's, an insert for the copy's); `may_cut`: a
    source stretch that may be a targeted cut."""
    if source_side:
        i0, i1 = _words(st, a, b)
        return _Unit("delete", a, b, point, point, st.words[i0:i1], [], aligned=False, may_cut=may_cut)
    j0, j1 = _words(ct, a, b)
    return _Unit("insert", point, point, a, b, [], ct.words[j0:j1], aligned=False)


def _relabel(w: Wrap, source: str, copy: str, ct: Tokens) -> list[SystematicFinding]:
    """The relabel finding, and its misses (the name left as it was) when there are any. A label that replaced
    words of the old name's phrase ("Delhi government" -> "the Delhi regime") is a `replace` of that phrase."""
    kind = "replace" if w.replaced else "relabel"
    labels = Counter(copy[o.c0:o.c1] for o in w.places)
    names = Counter(source[o.s0:o.s1] for o in w.places)
    spans = [[o.c0, o.c1] for o in w.places]
    out = [SystematicFinding(kind, names.most_common(1)[0][0], labels.most_common(1)[0][0], len(spans), spans,
                             "", [v for v, _ in labels.most_common()])]
    miss = missed(w, copy, ct)
    if miss:
        raw = Counter(copy[a:b] for a, b in miss)
        out.append(SystematicFinding(f"{kind}_missed", names.most_common(1)[0][0], raw.most_common(1)[0][0],
                                     len(miss), [list(x) for x in miss], "", sorted(raw)))
    return out


def _from_units(units: list[_Unit], outside: list[_Unit], edits: list[Edit], source: str, copy: str, st: Tokens,
                ct: Tokens) -> list[SystematicFinding]:
    """Findings from the changes of the aligned regions (`units`) and the text outside them (`outside`)."""
    everything = units + outside
    ed = _edges(everything, source, copy, st, ct)
    if ed.masthead_c:
        everything = _split_at(everything, ed.masthead_c[1], ct)
    units = everything
    groups = _groups(units)
    # A group that lives only in the masthead and footer (an outlet name swapped in both) is furniture; a group
    # with a member in the body is systematic, and the edges are then judged without it.
    ed = _edges(units, source, copy, st, ct)
    groups = [(kind, ks) for kind, ks in groups
              if not all(ed.boiler(units[k].s0, units[k].s1, units[k].c0, units[k].c1) for k in ks)]
    grouped = {k for _, ks in groups for k in ks}
    ed = _edges([u for k, u in enumerate(units) if k not in grouped], source, copy, st, ct)
    boiler = {k for k, u in enumerate(units) if k not in grouped and ed.boiler(u.s0, u.s1, u.c0, u.c1)}

    found: list[SystematicFinding] = []
    used: set[int] = grouped | boiler
    for kind, ks in groups:
        group = [units[k] for k in ks]
        anchor = common_anchor([anchor_before(copy, ct, u.c0) for u in group]) if kind == "insert" else ""
        found.append(_finding(kind, group, source, copy, anchor))
        if kind == "replace":
            miss = _missed(group, source, copy, ct)
            if miss:
                found.append(miss)

    # the copy's own furniture; the source's alone (a masthead the copy did not take) is just not copied
    if any(units[k].cwords for k in boiler) and sum(max(len(units[k].cwords), len(units[k].swords))
                                                     for k in boiler) >= 2:
        found.append(_boilerplate([units[k] for k in sorted(boiler)], ed, source, copy))
    if ed.lead_end is not None:
        # a lead may also be dropped (deleted, nothing in its place)
        kept = _first_kept(units, st)
        ks = [k for k, u in enumerate(units) if k not in used and u.c1 <= ed.lead_end
              and (u.kind != "delete" or u.s0 < kept)]
        if sum(max(len(units[k].cwords), len(units[k].swords)) for k in ks) >= 3:
            lead = _lead([units[k] for k in ks], source, copy)
            if lead:
                found.append(lead)
                used.update(ks)
    moves = [e for e in edits if e.kind == "move"]
    if moves:
        found.append(SystematicFinding("move", moves[0].source_text, moves[0].copy_text, len(moves),
                                       [[e.copy_start, e.copy_end] for e in moves], "", []))
    for k, u in enumerate(units):
        # a targeted cut is a clause to a paragraph, gone without a replacement; a long stretch of source that a
        # partial copy never took up is not one, nor is source text a partial copy replaced with its own, nor
        # unaligned text that cannot be a cut (`diff_pair`)
        if k in used or not (u.aligned or (u.may_cut and not ed.partial)) or u.kind == "insert" or \
                not 2 <= len(u.swords) <= _CUT_MAX_WORDS or \
                2 * len(u.cwords) > len(u.swords) or (ed.partial and u.cwords):
            continue
        cut = cut_kind(set(u.swords) - set(u.cwords))
        if cut:
            found.append(SystematicFinding(cut, source[u.s0:u.s1], copy[u.c0:u.c1], 1, [[u.c0, u.c1]],
                                           "", [copy[u.c0:u.c1]]))
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
    """The edit script of one aligned pair with its systematic findings, each change's copy anchor, and the text
    of each side that no passage covers."""
    st, ct = tokenize(source), tokenize(copy)
    script: Script = edit_script_tokens(source, copy, passages, st, ct)
    edits = script.edits
    anchors = [anchor_before(copy, ct, e.copy_start) if e.kind in ("insert", "replace") else "" for e in edits]
    # Unaligned source text between two aligned regions (a sentence cut where the copy reordered its paragraphs)
    # can still be a targeted cut, and so can the source's ending when the copy's story stops with its last
    # passage (at most a footer after it): the copy dropped the closing lines, where a denial often stands.
    # Anywhere else it is the rest of an article that a partial copy did not take up.
    s_lo = min((p.source_start for p in passages), default=0)
    s_hi = max((p.source_end for p in passages), default=0)
    c_hi = max((p.copy_end for p in passages), default=len(copy))
    copy_stops = len(ct.words) - bisect_left(ct.starts, c_hi) <= _FOOTER_WORDS
    may_cut = [(a, b, c, s_lo < a and (b < s_hi or copy_stops)) for a, b, c in script.source_free]
    found = _systematic(edits, source, copy, st, ct, (may_cut, script.copy_free))
    return PairEdits(edits, found, anchors, [(a, b) for a, b, _ in script.source_free],
                     [(a, b) for a, b, _ in script.copy_free])
