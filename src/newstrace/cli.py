"""The `newstrace` command line: parses arguments and calls the library. No analysis logic lives here.

Results go to stdout (or --out), progress and problems to stderr, and a failed run exits non-zero.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from newstrace.errors import NewstraceError
from newstrace.output import CsvFlag, JsonFlag, JsonlFlag, choose_format, emit_rows, terminal_safe

app = typer.Typer(
    help="Trace laundered news: text reuse, systematic edits, persuasion and sourcing, and outlet networks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
synth_app = typer.Typer(help="The synthetic news-reuse benchmark: generate a corpus with truth, score a run.")
app.add_typer(synth_app, name="synth")

# markup off by default: messages carry file names, reasons and article text. The few styled lines opt in
# with markup=True and escape every value they interpolate.
err = Console(stderr=True, highlight=False, markup=False)
F = TypeVar("F", bound=Callable[..., Any])

DbOption = Annotated[Path, typer.Option("--db", help="The DuckDB store.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
MaxBytesOption = Annotated[
    int, typer.Option("--max-bytes", help="Skip (and report) any document larger than this many bytes.")
]
DocTimeoutOption = Annotated[
    float, typer.Option("--doc-timeout", help="Seconds one document may take (reading, extraction, signals) before "
                        "it is reported and skipped; 0 for no limit.")
]
TechniqueModelOption = Annotated[
    str, typer.Option("--technique-model", help="default (linear + static word vectors), fast (linear only, a few "
                      "ms less per article), or minilm (contextual, about 50x slower; needs `make minilm`).")
]
MinConfidenceOption = Annotated[
    float, typer.Option("--min-confidence", min=0.0, max=1.0,
                        help="Keep technique spans whose confidence (0..1, the estimated chance that the span is "
                        "that technique) is at least this: higher trades recall for precision.")
]


def clean_errors(func: F) -> F:
    """Turn library errors, and the system's (a full disk, a read-only folder, a failed store write), into one clean
    line on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NewstraceError as exc:
            message = str(exc)
        except OSError as exc:
            message = f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc)
        except Exception as exc:
            duckdb = sys.modules.get("duckdb")  # a DuckDB error can only come once DuckDB is imported
            if duckdb is None or not isinstance(exc, duckdb.Error):
                raise
            message = f"the store failed: {exc}"
        err.print(f"[bold red]error:[/] {escape(terminal_safe(message))}", markup=True, highlight=False,
                  soft_wrap=True)
        raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def progress_bar(quiet: bool):
    if quiet:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True,
    ) as progress:
        yield progress


def report_problem(problem: Any) -> None:
    err.print(f"[yellow]skipped[/] {escape(terminal_safe(str(problem)))}", markup=True, highlight=False,
              soft_wrap=True)


# ---- ingest and analyze ---------------------------------------------------------------------------------------------


@app.command()
@clean_errors
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (.txt .html .warc(.gz) .jsonl .csv).")],
    db: DbOption = Path("newstrace.duckdb"),
    max_bytes: MaxBytesOption = 20 * 1024 * 1024,
    doc_timeout: DocTimeoutOption = 60.0,
    index: Annotated[bool, typer.Option("--index/--no-index", help="Add new articles to the query index.")] = True,
    quiet: QuietOption = False,
    json_: JsonFlag = False,
) -> None:
    """Read news into the store. Safe to rerun; an interrupted run resumes where it stopped."""
    from newstrace.ingest import ingest_paths
    from newstrace.reuse.query import index_articles
    from newstrace.store import Store

    with Store(db) as store, progress_bar(quiet) as progress:
        task = progress.add_task("ingest", total=None) if progress else None

        def on_progress(done: int, total: int, added: int) -> None:
            if progress is not None:
                progress.update(task, completed=done, total=total, description=f"ingest ({added} articles)")

        report = ingest_paths(paths, store, max_bytes=max_bytes, doc_seconds=doc_timeout, on_problem=report_problem,
                              on_progress=on_progress)
        stored = store.count("articles")
        indexed = index_articles(store.con) if index and stored else 0
    summary = {
        "articles_added": report.articles_added,
        "articles_already_stored": report.articles_already_stored,
        "files": report.files,
        "problems": report.problem_count,
        "articles_in_store": stored,
        "articles_indexed": indexed,
        "db": str(db),
    }
    if json_:
        print(json.dumps(summary))
    err.print(f"{report.summary()}; {stored} articles in {db}", highlight=False)
    if stored == 0:
        raise NewstraceError(f"nothing could be ingested from {', '.join(map(str, paths))}")


