"""The stage registry: every stage `analyze` can run, in pipeline order, listed explicitly (no import side effects).

Each stage is a plain function of the `Run`, so a new stage is one function and one line in `STAGES`.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from newstrace.errors import NothingIngested
from newstrace.export import (
    EMPTY_GRAPHML,
    ensure_writable,
    family_rows,
    remove_partials,
    reuse_rows,
    write_articles,
    write_articles_in_background,
    write_jsonl,
    write_parquet,
    write_text,
)
from newstrace.ingest.sources import Problem
from newstrace.model import Article, ReusePair
from newstrace.pipeline import Run

# Reasons' prefixes for what a stage after ingest skipped (over the --doc-timeout); each stage's rows replace the
# last run's, so a rerun does not double them.
REUSE_SKIPPED = "reuse of pair"
EDITS_SKIPPED = "edits of pair"
SIGNALS_SKIPPED = "signals of article"


def _skipped(article: Article, reason: str) -> Problem:
    return Problem(article.source_file or article.id, article.record, reason)


def _replace_skipped(run: Run, prefix: str, problems: list[Problem]) -> None:
    """Report what a stage skipped (stderr and the errors table), in place of the last run's rows of that stage."""
    run.store.con.execute("DELETE FROM errors WHERE starts_with(reason, ?)", [prefix])
    run.store.add_errors([(p.file, p.record, p.reason) for p in problems])
    if run.on_problem:
        for p in problems:
            run.on_problem(p)


def run_ingest(run: Run) -> None:
    from newstrace.ingest import ingest_paths
    from newstrace.store import as_stored

    task = None
    if run.progress is not None:
        task = run.progress.add_task("ingest", total=None)

    def progress(done: int, total: int, added: int) -> None:
        if task is not None:
            run.progress.update(task, completed=done, total=total, description=f"ingest ({added} articles)")

    # When later stages will load every article and the store starts empty, what ingest stores is the whole
    # corpus: it is kept rather than read back. When reuse follows, its shingling starts on each stored batch.
    later = [s for s in run.planned if s != "ingest"]
    kept: list[Article] | None = [] if later and run.store.count("articles") == 0 else None
    if "reuse" in later and run.workers > 1:
        from newstrace.reuse.ahead import ShingleAhead
        from newstrace.reuse.engine import EngineParams

        run.shingle_ahead = ShingleAhead(EngineParams().shingles, run.workers)

    def stored(batch: list[Article]) -> None:
        if kept is not None:
            kept.extend(batch)
        if run.shingle_ahead is not None:
            run.shingle_ahead.add(batch)

    run.ingest_report = ingest_paths(
        run.inputs, run.store, max_bytes=run.max_bytes, doc_seconds=run.doc_seconds, on_problem=run.on_problem,
        on_progress=progress, on_stored=stored,
    )
    stored_count = run.store.count("articles")
    if stored_count == 0:
        raise NothingIngested(
            f"nothing could be ingested from {', '.join(map(str, run.inputs))} "
            f"({run.ingest_report.problem_count} problems reported)"
        )
    run.articles = as_stored(kept) if kept is not None and len(kept) == stored_count else None
    if run.articles is not None and run.checkpoint is None:
        # the stages ahead work from memory, so the store can fold its WAL into the file meanwhile, rather than
        # after the last stage, when nothing else is left to run beside it
        run.checkpoint = run.store.checkpoint_in_background()
    if run.articles is not None and run.writing and later:
        # articles.jsonl depends on the articles alone: written while the later stages run (their workers keep
        # the cores busy and this process mostly waits on them), put in place by write_outputs
        assert run.out_dir is not None
        ensure_writable(run.out_dir)
        remove_partials(run.out_dir)
        run.articles_file = write_articles_in_background(run.out_dir / "articles.jsonl", run.articles)


def run_reuse(run: Run) -> None:
    from newstrace.reuse.engine import find_reuse

    articles = run.load_articles()
    shingles = None
    if run.shingle_ahead is not None:
        shingles = run.shingle_ahead.rows_for(articles, run.workers)
        run.shingle_ahead = None
    result = find_reuse(articles, workers=run.workers, progress=_stage_progress(run), con=run.store.con,
                        pair_seconds=run.doc_seconds, shingles=shingles)
    run.pairs, run.families = result.pairs, result.families
    run.store.replace_reuse(run.pairs, run.families)
    by_id = run.article_map() if result.timed_out else {}
    _replace_skipped(run, REUSE_SKIPPED, [
        _skipped(by_id[copy], f"{REUSE_SKIPPED} {source} -> {copy}: alignment took longer than {run.doc_seconds:g} s "
                 "(the --doc-timeout); the pair was not aligned")
        for source, copy in result.timed_out])


def run_edits(run: Run) -> None:
    from newstrace.edits.corpus import corpus_edits

    if not run.pairs and "reuse" not in run.ran:
        run.pairs, run.families = run.store.reuse_pairs(), run.store.families()
    articles = run.article_map()
    skipped = []

    def timed_out(pair: ReusePair, exc: Exception) -> None:
        skipped.append(_skipped(articles[pair.copy], f"{EDITS_SKIPPED} {pair.source} -> {pair.copy}: diff {exc} "
                                "(the --doc-timeout); no edits line"))

    run.edits, run.fingerprints = corpus_edits(articles, run.pairs, progress=run.progress,
                                               pair_seconds=run.doc_seconds, on_timeout=timed_out,
                                               workers=run.workers)
    _replace_skipped(run, EDITS_SKIPPED, skipped)
    run.store.replace_rows(
        "edits",
        [(e["source"], e["copy"], json.dumps(e["edits"]), json.dumps(e["systematic"])) for e in run.edits],
    )
    run.store.replace_rows("fingerprints", [(f["outlet"], json.dumps(f)) for f in run.fingerprints])


