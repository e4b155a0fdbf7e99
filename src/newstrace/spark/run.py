"""`run_spark`: the `analyze` stages ingest, reuse, edits and signals on Spark, writing the same contract files.

The files are byte-identical to a local `analyze` of the same articles: every line is made by the local stage
code, and every file is sorted as the local writers sort it (articles and signals by id, reuse and edits by
(source, copy), families by size then id). Lines stream to the driver one partition at a time
(`toLocalIterator`), so only the families stage collects a whole table (its pairs, see `families_on_driver`).

`network` and `report` work on the outlet graph and the whole run, not on article batches; they are not run here
and are listed in `SparkRunResult.skipped` with the reason. Their files are written empty, as for any stage that
did not run.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.storagelevel import StorageLevel

from newstrace.errors import NewstraceError, NothingIngested
from newstrace.export import EMPTY_GRAPHML, write_parquet
from newstrace.spark import jobs

SPARK_STAGES = ("ingest", "reuse", "edits", "signals")
LOCAL_ONLY = {
    "network": "the outlet graph is built from the whole run: run `newstrace network` on the output",
    "report": "the report renders the whole run: run `newstrace report` on the output",
}


@dataclass
class SparkRunResult:
    """What `run_spark` wrote: lines per file, seconds per stage, and each requested stage it did not run."""

    out_dir: Path
    ran: list[str]
    lines: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def local_session(master: str = "local[2]", shuffle_partitions: int = 4, app: str = "newstrace",
                  extra: dict[str, str] | None = None) -> SparkSession:
    """A Spark session for one machine, with this interpreter as the Python workers (so they see newstrace).

    On a cluster, build the session yourself (with newstrace installed on the executors, and adaptive execution
    left on) and pass it in. `extra`: more Spark settings.
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = (SparkSession.builder.master(master).appName(app)
               .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.session.timeZone", "UTC")
               # Adaptive execution re-plans every query stage; on one machine with small inputs that costs
               # more than it saves (the reuse stage ran 3-5x slower with it).
               .config("spark.sql.adaptive.enabled", "false"))
    for k, v in (extra or {}).items():
        builder = builder.config(k, v)
    return builder.getOrCreate()


def _write_lines(path: Path, lines: Iterable[str]) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line)
            handle.write("\n")
            n += 1
    return n


