"""The embedded store: one DuckDB file whose tables are named after what they hold.

A user can open it with the `duckdb` CLI:

    articles        one row per article, with provenance (source_file, record, extractor)
    errors          every document that was reported and skipped, with file, record and reason
    ingested_files  input files read to the end, so a rerun skips them (resumable ingest)
    reuse_pairs     one row per directed reuse pair; passages as JSON
    families        reuse families with their origin; members in family_members
    edits           one row per aligned pair: the edit script and its systematic edits as JSON
    signals         one row per article: techniques, attributions, injections, sourcing as JSON
    outlets         the network's nodes: articles, community, role (lead / amplifier / independent)
    outlet_edges    source outlet -> copying outlet, with weight, lags, coordination flag and evidence pairs
    fingerprints    per outlet, the systematic edits it applies across its copies
    shingles        the reuse index, owned by newstrace.reuse (created on demand)

Writes go in transactions of a batch of articles: after a crash (even `kill -9`) the file holds every committed
batch, and `INSERT ... ON CONFLICT DO NOTHING` on the primary key makes the rerun idempotent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb

from newstrace.errors import StoreError
from newstrace.model import Article, Family, Passage, ReusePair

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id VARCHAR PRIMARY KEY,
    url VARCHAR,
    outlet VARCHAR,
    published TIMESTAMPTZ,
    title VARCHAR,
    text VARCHAR NOT NULL,
    source_file VARCHAR,
    record VARCHAR,
    extractor VARCHAR,
    ingested_at TIMESTAMPTZ DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS errors (
    file VARCHAR,
    record VARCHAR,
    reason VARCHAR,
    reported_at TIMESTAMPTZ DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS ingested_files (
    path VARCHAR PRIMARY KEY,
    size BIGINT,
    mtime DOUBLE,
    articles INTEGER,
    problems INTEGER,
    completed_at TIMESTAMPTZ DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS reuse_pairs (
    source VARCHAR,
    copy VARCHAR,
    score DOUBLE,
    direction VARCHAR,
    passages JSON,
    PRIMARY KEY (source, copy)
);
CREATE TABLE IF NOT EXISTS families (
    family VARCHAR PRIMARY KEY,
    origin VARCHAR,
    size INTEGER
);
CREATE TABLE IF NOT EXISTS family_members (
    family VARCHAR,
    article_id VARCHAR,
    PRIMARY KEY (family, article_id)
);
CREATE TABLE IF NOT EXISTS edits (
    source VARCHAR,
    copy VARCHAR,
    edits JSON,
    systematic JSON,
    PRIMARY KEY (source, copy)
);
CREATE TABLE IF NOT EXISTS outlets (
    outlet VARCHAR PRIMARY KEY,
    articles INTEGER,
    community INTEGER,
    role VARCHAR
);
CREATE TABLE IF NOT EXISTS outlet_edges (
    source_outlet VARCHAR,
    copy_outlet VARCHAR,
    weight INTEGER,
    median_lag_hours DOUBLE,
    min_lag_hours DOUBLE,
    coordinated BOOLEAN,
    evidence JSON,
    PRIMARY KEY (source_outlet, copy_outlet)
);
CREATE TABLE IF NOT EXISTS fingerprints (
    outlet VARCHAR,
    fingerprint JSON
);
CREATE TABLE IF NOT EXISTS signals (
    id VARCHAR PRIMARY KEY,
    techniques JSON,
    attributions JSON,
    injections JSON,
    sourcing JSON
);
"""

ARTICLE_COLUMNS = ("id", "url", "outlet", "published", "title", "text", "source_file", "record", "extractor")