@app.command()
@clean_errors
def analyze(
    inputs: Annotated[list[Path], typer.Argument(help="Files or folders to analyse.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the contract files and report.html.")],
    stages: Annotated[
        str, typer.Option("--stages", help="Comma list from ingest,reuse,edits,signals,network,report.")
    ] = "ingest,reuse,edits,signals,network,report",
    db: Annotated[Path | None, typer.Option("--db", help="Store to use (default: OUT/newstrace.duckdb).")] = None,
    workers: Annotated[int, typer.Option("--workers", help="Processes for shingling, alignment and signals.")] = 2,
    engine: Annotated[str, typer.Option("--engine", help="local, or spark (the spark extra).")] = "local",
    spark_master: Annotated[str, typer.Option(
        "--spark-master", help="With --engine spark: the master URL, local[N] or a cluster's spark://HOST:PORT.")]
    = "local[2]",
    spark_conf: Annotated[list[str] | None, typer.Option(
        "--spark-conf", help="With --engine spark: a Spark setting KEY=VALUE (repeatable), e.g. "
        "spark.executor.memory=6g.")] = None,
    max_bytes: MaxBytesOption = 20 * 1024 * 1024,
    doc_timeout: DocTimeoutOption = 60.0,
    quiet: QuietOption = False,
    technique_model: TechniqueModelOption = "default",
    min_confidence: MinConfidenceOption = 0.0,
) -> None:
    """The main job: ingest, find reuse, edits, signals and the network, and write every contract file."""
    from newstrace.export import ensure_writable
    from newstrace.pipeline import Run, analyze_on_spark, parse_stages
    from newstrace.pipeline import analyze as run_analyze
    from newstrace.store import Store

    chosen = parse_stages(stages)
    if engine not in ("local", "spark"):
        raise NewstraceError(f"unknown engine '{engine}': choose local or spark")
    conf = {}
    for item in spark_conf or []:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise NewstraceError(f"--spark-conf {item!r}: expected KEY=VALUE")
        conf[key.strip()] = value.strip()
    if "signals" in chosen:
        from newstrace.signals.techniques import ready_model

        ready_model(technique_model, min_confidence)
    ensure_writable(out)  # a read-only or full output folder fails now, not after the analysis
    with Store(db or out / "newstrace.duckdb") as store, progress_bar(quiet) as progress:
        run = Run(
            store=store, inputs=inputs, out_dir=out, max_bytes=max_bytes, doc_seconds=doc_timeout, workers=workers,
            technique_model=technique_model, min_confidence=min_confidence,
            on_problem=report_problem, progress=progress,
            status=None if quiet else (lambda m: err.print(f"[dim]{escape(str(m))}[/]", markup=True)),
        )
        if engine == "spark":
            analyze_on_spark(run, chosen, master=spark_master, conf=conf)
        else:
            run_analyze(run, chosen)
        n_articles = len(run.articles) if run.articles is not None else store.count("articles")
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in run.timings.items())
    counts = f"{n_articles} articles, {len(run.pairs)} reuse pairs, {len(run.families)} families"
    err.print(f"{counts} ({timings}); wrote {out}", highlight=False)


# ---- reuse -----------------------------------------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise NewstraceError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise NewstraceError(f"{path}: not valid UTF-8 (byte {exc.start})") from None
    except OSError as exc:  # a folder, no permission, ...
        raise NewstraceError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _passage_dict(p: Any) -> dict:
    return {"copy_start": p.copy_start, "copy_end": p.copy_end, "source_start": p.source_start,
            "source_end": p.source_end}


