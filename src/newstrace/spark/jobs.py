"""The analyze stages as Spark jobs over DataFrames: each calls the local stage function inside `mapPartitions`.

Nothing here re-implements an analyser. Shingling is `shingles.shingle_rows` over each partition's texts; the
candidate join is `candidates.candidates_duckdb`'s SQL written with the DataFrame API, reading every threshold
from the same `CandidateParams`; alignment is `engine.analyse_pair`; edits are `edits.corpus.pair_record`;
signals are `signals.analyse.analyse_article`. Each row-producing job emits the finished contract line as a JSON
string made by the same code as the local writers, so the files can be compared byte for byte.

Articles travel as the DataFrame `ARTICLE_COLUMNS` (`published` an ISO 8601 string in UTC, as the local store
returns it). Worker functions are module-level so that Spark pickles them by reference.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.window import Window

from newstrace.model import Article, Passage, ReusePair

ARTICLE_COLUMNS = ("id", "url", "outlet", "published", "title", "text")
INPUT_FIELDS = ("id", "url", "outlet", "published", "title", "text", "html")
# Shingle batches: large enough for `shingle_rows`'s whole-batch numpy pass to pay off, small enough to bound memory.
SHINGLE_BATCH = 2000

_S = T.StringType()
ARTICLE_SCHEMA = T.StructType([T.StructField(c, _S, c != "id" and c != "text") for c in ARTICLE_COLUMNS])
INPUT_SCHEMA = T.StructType([T.StructField(c, _S, True) for c in INPUT_FIELDS])
ROWS_SCHEMA = T.StructType([T.StructField("doc", _S, False), T.StructField("hash", T.LongType(), False)])
_SPANS = T.ArrayType(T.ArrayType(T.IntegerType(), False), False)
REUSE_SCHEMA = T.StructType([
    T.StructField("source", _S, False), T.StructField("copy", _S, False), T.StructField("direction", _S, False),
    T.StructField("passages", _SPANS, False), T.StructField("line", _S, False),
    T.StructField("source_published", _S, True), T.StructField("copy_published", _S, True),
])
EDITS_SCHEMA = T.StructType([
    T.StructField("source", _S, False), T.StructField("copy", _S, False), T.StructField("line", _S, False),
    T.StructField("outlet", _S, False), T.StructField("edits", T.BinaryType(), False),
])
SIGNALS_SCHEMA = T.StructType([
    T.StructField("id", _S, False), T.StructField("line", _S, False), T.StructField("sourcing", _S, False),
])


def _dumps(row: dict) -> str:
    # exactly what export.write_jsonl writes per line
    return json.dumps(row, ensure_ascii=False)


# --- articles -------------------------------------------------------------------------------------------------


def _local_path(uri: str) -> Path:
    parts = urlsplit(uri)
    return Path(unquote(parts.path)) if parts.scheme in ("file", "") else Path(parts.path)


def _normalise_partition(rows: Iterable) -> Iterator[tuple]:
    """Input records -> articles, by ingest's own field rules (missing id, outlet, naive dates, `html` only)."""
    from newstrace.ingest.sources import article_from_fields

    for r in rows:
        obj = {k: r[k] for k in INPUT_FIELDS if r[k] is not None}
        if r["_us"] is not None:  # a Parquet timestamp: an instant, read as microseconds since the epoch
            # as its ISO 8601 text: ingest's field checks take a date as a JSON line holds it, not a datetime
            obj["published"] = (datetime(1970, 1, 1, tzinfo=timezone.utc)
                                + timedelta(microseconds=r["_us"])).isoformat()
        found = article_from_fields(obj, _local_path(r["_file"] or ""), str(r["_pos"]))
        if not isinstance(found, Article):
            continue  # a record ingest reports as a problem (empty, unreadable date) is not an article
        pub = found.published.astimezone(timezone.utc).isoformat() if found.published else None
        yield (found.id, found.url, found.outlet, pub, found.title, found.text, r["_file"] or "", r["_pos"])


