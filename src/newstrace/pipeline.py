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
from newstrace.timelimit import DEFAULT_DOC_SECONDS

StatusHook = Callable[[str], None]


@dataclass
class Run:
    """The state one `analyze` run passes from stage to stage."""

    store: Store
    inputs: Sequence[str | Path] = ()
    out_dir: Path | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    doc_seconds: float | None = DEFAULT_DOC_SECONDS  # wall-clock limit per document, in ingest and in signals
    workers: int = 1
    technique_model: str = "default"  # a name from signals.techniques.MODEL_FILES
    min_confidence: float = 0.0  # technique spans with a lower confidence are left out
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
    planned: list[str] = field(default_factory=list)  # the stages of the current `analyze` call
    shingle_ahead: Any = None  # a reuse.ahead.ShingleAhead that ingest fed, until the reuse stage takes its rows
    checkpoint: Any = None  # the store's background checkpoint thread (Store.checkpoint_in_background), if started
    writing: bool = False  # whether this `analyze` call writes the contract files into out_dir
    articles_file: Any = None  # an export.BackgroundLines writing articles.jsonl since ingest, if started

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


SPARK_ARTICLES_PER_PARTITION = 50_000


def analyze_on_spark(run: Run, stages: Sequence[str], *, master: str = "local[2]",
                     conf: dict[str, str] | None = None) -> Run:
    """`analyze` with reuse, edits and signals on Spark (the `spark` extra), the rest local.

    Ingest runs locally (it reads every input format into the store); Spark then reads `articles.jsonl` and writes
    the reuse, edits and signals files with the same stage code. Those results come back into the run and the
    store, so the network and the report are built from them exactly as in a local run.

    `master`: the Spark master URL (`local[N]`, `spark://host:7077`, `yarn`, ...); the executors read
    `articles.jsonl` from `run.out_dir`, so on a cluster that folder must be on storage every node sees. `conf`:
    more Spark settings (executor memory, local dirs, ...); `spark.sql.shuffle.partitions` defaults to one per
    50k articles (at least 4), so the shuffles of a large corpus are not a handful of huge partitions.
    """
    import json

    from newstrace.export import read_jsonl, read_reuse, write_articles

    try:
        from newstrace.spark import local_session, run_spark
    except ImportError as exc:
        raise NewstraceError("the Spark engine needs the spark extra: pip install 'newstrace[spark]'") from exc
    assert run.out_dir is not None
    if "ingest" in stages:
        analyze(run, ["ingest"], write=False)
    run.out_dir.mkdir(parents=True, exist_ok=True)
    # network and report need every article in memory; without them the store streams into articles.jsonl, so
    # the driver does not hold a large corpus's text while Spark runs
    whole_run = bool({"network", "report"} & set(stages))
    write_articles(run.out_dir / "articles.jsonl", run.load_articles() if whole_run else run.store.iter_articles())
    on_spark = [s for s in stages if s in ("reuse", "edits", "signals")]
    started = time.perf_counter()
    settings = dict(conf or {})
    partitions = int(settings.pop("spark.sql.shuffle.partitions", 0)) or max(
        4, -(-run.store.count("articles") // SPARK_ARTICLES_PER_PARTITION))
    run.say(f"Spark session on {master} ({partitions} shuffle partitions)")
    from pyspark.sql import SparkSession

    owned = SparkSession.getActiveSession() is None
    spark = local_session(master, shuffle_partitions=partitions, extra=settings)
    try:
        with run.store.lean():
            result = run_spark(run.out_dir / "articles.jsonl", run.out_dir, ["ingest", *on_spark], spark=spark,
                               technique_model=run.technique_model,
                               min_confidence=run.min_confidence)
    finally:
        if owned:  # the driver JVM and the cluster's executors go now, before the files are read back
            spark.stop()
    run.timings["spark"] = time.perf_counter() - started
    # the Spark stages' own seconds (ingest there is reading articles.jsonl back), and what remains: the session's
    # start and the contract files written on the driver
    run.timings.update({f"spark_{stage}": seconds for stage, seconds in result.timings.items()})
    if "reuse" in on_spark:
        run.pairs, run.families = read_reuse(run.out_dir)
        run.store.replace_reuse(run.pairs, run.families)
    if "edits" in on_spark:
        run.edits = list(read_jsonl(run.out_dir / "edits.jsonl"))
        run.fingerprints = list(read_jsonl(run.out_dir / "fingerprints.jsonl"))
        run.store.replace_rows("edits", [(e["source"], e["copy"], json.dumps(e["edits"]),
                                          json.dumps(e["systematic"])) for e in run.edits])
        run.store.replace_rows("fingerprints", [(f["outlet"], json.dumps(f)) for f in run.fingerprints])
    if "signals" in on_spark:
        sourcing = {r.pop("id"): r for r in read_jsonl(run.out_dir / "sourcing.jsonl")}
        run.signals = [{**s, "sourcing": sourcing.get(s["id"], {})} for s in read_jsonl(run.out_dir / "signals.jsonl")]
        run.store.replace_rows("signals", [
            (s["id"], json.dumps(s["techniques"]), json.dumps(s["attributions"]), json.dumps(s["injections"]),
             json.dumps(s["sourcing"])) for s in run.signals])
    run.ran.extend(result.ran[1:] if result.ran[:1] == ["ingest"] else result.ran)
    return analyze(run, [s for s in stages if s in ("network", "report")])


def analyze(run: Run, stages: Sequence[str], *, write: bool = True) -> Run:
    """Run `stages` (already validated, in pipeline order) and write every contract file into `run.out_dir`."""
    from newstrace.stages import STAGES, write_outputs

    run.planned = list(stages)
    run.writing = write and run.out_dir is not None
    try:
        for name in stages:
            started = time.perf_counter()
            run.say(f"stage {name}")
            STAGES[name](run)
            run.timings[name] = time.perf_counter() - started
            run.ran.append(name)
    except BaseException as exc:
        if run.articles_file is not None:  # the run failed: no contract file appears
            run.articles_file.discard()
            run.articles_file = None
        if run.checkpoint is not None:  # finished before the caller closes the store
            run.checkpoint.join()
            run.checkpoint = None
        if isinstance(exc, Exception):
            run.store.raise_background_error(exc)  # the first cause (a full disk), not its aftermath
        raise
    finally:
        if run.shingle_ahead is not None:  # ingest ran but reuse did not take the rows (it failed, or was not run)
            run.shingle_ahead.close()
            run.shingle_ahead = None
    if write and run.out_dir is not None:
        write_outputs(run)  # joins the checkpoint
    elif run.checkpoint is not None:
        run.checkpoint.join()
        run.checkpoint = None
        run.store.raise_background_error()
    return run