@app.command()
@clean_errors
def align(
    copy: Annotated[Path | None, typer.Argument(help="The copy's text file.")] = None,
    source: Annotated[Path | None, typer.Argument(help="The source's text file.")] = None,
    pairs: Annotated[Path | None, typer.Option("--pairs", help="File of COPY_PATH<TAB>SOURCE_PATH lines.")] = None,
    workers: Annotated[int, typer.Option("--workers")] = 2,
    json_: JsonFlag = False,
    jsonl: JsonlFlag = False,
) -> None:
    """Align a pair of texts (or a batch with --pairs) and print the reused passages."""
    from newstrace.reuse.align import align as align_texts
    from newstrace.reuse.align import align_many

    if pairs is not None:
        jobs = []
        for n, line in enumerate(_read_text(pairs).splitlines(), 1):
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) != 2:
                raise NewstraceError(f"{pairs}:{n}: expected COPY_PATH<TAB>SOURCE_PATH")
            jobs.append((Path(parts[0]), Path(parts[1])))
        texts = [(_read_text(s), _read_text(c)) for c, s in jobs]
        results = align_many(texts, workers=workers)
        for (c, s), passages in zip(jobs, results, strict=True):
            print(json.dumps({"copy": str(c), "source": str(s), "passages": [_passage_dict(p) for p in passages]}))
        return
    if copy is None or source is None:
        raise NewstraceError("give COPY and SOURCE, or --pairs FILE")
    copy_text, source_text = _read_text(copy), _read_text(source)
    passages = align_texts(source_text, copy_text)
    row = {"copy": str(copy), "source": str(source), "passages": [_passage_dict(p) for p in passages]}
    if json_ or jsonl:
        print(json.dumps(row, ensure_ascii=False))
        return
    from newstrace.views import print_alignment

    print_alignment(source_text, copy_text, passages)


@app.command()
@clean_errors
def query(
    file: Annotated[Path, typer.Argument(help="A text file: where did this text come from?")],
    db: DbOption = Path("newstrace.duckdb"),
    top: Annotated[int, typer.Option("--top")] = 10,
    json_: JsonFlag = False,
    jsonl: JsonlFlag = False,
    csv_: CsvFlag = False,
) -> None:
    """Rank the stored articles this text reuses, with the passages, without re-running the corpus.

    Articles stored but not yet in the query index (e.g. by `analyze`) are indexed first, once.
    """
    from newstrace.reuse.query import index_articles, query_text
    from newstrace.store import Store

    text = _read_text(file)
    if not Path(db).is_file():
        raise NewstraceError(f"{db}: no such store (run `newstrace ingest ... --db {db}`)")
    with Store(db) as store:
        added = index_articles(store.con)
        if added:
            err.print(f"indexed {added} articles for queries", highlight=False)
        hits = query_text(text, store.con, top=top)
        meta = {a.id: a for a in store.iter_articles([h.article_id for h in hits])} if hits else {}
    rows = (
        {
            "article_id": h.article_id,
            "outlet": meta[h.article_id].outlet if h.article_id in meta else None,
            "published": meta[h.article_id].contract_row()["published"] if h.article_id in meta else None,
            "title": meta[h.article_id].title if h.article_id in meta else None,
            "score": round(h.score, 4),
            "passages": [_passage_dict(p) for p in h.passages],
        }
        for h in hits
    )
    emit_rows(rows, choose_format(json_, jsonl, csv_),
              columns=["article_id", "outlet", "published", "score", "passages"], title=f"sources of {file}")


@app.command()
@clean_errors
def reuse(
    db: DbOption = Path("newstrace.duckdb"),
    workers: Annotated[int, typer.Option("--workers")] = 2,
    quiet: QuietOption = False,
    json_: JsonFlag = False,
    jsonl: JsonlFlag = False,
    csv_: CsvFlag = False,
) -> None:
    """Find reuse among the stored articles (replacing earlier results) and list the pairs."""
    from newstrace.export import reuse_rows
    from newstrace.pipeline import Run
    from newstrace.pipeline import analyze as run_analyze
    from newstrace.store import Store

    with Store(db) as store, progress_bar(quiet) as progress:
        run = run_analyze(Run(store=store, workers=workers, progress=progress), ["reuse"])
    emit_rows(reuse_rows(run.pairs), choose_format(json_, jsonl, csv_),
              columns=["source", "copy", "score", "direction"], title="reuse pairs")


# ---- edits and signals ---------------------------------------------------------------------------------------------


