"""The aligner's compiled inner loops (reuse/_kernels.c) against their Python references in align.py."""

from __future__ import annotations

import numpy as np
import pytest

from newstrace.reuse import align as A

kernels = pytest.importorskip("newstrace.reuse._kernels")


def _random_seeds(rng: np.random.Generator, n: int, span: int) -> A._Seeds:
    c0 = rng.integers(0, span, n)
    c1 = c0 + rng.integers(1, 4, n)
    # most seeds near a few diagonals, as reuse gives; some scattered, as chance matches give
    diag = rng.choice([0, 7, -30, 120], n) + rng.integers(-3, 4, n)
    s0 = np.where(rng.random(n) < 0.8, np.maximum(c0 + diag, 0), rng.integers(0, span, n))
    s1 = s0 + rng.integers(1, 4, n)
    by = np.lexsort((s1, s0, c1, c0))
    return A._Seeds(c0[by].astype(np.int64), c1[by].astype(np.int64), s0[by].astype(np.int64),
                    s1[by].astype(np.int64))


@pytest.mark.parametrize("seed", range(40))
def test_chain_in_c_equals_the_python_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    seeds = _random_seeds(rng, int(rng.integers(0, 400)), int(rng.integers(5, 600)))
    gap, drift = int(rng.integers(1, 30)), int(rng.integers(0, 12))
    out = np.empty(len(seeds), dtype=np.int64)
    n = kernels.chain(seeds.c0, seeds.c1, seeds.s0, seeds.s1, out, gap, drift)
    ref = A._chain_py(seeds, gap, drift)
    assert out.tolist() == ref
    assert n == (max(ref) + 1 if ref else 0)


@pytest.mark.parametrize("seed", range(40))
def test_monotone_in_c_equals_the_python_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 300))
    c = rng.integers(0, 200, n)
    s = np.where(rng.random(n) < 0.7, c + rng.integers(-2, 3, n), rng.integers(0, 200, n)).clip(0)
    keys = np.unique((c.astype(np.int64) << 32) | s.astype(np.int64))
    cc, ss = keys >> 32, keys & 0xFFFFFFFF
    by = np.lexsort((-ss, cc))
    cc, ss = cc[by], ss[by]
    at = np.empty(len(cc), dtype=np.int64)
    k = kernels.monotone(cc, ss, at)
    got = list(zip(cc[at[:k]].tolist(), ss[at[:k]].tolist(), strict=True))
    assert got == A._monotone_py(list(zip(cc.tolist(), ss.tolist(), strict=True)))
    assert A._monotone(keys) == got


def test_kernels_refuse_arrays_of_the_wrong_type() -> None:
    x = np.zeros(3, dtype=np.int32)
    with pytest.raises(TypeError, match="int64"):
        kernels.chain(x, x, x, x, x, 5, 5)
    y = np.zeros(3, dtype=np.int64)
    with pytest.raises(ValueError, match="lengths"):
        kernels.monotone(y, y[:2], y)


def test_align_gives_the_same_passages_without_the_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    source = " ".join(f"Word{i % 97} alpha{i % 13} report{i % 31} city{i % 7}." for i in range(300))
    copy = "Masthead line here\n" + source[200:3000].replace("city3", "town3") + " Extra closing remark."
    with_c = A.align(source, copy)
    A._prepare_cached.cache_clear()
    monkeypatch.setattr(A, "_kernels", None)
    assert A.align(source, copy) == with_c
    assert with_c
