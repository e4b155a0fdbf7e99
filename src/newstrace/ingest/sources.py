"""Input files to articles: one reader per format, each yielding `Article`s and `Problem`s.

A reader never raises for bad content. Every bad document becomes a `Problem` naming the file, the record and the
reason, and the reader goes on with the next record, so one hostile document never kills a corpus run. Memory stays
bounded whatever a file holds (`guards`: line limits, decompression-bomb checks), and each document has a time limit
(`newstrace.timelimit`): a document that takes longer is reported and skipped.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson

from newstrace.ingest.fields import outlet_for, parse_published, stable_id
from newstrace.ingest.guards import GuardedArchive, LimitExceeded, lines_upto, rest_of_line, too_long
from newstrace.ingest.html import EXTRACTOR, ExtractionFailed, extract_html
from newstrace.model import Article
from newstrace.timelimit import DEFAULT_DOC_SECONDS, Deadlines, DocumentTimeout

TEXT_SUFFIXES = (".txt",)
HTML_SUFFIXES = (".html", ".htm")
WARC_SUFFIXES = (".warc", ".warc.gz")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
CSV_SUFFIXES = (".csv",)
ALL_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + WARC_SUFFIXES + JSONL_SUFFIXES + CSV_SUFFIXES

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# The longest run without a line end an archive may hold. The guard cannot tell a header line (which warcio gathers
# in memory) from a body (read in blocks), so the limit leaves room for a long one-line page or binary body that
# --max-bytes then rejects on its own, without giving up on the records after it.
ARCHIVE_LINE_MIN = 64 << 20
UNEXPECTED = "unexpected error while reading"
NOT_REGULAR = "not a regular file (a pipe, socket or device); skipped"


@dataclass(frozen=True)
class Problem:
    """One document that was reported and skipped."""

    file: str
    record: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file + (f" [record {self.record}]" if self.record is not None else "")
        return f"{where}: {self.reason}"


Record = Article | Problem


def input_kind(path: Path) -> str | None:
    name = path.name.lower()
    for kind, suffixes in (
        ("warc", WARC_SUFFIXES),
        ("txt", TEXT_SUFFIXES),
        ("html", HTML_SUFFIXES),
        ("jsonl", JSONL_SUFFIXES),
        ("csv", CSV_SUFFIXES),
    ):
        if name.endswith(suffixes):
            return kind
    return None


def iter_input_files(paths: Iterable[str | Path]) -> Iterator[Path | Problem]:
    """Expand files and folders (recursively, in a stable order) into readable input files."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    child = Path(root) / name
                    if input_kind(child) is not None:
                        # A pipe or a device named like an input would block the run, or never end.
                        yield child if child.is_file() else Problem(str(child), None, NOT_REGULAR)
        elif path.is_file():
            if input_kind(path) is None:
                yield Problem(str(path), None, f"unsupported file type (expected one of {', '.join(ALL_SUFFIXES)})")
            else:
                yield path
        elif path.exists():
            yield Problem(str(path), None, NOT_REGULAR)
        else:
            yield Problem(str(path), None, "no such file or folder")