def _input_format(paths: list[str]) -> str:
    """"parquet" or "json" for the given paths; other inputs are for local ingest."""
    from newstrace.errors import NewstraceError
    from newstrace.ingest.sources import JSONL_SUFFIXES

    if all(p.rstrip("/").endswith(".parquet") for p in paths):
        return "parquet"
    for p in paths:
        local = Path(p) if "://" not in p else None
        if local is not None and local.is_file() and local.suffix.lower() not in JSONL_SUFFIXES:
            raise NewstraceError(
                f"{p}: the Spark engine reads JSONL/NDJSON or Parquet articles; ingest other formats first "
                "(`newstrace analyze INPUT --out DIR --stages ingest`) and pass DIR/articles.jsonl")
    return "json"


def read_articles(spark: SparkSession, source: DataFrame | str | Path | Iterable[str | Path]) -> DataFrame:
    """Articles from a DataFrame, from `.parquet` paths, or from JSONL/NDJSON files and folders (searched
    recursively for `*.jsonl` and `*.ndjson`, as ingest does).

    Fields are those of the contract's `articles.jsonl` (`text` or `html` required). Records go through ingest's
    field rules, so ids, outlets and dates are what `newstrace ingest` would store; records ingest would refuse
    (empty text, unreadable date) are dropped. A duplicate id keeps the record read first (by input file URI,
    then position in the file), as ingest keeps the first one it stores.
    """
    if isinstance(source, DataFrame):
        raw = source
    else:
        paths = [str(source)] if isinstance(source, (str, Path)) else [str(p) for p in source]
        if _input_format(paths) == "parquet":
            raw = spark.read.parquet(*paths)
        else:
            raw = (spark.read.schema(INPUT_SCHEMA).option("recursiveFileLookup", "true")
                   .option("pathGlobFilter", "*.{jsonl,ndjson,JSONL,NDJSON}").json(paths))
    types = dict(raw.dtypes)
    cols = []
    for c in INPUT_FIELDS:
        if c not in types or (c == "published" and types[c].startswith("timestamp")):
            cols.append(F.lit(None).cast(_S).alias(c))
        else:
            cols.append(F.col(c).cast(_S).alias(c))
    us = F.unix_micros(F.col("published")) if types.get("published", "").startswith("timestamp") else F.lit(None)
    staged = raw.select(*cols, us.cast(T.LongType()).alias("_us"), F.input_file_name().alias("_file"),
                        F.monotonically_increasing_id().alias("_pos"))
    schema = T.StructType([*ARTICLE_SCHEMA.fields, T.StructField("_file", _S), T.StructField("_pos", T.LongType())])
    arts = staged.rdd.mapPartitions(_normalise_partition).toDF(schema)
    first = Window.partitionBy("id").orderBy("_file", "_pos")
    return (arts.withColumn("_rank", F.row_number().over(first)).where("_rank = 1")
            .select(*ARTICLE_COLUMNS))


def article_of(id_: str, text: str, outlet: str | None, published: str | None) -> Article:
    return Article(id=id_, text=text, outlet=outlet,
                   published=datetime.fromisoformat(published) if published else None)


# --- reuse: shingles and candidates ---------------------------------------------------------------------------


def _shingle_partition(rows: Iterable, params) -> Iterator[tuple[str, int]]:
    from newstrace.reuse.shingles import shingle_rows

    ids: list[str] = []
    texts: list[str] = []

    def flush() -> Iterator[tuple[str, int]]:
        docs, hashes = shingle_rows(texts, params)
        for d, h in zip(docs.tolist(), hashes.tolist(), strict=True):
            yield ids[d], h

    for r in rows:
        ids.append(r["id"])
        texts.append(r["text"])
        if len(ids) >= SHINGLE_BATCH:
            yield from flush()
            ids.clear()
            texts.clear()
    if ids:
        yield from flush()


def shingle_df(articles: DataFrame, params) -> DataFrame:
    """`(doc, hash)` rows: each article's distinct kept shingle hashes (`shingles.shingle_rows`)."""
    return articles.select("id", "text").rdd.mapPartitions(partial(_shingle_partition, params=params)).toDF(
        ROWS_SCHEMA)


