"""Crash safety: kill -9 during `ingest` and `analyze` (a few random points; benchmarks/crash.py does 50 of each),
a full disk, and a read-only output folder. Never a corrupt store, a duplicate, a lost row or a half-written file
under a contract name; always one clear error."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import DEMO_CORPUS, bench_module

crash = bench_module("crash")

NEWSTRACE = [sys.executable, "-m", "newstrace.cli"]
# Set NEWSTRACE_TEST_NO_MOUNT=1 to run the fallbacks (file-size limit, setpriv) where mounting works too.
CAN_MOUNT = bool(shutil.which("mount")) and not os.environ.get("NEWSTRACE_TEST_NO_MOUNT")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("crash") / "corpus"
    crash.build_corpus(folder, 90, seed=3)
    return folder


@pytest.mark.parametrize("kind", ["ingest", "analyze"])
def test_kill_9_at_random_points_then_rerun_equals_a_clean_run(kind, corpus, tmp_path):
    result = crash.campaign(kind, corpus, tmp_path, kills=3, seed=5)
    assert not result["failures"], result["failures"]
    assert result["stores_open"] == 3 and result["corrupt"] == 0
    assert result["duplicates"] == result["lost"] == result["extra"] == result["half_written"] == 0
    assert result["outputs_differ"] == result["rerun_failed"] == 0


@contextmanager
def small_disk(folder: Path, size_kb: int):
    """`folder` as a tmpfs of `size_kb` KB when this process may mount one (root in a container that allows
    it); otherwise None, and the caller limits file sizes with RLIMIT_FSIZE instead (writes then fail with EFBIG,
    'File too large', the way they fail with ENOSPC on a full disk)."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = CAN_MOUNT and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(folder)], capture_output=True
    ).returncode == 0
    try:
        yield folder if mounted else None
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def _file_size_limit(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _clean_out(tmp_path: Path) -> dict[str, str]:
    out = tmp_path / "clean"
    subprocess.run([*NEWSTRACE, "analyze", str(DEMO_CORPUS), "--out", str(out), "--quiet"], check=True,
                   capture_output=True)
    return crash.out_snapshot(out)


def _assert_clean_failure(result: subprocess.CompletedProcess, out: Path, clean: dict[str, str]) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert any(why in errors[0] for why in ("No space left on device", "File too large")), errors[0]
    if out.exists():
        assert not [p.name for p in out.glob(".*partial-*")]  # no temporary file left behind
        for name, digest in crash.out_snapshot(out).items():  # every contract file present is complete
            assert digest == clean[name], f"{name} is incomplete"


@pytest.mark.skipif(not DEMO_CORPUS.exists(), reason="demo corpus absent")
@pytest.mark.parametrize("store_on_the_full_disk", [False, True])
def test_full_disk_is_one_clear_error_and_no_half_written_file(tmp_path, store_on_the_full_disk):
    clean = _clean_out(tmp_path)
    with small_disk(tmp_path / "disk", 450 if not store_on_the_full_disk else 150) as disk:
        base = disk or tmp_path / "disk"
        out = base / "out"
        db = out / "newstrace.duckdb" if store_on_the_full_disk else tmp_path / "elsewhere.duckdb"
        cmd = [*NEWSTRACE, "analyze", str(DEMO_CORPUS), "--out", str(out), "--db", str(db), "--quiet"]
        limit = None if disk else _file_size_limit(200_000 if not store_on_the_full_disk else 60_000)
        result = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=limit)
        _assert_clean_failure(result, out, clean)
        if disk is None:
            return
        shutil.rmtree(out, ignore_errors=True) if store_on_the_full_disk else None
    # with room again, the same command finishes and its outputs equal the clean run's
    if not store_on_the_full_disk:
        out = tmp_path / "roomy"
        result = subprocess.run([*NEWSTRACE, "analyze", str(DEMO_CORPUS), "--out", str(out), "--db", str(db),
                                 "--quiet"], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert crash.out_snapshot(out) == clean


@contextmanager
def read_only_folder(folder: Path):
    """`folder`, read-only: a read-only bind mount when possible, else mode 555 (which root ignores: then the
    command runs as `nobody` through setpriv). Yields the command prefix to run with."""
    folder.mkdir(parents=True, exist_ok=True)
    if CAN_MOUNT and subprocess.run(["mount", "--bind", "-o", "ro", str(folder), str(folder)],
                                                capture_output=True).returncode == 0:
        try:
            yield []
        finally:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)
        return
    folder.chmod(0o555)
    try:
        if os.geteuid() == 0:
            if not shutil.which("setpriv"):
                pytest.skip("root, without mount or setpriv: cannot make a folder read-only here")
            yield ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        else:
            yield []
    finally:
        folder.chmod(0o755)


@pytest.mark.skipif(not DEMO_CORPUS.exists(), reason="demo corpus absent")
def test_read_only_output_folder_fails_at_once_with_a_clear_error(tmp_path):
    with read_only_folder(tmp_path / "ro") as prefix:
        for args in (["analyze", str(DEMO_CORPUS), "--out", str(tmp_path / "ro"), "--db",
                      str(tmp_path / "s.duckdb")],
                     ["analyze", str(DEMO_CORPUS), "--out", str(tmp_path / "ro" / "sub")]):
            result = subprocess.run([*prefix, *NEWSTRACE, *args], capture_output=True, text=True,
                                    env={**os.environ, "HOME": str(tmp_path)})
            assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
            assert "error: cannot write into" in result.stderr and str(tmp_path / "ro") in result.stderr
            assert "stage ingest" not in result.stderr  # refused before any work, not after it
        assert not list((tmp_path / "ro").iterdir())
