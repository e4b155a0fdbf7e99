"""The article model and the records that analysers produce.

An `Article` carries fixed `text`; analysers never change it. They produce records whose offsets are Python
`str` indices (code points) into that raw text, in the way spaCy components add spans to a `Doc`.

The record dataclasses mirror the v1 output contract (DESIGN.md §2) field for field, so `dataclasses.asdict`
yields a contract line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Article:
    id: str
    text: str
    url: str | None = None
    outlet: str | None = None
    published: datetime | None = None
    title: str | None = None
    # provenance: where the text came from, so every finding can be traced back to a file and record
    source_file: str | None = None
    record: str | None = None
    extractor: str | None = None

    def contract_row(self) -> dict:
        return {
            "id": self.id,
            "url": self.url,
            "outlet": self.outlet,
            "published": self.published.isoformat() if self.published else None,
            "title": self.title,
            "text": self.text,
        }


@dataclass(frozen=True)
class Passage:
    """One reused passage: `source[source_start:source_end]` reappears as `copy[copy_start:copy_end]`."""

    source_start: int
    source_end: int
    copy_start: int
    copy_end: int


@dataclass
class ReusePair:
    source: str
    copy: str
    score: float
    direction: str  # "dated" | "textual" | "unknown"
    passages: list[Passage]


@dataclass
class Family:
    family: str
    origin: str
    members: list[str]


@dataclass(frozen=True)
class Edit:
    kind: str  # "insert" | "delete" | "replace" | "move"
    source_start: int
    source_end: int
    copy_start: int
    copy_end: int
    source_text: str
    copy_text: str


@dataclass
class SystematicEdit:
    kind: str
    source_text: str
    copy_text: str
    count: int
    copy_spans: list[list[int]]


@dataclass(frozen=True)
class TechniqueSpan:
    technique: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Attribution:
    start: int
    end: int
    cue: str | None
    source: str | None
    kind: str  # "named" | "anonymous" | "unattributed"


@dataclass
class Injection:
    phrase: str
    anchor: str
    count: int
    spans: list[list[int]]
    seams: list[list[int]] = field(default_factory=list)
