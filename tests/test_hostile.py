"""Hostile content through every output (benchmarks/hostile.py builds the corpus and runs every command): JSON
gives the payloads back unchanged and stays one record a line, XML exports carry no DTD or foreign element, no CSV
cell is a formula, Parquet reads back; tests/test_browser.py opens the same outputs in Chromium."""

from __future__ import annotations

import csv
import io
import json

from conftest import bench_module
from newstrace.export import csv_cell, jsonl_line
from newstrace.output import Format, emit_rows, terminal_safe

hostile = bench_module("hostile")


def test_every_output_of_the_hostile_corpus_is_inert(hostile_outputs):
    out, _ = hostile_outputs
    problems = hostile.static_checks(out)
    assert not any(problems.values()), {k: v[:3] for k, v in problems.items() if v}


def test_the_static_checks_catch_what_they_look_for(hostile_outputs, tmp_path):
    """Each check fails on a file made hostile on purpose: they can find what they are meant to."""
    import shutil

    out = tmp_path / "out"
    shutil.copytree(hostile_outputs[0], out)
    with (out / "net" / "outlets.csv").open("a", encoding="utf-8", newline="") as f:
        csv.writer(f).writerow(['=HYPERLINK("https://evil.example")', 1])
    graphml = out / "network.graphml"
    graphml.write_text(graphml.read_text("utf-8").replace("<graph ", '<script xmlns="http://www.w3.org/1999/xhtml">'
                                                          "x</script><graph ", 1), "utf-8")
    with (out / "articles.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps({"id": "x", "title": "a\u2028b"}, ensure_ascii=False) + "\n")
    problems = hostile.static_checks(out)
    assert problems["csv"] and problems["xml"] and problems["json"]


def test_csv_cells_are_never_formulas():
    for payload in hostile.FORMULA_PAYLOADS:
        assert csv_cell(payload) == "'" + payload
    assert csv_cell(-2.5) == -2.5 and csv_cell(3) == 3 and csv_cell("Harbour Ledger") == "Harbour Ledger"
    buffer = io.StringIO()
    emit_rows([{"outlet": "=cmd|' /C calc'!A0", "score": -1.0}], Format.csv, out=buffer)
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert rows[1] == ["'=cmd|' /C calc'!A0", "-1.0"]


def test_jsonl_lines_hold_one_record_however_they_are_split():
    row = {"text": "line\u2028separator\u2029paragraph\x85next\nnewline\r\x1b[2J"}
    line = jsonl_line(row)
    assert len(line.splitlines()) == 1 and json.loads(line) == row
    assert jsonl_line({"t": "é—“x”"}) == '{"t": "é—“x”"}'  # text stays readable: no needless escapes


def test_terminal_text_keeps_its_length_and_loses_its_escapes():
    text = "Title\x1b]0;pwned\x07 then \x1b[2J and a CRLF\r\n, a NEL\x85, a tab\t."
    safe = terminal_safe(text)
    assert len(safe) == len(text) and "\x1b" not in safe and "\x07" not in safe and "\x85" not in safe
    assert "\t" in safe and "\n" in safe and "␛]0;pwned␇" in safe