@app.command()
@clean_errors
def diff(
    source: Annotated[Path, typer.Argument(help="The earlier text.")],
    copy: Annotated[Path, typer.Argument(help="The later text.")],
    json_: JsonFlag = False,
    html: Annotated[Path | None, typer.Option("--html", help="Write a self-contained HTML diff here.")] = None,
) -> None:
    """What changed between SOURCE and COPY: systematic edits first, then the texts side by side."""
    from newstrace.edits.corpus import pair_record
    from newstrace.reuse.align import align as align_texts

    source_text, copy_text = _read_text(source), _read_text(copy)
    passages = align_texts(source_text, copy_text)
    record = pair_record(source.stem, copy.stem, source_text, copy_text, passages)
    if json_:
        print(json.dumps(record, ensure_ascii=False))
    elif html is not None:
        from newstrace.export import write_text
        from newstrace.report import render_diff_page

        write_text(html, render_diff_page(source.name, copy.name, source_text, copy_text, record))
        err.print(f"wrote {html}")
    else:
        from newstrace.views import print_diff

        print_diff(source_text, copy_text, record)


@app.command()
@clean_errors
def signals(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of articles.")],
    jsonl: JsonlFlag = False,
    json_: JsonFlag = False,
    max_bytes: MaxBytesOption = 20 * 1024 * 1024,
    doc_timeout: DocTimeoutOption = 60.0,
    technique_model: TechniqueModelOption = "default",
    min_confidence: MinConfidenceOption = 0.0,
) -> None:
    """Persuasion techniques, attributions and injections of each article (contract lines with --jsonl)."""
    from newstrace.blas import one_blas_thread
    from newstrace.export import jsonl_line
    from newstrace.ingest.sources import Problem, iter_input_files, read_file
    from newstrace.signals.analyse import analyse_article
    from newstrace.signals.techniques import ready_model
    from newstrace.timelimit import DocumentTimeout, time_limit

    model = ready_model(technique_model, min_confidence)

    results = []
    for item in iter_input_files(paths):
        records = [item] if isinstance(item, Problem) else read_file(item, max_bytes=max_bytes,
                                                                     doc_seconds=doc_timeout)
        for record in records:
            if isinstance(record, Problem):
                report_problem(record)
                continue
            try:
                with time_limit(doc_timeout), one_blas_thread():
                    row = analyse_article(record, model)
            except DocumentTimeout as exc:
                report_problem(Problem(record.source_file or record.id, record.record,
                                       f"analysis {exc} (the --doc-timeout)"))
                continue
            if jsonl:
                print(jsonl_line({k: row[k] for k in ("id", "techniques", "attributions", "injections")}))
            else:
                results.append((record, row))
    if json_:
        print(json.dumps([row for _, row in results], ensure_ascii=False, indent=2))
    elif not jsonl:
        from newstrace.views import print_signals

        for article, row in results:
            print_signals(article, row)


# ---- network, report, serve ------------------------------------------------------------------------------------------


@app.command()
@clean_errors
def network(
    db: DbOption = Path("newstrace.duckdb"),
    out: Annotated[Path, typer.Option("--out", help="Folder for GraphML, GEXF, CSV and SVG.")] = Path("network"),
    json_: JsonFlag = False,
) -> None:
    """Build the outlet network from the stored reuse pairs and export it."""
    from newstrace.network import build_graph, network_summary
    from newstrace.network.export import export_all
    from newstrace.store import Store

    with Store(db, read_only=True) as store:
        graph = build_graph(list(store.iter_articles()), store.reuse_pairs())
    written = export_all(graph, out)
    summary = network_summary(graph)
    if json_:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    err.print(f"wrote {', '.join(str(p) for p in written)}")


@app.command()
@clean_errors
def report(
    db: DbOption = Path("newstrace.duckdb"),
    out: Annotated[Path, typer.Option("--out", help="Folder to write report.html (and the contract files) into.")]
    = Path("newstrace-report"),
) -> None:
    """Write the contract files and report.html from a store, running any stage whose results are missing."""
    from newstrace.export import ensure_writable
    from newstrace.pipeline import Run
    from newstrace.pipeline import analyze as run_analyze
    from newstrace.store import Store

    if not Path(db).is_file():
        # Store(db) would create an empty store and write an empty report: a typo'd --db is far likelier.
        raise NewstraceError(f"{db}: no such store (run `newstrace ingest ... --db {db}`)")
    ensure_writable(out)
    with Store(db) as store:
        run = Run(store=store, out_dir=out)
        run_analyze(run, ["reuse", "edits", "signals", "network", "report"])
    err.print(f"wrote {out / 'report.html'}")


