"""Writers for the v1 output contract (DESIGN.md §2): JSONL lines, Parquet twins, and the empty files of a stage
that did not run. Field names and order here are what users' scripts rely on: change them only with the contract.

Every output file is written through `atomic_path`: into a hidden temporary file beside it, renamed over the real
name only once complete. A run killed midway, a full disk or a read-only folder never leaves a half-written file
under a contract name; the failure is one `OutputError` naming the file and the reason.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict
from pathlib import Path
from typing import IO

import orjson

from newstrace.errors import OutputError
from newstrace.model import Article, Family, ReusePair

try:  # the compiled JSON literals (setup.py); `_json_string` is their reference, with the same bytes
    from newstrace import _json_kernel
except ImportError:  # pragma: no cover - an install without a C compiler
    _json_kernel = None

PARTIAL = ".partial-"  # temporary files are named ".NAME.partial-PID"

CONTRACT_FILES = (
    "report.html",
    "articles.jsonl",
    "reuse.jsonl",
    "families.jsonl",
    "edits.jsonl",
    "signals.jsonl",
    "network.graphml",
)

EMPTY_GRAPHML = """<?xml version='1.0' encoding='utf-8'?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" \
xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">
  <key id="d0" for="node" attr.name="articles" attr.type="long"/>
  <key id="d1" for="node" attr.name="community" attr.type="long"/>
  <key id="d2" for="edge" attr.name="weight" attr.type="long"/>
  <key id="d3" for="edge" attr.name="median_lag_hours" attr.type="double"/>
  <graph edgedefault="directed"/>
</graphml>
"""


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside `path` to write to; renamed to `path` when the block ends without error, removed
    when it fails. An OSError (full disk, read-only folder) becomes an OutputError naming `path`."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}{PARTIAL}{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        with suppress(OSError):
            tmp.unlink()
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    except BaseException:
        with suppress(OSError):
            tmp.unlink()
        raise


@contextmanager
def atomic_write(path: str | Path) -> Iterator[IO[str]]:
    """A UTF-8 text handle whose content appears under `path` only once it is complete (see `atomic_path`)."""
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as handle:
        yield handle


def write_text(path: str | Path, text: str) -> None:
    with atomic_write(path) as handle:
        handle.write(text)


class BackgroundLines:
    """Lines (UTF-8 bytes, each with its line end) written to a temporary file on a thread of their own, while the
    caller goes on; `finish()` puts the file in place (as `atomic_path` does), `discard()` removes it. Until
    `finish`, no contract name is touched, so a run that fails later leaves the output folder as it was.

    For a file whose content is final early (articles.jsonl, once ingest has stored the corpus): the thread runs
    while the stages' worker processes keep the cores busy and the calling process mostly waits on them."""

    def __init__(self, path: Path, lines: Iterable[bytes]):
        self.path = Path(path)
        self.tmp = self.path.with_name(f".{self.path.name}{PARTIAL}{os.getpid()}")
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._write, args=(lines,), name=f"write {self.path.name}", daemon=True)
        self._thread.start()

    def _write(self, lines: Iterable[bytes]) -> None:
        try:
            with self.tmp.open("wb") as handle:
                handle.writelines(lines)
        except BaseException as exc:  # handed to the caller by finish()
            self._error = exc

    def finish(self) -> None:
        self._thread.join()
        try:
            if self._error is not None:
                raise self._error
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.discard()
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}") from exc
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        self._thread.join()
        with suppress(OSError):
            self.tmp.unlink()


def remove_partials(folder: Path) -> None:
    """Remove the temporary files a killed run left behind in `folder`."""
    for stale in folder.glob(f".*{PARTIAL}*"):
        with suppress(OSError):
            stale.unlink()