def boilerplate_df(articles: DataFrame, rows: DataFrame, p) -> DataFrame:
    """`(hash)`: keys in at least `max(outlet_min_df, ceil(outlet_frac * outlet size))` articles of one outlet, as
    `candidates.boilerplate_numpy` finds them. `p` is a `CandidateParams`."""
    # ingest codes an empty or missing outlet as unknown (-1), which no outlet-level count includes
    known = articles.where(F.col("outlet").isNotNull() & (F.col("outlet") != "")).select(
        F.col("id").alias("doc"), "outlet")
    sizes = known.groupBy("outlet").agg(F.count(F.lit(1)).alias("n"))
    per = rows.join(known, "doc").groupBy("outlet", "hash").agg(F.count(F.lit(1)).alias("c"))
    # a double literal, as numpy computes the limit in float64 (a SQL decimal literal would round differently)
    limit = F.greatest(F.lit(int(p.outlet_min_df)).cast("long"), F.ceil(F.lit(float(p.outlet_frac)) * F.col("n")))
    return per.join(sizes, "outlet").where(F.col("c") >= limit).select("hash").distinct()


def candidates_df(rows: DataFrame, boiler: DataFrame, p) -> DataFrame:
    """`candidates.candidates_duckdb` in Spark: `(a, b, shared)` with `a < b` (article ids) for pairs sharing at
    least `min_shared` keys, counting only keys held by 2..`max_df` documents and not in `boiler`."""
    # the document frequency as a window over `hash`: the self-join below then reuses that partitioning, so
    # the whole join costs two shuffles (by key, then by pair)
    by_key = Window.partitionBy("hash")
    k = (rows.withColumn("df", F.count(F.lit(1)).over(by_key))
         .where((F.col("df") >= 2) & (F.col("df") <= int(p.max_df)))
         .join(boiler, "hash", "left_anti").select("doc", "hash"))
    x, y = k.alias("x"), k.alias("y")
    return (x.join(y, (F.col("x.hash") == F.col("y.hash")) & (F.col("x.doc") < F.col("y.doc")))
            .groupBy(F.col("x.doc").alias("a"), F.col("y.doc").alias("b"))
            .agg(F.count(F.lit(1)).cast("int").alias("shared"))
            .where(F.col("shared") >= int(p.min_shared)))


# --- reuse: the per-pair stage --------------------------------------------------------------------------------


def shares_boilerplate(x: str, y: str, boilerplate: np.ndarray, params) -> bool:
    """`candidates.mark_shared_boilerplate` for one pair: whether both texts keep a common boilerplate key.

    A text's rows are exactly its `fingerprint`, so this reads the same keys the corpus join saw, without a join
    of every candidate with every boilerplate key."""
    from newstrace.reuse.shingles import fingerprint

    if len(boilerplate) == 0:
        return False
    fx = fingerprint(x, params)
    fy = fingerprint(y, params)
    common = np.intersect1d(fx[np.isin(fx, boilerplate)], fy, assume_unique=True)
    return len(common) > 0


def pair_job(x: Article, y: Article, shared_boiler: bool):
    """The `PairJob` `engine.find_reuse` builds for candidate articles `x`, `y` (order-independent)."""
    from newstrace.reuse.engine import PairJob, order_pair

    src, cp, dated = order_pair(x, y)
    same = src.outlet is not None and src.outlet == cp.outlet
    return PairJob(src.id, cp.id, src.text, cp.text, shared_boiler, dated, same)


def _align_partition(rows: Iterable, ctx) -> Iterator[tuple]:
    from newstrace.export import reuse_rows
    from newstrace.reuse.engine import analyse_pair

    context = ctx.value
    for r in rows:
        x = article_of(r["a"], r["a_text"], r["a_outlet"], r["a_published"])
        y = article_of(r["b"], r["b_text"], r["b_outlet"], r["b_published"])
        boiler = shares_boilerplate(x.text, y.text, context.boilerplate, context.params.shingles)
        pair = analyse_pair(pair_job(x, y, boiler), context)
        if pair is None:
            continue
        spans = [[q.source_start, q.source_end, q.copy_start, q.copy_end] for q in pair.passages]
        dates = {r["a"]: r["a_published"], r["b"]: r["b_published"]}
        yield (pair.source, pair.copy, pair.direction, spans, _dumps(next(reuse_rows([pair]))),
               dates[pair.source], dates[pair.copy])