class Store:
    """A thin wrapper over one DuckDB connection. `con` stays public for SQL the wrapper does not cover."""

    def __init__(self, path: str | Path = ":memory:", *, read_only: bool = False):
        self.path = str(path)
        try:
            if read_only:
                if not Path(self.path).is_file():
                    raise StoreError(f"{self.path}: no such store (run `newstrace ingest ... --db {self.path}`)")
                self.con = duckdb.connect(self.path, read_only=True)
            else:
                if self.path != ":memory:":
                    Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                self.con = duckdb.connect(self.path)
                # DuckDB checkpoints the WAL into the file every 16 MB by default, which made bulk ingest spend half
                # its time saving. Committed transactions stay durable in the WAL either way.
                self.con.execute("SET checkpoint_threshold = '1GB'")
                self.con.execute(SCHEMA)
        except duckdb.Error as exc:
            raise StoreError(f"{self.path}: cannot open store: {exc}") from exc
        self.con.execute("SET TimeZone = 'UTC'")
        self.background_error: duckdb.Error | None = None  # why a background checkpoint failed, if it did

    def close(self) -> None:
        self.con.close()

    @contextmanager
    def lean(self, memory_limit: str = "512MB") -> Iterator[None]:
        """While the block runs, DuckDB keeps at most `memory_limit` of buffers, then its default again.

        For the Spark engine: the driver's store idles while Spark works, but after a bulk ingest its buffer pool
        (up to 80% of RAM by default) still holds the corpus, memory the JVMs need (5.4 GB at 1M articles). The
        checkpoint first lets the data leave memory: until then it exists nowhere else but the WAL. An in-memory
        store has nowhere to put its data, so it is left as it is."""
        if self.path == ":memory:":
            yield
            return
        self.con.execute("CHECKPOINT")
        self.con.execute(f"SET memory_limit = '{memory_limit}'")
        try:
            yield
        finally:
            self.con.execute("RESET memory_limit")

    def checkpoint_in_background(self) -> threading.Thread:
        """Start folding the WAL into the database file on a thread of its own; `join()` the thread before closing.

        Bulk ingest leaves the WAL large (see `checkpoint_threshold`), and `close()` would otherwise spend seconds
        checkpointing after everything else is done. DuckDB releases the GIL while it checkpoints, so this overlaps
        with Python writing the output files. It fails when another transaction is open (a cursor still reading);
        then `close()` checkpoints as before."""

        # the cursor (a connection of its own) is made here: the main thread may be using `con` meanwhile, and a
        # DuckDB connection refuses a call from a second thread while it is busy
        cur = self.con.cursor()

        def work() -> None:
            try:
                with cur:
                    cur.execute("CHECKPOINT")
            except (duckdb.IOException, duckdb.FatalException) as exc:
                # a full disk: DuckDB invalidates the database, and every later call only says so; this keeps
                # the reason for the caller (see `raise_background_error`)
                self.background_error = exc
            except duckdb.Error:
                pass  # another transaction was open: close() checkpoints instead

        thread = threading.Thread(target=work, name="newstrace-checkpoint", daemon=True)
        thread.start()
        return thread

    def raise_background_error(self, cause: BaseException | None = None) -> None:
        """Raise a StoreError naming why the background checkpoint failed, if it did."""
        if self.background_error is not None:
            raise StoreError(f"{self.path}: {self.background_error}") from (cause or self.background_error)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- articles -----------------------------------------------------------------------------------------------

    def add_articles(self, articles: Sequence[Article]) -> int:
        """Insert a batch in one transaction; ids already stored are left as they are. Returns rows added."""
        if not articles:
            return 0
        import pyarrow as pa

        table = pa.table(
            {
                "id": [a.id for a in articles],
                "url": [a.url for a in articles],
                "outlet": [a.outlet for a in articles],
                "published": pa.array([a.published for a in articles], type=pa.timestamp("us", tz="UTC")),
                "title": _utf8([a.title for a in articles]),
                "text": _utf8([a.text for a in articles]),
                "source_file": [a.source_file for a in articles],
                "record": [a.record for a in articles],
                "extractor": [a.extractor for a in articles],
            }
        )
        self.con.register("_incoming", table)
        try:
            # One statement is one transaction. DISTINCT ON keeps the first of two records sharing an id in a batch.
            added = self.con.execute(
                f"INSERT INTO articles ({', '.join(ARTICLE_COLUMNS)}) "
                f"SELECT DISTINCT ON (id) {', '.join(ARTICLE_COLUMNS)} FROM _incoming ON CONFLICT DO NOTHING"
            ).fetchall()[0][0]
        finally:
            self.con.unregister("_incoming")
        return int(added)

    def existing_ids(self, ids: Iterable[str]) -> set[str]:
        wanted = list(ids)
        if not wanted:
            return set()
        rows = self.con.execute("SELECT id FROM articles WHERE id IN (SELECT unnest(?))", [wanted]).fetchall()
        return {r[0] for r in rows}

    def count(self, table: str) -> int:
        return self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]

    def iter_articles(self, ids: Sequence[str] | None = None, batch_size: int = 5000) -> Iterator[Article]:
        sql = f"SELECT {', '.join(ARTICLE_COLUMNS)} FROM articles"
        params: list = []
        if ids is not None:
            sql += " WHERE id IN (SELECT unnest(?))"
            params.append(list(ids))
        cur = self.con.cursor()
        cur.execute(sql + " ORDER BY id", params)
        while True:
            rows = cur.fetchmany(batch_size)
            if not rows:
                break
            for row in rows:
                yield _article_from_row(row)

    def get_article(self, article_id: str) -> Article | None:
        found = list(self.iter_articles([article_id]))
        return found[0] if found else None

    # ---- ingest bookkeeping -------------------------------------------------------------------------------------

    def done_files(self) -> set[tuple[str, int, float]]:
        """(resolved path, size, mtime) of every input file read to the end."""
        rows = self.con.execute("SELECT path, size, mtime FROM ingested_files").fetchall()
        return {(p, int(s), float(m)) for p, s, m in rows}

    def mark_files_done(self, files: Sequence[tuple[Path, int, int]]) -> None:
        """Record (path, articles, problems) for files whose articles are all committed."""
        if not files:
            return
        import pyarrow as pa

        stats = [path.stat() for path, _, _ in files]
        table = pa.table({
            "path": [str(path.resolve()) for path, _, _ in files],
            "size": [st.st_size for st in stats],
            "mtime": [st.st_mtime for st in stats],
            "articles": [a for _, a, _ in files],
            "problems": [p for _, _, p in files],
        })
        # executemany costs milliseconds a row in DuckDB; one Arrow insert costs the same for a thousand rows.
        self.con.register("_done_files", table)
        try:
            self.con.execute(
                "INSERT OR REPLACE INTO ingested_files (path, size, mtime, articles, problems) "
                "SELECT DISTINCT ON (path) * FROM _done_files"
            )
        finally:
            self.con.unregister("_done_files")

    def add_error(self, file: str, record: str | None, reason: str) -> None:
        self.con.execute("INSERT INTO errors (file, record, reason) VALUES (?, ?, ?)", [file, record, reason])

    def add_errors(self, rows: Sequence[tuple[str, str | None, str]]) -> None:
        """Many (file, record, reason) rows in one statement: a corpus with a million bad rows stays fast."""
        if not rows:
            return
        import pyarrow as pa

        table = pa.table({
            "file": [r[0] for r in rows], "record": [r[1] for r in rows], "reason": [r[2] for r in rows],
        })
        self.con.register("_errors", table)
        try:
            self.con.execute("INSERT INTO errors (file, record, reason) SELECT file, record, reason FROM _errors")
        finally:
            self.con.unregister("_errors")

    # ---- stage results ------------------------------------------------------------------------------------------

    def replace_reuse(self, pairs: Sequence[ReusePair], families: Sequence[Family]) -> None:
        self.replace_rows(
            "reuse_pairs",
            [(p.source, p.copy, float(p.score), p.direction, json.dumps([asdict(q) for q in p.passages]))
             for p in pairs],
        )
        self.replace_rows("families", [(f.family, f.origin, len(f.members)) for f in families])
        self.replace_rows("family_members", [(f.family, m) for f in families for m in f.members])

    def reuse_pairs(self) -> list[ReusePair]:
        rows = self.con.execute(
            "SELECT source, copy, score, direction, passages FROM reuse_pairs ORDER BY source, copy"
        ).fetchall()
        return [
            ReusePair(s, c, score, d, [Passage(**q) for q in json.loads(passages)])
            for s, c, score, d, passages in rows
        ]

    def families(self) -> list[Family]:
        rows = self.con.execute(
            "SELECT f.family, f.origin, list(m.article_id ORDER BY m.article_id) FROM families f "
            "JOIN family_members m USING (family) GROUP BY f.family, f.origin, f.size ORDER BY f.size DESC, f.family"
        ).fetchall()
        return [Family(fam, origin, members) for fam, origin, members in rows]

    def replace_rows(self, table: str, rows: Sequence[tuple]) -> None:
        """Replace a stage's whole output table in one transaction (stages recompute over the corpus).

        Rows go in as one Arrow table: DuckDB's executemany costs about a millisecond a row.
        """
        import pyarrow as pa

        columns = [c[0] for c in self.con.execute(f"SELECT * FROM {table} LIMIT 0").description]
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.execute(f"DELETE FROM {table}")
            if rows:
                arrow = pa.table({c: [r[i] for r in rows] for i, c in enumerate(columns)})
                self.con.register("_rows", arrow)
                try:
                    self.con.execute(f"INSERT INTO {table} SELECT * FROM _rows")
                finally:
                    self.con.unregister("_rows")
            self.con.execute("COMMIT")
        except duckdb.Error:
            with suppress(duckdb.Error):  # a failed write (a full disk) may leave nothing to roll back
                self.con.execute("ROLLBACK")
            raise


