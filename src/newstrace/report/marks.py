"""Highlight layers: turn spans over a text into flat segments the templates render as `<mark>` elements.

A `Mark` is a span (or, when `start == end`, a point such as the place a sentence was cut) with CSS classes
from a fixed vocabulary and a tooltip. `segments` cuts the text at every mark boundary so overlapping marks (a
technique span over an attribution) combine their classes. The text itself is never altered; the templates
escape it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from newstrace.report.data import short

# The 14 PTC labels, in a fixed order: a label's index picks its colour class (t0..t13).
TECHNIQUES = (
    "Loaded_Language",
    "Name_Calling,Labeling",
    "Repetition",
    "Doubt",
    "Exaggeration,Minimisation",
    "Appeal_to_fear-prejudice",
    "Flag-Waving",
    "Causal_Oversimplification",
    "Appeal_to_Authority",
    "Slogans",
    "Whataboutism,Straw_Men,Red_Herring",
    "Black-and-White_Fallacy",
    "Thought-terminating_Cliches",
    "Bandwagon,Reductio_ad_hitlerum",
)
SYSTEMATIC_COLOURS = 6  # sys0..sys5 in the stylesheet, reused cyclically


def technique_class(label: str) -> str:
    return f"t{TECHNIQUES.index(label)}" if label in TECHNIQUES else "tx"


def technique_name(label: str) -> str:
    return label.replace("_", " ").replace(",", ", ")


@dataclass(frozen=True)
class Mark:
    start: int
    end: int
    cls: str
    tip: str = ""
    rank: int = 0  # lower wins when two marks of the same layer overlap


@dataclass
class Segment:
    text: str
    cls: str = ""
    tip: str = ""
    point: bool = False


def segments(text: str, marks: list[Mark], limit: int | None = None) -> list[Segment]:
    """Cut `text` (its first `limit` characters) at mark boundaries; each piece carries the classes of every
    mark covering it. Point marks become empty `point` segments at their position."""
    n = len(text) if limit is None else min(len(text), limit)
    spans = [m for m in marks if 0 <= m.start < m.end and m.start < n]
    points = sorted((m for m in marks if m.start == m.end and 0 <= m.start <= n), key=lambda m: m.start)
    cuts = {0, n, *(m.start for m in points)}
    opening: dict[int, list[Mark]] = defaultdict(list)
    for m in spans:
        end = min(m.end, n)
        cuts.update((m.start, end))
        opening[m.start].append(m)
    bounds = sorted(cuts)
    out: list[Segment] = []
    active: list[Mark] = []
    pi = 0
    for a, b in zip(bounds, bounds[1:], strict=False):
        while pi < len(points) and points[pi].start <= a:
            out.append(Segment("", points[pi].cls, points[pi].tip, point=True))
            pi += 1
        active = [m for m in active if m.end > a] + opening.get(a, [])
        if not active:
            out.append(Segment(text[a:b]))
            continue
        ordered = sorted(active, key=lambda m: (m.rank, m.start, -m.end))
        classes = list(dict.fromkeys(c for m in ordered for c in m.cls.split()))
        tips = list(dict.fromkeys(m.tip for m in ordered if m.tip))
        out.append(Segment(text[a:b], " ".join(classes), "; ".join(tips)))
    while pi < len(points):
        out.append(Segment("", points[pi].cls, points[pi].tip, point=True))
        pi += 1
    return out


# ---- layers for one article --------------------------------------------------------------------------------


def article_marks(art: dict) -> list[Mark]:
    """Techniques as coloured backgrounds, attributions underlined by kind, injections boxed, seams flagged.
    """
    marks: list[Mark] = []
    for t in art.get("techniques", []):
        label = t.get("technique", "")
        # One background per piece: the first technique wins the colour, the tooltip names all of them.
        tip = technique_name(label)
        if isinstance(t.get("score"), int | float):  # the model's confidence that the span is this technique
            tip += f" ({t['score']:.0%} confidence)"
        marks.append(Mark(t["start"], t["end"], f"tech {technique_class(label)}", tip, rank=10))
    for a in art.get("attributions", []):
        kind = a.get("kind") if a.get("kind") in ("named", "anonymous", "unattributed") else "unattributed"
        who = f" to {short(a.get('source'), 60)}" if a.get("source") else ""
        tip = f"{kind} source{who}" + (f" (cue “{short(a.get('cue'), 30)}”)" if a.get("cue") else "")
        marks.append(Mark(a["start"], a["end"], f"att att-{kind}", tip, rank=20))
    for i in art.get("injections", []):
        tip = (
            f"injected phrase “{short(i.get('phrase'), 60)}”"
            + (f" attached to “{short(i.get('anchor'), 40)}”" if i.get("anchor") else "")
            + f", {i.get('count', 0)}×"
        )
        for s, e in i.get("spans", []):
            marks.append(Mark(s, e, "inj", tip, rank=0))
        for s, e in i.get("seams", []):
            marks.append(
                Mark(
                    s, e, "seam", "editing seam: spacing, glued words or a typo left by the insertion", rank=1
                )
            )
    for n in art.get("naming", []):
        labels = n.get("labels") or {}
        names = " / ".join(f"“{short(k, 30)}”" for k in labels)
        for label, spans in labels.items():
            entity = short(n.get("entity"), 30)
            tip = f"“{short(label, 30)}”: one of {len(labels)} names for {entity} in this text ({names})"
            for s, e in spans:
                marks.append(Mark(s, e, "name", tip, rank=2))
        for s, e in n.get("seams", []):
            tip = "editing seam: quotes left open or glued to the next word"
            marks.append(Mark(s, e, "seam", tip, rank=1))
    return marks


# ---- layers for a pair -------------------------------------------------------------------------------------


def pair_marks(rec: dict) -> tuple[list[Mark], list[Mark]]:
    """(source marks, copy marks): cut or replaced text in the source; inserted text in the copy, with each
    systematic edit in its own colour (sys0..sys5) and the points where text was cut."""
    src: list[Mark] = []
    cp: list[Mark] = []
    for e in rec.get("edits", []):
        kind = e.get("kind")
        s0, s1, c0, c1 = e["source_start"], e["source_end"], e["copy_start"], e["copy_end"]
        if kind == "move":
            src.append(Mark(s0, s1, "mv", "moved elsewhere in the copy", rank=5))
            cp.append(Mark(c0, c1, "mv", "moved from elsewhere in the source", rank=5))
            continue
        if s1 > s0:
            tip = (
                ("replaced in the copy by “" + short(e.get("copy_text"), 60) + "”")
                if kind == "replace"
                else "not in the copy"
            )
            src.append(Mark(s0, s1, "del", tip, rank=5))
        if c1 > c0:
            tip = (
                ("replaces “" + short(e.get("source_text"), 60) + "”")
                if kind == "replace"
                else "added by the copy"
            )
            cp.append(Mark(c0, c1, "ins", tip, rank=5))
        elif s1 > s0:
            cp.append(Mark(c0, c0, "cutpt", "cut here: “" + short(e.get("source_text"), 80) + "”", rank=5))
    for k, s in enumerate(rec.get("systematic", [])):
        cls = f"sys sys{k % SYSTEMATIC_COLOURS}"
        tip = f"#{k + 1} " + (s.get("explanation") or s.get("kind", ""))
        for a, b in s.get("copy_spans", []):
            cp.append(Mark(a, b, cls + (" cutpt" if a == b else ""), tip, rank=0))
    return src, cp
