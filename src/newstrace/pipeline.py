"""`analyze`: the main job. Runs the chosen stages in pipeline order over one store and writes the contract files.

    ingest -> store -> reuse (candidates, align, families) -> edits -> signals -> network -> report

Every stage is a function `(Run) -> None` listed in `newstrace.stages.STAGES`; it reads what earlier stages left in
the `Run` and adds its own results. The contract files of a stage that did not run are still written, empty.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newstrace.errors import NewstraceError
from newstrace.ingest import IngestReport, Problem
from newstrace.ingest.sources import DEFAULT_MAX_BYTES
from newstrace.model import Article, Family, ReusePair
from newstrace.store import Store

StatusHook = Callable[[str], None]


@dataclass
class Run:
    """The state one `analyze` run passes from stage to stage."""

    store: Store
    inputs: Sequence[str | Path] = ()
    out_dir: Path | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    workers: int = 1
    on_problem: Callable[[Problem], None] | None = None
    status: StatusHook | None = None
    progress: Any = None  # a rich Progress, when the CLI drives the run
    ingest_report: IngestReport | None = None
    articles: list[Article] | None = None
    pairs: list[ReusePair] = field(default_factory=list)
    families: list[Family] = field(default_factory=list)
    edits: list[dict] = field(default_factory=list)
    fingerprints: list[dict] = field(default_factory=list)
    signals: list[dict] = field(default_factory=list)
    graph: Any = None
    timings: dict[str, float] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)

    def say(self, message: str) -> None:
        if self.status:
            self.status(message)

    def load_articles(self) -> list[Article]:
        """All stored articles, read once per run and shared by the stages after ingest."""
        if self.articles is None:
            self.articles = list(self.store.iter_articles())
        return self.articles

    def article_map(self) -> dict[str, Article]:
        return {a.id: a for a in self.load_articles()}


def parse_stages(value: str | Sequence[str] | None) -> list[str]:
    from newstrace.stages import STAGE_NAMES

    if value is None:
        return list(STAGE_NAMES)
    names = [s.strip() for s in (value.split(",") if isinstance(value, str) else value) if s.strip()]
    unknown = [n for n in names if n not in STAGE_NAMES]
    if unknown:
        raise NewstraceError(f"unknown stage(s) {', '.join(unknown)}; choose from {','.join(STAGE_NAMES)}")
    # Stages always run in pipeline order, whatever order the user listed them in.
    return [n for n in STAGE_NAMES if n in names]


def analyze(run: Run, stages: Sequence[str]) -> Run:
    """Run `stages` (already validated, in pipeline order) and write every contract file into `run.out_dir`."""
    from newstrace.stages import STAGES, write_outputs

    for name in stages:
        started = time.perf_counter()
        run.say(f"stage {name}")
        STAGES[name](run)
        run.timings[name] = time.perf_counter() - started
        run.ran.append(name)
    if run.out_dir is not None:
        write_outputs(run)
    return run