def _with_article(df: DataFrame, articles: DataFrame, key: str, cols: Iterable[str]) -> DataFrame:
    side = articles.select(F.col("id").alias(key), *(F.col(c).alias(f"{key}_{c}") for c in cols))
    return df.join(side, key)


def align_df(spark: SparkSession, articles: DataFrame, cands: DataFrame, ctx) -> DataFrame:
    """Reuse pairs `(source, copy, direction, passages, line, source_published, copy_published)`:
    `engine.analyse_pair` on every candidate.
    `ctx` is the `engine.PairContext`, broadcast once to the executors."""
    bc = spark.sparkContext.broadcast(ctx)
    jobs = _with_article(_with_article(cands, articles, "a", ("text", "outlet", "published")),
                         articles, "b", ("text", "outlet", "published"))
    return jobs.rdd.mapPartitions(partial(_align_partition, ctx=bc)).toDF(REUSE_SCHEMA)


def families_on_driver(reuse: DataFrame) -> list[dict]:
    """`families.build_families` on the collected pairs: `families.jsonl` rows in the local order.

    Only `(source, copy, direction)` and the members' dates reach the driver: some 100 bytes a pair, so tens of
    millions of pairs need a driver with several GB of memory."""
    from newstrace.export import family_rows
    from newstrace.reuse.families import build_families

    edges = reuse.select("source", "copy", "direction", "source_published", "copy_published").collect()
    pairs = [ReusePair(r["source"], r["copy"], 0.0, r["direction"], []) for r in edges]
    published: dict[str, datetime | None] = {}
    for r in edges:
        for id_, date in ((r["source"], r["source_published"]), (r["copy"], r["copy_published"])):
            published[id_] = datetime.fromisoformat(date) if date else None
    return list(family_rows(build_families(pairs, published)))


def components_df(reuse: DataFrame, max_rounds: int = 100) -> DataFrame:
    """`(id, label)`: each article in a pair labelled with the smallest id of its connected component.

    Min-label propagation, one join and one aggregation per round, until no label changes: the rounds grow with
    the widest family's diameter (a chain of republications), not with the corpus. Each round is checkpointed
    locally so the plan does not grow with the rounds."""
    edges = reuse.select(F.col("source").alias("u"), F.col("copy").alias("v"))
    edges = edges.union(edges.select(F.col("v").alias("u"), F.col("u").alias("v"))).persist()
    labels = edges.groupBy("u").agg(F.least(F.min("v"), F.col("u")).alias("label")).withColumnRenamed("u", "id")
    labels = labels.localCheckpoint()
    for _ in range(max_rounds):
        spread = (edges.join(labels.withColumnRenamed("id", "u"), "u")
                  .groupBy(F.col("v").alias("id")).agg(F.min("label").alias("heard")))
        new = (labels.join(spread, "id").select("id", F.least("label", "heard").alias("label"))
               .localCheckpoint())
        changed = new.join(labels.withColumnRenamed("label", "old"), "id").where("label < old").limit(1).count()
        labels = new
        if not changed:
            break
    else:
        edges.unpersist()
        raise RuntimeError(f"families: labels still changing after {max_rounds} rounds")
    edges.unpersist()
    return labels


def _family_partition(groups: Iterable) -> Iterator[tuple[int, str, str]]:
    from newstrace.export import family_rows
    from newstrace.reuse.families import build_families

    for _, rows in groups:
        pairs, published = [], {}
        for r in rows:
            pairs.append(ReusePair(r["source"], r["copy"], 0.0, r["direction"], []))
            published[r["source"]] = datetime.fromisoformat(r["source_published"]) if r["source_published"] else None
            published[r["copy"]] = datetime.fromisoformat(r["copy_published"]) if r["copy_published"] else None
        # one component's pairs give exactly one family, the same as in the corpus-wide call
        for row in family_rows(build_families(pairs, published)):
            yield len(row["members"]), row["family"], _dumps(row)


