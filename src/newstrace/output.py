"""One way to print rows for every listing command: a rich table for people, `--json`, `--jsonl` or `--csv` for
scripts. Rows are streamed from generators, so `--jsonl` on a large store starts printing at once.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Annotated, TextIO

import typer

from newstrace.export import csv_cell, jsonl_line

# Control characters from article text, titles or file names must not reach a terminal: ESC sequences can rewrite
# the screen or the window title, and rich drops CR, BS and friends, which shifts every highlight after them. Each
# becomes one visible character (U+2400-U+241F control pictures, U+FFFD for C1), so offsets still line up; CR
# becomes a space so CRLF text reads normally.
_TERMINAL = {c: 0x2400 + c for c in range(32) if c not in (9, 10)} | {13: 32, 127: 0x2421} | \
    {c: 0xFFFD for c in range(0x80, 0xA0)}


def terminal_safe(text: str) -> str:
    """`text` with each control character replaced by one printable one (the length is kept)."""
    return text.translate(_TERMINAL)


class Format(str, Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
JsonlFlag = Annotated[bool, typer.Option("--jsonl", help="Print one JSON object per line.")]
CsvFlag = Annotated[bool, typer.Option("--csv", help="Print CSV with a header row.")]


def choose_format(json_: bool = False, jsonl: bool = False, csv_: bool = False) -> Format:
    chosen = [f for f, on in ((Format.json, json_), (Format.jsonl, jsonl), (Format.csv, csv_)) if on]
    if len(chosen) > 1:
        raise typer.BadParameter("choose one of --json, --jsonl, --csv")
    return chosen[0] if chosen else Format.table


def emit_rows(
    rows: Iterable[dict],
    fmt: Format,
    *,
    columns: Sequence[str] | None = None,
    title: str | None = None,
    out: TextIO | None = None,
) -> int:
    """Print rows in the chosen format. Returns how many were printed."""
    out = out or sys.stdout
    n = 0
    if fmt is Format.jsonl:
        for row in rows:
            out.write(jsonl_line(row) + "\n")
            n += 1
    elif fmt is Format.json:
        items = list(rows)
        out.write(json.dumps(items, ensure_ascii=False, indent=2) + "\n")
        n = len(items)
    elif fmt is Format.csv:
        writer = None
        for row in rows:
            if writer is None:
                writer = csv.DictWriter(out, fieldnames=list(columns or row.keys()), extrasaction="ignore")
                writer.writeheader()
            writer.writerow({k: csv_cell(_flat(v)) for k, v in row.items()})
            n += 1
    else:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        # Cells hold article titles, outlets and file names: `Text` keeps `[bold]` or `[/]` in them literal.
        items = list(rows)
        table = Table(title=Text(title) if title is not None else None)
        cols = list(columns or (items[0].keys() if items else []))
        for c in cols:
            table.add_column(c)
        for row in items:
            table.add_row(*(Text(terminal_safe(_short(row.get(c)))) for c in cols))
        Console(file=out).print(table)
        n = len(items)
    return n


def _flat(value: object) -> object:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else value


def _short(value: object, limit: int = 80) -> str:
    text = "" if value is None else str(_flat(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"