def _utf8(values: list[str | None]) -> Any:
    """A pyarrow string array of `values`, built from their UTF-8 bytes.

    Given a str, pyarrow asks CPython for its UTF-8 form, which CPython then keeps inside the str for as long as
    the str lives: a second copy of every non-ASCII text (93 MB at 30,000 articles) in a run that keeps its
    articles after ingest. Encoding here makes that copy a temporary one."""
    import pyarrow as pa

    return pa.array([None if v is None else v.encode("utf-8") for v in values], type=pa.string())


def as_stored(articles: list[Article]) -> list[Article]:
    """`articles` as `Store.iter_articles` reads them back once stored: ordered by id (DuckDB orders VARCHAR by
    code point, as Python orders str), dates in UTC. Lets a run keep what it just ingested instead of reading it
    back. The dates are converted in place (copying every article would cost more than the conversion), so the
    articles must be the caller's own."""
    utc, zero = timezone.utc, timedelta(0)
    for a in articles:
        if a.published is not None and a.published.utcoffset() != zero:
            a.published = a.published.astimezone(utc)
    return sorted(articles, key=lambda a: a.id)


def _article_from_row(row: tuple) -> Article:
    published = row[3]
    if isinstance(published, datetime) and published.tzinfo is None:
        published = published.replace(tzinfo=timezone.utc)
    return Article(
        id=row[0], url=row[1], outlet=row[2], published=published, title=row[4], text=row[5],
        source_file=row[6], record=row[7], extractor=row[8],
    )
