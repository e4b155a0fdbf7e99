"""Ingest: files and folders of news into the store, resumably, reporting every bad document."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from newstrace.ingest.sources import DEFAULT_MAX_BYTES, Problem, iter_input_files, read_file
from newstrace.model import Article
from newstrace.store import Store
from newstrace.timelimit import DEFAULT_DOC_SECONDS

BATCH_SIZE = 2000  # articles a transaction: smaller batches reach the shingling workers sooner and hold less memory
KEEP_PROBLEMS = 10_000  # problems kept in the report; every one still goes to the errors table and the hook

ProblemHook = Callable[[Problem], None]
ProgressHook = Callable[[int, int, int], None]  # files done, files total, articles added so far
StoredHook = Callable[[list[Article]], None]  # the articles one batch added to the store, once committed


@dataclass
class IngestReport:
    files: int = 0
    files_skipped_done: int = 0
    articles_added: int = 0
    articles_already_stored: int = 0
    problems: list[Problem] = field(default_factory=list)  # the first KEEP_PROBLEMS of them
    problem_count: int = 0

    def add_problem(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < KEEP_PROBLEMS:
            self.problems.append(problem)

    def summary(self) -> str:
        parts = [f"{self.articles_added} articles added from {self.files} files"]
        if self.articles_already_stored:
            parts.append(f"{self.articles_already_stored} already stored")
        if self.files_skipped_done:
            parts.append(f"{self.files_skipped_done} files already ingested")
        parts.append(f"{self.problem_count} problems")
        return ", ".join(parts)


def ingest_paths(
    paths: Iterable[str | Path],
    store: Store,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    doc_seconds: float | None = DEFAULT_DOC_SECONDS,
    on_problem: ProblemHook | None = None,
    on_progress: ProgressHook | None = None,
    on_stored: StoredHook | None = None,
) -> IngestReport:
    """Read every input file into `store`. Safe to rerun: finished files are skipped, known ids are kept.

    Each document gets `doc_seconds` of wall-clock time (None: no limit); one that takes longer is reported.
    `on_stored(articles)` is called with each batch's newly stored articles, as they were stored.
    """
    report = IngestReport()
    errors: list[Problem] = []  # written with each batch of articles: one statement, not one per problem

    def problem(p: Problem) -> None:
        report.add_problem(p)
        errors.append(p)
        if on_problem:
            on_problem(p)

    inputs: list[Path] = []
    unreadable: list[str] = []
    for item in iter_input_files(paths):
        if isinstance(item, Problem):
            unreadable.append(item.file)
            problem(item)
        else:
            inputs.append(item)

    done_before = store.done_files()
    pending: list[Path] = []
    for path in inputs:
        stat = path.stat()
        if (str(path.resolve()), stat.st_size, stat.st_mtime) in done_before:
            report.files_skipped_done += 1
        else:
            pending.append(path)
    report.files = len(inputs)
    if pending or unreadable:
        # A file is re-read from the start after a crash: its old error rows go, so they are not doubled.
        store.con.execute("DELETE FROM errors WHERE file IN (SELECT unnest(?))", [[*map(str, pending), *unreadable]])

    batch: list[Article] = []
    finished: list[tuple[Path, int, int]] = []  # files whose articles all sit in `batch` or the store
    committer = _Committer()

    def flush() -> None:
        nonlocal batch, finished
        committer.wait()  # the batch before is committed: the duplicate check below sees it
        fresh = _fresh(store, batch, report, problem)
        rows, done = [(p.file, p.record, p.reason) for p in errors], finished
        errors.clear()

        def commit() -> None:
            added = store.add_articles(fresh)
            report.articles_added += added
            # `fresh` holds distinct ids none of which was stored, so the insert added each of them, unless another
            # connection stored some of them meanwhile; the hook then hears of none (its users check their counts)
            if added and added == len(fresh) and on_stored:
                on_stored(fresh)
            store.add_errors(rows)
            # Marked only after their articles and errors are committed: a crash in between means a harmless re-read.
            store.mark_files_done(done)

        # committed on a thread while the next batch is parsed: DuckDB works without the GIL
        committer.submit(commit)
        batch, finished = [], []

    try:
        for done, path in enumerate(pending):
            if on_progress:
                on_progress(done + report.files_skipped_done, len(inputs), report.articles_added)
            found = problems_here = 0
            for record in read_file(path, max_bytes=max_bytes, doc_seconds=doc_seconds):
                if isinstance(record, Problem):
                    problems_here += 1
                    problem(record)
                    continue
                found += 1
                batch.append(record)
                if len(batch) >= BATCH_SIZE or len(errors) >= BATCH_SIZE:
                    flush()
            finished.append((path, found, problems_here))
        flush()
        committer.wait()
    finally:
        committer.close()  # on any failure, the batch being committed ends before the store is used again
    if on_progress:
        on_progress(len(inputs), len(inputs), report.articles_added)
    return report


class _Committer:
    """One batch at a time committed on a thread of its own; `wait()` raises what the last commit raised."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future | None = None

    def submit(self, commit: Callable[[], None]) -> None:
        self.wait()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-commit")
        self._pending = self._pool.submit(commit)

    def wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def _fresh(store: Store, batch: Sequence[Article], report: IngestReport, problem: ProblemHook) -> list[Article]:
    """The articles of a batch to store: ids already stored from a different file or record are reported, the same
    record again (a rerun) is counted, and the first of two records sharing an id in the batch is kept."""
    if not batch:
        return []
    stored = dict(
        store.con.execute(
            "SELECT id, coalesce(source_file, '') || '#' || coalesce(record, '') FROM articles "
            "WHERE id IN (SELECT unnest(?))",
            [[a.id for a in batch]],
        ).fetchall()
    )
    fresh: list[Article] = []
    seen: dict[str, str] = {}
    for a in batch:
        origin = f"{a.source_file or ''}#{a.record or ''}"
        first = stored.get(a.id) or seen.get(a.id)
        if first is None:
            seen[a.id] = origin
            fresh.append(a)
        elif first == origin:
            report.articles_already_stored += 1  # the same record again: a rerun
        else:
            where = first.rstrip("#")
            problem(Problem(a.source_file or "?", a.record, f"id '{a.id}' already ingested from {where}; skipped"))
    return fresh


__all__ = ["IngestReport", "Problem", "ingest_paths", "DEFAULT_MAX_BYTES"]
