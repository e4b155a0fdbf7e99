"""The sourcing profile: what share of an article's factual sentences rests on named, anonymous or no sources.

Each factual sentence (`attribution.is_factual`: declarative, at least 5 words, not a heading or question) gets one
kind, so a report can colour it:

- the kind of the first named/anonymous attribution inside it (the governing source comes first in most news
  sentences: "Sources in Syria say the US, which has long been accused of ..." rests on anonymous sources);
- else, when it lies inside a multi-sentence quotation, the kind of the attribution that closes or opens the quote
  (the nearest sourced attribution before or after it, within the quote's paragraph);
- else ``unattributed``: an agentless passive, a hedge, or no source at all.

Sentences that are not factual are left out of the shares but listed with kind None, so the colouring covers the
whole text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from newstrace.model import Attribution
from newstrace.signals.attribution import ANONYMOUS, NAMED, UNATTRIBUTED, Analysed, analyse, is_factual

KINDS = (NAMED, ANONYMOUS, UNATTRIBUTED)


@dataclass(frozen=True)
class SentenceSourcing:
    start: int
    end: int
    kind: str | None  # named | anonymous | unattributed; None for a sentence that is not factual


@dataclass
class SourcingProfile:
    factual: int  # number of factual sentences
    counts: dict[str, int]  # factual sentences per kind
    shares: dict[str, float]  # counts / factual (0.0 each when there is no factual sentence)
    sentences: list[SentenceSourcing] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "factual": self.factual,
            "counts": dict(self.counts),
            "shares": dict(self.shares),
            "sentences": [{"start": s.start, "end": s.end, "kind": s.kind} for s in self.sentences],
        }


def _kind_of(atts: list[Attribution]) -> str | None:
    for a in atts:
        if a.kind in (NAMED, ANONYMOUS):
            return a.kind
    return None


def sourcing_profile(text: str, attributions: list[Attribution] | None = None, *,
                     analysed: Analysed | None = None) -> SourcingProfile:
    """The sourcing profile of `text`.

    `attributions` defaults to the detector's own (`find_attributions`); pass a list to profile other ones (hand
    annotations, or a filtered list). `analysed`: `attribution.analyse(text)`, when the caller has it already.
    Explicit attributions are assigned to the sentence that contains their start;
    sentence-level ``unattributed`` ones with no cue carry no information beyond "no source" and are ignored.
    """
    sents, per, quoted, toks = analysed if analysed is not None else analyse(text)
    if attributions is not None:
        per = [[] for _ in sents]
        starts = [s.start for s in sents]
        for a in sorted(attributions, key=lambda a: a.start):
            if a.cue is None and a.kind == UNATTRIBUTED:
                continue
            for n in range(len(sents) - 1, -1, -1):
                if starts[n] <= a.start:
                    per[n].append(a)
                    break
    kinds: list[str | None] = [_kind_of(atts) for atts in per]
    # Sentences inside a quotation take the source of the quote: the nearest sourced sentence of the same run.
    for n, inside in enumerate(quoted):
        if inside and kinds[n] is None:
            for m in [*range(n + 1, min(len(sents), n + 7)), *range(n - 1, max(-1, n - 7), -1)]:
                if kinds[m] is not None and (quoted[m] or abs(m - n) == 1 or _same_run(quoted, m, n)):
                    kinds[n] = kinds[m]
                    break
    counts = dict.fromkeys(KINDS, 0)
    out: list[SentenceSourcing] = []
    for s, kind in zip(sents, kinds, strict=True):
        if not is_factual(text, toks, s):
            out.append(SentenceSourcing(s.start, s.end, None))
            continue
        kind = kind or UNATTRIBUTED
        counts[kind] += 1
        out.append(SentenceSourcing(s.start, s.end, kind))
    total = sum(counts.values())
    shares = {k: (counts[k] / total if total else 0.0) for k in KINDS}
    return SourcingProfile(total, counts, shares, out)


def _same_run(quoted: list[bool], m: int, n: int) -> bool:
    """Whether sentences m and n are joined by an unbroken run of quoted sentences (the attribution sits at an end)."""
    lo, hi = sorted((m, n))
    return all(quoted[lo + 1 : hi])
