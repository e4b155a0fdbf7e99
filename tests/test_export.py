"""Output files are written whole or not at all: a temporary name, renamed when complete; a failure is one
OutputError naming the file, and leaves nothing behind."""

from __future__ import annotations

import os

import pytest

from newstrace.errors import OutputError
from newstrace.export import atomic_write, ensure_writable, remove_partials, write_jsonl


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "articles.jsonl"
    write_jsonl(path, [{"id": "old"}])

    def rows():
        yield {"id": "new-1"}
        raise RuntimeError("the stage failed halfway")

    with pytest.raises(RuntimeError):
        write_jsonl(path, rows())
    assert path.read_text("utf-8") == '{"id": "old"}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["articles.jsonl"]


def test_an_os_error_is_an_output_error_naming_the_file(tmp_path):
    target = tmp_path / "missing-folder" / "report.html"
    with pytest.raises(OutputError, match="cannot write .*report.html"):
        with atomic_write(target) as handle:
            handle.write("x")


def test_partials_of_a_killed_run_are_removed(tmp_path):
    stale = tmp_path / f".edits.jsonl.partial-{os.getpid() + 1}"
    stale.write_text("half", "utf-8")
    (tmp_path / "edits.jsonl").write_text("whole\n", "utf-8")
    remove_partials(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["edits.jsonl"]


def test_ensure_writable_refuses_a_file_in_the_way(tmp_path):
    (tmp_path / "out").write_text("a file, not a folder", "utf-8")
    with pytest.raises(OutputError, match="cannot write into"):
        ensure_writable(tmp_path / "out")
    ensure_writable(tmp_path / "fresh" / "nested")
    assert (tmp_path / "fresh" / "nested").is_dir() and not list((tmp_path / "fresh" / "nested").iterdir())


def test_lines_written_in_the_background_appear_whole_or_not_at_all(tmp_path):
    from newstrace.export import BackgroundLines

    path = tmp_path / "articles.jsonl"
    path.write_text("old\n", "utf-8")

    def lines():
        yield b"new-1\n"
        raise RuntimeError("the writer failed halfway")

    failed = BackgroundLines(path, lines())
    with pytest.raises(RuntimeError, match="halfway"):
        failed.finish()
    assert path.read_text("utf-8") == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["articles.jsonl"]
    dropped = BackgroundLines(path, iter([b"a\n", b"b\n"]))
    dropped.discard()
    assert path.read_text("utf-8") == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["articles.jsonl"]
    done = BackgroundLines(path, iter([b"a\n", b"b\n"]))
    done.finish()
    assert path.read_text("utf-8") == "a\nb\n" and sorted(p.name for p in tmp_path.iterdir()) == ["articles.jsonl"]
    with pytest.raises(OutputError, match="cannot write .*gone"):
        BackgroundLines(tmp_path / "gone" / "x.jsonl", iter([b"a\n"])).finish()
