"""The realism options of the synthetic benchmark (`synth.realism`): off by default, seeded, exact truth."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from conftest import PTC_ARTICLES, need
from newstrace.synth import realism
from newstrace.synth.copyops import CopyState
from newstrace.synth.generate import generate
from newstrace.synth.operations import ATTRIBUTION_RE, DENIAL_RE, Piece, ptext
from newstrace.synth.realism import Realism

# an original story about fictional places, one paragraph per string
PARENT = [
    "Ferry crews in Dunmore stopped work on Thursday. Passengers queued at the terminal for most of the day.",
    "The union said the crews had warned Calloway Lines in March. Managers tried to run a reduced service.",
    "Calloway Lines denied that any crew member had been threatened. Talks will resume on Monday in Dunmore.",
    "Shopkeepers on Vell said deliveries were late again. A baker said she had thrown away two days of bread.",
]


def _state(seed: int) -> tuple[CopyState, str]:
    text = "\n\n".join(PARENT)
    paras, pos = [], 0
    for p in PARENT:
        paras.append([Piece(p, (pos, pos + len(p)), True)])
        pos += len(p) + 2
    return CopyState(paras, np.random.default_rng(seed)), text


def _exact_pieces_hold_the_parent(st: CopyState, parent: str) -> None:
    for para in st.paras:
        for p in para:
            if p.exact:
                assert parent[p.src[0]:p.src[1]] == p.text


def test_dropped_sentences_never_attribute_or_deny() -> None:
    for seed in range(20):
        st, parent = _state(seed)
        if realism.drop_sentences(st, st.rng, 1.0):
            for sentence in st.log[-1]["sentences"]:
                assert not ATTRIBUTION_RE.search(sentence) and not DENIAL_RE.search(sentence)
            assert "denied that any crew member" in "\n".join(ptext(p) for p in st.paras)
        _exact_pieces_hold_the_parent(st, parent)


_FOLD = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "—": "-", "–": "-"})


def test_page_changes_layout_and_typography_but_keeps_every_word() -> None:
    seps, joined, split = set(), 0, 0
    for seed in range(12):
        st, parent = _state(seed)
        realism.page(st, st.rng)
        _exact_pieces_hold_the_parent(st, parent)
        op = st.log[-1]
        seps.add(st.sep)
        joined += op["joined"]
        split += op["split"]
        text = st.sep.join(ptext(p) for p in st.paras)
        # only spaces, line breaks, quotes and dashes change: the rest is the parent, character for character
        assert "".join(text.translate(_FOLD).split()) == "".join(parent.translate(_FOLD).split())
    assert seps == {"\n", "\n\n"} and joined and split


def test_respelling_is_a_replacement_throughout() -> None:
    st, parent = _state(3)
    assert realism.respell(st, st.rng)
    op = st.log[-1]
    # the one single-word name mentioned twice ("Calloway Lines" is a longer name)
    assert op["op"] == "respell" and op["term"] == "Dunmore" and op["spelling"] != "Dunmore"
    text = "\n\n".join(ptext(p) for p in st.paras)
    assert "Dunmore" not in text and text.count(op["spelling"]) == parent.count("Dunmore") == 2
    assert st.edits[-1].kind == "replace" and st.edits[-1].source_text == op["term"]


@pytest.fixture(scope="module")
def web(tmp_path_factory) -> tuple[dict, dict]:
    need(PTC_ARTICLES)
    out = tmp_path_factory.mktemp("web")
    generate(out, n_articles=200, seed=5, filler=False, realism=Realism.web())
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    rows = {r["id"]: r for r in map(json.loads, (out / "corpus.jsonl").read_text(encoding="utf-8").splitlines())}
    return truth, rows


def test_options_off_leave_the_corpus_as_it_was(tmp_path: Path) -> None:
    need(PTC_ARTICLES)
    generate(tmp_path / "a", n_articles=120, seed=3)
    generate(tmp_path / "b", n_articles=120, seed=3, realism=Realism())
    generate(tmp_path / "c", n_articles=120, seed=3, realism=Realism.web())
    generate(tmp_path / "d", n_articles=120, seed=3, realism=Realism.web())
    for name in ("corpus.jsonl", "truth.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        assert (tmp_path / "c" / name).read_bytes() == (tmp_path / "d" / name).read_bytes()
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes()


def test_web_options_are_recorded_and_the_truth_stays_exact(web) -> None:
    truth, rows = web
    assert truth["meta"]["realism"] == Realism.web().to_json()
    ops = Counter(o["op"] for a in truth["articles"] for o in a["operations"])
    for op in ("paraphrase", "paraphrased", "add_sentence", "added_sentence", "drop_sentence", "page", "house_style",
               "respell"):
        assert ops[op], op
    seps = {o["sep"] for a in truth["articles"] for o in a["operations"] if o["op"] == "page"}
    assert seps == {"\n", "\n\n"}
    # word-level changes sit at their copy spans
    for a in truth["articles"]:
        text = rows[a["id"]]["text"]
        for o in a["operations"]:
            if o["op"] in ("paraphrased", "added_sentence", "restyle"):
                x, y = o["copy_span"]
                assert text[x:y] == o["copy_text"]
    # a respelt name is a planted replacement, at every span
    respelt = [s for s in truth["systematic"] if s["kind"] == "replace" and s["copy_text"] != s["source_text"]
               and s["source_text"].lower()[:2] == s["copy_text"].lower()[:2]]
    assert respelt
    for s in respelt:
        text = rows[s["copy"]]["text"]
        assert all(text[x:y] == s["copy_text"] for x, y in s["copy_spans"])
    # passages still start and end on shared characters
    for p in truth["pairs"]:
        for q in p["passages"]:
            s = rows[p["source"]]["text"][q["source_start"]:q["source_end"]]
            c = rows[p["copy"]]["text"][q["copy_start"]:q["copy_end"]]
            assert s[0] == c[0] and s[-1] == c[-1]
