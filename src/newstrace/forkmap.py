"""Run a function over index ranges of a list in forked worker processes, results in order.

The stages that analyse items one by one (signals per article, edits per reuse pair) hold their inputs in memory
already. Forked workers inherit them, and the function, copy-on-write, so nothing is pickled on the way out and
only the results come back. Where fork is unavailable (or the job is small) the work stays in this process.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

_WORK: Callable[[int, int], list] | None = None  # what forked workers inherit (set only while a pool runs)


def _call(bounds: tuple[int, int]) -> list:
    assert _WORK is not None
    return _WORK(*bounds)


def fork_map(work: Callable[[int, int], list[T]], n: int, *, workers: int, chunk: int,
             min_parallel: int) -> Iterator[list[T]]:
    """`work(lo, hi)` for the ranges of `chunk` items that cover `0..n`, yielded in order.

    From `min_parallel` items on, `workers` forked processes share the ranges. `work` may be a closure: it is
    inherited, never pickled. Its results must pickle. One pool runs at a time in a process."""
    global _WORK
    ranges = [(lo, min(lo + chunk, n)) for lo in range(0, n, chunk)]
    if workers <= 1 or n < min_parallel or len(ranges) < 2 or "fork" not in mp.get_all_start_methods():
        for lo, hi in ranges:
            yield work(lo, hi)
        return
    _WORK = work
    try:
        with frozen_heap(), ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as ex:
            yield from ex.map(_call, ranges)
    finally:
        _WORK = None


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Around forking workers: the objects alive now are left out of garbage collection (`gc.freeze`) until the
    block ends. A forked worker inherits the parent's whole heap; without this, each of its full collections walks
    every inherited object (a corpus of articles, pairs, edit rows), which costs time and, by touching their
    headers, copies their memory pages into the worker."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