def ensure_writable(folder: Path) -> None:
    """Create `folder` and prove a file can be written in it, before any long work: a read-only or missing output
    folder is one clear error at the start, not after an hour of analysis."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".newstrace-write-test{PARTIAL}{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"cannot write into {folder}: {exc.strerror or exc}") from exc


# Line breaks json.dumps leaves raw with ensure_ascii=False, which str.splitlines() and some JSON Lines readers
# split on: escaped, so one record is one line however its consumer splits.
_LINE_BREAKS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"})


def jsonl_line(row: object) -> str:
    """One JSON Lines record (no line end): UTF-8 text kept readable, every line break inside it escaped."""
    line = json.dumps(row, ensure_ascii=False)
    if "\u2028" in line or "\u2029" in line or "\x85" in line:
        line = line.translate(_LINE_BREAKS)
    return line


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A value as a CSV cell that a spreadsheet shows rather than runs: a string starting like a formula (=, +, -, @,
    tab, carriage return) gets a leading apostrophe, as OWASP advises. Numbers and other strings are unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_jsonl(path: Path, rows: Iterable[dict]) -> int:
    """Write one JSON object per line, UTF-8, without ASCII escaping. Returns the number of lines."""
    return _write_lines(path, map(jsonl_line, rows))


def _write_lines(path: Path, lines: Iterable[str]) -> int:
    n = 0
    with atomic_write(path) as handle:
        for line in lines:
            handle.write(line)
            handle.write("\n")
            n += 1
    return n


def article_rows(articles: Iterable[Article]) -> Iterator[dict]:
    for a in articles:
        yield a.contract_row()


def _json_string(value: str | None) -> str:
    """`json.dumps(value, ensure_ascii=False)` for a str or None, through orjson: the same escapes, several times
    faster on long texts. orjson refuses a lone surrogate, which json writes; that rare value goes through json."""
    if value is None:
        return "null"
    if not value.isascii():
        # orjson reads a non-ASCII str through its UTF-8 form, which CPython then keeps inside the str for its
        # lifetime: a second copy of every text a run holds (93 MB at 30,000 articles, while articles.jsonl is
        # written beside the later stages). A temporary copy takes the cache instead; it costs no measurable time.
        value = value.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False)


def article_line(a: Article) -> str:
    """`jsonl_line(a.contract_row())`, byte for byte, built field by field. Articles are most of what a run
    writes, and json's encoder spends most of a run's writing time on their texts."""
    published = a.published.isoformat() if a.published else None
    line = (f'{{"id": {_json_string(a.id)}, "url": {_json_string(a.url)}, "outlet": {_json_string(a.outlet)}, '
            f'"published": {_json_string(published)}, "title": {_json_string(a.title)}, '
            f'"text": {_json_string(a.text)}}}')
    if "\u2028" in line or "\u2029" in line or "\x85" in line:
        line = line.translate(_LINE_BREAKS)
    return line


def write_articles(path: Path, articles: Iterable[Article]) -> int:
    """`articles.jsonl`: one `article_line` per article. Returns the number of lines."""
    return _write_lines(path, map(article_line, articles))


def _json_utf8(value: str | None) -> bytes:
    """`_json_string(value)` with `_LINE_BREAKS` applied, in UTF-8: `_json_kernel.json_string` where built."""
    if value is None:
        return b"null"
    if _json_kernel is not None and (literal := _json_kernel.json_string(value)) is not None:
        return literal
    return _json_string(value).translate(_LINE_BREAKS).encode("utf-8")  # a lone surrogate fails here, as in json


def article_line_utf8(a: Article) -> bytes:
    """`article_line(a)` in UTF-8 with its line end, built from the fields' JSON literals in C (a third of the
    time: no UTF-8 copy of each text before the escaping, no decoding after it)."""
    published = a.published.isoformat() if a.published else None
    return b"".join((b'{"id": ', _json_utf8(a.id), b', "url": ', _json_utf8(a.url), b', "outlet": ',
                     _json_utf8(a.outlet), b', "published": ', _json_utf8(published), b', "title": ',
                     _json_utf8(a.title), b', "text": ', _json_utf8(a.text), b"}\n"))


def write_articles_in_background(path: Path, articles: Sequence[Article]) -> BackgroundLines:
    """`write_articles` on a thread (see `BackgroundLines`): the same file, put in place by `finish()`."""
    return BackgroundLines(path, map(article_line_utf8, articles))


def reuse_rows(pairs: Iterable[ReusePair]) -> Iterator[dict]:
    for p in pairs:
        yield {
            "source": p.source,
            "copy": p.copy,
            "score": round(float(p.score), 4),
            "direction": p.direction,
            "passages": [
                {
                    "source_start": q.source_start,
                    "source_end": q.source_end,
                    "copy_start": q.copy_start,
                    "copy_end": q.copy_end,
                }
                for q in p.passages
            ],
        }


def family_rows(families: Iterable[Family]) -> Iterator[dict]:
    for f in families:
        yield {"family": f.family, "origin": f.origin, "members": list(f.members)}


def dataclass_rows(items: Iterable[object]) -> Iterator[dict]:
    for item in items:
        yield asdict(item)  # type: ignore[call-overload]


def write_parquet(path: Path, rows: list[dict]) -> None:
    """A Parquet twin of a JSONL file, for notebooks and Spark. Nested fields are kept as JSON strings."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    flat = [{k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v) for k, v in r.items()}
            for r in rows]
    with atomic_path(path) as tmp:
        pq.write_table(pa.Table.from_pylist(flat) if flat else pa.table({}), tmp)


def read_jsonl(path: Path) -> Iterator[dict]:
    """The objects of a JSONL file (blank lines skipped); nothing when the file is absent."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def read_reuse(out_dir: Path) -> tuple[list[ReusePair], list[Family]]:
    """Pairs and families back from an `analyze --out` folder (e.g. one written by the Spark engine)."""
    from newstrace.model import Passage

    pairs = [
        ReusePair(r["source"], r["copy"], r["score"], r["direction"], [Passage(**q) for q in r["passages"]])
        for r in read_jsonl(out_dir / "reuse.jsonl")
    ]
    families = [Family(f["family"], f["origin"], f["members"]) for f in read_jsonl(out_dir / "families.jsonl")]
    return pairs, families
