"""Candidate pairs: numpy and DuckDB agree, df limits and outlet boilerplate drop keys."""

from __future__ import annotations

import duckdb
import numpy as np

from conftest import PTC_ARTICLES, need
from newstrace.reuse.candidates import (
    CandidateParams,
    candidates_duckdb,
    candidates_numpy,
    mark_shared_boilerplate,
    shared_rows,
)
from newstrace.reuse.shingles import shingle_rows


def _ptc_texts(k: int) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(need(PTC_ARTICLES).glob("*.txt"))[:k]]


def _pairs(c) -> set[tuple[int, int]]:
    return set(zip(c.a.tolist(), c.b.tolist(), strict=True))


def test_numpy_and_duckdb_agree_on_ptc():
    texts = _ptc_texts(371)
    docs, hashes = shingle_rows(texts)
    outlets = (np.arange(len(texts)) % 5).astype(np.int32)
    outlets[::7] = -1
    a = candidates_numpy(docs, hashes, outlets)
    b = candidates_duckdb(duckdb.connect(), docs, hashes, outlets)
    assert _pairs(a) == _pairs(b) and len(_pairs(a)) > 0
    assert np.array_equal(np.sort(a.boilerplate), b.boilerplate)
    assert np.all(a.a < a.b)


def test_copies_pair_and_unrelated_texts_do_not():
    texts = _ptc_texts(3)
    docs, hashes = shingle_rows([texts[0], texts[1], "Intro.\n" + texts[0], texts[2]])
    c = candidates_numpy(docs, hashes, np.full(4, -1, np.int32))
    assert _pairs(c) == {(0, 2)}


def test_max_df_drops_keys_shared_by_too_many_documents():
    texts = _ptc_texts(12)
    shared = " ".join(texts[0].split()[:80])
    docs, hashes = shingle_rows([t + "\n" + shared for t in texts[1:]])
    none = np.full(11, -1, np.int32)
    assert len(candidates_numpy(docs, hashes, none, CandidateParams(max_df=20)).a) == 55
    assert len(candidates_numpy(docs, hashes, none, CandidateParams(max_df=10)).a) == 0


def test_outlet_boilerplate_is_dropped_for_every_outlet():
    texts = _ptc_texts(8)
    footer = " ".join(texts[7].split()[:60])
    # outlet 0 repeats the footer on 3 pages; outlet 1 carries it on two pages inherited from outlet 0
    docs, hashes = shingle_rows([t + "\n" + footer for t in texts[:5]])
    outlets = np.array([0, 0, 0, 1, 1], np.int32)
    c = candidates_numpy(docs, hashes, outlets)
    assert _pairs(c) == set()
    assert len(c.boilerplate) > 0
    # with outlets unknown there is no evidence of boilerplate, and the shared footer is a candidate
    c2 = candidates_numpy(docs, hashes, np.full(5, -1, np.int32))
    assert len(_pairs(c2)) == 10


def test_shared_rows_keep_exactly_the_keys_of_several_documents():
    texts = _ptc_texts(40)
    texts += [texts[3][:1500], "Intro.\n" + texts[9]]
    docs, hashes = shingle_rows(texts)
    d, h, starts, lengths = shared_rows(docs, hashes, CandidateParams())
    uniq, df = np.unique(hashes, return_counts=True)
    assert np.array_equal(np.unique(h), uniq[df >= 2])
    assert np.all(np.diff(h) >= 0) and lengths.sum() == len(h) and np.all(lengths >= 2)
    # every kept row is a row of the input, none lost
    assert set(zip(d.tolist(), h.tolist(), strict=True)) == {
        (x, y) for x, y in zip(docs.tolist(), hashes.tolist(), strict=True) if y in set(h.tolist())
    }


def test_shared_boilerplate_flag_matches_a_direct_check():
    texts = _ptc_texts(10)
    footer = " ".join(texts[9].split()[:60])
    # docs 0-3 carry outlet 0's footer; doc 4 copies doc 0 with the footer, doc 5 copies doc 1 without it
    batch = [t + "\n" + footer for t in texts[:4]]
    batch += ["Intro.\n" + texts[0] + "\n" + footer, "Intro.\n" + texts[1]]
    docs, hashes = shingle_rows(batch)
    outlets = np.array([0, 0, 0, 0, 1, 2], np.int32)
    c = candidates_numpy(docs, hashes, outlets)
    mark_shared_boilerplate(c, docs, hashes)
    assert {(0, 4), (1, 5)} <= _pairs(c)
    boiler = set(c.boilerplate.tolist())
    keys = [set(hashes[docs == i].tolist()) & boiler for i in range(len(batch))]
    for x, y, flag in zip(c.a.tolist(), c.b.tolist(), c.shared_boiler.tolist(), strict=True):
        assert flag == bool(keys[x] & keys[y])
    assert c.shared_boiler[_index(c, 0, 4)]
    assert not c.shared_boiler[_index(c, 1, 5)]


def _index(c, a: int, b: int) -> int:
    return int(np.flatnonzero((c.a == a) & (c.b == b))[0])