def run_signals(run: Run) -> None:
    from newstrace.signals.analyse import analyse_articles
    from newstrace.signals.techniques import load_model, with_min_confidence

    skipped = []

    def timed_out(article: Article, exc: Exception) -> None:
        skipped.append(_skipped(article, f"{SIGNALS_SKIPPED} '{article.id}': analysis {exc} (the --doc-timeout); "
                                "no signals line"))

    model = with_min_confidence(load_model(kind=run.technique_model), run.min_confidence)
    run.signals = list(analyse_articles(run.load_articles(), progress=run.progress, model=model,
                                        doc_seconds=run.doc_seconds, on_timeout=timed_out, workers=run.workers))
    _replace_skipped(run, SIGNALS_SKIPPED, skipped)
    run.store.replace_rows(
        "signals",
        [
            (s["id"], json.dumps(s["techniques"]), json.dumps(s["attributions"]), json.dumps(s["injections"]),
             json.dumps(s.get("sourcing")))
            for s in run.signals
        ],
    )


def run_network(run: Run) -> None:
    from newstrace.network import PairFlags, build_graph

    if not run.pairs and "reuse" not in run.ran:
        run.pairs = run.store.reuse_pairs()
    flags = None
    if run.edits:
        # A copy is verbatim when its edit script is empty; systematic when any edit repeats as a group.
        flags = {(e["source"], e["copy"]): PairFlags(verbatim=not e["edits"], systematic=bool(e["systematic"]))
                 for e in run.edits}
    run.graph = build_graph(run.load_articles(), run.pairs, flags)
    run.store.replace_rows(
        "outlets",
        [(n, d.get("articles", 0), d.get("community"), d.get("role")) for n, d in run.graph.nodes(data=True)],
    )
    run.store.replace_rows(
        "outlet_edges",
        [
            (u, v, d.get("weight", 0), d.get("median_lag_hours"), d.get("min_lag_hours"), bool(d.get("coordinated")),
             json.dumps(d.get("evidence", []), default=str))
            for u, v, d in run.graph.edges(data=True)
        ],
    )


def run_report(run: Run) -> None:
    # The report is rendered in write_outputs, once every other file exists, so it can link to them.
    pass


def _stage_progress(run: Run) -> Callable[[str, int, int], None] | None:
    """Adapt a library's `(step, done, total)` callback to one rich progress bar per step."""
    if run.progress is None:
        return None
    tasks: dict[str, object] = {}

    def update(step: str, done: int, total: int) -> None:
        if step not in tasks:
            tasks[step] = run.progress.add_task(step, total=total or None)
        run.progress.update(tasks[step], completed=done, total=total or None)

    return update


STAGES: dict[str, Callable[[Run], None]] = {
    "ingest": run_ingest,
    "reuse": run_reuse,
    "edits": run_edits,
    "signals": run_signals,
    "network": run_network,
    "report": run_report,
}
STAGE_NAMES = tuple(STAGES)


def write_outputs(run: Run) -> None:
    """Write every contract file: a stage that did not run leaves its file present and empty.

    Each file is written under a temporary name and renamed when complete (`export.atomic_path`)."""
    out = run.out_dir
    assert out is not None
    early, run.articles_file = run.articles_file, None
    if early is None:  # else done before the articles file started
        ensure_writable(out)
        remove_partials(out)
    # the articles a stage already loaded, or streamed from the store (the Spark engine never loads them: a
    # million articles' text need not sit in memory just to be written out)
    articles = (run.articles if run.articles is not None else run.store.iter_articles()) if run.ran else []
    # the store's checkpoint runs while the files are written (if ingest has not started it), unless they are
    # read from it
    checkpoint = run.checkpoint
    if checkpoint is None and run.articles is not None:
        checkpoint = run.store.checkpoint_in_background()
    run.checkpoint = None
    try:
        if early is not None:
            early.finish()
        else:
            write_articles(out / "articles.jsonl", articles)
        reuse = list(reuse_rows(run.pairs)) if "reuse" in run.ran else []
        write_jsonl(out / "reuse.jsonl", reuse)
        write_jsonl(out / "families.jsonl", family_rows(run.families) if "reuse" in run.ran else [])
        write_jsonl(out / "edits.jsonl", run.edits if "edits" in run.ran else [])
        if "signals" in run.ran:
            # imported here: the signals code (and its model's modules) costs a run without signals 0.1 s to load
            from newstrace.signals.analyse import contract_line

            write_jsonl(out / "signals.jsonl", (contract_line(s) for s in run.signals))
        else:
            write_jsonl(out / "signals.jsonl", [])
        if "signals" in run.ran:
            write_jsonl(out / "sourcing.jsonl", ({"id": s["id"], **s["sourcing"]} for s in run.signals))
        if "network" in run.ran and run.graph is not None:
            from newstrace.network.export import write_graphml

            write_graphml(run.graph, out / "network.graphml")
        else:
            write_text(out / "network.graphml", EMPTY_GRAPHML)
        if "edits" in run.ran:
            write_jsonl(out / "fingerprints.jsonl", run.fingerprints)
        write_parquet(out / "reuse.parquet", reuse)
        if "report" in run.ran:
            from newstrace.report import write_report

            write_report(run, out / "report.html")
        else:
            write_text(out / "report.html", "")
    finally:
        if checkpoint is not None:
            checkpoint.join()
            run.store.raise_background_error()