@app.command()
@clean_errors
def serve(
    db: DbOption = Path("newstrace.duckdb"),
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8765,
    workers: Annotated[int, typer.Option("--workers", help="Server processes (each keeps its own page cache).")] = 1,
) -> None:
    """A local web app over the store (read-only), with a box to check a new article.

    It listens on 127.0.0.1 only, unless --host says otherwise: it has no login, so on any other address everyone
    who can reach the port can read the whole store."""
    import os

    import uvicorn

    from newstrace.store import Store
    from newstrace.web.app import create_app
    from newstrace.web.limits import LOOPBACK_HOSTS, SERVER_OPTIONS

    # Open the store here so a missing or broken one is one clean error, not a traceback in each worker.
    Store(db, read_only=True).close()
    # On loopback the app answers only to this machine's names (no DNS rebinding); elsewhere to any name.
    allowed = (*LOOPBACK_HOSTS, host.strip("[]").lower()) if is_loopback(host) else None
    if not is_loopback(host):
        err.print(f"[bold yellow]warning:[/] serving on {escape(host)}, not on 127.0.0.1: the app has no login, so "
                  f"anyone who can reach port {port} of this machine can read every article in {escape(str(db))} "
                  "and run checks on it. Use the default host unless that is what you want.", markup=True)
    err.print(f"newstrace on http://{host}:{port}/ (Ctrl-C to stop)", highlight=False)
    if workers > 1:
        os.environ["NEWSTRACE_DB"] = str(Path(db).resolve())
        if allowed:
            os.environ["NEWSTRACE_ALLOWED_HOSTS"] = ",".join(allowed)
        uvicorn.run("newstrace.web.app:app_from_env", factory=True, workers=workers, host=host, port=port,
                    log_level="warning", **SERVER_OPTIONS)
    else:
        uvicorn.run(create_app(db, allowed_hosts=allowed), host=host, port=port, log_level="warning",
                    **SERVER_OPTIONS)


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@app.command()
@clean_errors
def errors(
    db: DbOption = Path("newstrace.duckdb"),
    json_: JsonFlag = False,
    jsonl: JsonlFlag = False,
    csv_: CsvFlag = False,
) -> None:
    """List the documents that ingest reported and skipped: file, record and reason."""
    from newstrace.store import Store

    with Store(db, read_only=True) as store:
        rows = store.con.execute("SELECT file, record, reason FROM errors ORDER BY file, record").fetchall()
    emit_rows(({"file": f, "record": r, "reason": why} for f, r, why in rows), choose_format(json_, jsonl, csv_),
              columns=["file", "record", "reason"], title="ingest problems")


# ---- synthetic benchmark ---------------------------------------------------------------------------------------------


@synth_app.command("generate")
@clean_errors
def synth_generate(
    out: Annotated[Path, typer.Option("--out", help="Folder for corpus.jsonl and truth.json.")],
    articles: Annotated[int, typer.Option("--articles", "-n")] = 500,
    seed: Annotated[int, typer.Option("--seed")] = 13,
    base: Annotated[Path | None, typer.Option("--base", help="Folder of base articles (.txt).")] = None,
) -> None:
    """Generate a seeded synthetic corpus of laundering chains, with its ground truth."""
    from newstrace.synth.generate import generate

    corpus = generate(out, n_articles=articles, seed=seed, base_dir=base)
    err.print(f"wrote {corpus}")


@synth_app.command("score")
@clean_errors
def synth_score(
    truth: Annotated[Path, typer.Argument(help="truth.json from `synth generate`.")],
    run_dir: Annotated[Path, typer.Argument(help="An `analyze --out` folder.")],
) -> None:
    """Score an analyze run against the synthetic truth (pairs, passages, edits, families, network)."""
    from newstrace.eval.synth_score import score

    print(json.dumps(score(truth, run_dir), indent=2))


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
