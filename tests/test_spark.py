"""The Spark engine writes the same contract files as the local pipeline, byte for byte.

Runs only with the `spark` extra (pyspark) and a Java runtime; Spark runs in `local[2]` with small settings.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DEMO_CORPUS, PTC_ARTICLES, SHARED, need

pytest.importorskip("pyspark")

from newstrace.pipeline import Run, analyze  # noqa: E402
from newstrace.signals.techniques import SHIPPED_MODEL  # noqa: E402
from newstrace.store import Store  # noqa: E402

COMPARED = ("articles.jsonl", "reuse.jsonl", "families.jsonl", "edits.jsonl", "fingerprints.jsonl",
            "signals.jsonl", "sourcing.jsonl")


def _stages() -> list[str]:
    # signals need the shipped technique model; without it neither engine can run that stage
    return ["ingest", "reuse", "edits"] + (["signals"] if SHIPPED_MODEL.exists() else [])


@pytest.fixture(scope="module")
def spark():
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java runtime for Spark")
    from newstrace.spark import local_session

    session = local_session("local[2]", shuffle_partitions=4)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _local(inputs: list[Path], out: Path, stages: list[str]) -> Path:
    with Store(":memory:") as store:
        analyze(Run(store=store, inputs=inputs, out_dir=out, workers=1), stages)
    return out


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text("utf-8").splitlines()]


def _assert_same(local: Path, spark_out: Path) -> None:
    for name in COMPARED:
        if not (local / name).exists():
            assert not (spark_out / name).exists(), name
            continue
        ours, theirs = (local / name).read_text("utf-8"), (spark_out / name).read_text("utf-8")
        if ours != theirs:  # a readable failure: the first differing line
            a, b = ours.splitlines(), theirs.splitlines()
            diff = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
            pytest.fail(f"{name}: {len(a)} local vs {len(b)} spark lines; first difference at line {diff + 1}")


def test_demo_corpus_matches_local(spark, tmp_path: Path) -> None:
    from newstrace.spark import run_spark

    stages = _stages()
    local = _local([DEMO_CORPUS], tmp_path / "local", stages)
    # HTML and WARC extraction happen at ingest: Spark reads the articles the local ingest kept
    result = run_spark(local / "articles.jsonl", tmp_path / "spark", stages, spark=spark)
    _assert_same(local, tmp_path / "spark")
    assert result.lines["reuse.jsonl"] > 20 and result.lines["families.jsonl"] >= 5
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "spark" / "reuse.parquet").equals(pq.read_table(local / "reuse.parquet"))
    assert result.lines["edits.jsonl"] == result.lines["reuse.jsonl"]
    assert any(e["systematic"] for e in _lines(tmp_path / "spark" / "edits.jsonl"))
    checker = SHARED / "bin" / "check-contract"
    if checker.exists():
        done = subprocess.run([sys.executable, str(checker), str(tmp_path / "spark")], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


def test_synthetic_corpus_matches_local(spark, tmp_path: Path) -> None:
    from newstrace.spark import run_spark
    from newstrace.synth.generate import generate

    corpus = generate(tmp_path / "synth", n_articles=200, base_dir=need(PTC_ARTICLES))
    stages = _stages()
    local = _local([corpus], tmp_path / "local", stages)
    # raw JSONL: Spark applies ingest's field rules itself (dates with offsets are stored in UTC); families
    # by connected components in Spark rather than on the driver
    result = run_spark(corpus, tmp_path / "spark", stages, spark=spark, families="spark")
    _assert_same(local, tmp_path / "spark")
    assert result.lines["articles.jsonl"] == 200
    assert result.lines["reuse.jsonl"] > 100 and result.lines["families.jsonl"] > 10


def test_input_field_rules_and_skipped_stages(spark, tmp_path: Path) -> None:
    from newstrace.spark import run_spark

    text = "A reused story about the harbour strike and the talks that failed on Tuesday night. " * 4
    rows = [
        {"url": "https://www.example-news.com/a/1", "text": text, "published": "2024-03-01T10:00:00+02:00"},
        {"id": "dup", "outlet": "first", "text": text + " First."},
        {"id": "dup", "outlet": "second", "text": text + " Second."},
        {"id": "blank", "text": "   "},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    local = _local([src], tmp_path / "local", ["ingest"])
    result = run_spark(src, tmp_path / "spark", ["ingest", "network"], spark=spark)
    _assert_same(local, tmp_path / "spark")
    arts = {a["outlet"]: a for a in _lines(tmp_path / "spark" / "articles.jsonl")}
    assert sorted(arts) == ["example-news.com", "first"]  # the first of two records with one id is kept
    assert arts["example-news.com"]["published"] == "2024-03-01T08:00:00+00:00"
    assert "network" in result.skipped and result.ran == ["ingest"]
    assert (tmp_path / "spark" / "reuse.jsonl").read_text() == ""


def test_parquet_input_with_timestamps_reads_the_same_articles(spark, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from newstrace.errors import NewstraceError
    from newstrace.ingest.fields import parse_published
    from newstrace.spark import run_spark

    src = tmp_path / "in.jsonl"
    rows = [{"id": f"a{i}", "outlet": "o", "text": f"Story number {i} about the strike.",
             "published": f"2024-03-0{i + 1}T10:00:00+02:00"} for i in range(3)]
    rows[1]["published"] = None
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    table = pa.Table.from_pylist([{**r, "published": parse_published(r["published"])} for r in rows])
    assert pa.types.is_timestamp(table.schema.field("published").type)
    pq.write_table(table, tmp_path / "in.parquet")
    run_spark(src, tmp_path / "from_jsonl", ["ingest"], spark=spark)
    run_spark(tmp_path / "in.parquet", tmp_path / "from_parquet", ["ingest"], spark=spark)
    assert (tmp_path / "from_jsonl" / "articles.jsonl").read_bytes() == (
        tmp_path / "from_parquet" / "articles.jsonl").read_bytes()
    page = tmp_path / "page.html"
    page.write_text("<html></html>", encoding="utf-8")
    with pytest.raises(NewstraceError, match="ingest other formats first"):
        run_spark(page, tmp_path / "bad", ["ingest"], spark=spark)


def test_cli_engine_spark_takes_a_master_and_settings(tmp_path: Path) -> None:
    """`analyze --engine spark --spark-master ... --spark-conf ...` in its own process (its own Spark session, so
    the master URL is the one given), against the local engine on the same input."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java runtime for Spark")
    story = ("Dock workers in the port of Halvard walked out on Monday after talks over night shifts collapsed. "
             "The union said its members would stay out until the harbour board restored the old rota. "
             "Grain barges queued at the river mouth as cranes stood idle along the northern quay. "
             "A spokesman for the board called the strike unlawful and promised an inquiry within a week. "
             "Traders warned that bread prices could climb if the river stayed closed to cargo for long. ")
    rows = [{"id": f"a{i}", "outlet": f"o{i % 3}", "published": f"2024-03-0{i + 1}T10:00:00Z",
             "text": f"Edition {i} of the morning brief. " + story + f"Closing line number {i}."} for i in range(4)]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    common = [sys.executable, "-m", "newstrace.cli", "analyze", str(src), "--stages", "ingest,reuse", "--quiet"]
    local = subprocess.run([*common, "--out", str(tmp_path / "local")], capture_output=True, text=True)
    assert local.returncode == 0, local.stderr
    spark_args = ["--engine", "spark", "--spark-master", "local[1]", "--spark-conf", "spark.sql.shuffle.partitions=3"]
    done = subprocess.run([*common, "--out", str(tmp_path / "spark"), *spark_args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(_lines(tmp_path / "spark" / "reuse.jsonl")) >= 3
    _assert_same(tmp_path / "local", tmp_path / "spark")
    bad = subprocess.run([*common, "--out", str(tmp_path / "bad"), "--engine", "spark", "--spark-conf", "novalue"],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "expected KEY=VALUE" in bad.stderr
