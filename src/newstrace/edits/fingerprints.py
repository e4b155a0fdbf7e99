"""Outlet fingerprints: the edits an outlet applies across its copies, told apart as narrative or boilerplate.

`outlet_fingerprints(pairs_edits)` takes `(outlet of the copy, PairEdits)` for every copied pair and returns, per
outlet, the traits seen in 2+ of its copies (or 2+ times in its only copy), such as "inserts ', backed by Saudi
Arabia,' after 'terrorists' in 14 of its 16 copies".

What is counted per copy:
- every insertion and replacement, whether systematic within the copy or made once (a story that mentions an
  actor once gets the phrase once); insertions are grouped by their letters through seams and typos (as in
  `systematic_edits`), replacements and relabels by their source and copy terms;
- the copy's `lead` and `boilerplate` findings, grouped with the insertions by text;
- `cut_denial`, `cut_counterclaim`, `cut_attribution` and `move` findings, grouped by kind alone (the cut text
  differs from story to story; the habit is the trait);
- leads that differ from copy to copy, grouped as one "rewrites the lead" trait.

Narrative or boilerplate: an inserted text is `boilerplate` when it sits at the start or end of the copies (lead or
footer position) or when it recurs with no dominant anchor, whatever the story; it is `narrative` when at least
half of its occurrences follow the same anchor word: it attaches to a particular actor. Replacements and cuts are
narrative.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from newstrace.edits.keys import cluster_keys, letter_key
from newstrace.edits.systematic import PairEdits

_CUT_WORDS = {"cut_denial": "denials", "cut_counterclaim": "counter-claims", "cut_attribution": "attributions"}


@dataclass
class Trait:
    """One habit of an outlet. `copies`: how many of its copies show it; `occurrences`: how often in all."""

    kind: str  # insert | replace | relabel | lead | move | cut_denial | cut_counterclaim | cut_attribution
    role: str  # narrative | boilerplate
    source_text: str
    copy_text: str
    anchor: str
    copies: int
    occurrences: int
    variants: list[str] = field(default_factory=list)

    def describe(self, total: int) -> str:
        where = f"in {self.copies} of its {total} copies"
        text = _short(self.copy_text)
        if self.kind == "insert" and self.role == "boilerplate":
            return f"adds boilerplate '{text}' {where}"
        if self.kind == "insert":
            return f"inserts '{text}' after '{self.anchor}' {where}"
        if self.kind == "replace":
            return f"replaces '{_short(self.source_text)}' with '{text}' {where}"
        if self.kind == "relabel":
            return f"relabels '{_short(self.source_text)}' as '{text}' {where}"
        if self.kind == "lead":
            return f"rewrites the lead {where}"
        if self.kind == "move":
            return f"reorders paragraphs {where}"
        return f"cuts {_CUT_WORDS.get(self.kind, self.kind)} {where}"


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


@dataclass
class Fingerprint:
    outlet: str
    copies: int
    traits: list[Trait]

    def describe(self) -> list[str]:
        return [t.describe(self.copies) for t in self.traits]


@dataclass
class _Obs:
    kind: str  # insert | lead | boilerplate | replace | relabel | cut_*
    copy_id: int
    source_text: str
    copy_text: str
    anchor: str
    n: int = 1


def _observations(pe: PairEdits, copy_id: int) -> list[_Obs]:
    obs: list[_Obs] = []
    covered: set[tuple[int, int]] = set()
    for f in pe.systematic:
        if f.kind.endswith("_missed"):
            continue
        covered.update((a, b) for a, b in f.copy_spans)
        if f.kind in ("insert", "replace", "relabel", "lead", "boilerplate"):
            obs.append(_Obs(f.kind, copy_id, f.source_text, f.copy_text, getattr(f, "anchor", ""), f.count))
        elif f.kind.startswith("cut_") or f.kind == "move":
            obs.append(_Obs(f.kind, copy_id, f.source_text, f.copy_text, "", f.count))
    anchors = pe.anchors or [""] * len(pe.edits)
    for e, anchor in zip(pe.edits, anchors, strict=False):
        if e.kind in ("insert", "replace") and (e.copy_start, e.copy_end) not in covered:
            if not any(a <= e.copy_start and e.copy_end <= b for a, b in covered):
                obs.append(_Obs(e.kind, copy_id, e.source_text, e.copy_text, anchor))
    return obs


def _trait(kind: str, role: str, group: list[_Obs], anchor: str = "") -> Trait:
    variants = Counter(" ".join(o.copy_text.split()) for o in group)
    src = Counter(o.source_text for o in group).most_common(1)[0][0]
    return Trait(kind, role, src, variants.most_common(1)[0][0], anchor, len({o.copy_id for o in group}),
                 sum(o.n for o in group), [v for v, _ in variants.most_common()])


def _outlet_traits(obs: list[_Obs], total: int) -> list[Trait]:
    traits: list[Trait] = []
    texty = [o for o in obs if o.kind in ("insert", "lead", "boilerplate") and letter_key(o.copy_text)]
    reps = cluster_keys(letter_key(o.copy_text) for o in texty)
    groups: dict[str, list[_Obs]] = {}
    for o in texty:
        groups.setdefault(reps[letter_key(o.copy_text)], []).append(o)
    lone_leads: list[_Obs] = []
    for g in groups.values():
        copies = len({o.copy_id for o in g})
        if copies < 2 and not (total == 1 and any(o.n >= 2 for o in g)):
            lone_leads.extend(o for o in g if o.kind == "lead")
            continue
        edge = sum(o.kind in ("lead", "boilerplate") for o in g)
        last = Counter(o.anchor.split()[-1].lower() for o in g if o.anchor)
        top, top_n = last.most_common(1)[0] if last else ("", 0)
        if edge * 2 <= len(g) and top_n * 2 >= len(g):
            anchor = next(o.anchor.split()[-1] for o in g if o.anchor and o.anchor.split()[-1].lower() == top)
            traits.append(_trait("insert", "narrative", g, anchor))
        else:
            traits.append(_trait("insert", "boilerplate", g))
    if len({o.copy_id for o in lone_leads}) >= 2:
        traits.append(_trait("lead", "narrative", lone_leads))
    rep_groups: dict[tuple[str, str], list[_Obs]] = {}
    for o in obs:
        if o.kind in ("replace", "relabel"):
            key = (letter_key(o.source_text), letter_key(o.copy_text))
            if key[0] and key[1]:
                rep_groups.setdefault(key, []).append(o)
    for kind in (*_CUT_WORDS, "move"):
        cuts = [o for o in obs if o.kind == kind]
        if cuts:
            rep_groups[(kind, "")] = cuts
    for (k0, _), g in rep_groups.items():
        copies = len({o.copy_id for o in g})
        if copies >= 2 or (total == 1 and any(o.n >= 2 for o in g)):
            kind = k0 if k0 in (*_CUT_WORDS, "move") else Counter(o.kind for o in g).most_common(1)[0][0]
            traits.append(_trait(kind, "narrative", g))
    traits.sort(key=lambda t: (-t.copies, -t.occurrences, t.kind))
    return traits


def outlet_fingerprints(
    pairs_edits: Iterable[tuple[str, PairEdits] | tuple[str, PairEdits, str]],
) -> list[Fingerprint]:
    """Per outlet of the copies, the edits it applies across its copies (see the module docstring).

    Items are `(outlet, PairEdits)` or `(outlet, PairEdits, copy_id)`. Give the copy id when one copy can appear
    in several pairs (aligned to several sources): copies are then counted once, and a trait seen in two pairs of
    one copy counts as one copy. Without it, every pair counts as a copy.

    Outlets are returned with the most copies first; outlets whose copies share no trait are still listed, with
    no traits, so that a caller can report "16 copies, no systematic edit".
    """
    per: dict[str, list[_Obs]] = {}
    copies: dict[str, dict[str, int]] = {}
    for item in pairs_edits:
        outlet, pe = item[0], item[1]
        ids = copies.setdefault(outlet, {})
        key = item[2] if len(item) > 2 else f"#pair{sum(1 for _ in ids)}"
        copy_id = ids.setdefault(key, len(ids))
        per.setdefault(outlet, []).extend(_observations(pe, copy_id))
    out = [Fingerprint(o, len(ids), _outlet_traits(per.get(o, []), len(ids))) for o, ids in copies.items()]
    out.sort(key=lambda f: (-f.copies, f.outlet))
    return out