def families_df(reuse: DataFrame) -> DataFrame:
    """`(size, family, line)`: `families.build_families` per connected component, found in Spark
    (`components_df`); write them ordered by `(-size, family)`, the local order."""
    labels = components_df(reuse)
    cols = ("source", "copy", "direction", "source_published", "copy_published")
    tagged = reuse.select(*cols).join(labels.withColumnRenamed("id", "source"), "source")
    grouped = tagged.rdd.map(lambda r: (r["label"], r)).groupByKey()
    schema = T.StructType([T.StructField("size", T.IntegerType(), False), T.StructField("family", _S, False),
                           T.StructField("line", _S, False)])
    return grouped.mapPartitions(_family_partition).toDF(schema)


# --- edits and signals ----------------------------------------------------------------------------------------


def _edits_partition(rows: Iterable) -> Iterator[tuple]:
    from newstrace.edits.corpus import edit_line
    from newstrace.edits.systematic import diff_pair

    for r in rows:
        passages = [Passage(*q) for q in r["passages"]]
        result = diff_pair(r["source_text"], r["copy_text"], passages)
        line = edit_line(r["source"], r["copy"], result)
        yield r["source"], r["copy"], _dumps(line), r["copy_outlet"] or "unknown", pickle.dumps(result)


def edits_df(articles: DataFrame, reuse: DataFrame) -> DataFrame:
    """`(source, copy, line, outlet, edits)`: `diff_pair` per reuse pair; `edits` is the pickled `PairEdits` that
    the outlet fingerprints need, `outlet` the copy's outlet."""
    df = _with_article(reuse.select("source", "copy", "passages"), articles, "source", ("text",))
    df = _with_article(df, articles, "copy", ("text", "outlet"))
    return df.rdd.mapPartitions(_edits_partition).toDF(EDITS_SCHEMA)


def _fingerprint_group(item: tuple[str, Iterable]) -> list[tuple[int, str, str]]:
    from newstrace.edits.fingerprints import outlet_fingerprints

    outlet, pairs = item
    # one outlet's fingerprint depends only on its own pairs, taken in the local (source, copy) order
    ordered = sorted(pairs, key=lambda p: (p[0], p[1]))
    out = []
    for fp in outlet_fingerprints((outlet, pickle.loads(blob), copy) for _, copy, blob in ordered):
        row = asdict(fp)
        row["described"] = fp.describe()
        out.append((fp.copies, fp.outlet, _dumps(row)))
    return out


def fingerprints_df(edits: DataFrame) -> list[str]:
    """`fingerprints.jsonl` lines, per copy outlet, in `outlet_fingerprints`'s order (most copies first)."""
    grouped = edits.select("outlet", "source", "copy", "edits").rdd.map(
        lambda r: (r["outlet"], (r["source"], r["copy"], bytes(r["edits"])))).groupByKey()
    rows = grouped.flatMap(_fingerprint_group).collect()
    return [line for _, _, line in sorted(rows, key=lambda t: (-t[0], t[1]))]


def _signals_partition(rows: Iterable, technique_model: str = "default",
                       min_confidence: float = 0.0) -> Iterator[tuple[str, str, str]]:
    from newstrace.blas import one_blas_thread
    from newstrace.signals.analyse import analyse_article, contract_line
    from newstrace.signals.techniques import load_model, with_min_confidence

    model = with_min_confidence(load_model(kind=technique_model), min_confidence)
    with one_blas_thread():  # Spark runs a Python worker per core already
        for r in rows:
            found = analyse_article(Article(id=r["id"], text=r["text"]), model)
            yield r["id"], _dumps(contract_line(found)), _dumps({"id": r["id"], **found["sourcing"]})


def signals_df(articles: DataFrame, technique_model: str = "default", min_confidence: float = 0.0) -> DataFrame:
    """`(id, line, sourcing)`: `analyse_article` per article, as the `signals.jsonl` and `sourcing.jsonl` lines,
    with the shipped technique model named `technique_model`, keeping technique spans of at least
    `min_confidence`."""
    return articles.select("id", "text").rdd.mapPartitions(
        lambda rows: _signals_partition(rows, technique_model, min_confidence)).toDF(SIGNALS_SCHEMA)


def boilerplate_keys(boiler: DataFrame) -> np.ndarray:
    """The boilerplate keys on the driver, sorted, as `Candidates.boilerplate` holds them."""
    return np.array(sorted(r["hash"] for r in boiler.collect()), dtype=np.int64)
