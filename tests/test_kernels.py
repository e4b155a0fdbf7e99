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


def _random_texts(rng: np.random.Generator, count: int) -> list[str]:
    """Texts of words in several scripts, apostrophes in and between words, astral characters now and then."""
    pieces = ["word", "it's", "l’homme", "o'", "'quoted'", "ΟΔΥΣΣΕΥΣ", "städte", "日本語", "x\U0001d400y", "42",
              "rock'n'roll", "--", "...", "'", "a'b'", "_under_", "٣٤", " ", "\n", "\u00a0"]
    return ["".join(rng.choice(pieces, int(rng.integers(0, 60))).tolist()) for _ in range(count)]


@pytest.mark.parametrize("seed", range(20))
def test_word_scan_in_c_equals_the_numpy_reference(seed: int) -> None:
    from newstrace.reuse import shingles as S

    texts = _random_texts(np.random.default_rng(seed), 30)
    for batch in (texts, texts[:1], [t for t in texts if "\U0001d400" not in t and "Σ" not in t]):
        cp = S._folded_code_points(batch)
        ref = S._scan_words_np(cp)
        for x, y in zip(S._scan_words(cp), ref, strict=True):
            assert np.array_equal(x, y)
        # the same words from the raw UTF-16, folded inside the scan, or None where the table cannot fold
        raw = np.frombuffer(S._SEP.join(batch).encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
        folded = S._scan_words(raw, S._lower_table())
        if any("\U0001d400" in t or "Σ" in t for t in batch):
            assert folded is None
        else:
            assert folded is not None
            for x, y in zip(folded, ref, strict=True):
                assert np.array_equal(x, y)
        _, starts, ends, bounds = S._scan(batch)
        assert len(starts) == len(ref[1]) and bounds[-1] == len(ref[1])


def test_word_scan_asks_for_code_points_not_looked_up_yet() -> None:
    from newstrace.reuse import shingles as S

    cp = np.array([0x41, 0x10FFFD, 0x42], dtype=np.uint32)  # a private-use code point: no process looked it up yet
    S._WORD_TABLE[0x10FFFD] = -1
    out = [np.empty(2, dtype=np.int64), np.empty(2, dtype=np.int64), np.empty(2, dtype=np.uint64)]
    assert kernels.scan_words(cp, S._WORD_TABLE, None, *out) == -1
    hashes, starts, ends = S._scan_words(cp)  # fills the table and scans again
    assert starts.tolist() == [0, 2] and ends.tolist() == [1, 3]
    with pytest.raises(TypeError, match="uint16 or uint32"):
        kernels.scan_words(cp.astype(np.int64), S._WORD_TABLE, None, *out)
    with pytest.raises(ValueError, match="shorter"):
        kernels.scan_words(np.zeros(9, dtype=np.uint16), S._WORD_TABLE, None, *out)
    with pytest.raises(ValueError, match="65,536"):
        kernels.scan_words(cp, S._WORD_TABLE, S._lower_table(), *out)


def _edited(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A word-id sequence and a copy with insertions, cuts and replacements, or an unrelated one."""
    vocabulary = int(rng.integers(1, 60))
    a = rng.integers(0, vocabulary, int(rng.integers(0, 300)))
    b = a.tolist()
    for _ in range(int(rng.integers(0, 12))):
        k, r = int(rng.integers(0, len(b) + 1)), rng.random()
        if r < 0.33:
            b[k:k] = rng.integers(0, 2 * vocabulary, int(rng.integers(1, 8))).tolist()
        elif r < 0.66:
            del b[k:k + int(rng.integers(1, 8))]
        else:
            b[k:k + 3] = rng.integers(0, vocabulary, 3).tolist()
    if rng.random() < 0.2:
        b = rng.integers(0, vocabulary, int(rng.integers(0, 250))).tolist()
    return a.astype(np.int64), np.array(b, dtype=np.int64)


@pytest.mark.parametrize("seed", range(40))
def test_word_diff_in_c_equals_the_python_reference(seed: int) -> None:
    from newstrace.edits.diff import diff_id_opcodes, diff_opcodes

    rng = np.random.default_rng(seed)
    for _ in range(25):
        a, b = _edited(rng)
        assert diff_id_opcodes(a, b) == diff_opcodes(a.tolist(), b.tolist())


def test_word_diff_without_the_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    from newstrace.edits import diff as D

    a, b = _edited(np.random.default_rng(99))
    with_c = D.diff_id_opcodes(a, b)
    monkeypatch.setattr(D, "_kernels", None)
    assert D.diff_id_opcodes(a, b) == with_c
    with pytest.raises(TypeError, match="int64"):
        kernels.diff_blocks(a.astype(np.int32), b)


@pytest.mark.parametrize("seed", range(12))
def test_shingle_rows_in_c_equal_the_numpy_reference(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from newstrace.reuse import shingles as S

    rng = np.random.default_rng(seed)
    texts = _random_texts(rng, 40) + ["", "one", "a'b c'd e f g h i j k l m n o p"]
    params = [S.ShingleParams(), S.ShingleParams(n=int(rng.integers(1, 6)), window=int(rng.integers(1, 12)))]
    for p in params:
        for batch in (texts, [t for t in texts if "\U0001d400" not in t and "Σ" not in t], texts[-3:]):
            got = S.shingle_rows(batch, p)
            with monkeypatch.context() as m:
                m.setattr(S, "_kernels", None)
                ref = S.shingle_rows(batch, p)
            assert np.array_equal(got[0], ref[0]) and np.array_equal(got[1], ref[1])
            assert got[0].dtype == ref[0].dtype and got[1].dtype == ref[1].dtype


def test_repeated_keys_found_by_the_table_equal_those_found_by_sorting(monkeypatch: pytest.MonkeyPatch) -> None:
    from newstrace.reuse import candidates as C

    rng = np.random.default_rng(3)
    for n in (0, 1, 2, 50, 5000):
        hashes = rng.choice(rng.integers(-(2**63), 2**63 - 1, max(1, n // 3), dtype=np.int64), n)
        docs = rng.integers(0, 40, n).astype(np.int32)
        out = np.empty(n, dtype=np.uint8)
        _, counts = np.unique(hashes, return_counts=True)
        assert kernels.repeated(hashes, out) == int(counts[counts > 1].sum())
        got = C.shared_rows(docs, hashes, C.CandidateParams())
        with monkeypatch.context() as m:
            m.setattr(C, "_kernels", None)
            ref = C.shared_rows(docs, hashes, C.CandidateParams())
        # the same rows in the same key order (rows of one key in any order), and the same runs of keys
        assert np.array_equal(got[1], ref[1]) and np.array_equal(got[2], ref[2]) and np.array_equal(got[3], ref[3])
        by = np.lexsort((got[0], got[1])), np.lexsort((ref[0], ref[1]))
        assert np.array_equal(got[0][by[0]], ref[0][by[1]])


# Pieces of headline lists and of prose, with what the C test of refine.furniture must read as the regexes do:
# Unicode whitespace, curly quotes, closers after a full stop, function words in odd cases (the long s, the Kelvin
# sign and the dotted capital I fold onto ASCII letters under re.IGNORECASE), and word characters before them.
_LINE_WORDS = ["Minister", "Quits", "Over", "Port", "Deal", "42", "Votes", "ines", "marlow", "the", "THE", "To",
               "of", "ſ", "haſ", "wAS", "İn", "Kelvin", "\u212aey", "x_the", "éthe", "naïve", "“Quoted”", "‘Single’",
               "(Aside)", "[Note]", "end.", "end.”", "end.)", "clause,", "colon:", "semi;", "trail…", "Why?", "No!",
               "\U0001d400bold", "Σigma", "", "'", '"', "’", "”"]
_SPACES = [" ", " ", " ", "  ", "\t", "\u00a0", "\u2003", "\r", "\x0b"]


def _random_furniture_text(rng: np.random.Generator) -> str:
    lines = []
    for _ in range(int(rng.integers(0, 14))):
        if rng.random() < 0.12:
            lines.append(str(rng.choice(["", " ", "\t \u00a0", "\r"])))
            continue
        words = [str(w) for w in rng.choice(_LINE_WORDS, int(rng.integers(1, 9)))]
        gaps = [str(g) for g in rng.choice(_SPACES, len(words) + 1)]
        line = "".join(g + w for g, w in zip(gaps, words, strict=False)) + gaps[-1] * int(rng.random() < 0.3)
        lines.append(line if rng.random() < 0.7 else line.lstrip())
    return "\n".join(lines) + "\n" * int(rng.integers(0, 2))


@pytest.mark.parametrize("seed", range(8))
def test_headline_lists_found_in_c_equal_the_python_reference(seed: int) -> None:
    from newstrace.reuse import refine

    rng = np.random.default_rng(seed)
    found = 0
    for _ in range(400):
        text = _random_furniture_text(rng)
        run, most, headline = int(rng.integers(1, 5)), int(rng.integers(2, 12)), int(rng.integers(1, 5))
        got = refine.furniture(text, run=run, max_words=most, headline_words=headline)
        assert got == refine._furniture_py(text, run=run, max_words=most, headline_words=headline), text
        found += bool(got)
    assert found > 40  # the random texts do hold lists


def test_headline_lists_in_c_on_the_real_cases() -> None:
    from newstrace.reuse import refine

    page = ("Body text of the story, in a sentence.\nMost Read\nMinister Quits Over Port Deal Row\n"
            "“Harbour Strike Enters Its Third Week”\nWhy The Ferry Fares Went Up Again?\nCouncil Votes On The\n"
            "Ines Marlow\nTomas Rell\nFinal words here.\n")
    assert refine.furniture(page) == refine._furniture_py(page) == [(39, 156)]  # "Most Read" .. "Again?"
