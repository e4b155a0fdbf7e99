"""Input files to articles: one reader per format, each yielding `Article`s and `Problem`s.

A reader never raises for bad content. Every bad document becomes a `Problem` naming the file, the record and the
reason, and the reader goes on with the next record, so one hostile document never kills a corpus run.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from newstrace.ingest.fields import outlet_for, parse_published, stable_id
from newstrace.ingest.html import EXTRACTOR, ExtractionFailed, extract_html
from newstrace.model import Article

TEXT_SUFFIXES = (".txt",)
HTML_SUFFIXES = (".html", ".htm")
WARC_SUFFIXES = (".warc", ".warc.gz")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
CSV_SUFFIXES = (".csv",)
ALL_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + WARC_SUFFIXES + JSONL_SUFFIXES + CSV_SUFFIXES

DEFAULT_MAX_BYTES = 20 * 1024 * 1024


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
                        yield child
        elif path.is_file():
            if input_kind(path) is None:
                yield Problem(str(path), None, f"unsupported file type (expected one of {', '.join(ALL_SUFFIXES)})")
            else:
                yield path
        else:
            yield Problem(str(path), None, "no such file or folder")


def read_file(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Record]:
    """Every article (or problem) in one input file, by its file ending."""
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
    try:
        yield from reader(path, max_bytes)
    except OSError as exc:
        yield Problem(str(path), None, f"cannot read file: {exc}")


def _read_txt(path: Path, max_bytes: int) -> Iterator[Record]:
    data = path.read_bytes()
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
    published = None
    for candidate in (known.get("published"), page.published):
        try:
            published = parse_published(candidate)
        except (ValueError, TypeError, OverflowError):
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
    yield _article_from_html(path.read_bytes(), path, None)


def _read_warc(path: Path, max_bytes: int) -> Iterator[Record]:
    from warcio.archiveiterator import ArchiveIterator

    n = 0
    with path.open("rb") as handle:
        records = iter(ArchiveIterator(handle))
        while True:
            try:
                rec = next(records)
            except StopIteration:
                break
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
        for n, line in enumerate(handle, 1):
            if not line.strip():
                continue
            if len(line) > max_bytes:
                yield Problem(str(path), str(n), f"line is {len(line)} bytes, over the --max-bytes limit ({max_bytes})")
                continue
            try:
                obj = json.loads(line.decode("utf-8"))
            except UnicodeDecodeError as exc:
                yield Problem(str(path), str(n), f"not valid UTF-8 (byte {exc.start} of the line)")
                continue
            except json.JSONDecodeError as exc:
                yield Problem(str(path), str(n), f"broken JSON: {exc.msg} at column {exc.colno}")
                continue
            if not isinstance(obj, dict):
                yield Problem(str(path), str(n), "line is not a JSON object")
                continue
            yield article_from_fields(obj, path, str(n))


def _read_csv(path: Path, max_bytes: int) -> Iterator[Record]:
    data = path.read_bytes()
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        yield Problem(str(path), None, f"not valid UTF-8 (byte {exc.start})")
        return
    csv.field_size_limit(max(max_bytes, 1 << 20))
    reader = csv.DictReader(io.StringIO(content, newline=""))
    fields = set(reader.fieldnames or [])
    if not fields & {"text", "html"}:
        yield Problem(str(path), None, f"no 'text' or 'html' column (columns: {', '.join(sorted(fields)) or 'none'})")
        return
    try:
        for n, row in enumerate(reader, 2):  # row 1 is the header, so n is the line a spreadsheet shows
            yield article_from_fields(row, path, str(n))
    except csv.Error as exc:
        yield Problem(str(path), str(reader.line_num), f"malformed CSV: {exc}")


def article_from_fields(obj: dict, path: Path, record: str) -> Record:
    text = obj.get("text")
    html = obj.get("html")
    url = obj.get("url") or None
    if text is not None and not isinstance(text, str):
        return Problem(str(path), record, "'text' is not a string")
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
    except (ValueError, TypeError, OverflowError):
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