def read_file(
    path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, doc_seconds: float | None = DEFAULT_DOC_SECONDS
) -> Iterator[Record]:
    """Every article (or problem) in one input file, by its file ending.

    Each record gets `doc_seconds` of wall-clock time. A page whose extraction runs over is reported and the
    reader goes on; a file that stalls anywhere else (a bomb, a pipe) is reported and the rest of it skipped.
    """
    kind = input_kind(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        yield Problem(str(path), None, f"cannot read file: {exc.strerror or exc}")
        return
    if kind in ("txt", "html") and size > max_bytes:
        yield Problem(str(path), None, f"file is {size} bytes, over the --max-bytes limit of {max_bytes}")
        return
    reader = {"txt": _read_txt, "html": _read_html, "warc": _read_warc, "jsonl": _read_jsonl, "csv": _read_csv}[kind]
    records = reader(path, max_bytes)
    last: str | None = None
    with Deadlines(doc_seconds) as deadline:
        while True:
            try:
                deadline.arm()
                record = next(records)
            except StopIteration:
                return
            except DocumentTimeout as exc:
                problem = Problem(str(path), f"after record {last}" if last is not None else None,
                                  f"reading {exc} (the --doc-timeout); the rest of the file was skipped")
            except OSError as exc:
                problem = Problem(str(path), last, f"cannot read file: {exc.strerror or exc}")
            except Exception as exc:  # a bug of ours or a library's on some input: report it, keep the run going
                problem = Problem(str(path), last, f"{UNEXPECTED} ({type(exc).__name__}: {exc}); the rest of the "
                                  "file was skipped")
            else:
                deadline.disarm()  # the consumer's work between two records is not timed
                last = record.record
                yield record
                continue
            deadline.disarm()
            yield problem
            return


def _read_all(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, never more than `max_bytes` + 1 (a file may grow after its size was checked)."""
    with path.open("rb") as handle:
        return handle.read(max_bytes + 1)


def _too_big(path: Path, data: bytes, max_bytes: int) -> Problem | None:
    if len(data) > max_bytes:
        return Problem(str(path), None, f"file is over the --max-bytes limit of {max_bytes}")
    return None


def _read_txt(path: Path, max_bytes: int) -> Iterator[Record]:
    data = _read_all(path, max_bytes)
    if too_big := _too_big(path, data, max_bytes):
        yield too_big
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        yield Problem(str(path), None, f"not valid UTF-8 (byte {exc.start}: {data[exc.start:exc.start + 4]!r})")
        return
    if not text.strip():
        yield Problem(str(path), None, "empty document")
        return
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), None)
    yield Article(
        id=path.stem,
        text=text,
        outlet=outlet_for(None, None, path),
        title=first_line[:300] if first_line else None,
        source_file=str(path),
        extractor="txt",
    )


def _article_from_html(
    html: str | bytes, path: Path, record: str | None, *, url: str | None = None, **known: object
) -> Record:
    try:
        page = extract_html(html, url=url)
    except ExtractionFailed as exc:
        return Problem(str(path), record, str(exc))
    except DocumentTimeout as exc:
        return Problem(str(path), record, f"extracting the page {exc} (the --doc-timeout)")
    published = None
    for candidate in (known.get("published"), page.published):
        try:
            published = parse_published(candidate)
        except (ValueError, TypeError, OverflowError, OSError):
            continue  # an unreadable declared date: try the next source of a date
        if published is not None:
            break
    final_url = url or page.url
    identifier = known.get("id")
    if not identifier:
        identifier = path.stem if record is None else stable_id(final_url, page.text)
    return Article(
        id=str(identifier),
        text=page.text,
        url=final_url,
        outlet=outlet_for(known.get("outlet"), final_url, path),  # type: ignore[arg-type]
        published=published,
        title=known.get("title") or page.title,  # type: ignore[arg-type]
        source_file=str(path),
        record=record,
        extractor=EXTRACTOR,
    )


def _read_html(path: Path, max_bytes: int) -> Iterator[Record]:
    data = _read_all(path, max_bytes)
    yield _too_big(path, data, max_bytes) or _article_from_html(data, path, None)


def _read_warc(path: Path, max_bytes: int) -> Iterator[Record]:
    from warcio.archiveiterator import ArchiveIterator

    n = 0
    with path.open("rb") as handle:
        # warcio reads what GuardedArchive inflates: bounded lines, no decompression bomb. Large blocks keep
        # warcio's line assembly (a copy per block) cheap on long lines.
        guarded = GuardedArchive(handle, max_line=max(4 * max_bytes, ARCHIVE_LINE_MIN))
        records = iter(ArchiveIterator(guarded, block_size=1 << 18))
        while True:
            try:
                rec = next(records)
            except StopIteration:
                break
            except LimitExceeded as exc:
                yield Problem(str(path), str(n + 1), f"{exc}; the rest of the archive was skipped")
                return
            except Exception as exc:  # warcio raises assorted errors on truncated or corrupt streams
                yield Problem(str(path), str(n + 1), f"archive is truncated or corrupt after record {n}: {exc}")
                return
            n += 1
            if rec.rec_type != "response":
                continue
            record_id = rec.rec_headers.get_header("WARC-Record-ID") or ""
            label = f"{n} {record_id}".strip()
            content_type = (rec.http_headers.get_header("Content-Type") or "").lower() if rec.http_headers else ""
            if content_type and "html" not in content_type:
                continue  # images, scripts and feeds inside a crawl are not articles
            try:
                body = rec.content_stream().read(max_bytes + 1)
            except LimitExceeded as exc:
                yield Problem(str(path), label, f"{exc}; the rest of the archive was skipped")
                return
            except Exception as exc:
                yield Problem(str(path), label, f"record body is truncated: {exc}")
                return
            if len(body) > max_bytes:
                yield Problem(str(path), label, f"record is over the --max-bytes limit of {max_bytes}")
                continue
            url = rec.rec_headers.get_header("WARC-Target-URI")
            yield _article_from_html(body, path, label, url=url)


def _read_jsonl(path: Path, max_bytes: int) -> Iterator[Record]:
    with path.open("rb") as handle:
        for n, line in enumerate(lines_upto(handle, max_bytes), 1):
            if too_long(line, max_bytes):
                size = len(line) + rest_of_line(handle)
                yield Problem(str(path), str(n), f"line is {size} bytes, over the --max-bytes limit ({max_bytes})")
                continue
            if not line.strip():
                continue
            try:
                obj = _json_object(line)
            except UnicodeDecodeError as exc:
                yield Problem(str(path), str(n), f"not valid UTF-8 (byte {exc.start} of the line)")
                continue
            except json.JSONDecodeError as exc:
                yield Problem(str(path), str(n), f"broken JSON: {exc.msg} at column {exc.colno}")
                continue
            except RecursionError:
                yield Problem(str(path), str(n), "JSON nested too deeply to read")
                continue
            if not isinstance(obj, dict):
                yield Problem(str(path), str(n), "line is not a JSON object")
                continue
            # JSON may escape half a surrogate pair ("\ud800"), which no UTF-8 text (nor the store) can hold.
            # Only an escape can make one, so the scan runs only when the line has one.
            if _SURROGATE_ESCAPE.search(line) and _lone_surrogate(obj):
                yield Problem(str(path), str(n), "a field holds an unpaired surrogate escape (\\ud800-\\udfff), "
                              "which is not valid Unicode")
                continue
            yield article_from_fields(obj, path, str(n))


def _json_object(line: bytes) -> object:
    """`json.loads` of a line, through orjson (three times faster on article-sized lines). What orjson refuses
    (invalid UTF-8, broken JSON, a lone surrogate escape, NaN, deep nesting) goes to json, so the value, or the
    error and its message, is json's. orjson reads an integer beyond 64 bits as a float where json keeps the int,
    so only an object of plain fields (strings, integers, booleans, nulls: what an article line holds) is kept
    from orjson; any other is read by json again."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line.decode("utf-8"))
    if not isinstance(obj, dict) or not all(type(v) in _PLAIN_JSON for v in obj.values()):
        return json.loads(line.decode("utf-8"))
    return obj


_PLAIN_JSON = frozenset((str, int, bool, type(None)))


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")  # a JSON escape of half a surrogate pair
_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogate(obj: dict) -> bool:
    return any(isinstance(obj.get(k), str) and _SURROGATE.search(obj[k]) for k in (*STRING_FIELDS, "id", "published"))


class _CsvStop(Exception):
    """The CSV cannot be read past this line; `problem` says why."""

    def __init__(self, problem: Problem):
        self.problem = problem


def _csv_lines(path: Path, handle: BinaryIO, max_bytes: int) -> Iterator[str]:
    """Decoded lines (line ends kept, as the csv module wants them), streamed so a huge file is never held whole."""
    for n, line in enumerate(lines_upto(handle, max_bytes), 1):
        if too_long(line, max_bytes):
            size = len(line) + rest_of_line(handle)
            raise _CsvStop(Problem(str(path), str(n), f"line {n} is {size} bytes, over the --max-bytes limit "
                                   f"({max_bytes}); the rest of the file was skipped"))
        try:
            yield line.decode("utf-8-sig" if n == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise _CsvStop(Problem(str(path), str(n), f"not valid UTF-8 (line {n}, byte {exc.start}); the rest of "
                                   "the file was skipped")) from None


def _read_csv(path: Path, max_bytes: int) -> Iterator[Record]:
    csv.field_size_limit(max(max_bytes, 1 << 20))
    with path.open("rb") as handle:
        reader = csv.DictReader(_csv_lines(path, handle, max_bytes))
        try:
            fields = set(reader.fieldnames or [])
            if not fields & {"text", "html"}:
                columns = ", ".join(sorted(fields)) or "none"
                yield Problem(str(path), None, f"no 'text' or 'html' column (columns: {columns})")
                return
            for n, row in enumerate(reader, 2):  # row 1 is the header, so n is the row a spreadsheet shows
                yield article_from_fields(row, path, str(n))
        except csv.Error as exc:
            yield Problem(str(path), str(reader.line_num), f"malformed CSV: {exc}")
        except _CsvStop as stop:
            yield stop.problem


STRING_FIELDS = ("text", "html", "url", "outlet", "title")


_FIELD_TYPES = {**{name: (str,) for name in STRING_FIELDS}, "id": (str, int), "published": (str, int, float)}


def _field_problem(obj: dict) -> str | None:
    """Why a record's fields cannot make an article (a JSON line may hold any value anywhere), or None."""
    for name, value in obj.items():
        if value is None or type(value) is str:  # nearly every value: one check
            continue
        allowed = _FIELD_TYPES.get(name)
        if allowed is None or (isinstance(value, allowed) and not isinstance(value, bool)):
            continue  # a field we do not read, or a number where one is allowed
        if name == "id":
            return f"'id' is not a string or an integer (got {type(value).__name__})"
        if name == "published":
            return f"'published' is not an ISO 8601 date (got {type(value).__name__})"
        return f"'{name}' is not a string (got {type(value).__name__})"
    return None


def article_from_fields(obj: dict, path: Path, record: str) -> Record:
    if reason := _field_problem(obj):
        return Problem(str(path), record, reason)
    text = obj.get("text")
    html = obj.get("html")
    url = obj.get("url") or None
    if text is None or text == "":
        if html:
            return _article_from_html(
                html, path, record, url=url, id=obj.get("id"), outlet=obj.get("outlet"),
                published=obj.get("published"), title=obj.get("title"),
            )
        return Problem(str(path), record, "empty document (no 'text' or 'html')")
    if not text.strip():
        return Problem(str(path), record, "empty document")
    try:
        published = parse_published(obj.get("published"))
    except (ValueError, TypeError, OverflowError, OSError):
        return Problem(str(path), record, f"'published' is not an ISO 8601 date: {obj.get('published')!r}")
    return Article(
        id=str(obj.get("id") or stable_id(url, text)),
        text=text,
        url=url,
        outlet=outlet_for(obj.get("outlet") or None, url, path),
        published=published,
        title=obj.get("title") or None,
        source_file=str(path),
        record=record,
        extractor="jsonl" if path.suffix.lower() in JSONL_SUFFIXES else "csv",
    )