def _in_order(df: DataFrame, by: Sequence, rows_per_part: int = 20_000) -> DataFrame:
    # a range partitioning sized to the data (one partition for small outputs: one job instead of one per
    # shuffle partition), each sorted: read in partition order, that is the global order. Each partition reaches
    # the driver whole: at 100,000 articles a partition (350 MB of text, more as Java objects) exhausted the
    # heap of a local[2] driver, which also holds the persisted tables, at 1M articles.
    parts = max(1, -(-df.count() // rows_per_part))
    return df.repartitionByRange(parts, *by).sortWithinPartitions(*by)


def _sorted_lines(df: DataFrame, by: Sequence, column: str = "line") -> Iterator[str]:
    for row in _in_order(df, by).select(column).toLocalIterator():
        yield row[0]


def _article_lines(articles: DataFrame) -> Iterator[str]:
    for row in _in_order(articles, ["id"]).select(*jobs.ARTICLE_COLUMNS).toLocalIterator():
        # Article.contract_row's fields and order; `published` is already its isoformat
        yield jobs._dumps({c: row[c] for c in jobs.ARTICLE_COLUMNS})


def _tee_parquet(lines: Iterable[str], path: Path, batch: int = 50_000) -> Iterator[str]:
    """Pass `lines` (reuse.jsonl) through, writing their Parquet twin as `export.write_parquet` lays it out
    (nested fields as JSON strings), in row groups of `batch` lines rather than all at once."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("source", pa.string()), ("copy", pa.string()), ("score", pa.float64()),
                        ("direction", pa.string()), ("passages", pa.string())])
    writer = None
    rows: list[dict] = []

    def flush() -> None:
        nonlocal writer
        table = pa.Table.from_pylist(rows, schema=schema)
        writer = writer or pq.ParquetWriter(path, schema)
        writer.write_table(table)
        rows.clear()

    try:
        for line in lines:
            row = json.loads(line)
            row["passages"] = json.dumps(row["passages"], ensure_ascii=False)
            rows.append(row)
            if len(rows) >= batch:
                flush()
            yield line
        if rows:
            flush()
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        write_parquet(path, [])  # what `analyze` writes when there is no pair


def _persist(df: DataFrame) -> DataFrame:
    # materialised once: later stages and the writers read it again, and the timings stay per stage
    df = df.persist(StorageLevel.MEMORY_AND_DISK)
    df.count()
    return df


def run_spark(
    source: DataFrame | str | Path | Sequence[str | Path],
    out_dir: str | Path,
    stages: Sequence[str] = SPARK_STAGES,
    *,
    spark: SparkSession | None = None,
    params=None,
    min_passage_chars: int = 150,
    families: str = "driver",
    technique_model: str = "default",
    min_confidence: float = 0.0,
) -> SparkRunResult:
    """Run `stages` on Spark over the articles in `source` and write the contract files into `out_dir`.

    `source`: a DataFrame, or JSONL/NDJSON/Parquet files or folders, with the fields of `articles.jsonl` (`text`
    or `html` required; missing ids, outlets and dates follow ingest's rules). `stages`: names from
    `pipeline.parse_stages`, in any order; `network` and `report` are recorded as skipped. `spark`: a session
    (default: `local_session()`). `params` (`engine.EngineParams`) and `min_passage_chars` are `find_reuse`'s.
    `families`: "driver" collects the pairs' ids and directions to the driver for `build_families` (about 100
    bytes a pair); "spark" finds the connected components in Spark and runs `build_families` per component, for
    pair counts beyond the driver's memory. Both write the same lines.
    `technique_model`: the shipped technique model the signals stage uses (`default` or `minilm`);
    `min_confidence`: technique spans with a lower confidence are left out.
    Files of stages that did not run are written empty, as `analyze` does.
    """
    from newstrace.reuse.align import AlignParams
    from newstrace.reuse.engine import EngineParams, PairContext

    if families not in ("driver", "spark"):
        raise NewstraceError(f"families must be 'driver' or 'spark', not {families!r}")
    requested = set(stages)
    unknown = requested - set(SPARK_STAGES) - set(LOCAL_ONLY)
    if unknown:
        raise NewstraceError(f"unknown stage(s) {', '.join(sorted(unknown))}")
    result = SparkRunResult(Path(out_dir), [s for s in SPARK_STAGES if s in requested],
                            skipped={s: why for s, why in LOCAL_ONLY.items() if s in requested})
    out = result.out_dir
    out.mkdir(parents=True, exist_ok=True)
    spark = spark or local_session()
    p = params or EngineParams()
    cached: list[DataFrame] = []

    def timed(stage: str, started: float) -> None:
        result.timings[stage] = round(time.perf_counter() - started, 3)

    try:
        t = time.perf_counter()
        articles = _persist(jobs.read_articles(spark, source))
        cached.append(articles)
        if articles.count() == 0:
            raise NothingIngested(f"no articles could be read from {source}")
        timed("ingest", t)
        reuse = None
        if result.ran and {"reuse", "edits"} & requested:
            t = time.perf_counter()
            rows = _persist(jobs.shingle_df(articles, p.shingles))
            boiler = _persist(jobs.boilerplate_df(articles, rows, p.candidates))
            cands = _persist(jobs.candidates_df(rows, boiler, p.candidates))
            cached += [rows, boiler, cands]
            aparams = p.align if p.align is not None else AlignParams(summary=False)
            ctx = PairContext(p, aparams, jobs.boilerplate_keys(boiler), min_passage_chars)
            reuse = _persist(jobs.align_df(spark, articles, cands, ctx))
            cached.append(reuse)
            if families == "spark":
                fams = _persist(jobs.families_df(reuse))
                cached.append(fams)
                family_lines: Iterable[str] = _sorted_lines(fams, [F.col("size").desc(), F.col("family")])
            else:
                family_lines = map(jobs._dumps, jobs.families_on_driver(reuse))
            timed("reuse", t)
        n = result.lines
        n["articles.jsonl"] = _write_lines(out / "articles.jsonl", _article_lines(articles) if result.ran else [])
        if "reuse" in requested and reuse is not None:
            n["reuse.jsonl"] = _write_lines(out / "reuse.jsonl", _tee_parquet(
                _sorted_lines(reuse, ("source", "copy")), out / "reuse.parquet"))
            n["families.jsonl"] = _write_lines(out / "families.jsonl", family_lines)
        else:
            n["reuse.jsonl"] = _write_lines(out / "reuse.jsonl", [])
            n["families.jsonl"] = _write_lines(out / "families.jsonl", [])
            write_parquet(out / "reuse.parquet", [])
        if "edits" in requested and reuse is not None:
            t = time.perf_counter()
            edits = _persist(jobs.edits_df(articles, reuse))
            cached.append(edits)
            n["edits.jsonl"] = _write_lines(out / "edits.jsonl", _sorted_lines(edits, ("source", "copy")))
            n["fingerprints.jsonl"] = _write_lines(out / "fingerprints.jsonl", jobs.fingerprints_df(edits))
            timed("edits", t)
        else:
            n["edits.jsonl"] = _write_lines(out / "edits.jsonl", [])
        if "signals" in requested:
            t = time.perf_counter()
            signals = _persist(jobs.signals_df(articles, technique_model, min_confidence))
            cached.append(signals)
            n["signals.jsonl"] = _write_lines(out / "signals.jsonl", _sorted_lines(signals, ("id",)))
            n["sourcing.jsonl"] = _write_lines(out / "sourcing.jsonl", _sorted_lines(signals, ("id",), "sourcing"))
            timed("signals", t)
        else:
            n["signals.jsonl"] = _write_lines(out / "signals.jsonl", [])
        (out / "network.graphml").write_text(EMPTY_GRAPHML, encoding="utf-8")
        (out / "report.html").write_text("", encoding="utf-8")
    finally:
        for df in cached:
            df.unpersist()
    return result
