"""One BLAS thread while newstrace's own small matrix products run.

OpenBLAS starts a thread per core, and its threads spin while they wait for work. The technique models' products
are small (a few hundred rows), so a second thread never pays for itself, and where newstrace already runs one
process per core (`--workers`) the spinning threads fight them for the cores: the signals stage of a
850-article `analyze` took 12.5 s and ~25 CPU s with OpenBLAS's default threads, and 5.9 s and ~12 CPU s with one
(`benchmarks/README.md`). Parallelism belongs across documents, in processes.

The limit is process-wide (BLAS libraries keep one setting), and is put back when the block ends.
"""

from __future__ import annotations

from contextlib import AbstractContextManager


def one_blas_thread() -> AbstractContextManager:
    """A context manager: BLAS libraries use one thread inside it."""
    from threadpoolctl import threadpool_limits  # 20 ms to import: only when signals run

    return threadpool_limits(limits=1, user_api="blas")
