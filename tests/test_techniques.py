"""Propaganda technique spans: segmentation, rules, the shipped model on real text, and reproducible training."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from conftest import PTC_ARTICLES, need
from newstrace.model import TechniqueSpan
from newstrace.signals.features import TECHNIQUES, analyse, split_sentences
from newstrace.signals.techniques import (
    _FUNCTION,
    SHIPPED_MODEL,
    _pack,
    _repeated_phrases,
    _unpack,
    clause_spans,
    detect_techniques,
    lexical_trim,
    load_model,
    rule_spans,
    save_model,
    token_runs,
)

PTC = PTC_ARTICLES.parent


def _shipped():
    if not SHIPPED_MODEL.is_file():
        pytest.skip("shipped technique model not built (make train)")
    return load_model()


def test_split_sentences_trims_and_keeps_raw_offsets():
    text = "Title here\n\nMr. Smith said “no.” Then he left!  Really?\n"
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["Title here", "Mr. Smith said “no.”", "Then he left!", "Really?"]


def test_clauses_cover_sentence_pieces():
    text = "However, the plan failed, and the ministers, all of them, resigned in disgrace."
    doc = analyse(text)
    pieces = [text[c.start : c.end] for c in doc.clauses]
    # "However" (1 word) is glued to the next piece; "all of them" keeps 3 words and stays alone
    assert pieces == ["However, the plan failed", "and the ministers", "all of them", "resigned in disgrace"]
    assert all(c.sent == 0 for c in doc.clauses)


def test_rules_question_headline_and_repeated_parenthetical():
    body = " ".join(f"Fighters{i} , backed by Gulf money, moved north." for i in range(3))
    text = f"Is the Ministry Hiding the Truth\n\n{body}\nThe backed by Gulf money claim again.\n"
    spans = rule_spans(analyse(text))
    doubt = [s for s in spans if s.technique == "Doubt"]
    assert [text[s.start : s.end] for s in doubt] == ["Is the Ministry Hiding the Truth"]
    rep = [text[s.start : s.end] for s in spans if s.technique == "Repetition"]
    # 4 occurrences; 3 of 4 follow a comma, so the phrase counts as an injected parenthetical
    assert rep == ["backed by Gulf money"] * 4


def test_rules_ignore_plain_headlines_and_repeated_names():
    text = "How the Port Was Rebuilt\n\n" + "The Port Velmar harbour authority met. " * 4
    assert rule_spans(analyse(text)) == []


def test_token_runs_drop_function_word_runs():
    text = "They said the so-called experts lied to all of their friends."
    doc = analyse(text)
    hot = {"the", "so", "called", "experts", "of", "their"}
    p = np.array([0.9 if w in hot else 0.1 for w in doc.toks.words])
    runs = [text[a:b] for a, b, _ in token_runs(doc, p, 0.5)]
    # "the so-called experts" keeps its leading article (gold spans often start with one); "of their" is dropped
    assert runs == ["the so-called experts"]


def test_clause_spans_one_per_clause_and_refined():
    text = "The plan failed, and the traitors fled like rats, as everyone surely knows."
    doc = analyse(text)
    assert [text[c.start : c.end] for c in doc.clauses] == ["The plan failed", "and the traitors fled like rats",
                                                           "as everyone surely knows"]
    p_clause = np.array([0.9, 0.8, 0.1])
    whole = [text[a:b] for a, b, _, _ in clause_spans(doc, p_clause, 0.5)]
    assert whole == ["The plan failed", "and the traitors fled like rats"]  # adjacent hot clauses stay apart
    p_any = np.array([0.9 if w in ("traitors", "fled", "like", "rats") else 0.05 for w in doc.toks.words])
    refined = [text[a:b] for a, b, _, _ in clause_spans(doc, p_clause, 0.5, p_any, refine=0.5)]
    # the second clause is trimmed to its hot tokens; the first has none and stays whole
    assert refined == ["The plan failed", "traitors fled like rats"]



def test_lexical_trim_cuts_a_clause_to_its_technique_tokens():
    text = "The plan failed, and the traitors fled like rats, as everyone surely knows."
    doc = analyse(text)
    p_lex = np.array([0.6 if w in ("traitors", "rats") else 0.05 for w in doc.toks.words])
    a, b = lexical_trim(doc, 1, p_lex, 0.5)
    assert text[a:b] == "traitors fled like rats"  # first..last hot token of that clause only
    assert lexical_trim(doc, 0, p_lex, 0.5) is None  # no hot token: the caller keeps the span as it is

def test_weight_packing_round_trip():
    rng = np.random.default_rng(0)
    w = (rng.normal(0, 0.05, size=(64, 3)) * (rng.random((64, 3)) < 0.3)).astype(np.float32)
    gaps, vals = _pack(w, 0.01)
    assert gaps.dtype == np.int32 and vals.dtype == np.float16
    back = _unpack(gaps, vals, 64, 3)
    kept = np.abs(w) >= 0.01
    assert np.allclose(back[kept], w[kept], rtol=1e-3, atol=1e-4)
    assert not back[~kept].any()


def test_shipped_models_are_small_and_the_default_has_word_vectors():
    from newstrace.signals.techniques import MODEL_FILES

    _shipped()
    for name in MODEL_FILES.values():
        path = SHIPPED_MODEL.parent / name
        # the repository holds no file over 5 MB
        assert not path.exists() or path.stat().st_size < 5_000_000
    assert load_model().word_vectors is not None and not load_model().needs_encoder
    fast = load_model(kind="fast")
    assert fast.word_vectors is None and not fast.contextual


def test_shipped_model_on_ptc_articles():
    model = _shipped()
    files = sorted(need(PTC_ARTICLES).glob("article*.txt"))[:15]
    n = 0
    for path in files:
        text = path.read_bytes().decode("utf-8")
        spans = detect_techniques(text, model)
        for sp in spans:
            assert isinstance(sp, TechniqueSpan)
            assert sp.technique in TECHNIQUES
            assert 0 <= sp.start < sp.end <= len(text)
            assert 0.0 <= sp.score <= 1.0
            assert text[sp.start] not in " \n" and text[sp.end - 1] not in " \n"
        n += len(spans)
    assert n > 15  # propaganda articles: the model finds something in most of them
    assert load_model() is model  # cached


def test_seed_article(seed_text):
    spans = detect_techniques(seed_text, _shipped())
    headline = seed_text.strip().split("\n")[0]
    h0 = seed_text.index(headline)
    assert any(s.technique == "Doubt" and s.start == h0 and s.end == h0 + len(headline) for s in spans)
    assert any(s.technique == "Loaded_Language" for s in spans)
    rep = [s for s in spans if s.technique == "Repetition"]
    occurrences = [m.start() for m in re.finditer("backed by Saudi Arabia", seed_text)]
    assert len(occurrences) >= 3
    for o in occurrences:
        assert any(s.start <= o and o + len("backed by Saudi Arabia") <= s.end for s in rep)


def test_small_training_run_is_deterministic(tmp_path):
    pytest.importorskip("sklearn")
    from newstrace.signals import train as T

    articles = T.load_ptc(need(PTC))[:8]
    paths = []
    for k in range(2):
        model = T.fit(articles, T.Params(seed=7))
        paths.append(tmp_path / f"m{k}.npz")
        save_model(model, paths[-1])
    assert paths[0].read_bytes() == paths[1].read_bytes()
    reloaded = load_model(paths[0])
    # unpruned, the saved model differs from the fitted one by float16 rounding only (the shipped file drops
    # weights under 0.01 too, which on a model fitted to 8 articles is most of them)
    save_model(model, tmp_path / "full.npz", prune=0.0)
    full = load_model(tmp_path / "full.npz")
    # compared before calibration: its isotonic map is a step function, so a float16 rounding of a raw score next
    # to a step moves the confidence by a whole step; the maps themselves must survive the file as they are
    assert full.calibration.keys() == model.calibration.keys()
    for source, (xs, ys) in model.calibration.items():
        assert np.allclose(full.calibration[source][0], xs) and np.allclose(full.calibration[source][1], ys)
    raw_model, raw_full = dataclasses.replace(model, calibration={}), dataclasses.replace(full, calibration={})
    for a in articles[:4]:
        mine = {(s.technique, s.start, s.end): s.score for s in detect_techniques(a.text, raw_model)}
        back = {(s.technique, s.start, s.end): s.score for s in detect_techniques(a.text, raw_full)}
        assert len(set(mine) & set(back)) >= 0.95 * max(len(mine), len(back))
        assert all(abs(back[k] - mine[k]) < 0.01 for k in set(mine) & set(back))
    # and a saved model round-trips exactly
    save_model(reloaded, tmp_path / "again.npz")
    assert (tmp_path / "again.npz").read_bytes() == paths[0].read_bytes()
    assert 0.0 < reloaded.sent_threshold < 1.0


def test_fit_calibration_is_increasing_and_falls_back_to_the_hit_rate():
    pytest.importorskip("sklearn")
    from newstrace.signals.train import MIN_CALIBRATION_SPANS, fit_calibration

    rng = np.random.default_rng(3)
    raw = rng.random(2000)
    hits = (rng.random(2000) < raw**2).astype(int)  # raw scores that overstate the hit rate
    few = [0.2] * (MIN_CALIBRATION_SPANS - 1)
    cal = fit_calibration({"clause": (list(raw), list(hits)), "rule": (few, [1, 0] * 14 + [1])})
    xs, ys = cal["clause"]
    assert list(xs) == sorted(xs) and all(b >= a for a, b in zip(ys, ys[1:], strict=False))
    assert 0.0 <= ys[0] and ys[-1] <= 1.0
    # the map follows the true hit rate raw^2, not the raw score
    assert abs(np.interp(0.5, xs, ys) - 0.25) < 0.08 and abs(np.interp(0.9, xs, ys) - 0.81) < 0.1
    assert cal["rule"] == ([0.0, 1.0], [round(15 / 29, 4)] * 2)


def test_shipped_model_is_calibrated_and_min_confidence_keeps_the_confident_spans():
    from newstrace.signals.techniques import CLAUSE, RULE, TOKEN, with_min_confidence

    model = _shipped()
    assert set(model.calibration) == {CLAUSE, TOKEN, RULE}
    for xs, ys in model.calibration.values():
        assert list(xs) == sorted(xs) and list(ys) == sorted(ys) and 0.0 <= ys[0] <= ys[-1] <= 1.0
    text = sorted(need(PTC_ARTICLES).glob("article*.txt"))[0].read_bytes().decode("utf-8")
    every = detect_techniques(text, model)
    strict = detect_techniques(text, with_min_confidence(model, 0.3))
    assert set(strict) == {s for s in every if s.score >= 0.3} and len(strict) < len(every)
    assert load_model() is model and model.min_confidence == 0.0  # the cached model is left as it was
    with pytest.raises(Exception, match="min-confidence"):
        with_min_confidence(model, 1.5)


def test_calibration_survives_saving(tmp_path):
    model = _shipped()
    save_model(model, tmp_path / "m.npz")
    assert load_model(tmp_path / "m.npz").calibration == model.calibration


@pytest.mark.parametrize("text", ["", "\n\n", "   \t "])
def test_texts_without_a_clause_give_no_spans_with_every_shipped_model(text):
    # the default model's context layer reads more columns than the fast one's: an empty text once crashed it
    for name in ("default", "fast"):
        assert detect_techniques(text, load_model(kind=name)) == []


def test_analyse_articles_in_forked_workers_gives_the_same_lines_in_the_same_order():
    from newstrace.model import Article
    from newstrace.signals.analyse import analyse_articles

    files = sorted(need(PTC_ARTICLES).glob("article*.txt"))[:24]
    articles = [Article(id=p.stem, text=p.read_bytes().decode("utf-8")) for p in files]
    one = list(analyse_articles(articles))
    two = list(analyse_articles(articles, workers=2, min_parallel=2, chunk=5))
    assert [r["id"] for r in two] == [a.id for a in articles]
    assert two == one
    assert sum(len(r["techniques"]) for r in two) > 24


def test_analyse_articles_reports_each_article_over_its_time_limit_from_the_workers():
    from newstrace.model import Article
    from newstrace.signals.analyse import analyse_articles

    text = need(PTC_ARTICLES).joinpath("article111111111.txt").read_text(encoding="utf-8") * 40
    articles = [Article(id=f"a{i}", text=text) for i in range(4)]
    late: list[tuple[str, str]] = []
    rows = list(analyse_articles(articles, doc_seconds=0.01, workers=2, min_parallel=2, chunk=1,
                                 on_timeout=lambda a, exc: late.append((a.id, str(exc)))))
    assert rows == []
    assert late == [(f"a{i}", "took longer than 0.01 s") for i in range(4)]


def test_hash_rows_gives_each_feature_its_hashed_column_and_signed_value(seed_text):
    """The CSR pieces, checked feature by feature against the definition: column = crc32 & mask, value negated
    when bit 31 of the hash is set; rows keep their order and an empty row is an empty range."""
    import zlib

    from newstrace.signals import features as F

    doc = F.analyse(seed_text)
    rows = [F.token_features(doc, k) for k in range(40)] + [{}] + [F.clause_features(doc, 0)]
    indptr, indices, data = F.hash_rows(rows, 1 << 18)
    assert indptr.tolist()[0] == 0 and len(indptr) == len(rows) + 1
    for r, row in enumerate(rows):
        lo, hi = indptr[r], indptr[r + 1]
        assert hi - lo == len(row)
        for (name, value), col, got in zip(row.items(), indices[lo:hi], data[lo:hi], strict=True):
            h = zlib.crc32(name.encode("utf-8"))
            assert col == h & ((1 << 18) - 1)
            assert got == np.float32(-value if (h >> 31) & 1 else value)
    assert any(v < 0 for v in data) and any(v > 0 for v in data)


def _all_repeated(doc, min_words: int = 3, max_words: int = 8, min_count: int = 3) -> list[TechniqueSpan]:
    """The Repetition rule as first written: every run's places collected, then tested (the definition)."""
    words, text, starts, ends = doc.toks.words, doc.text, doc.toks.starts, doc.toks.ends
    n = len(words)
    plain_gap = [not text[ends[i] : starts[i + 1]].strip() for i in range(n - 1)]
    out, covered = [], [False] * n
    for size in range(max_words, min_words - 1, -1):
        pos: dict[tuple[str, ...], list[int]] = {}
        for i in range(n - size + 1):
            if all(plain_gap[i : i + size - 1]):
                pos.setdefault(tuple(words[i : i + size]), []).append(i)
        for gram, idxs in pos.items():
            if len(idxs) < min_count or sum(w not in _FUNCTION for w in gram) < 2:
                continue
            after = sum(1 for i in idxs if text[max(0, starts[i] - 4) : starts[i]].rstrip().endswith(","))
            if 2 * after < len(idxs):
                continue
            for i in idxs:
                if not any(covered[i : i + size]):
                    out.append(TechniqueSpan("Repetition", starts[i], ends[i + size - 1],
                                             min(0.95, 0.5 + 0.05 * len(idxs))))
                    covered[i : i + size] = [True] * size
    return out


def test_repeated_phrases_equal_the_rule_applied_to_every_run(seed_text):
    texts = [seed_text, seed_text.replace(", backed by Saudi Arabia,", ", backed by Saudi Arabia and Qatar,", 4)]
    texts.append("The plan, said the minister, failed. The plan, said the minister, won. The plan, said the "
                 "minister, stalled. Then the plan said the minister left.")
    texts += [p.read_bytes().decode("utf-8") for p in sorted(need(PTC_ARTICLES).glob("article*.txt"))[:60]]
    hits = 0
    for text in texts:
        doc = analyse(text)
        found = _repeated_phrases(doc)
        assert found == _all_repeated(doc)
        hits += len(found)
    assert hits >= 10


def test_signals_run_with_one_blas_thread_in_each_worker(monkeypatch):
    from threadpoolctl import threadpool_info

    import newstrace.signals.analyse as analyse_module
    from newstrace.model import Article

    real = analyse_module.analyse_article

    def spy(article, model=None):
        row = real(article, model)
        row["blas_threads"] = sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})
        return row

    monkeypatch.setattr(analyse_module, "analyse_article", spy)
    files = sorted(need(PTC_ARTICLES).glob("article*.txt"))[:6]
    articles = [Article(id=p.stem, text=p.read_bytes().decode("utf-8")) for p in files]
    for workers in (1, 2):
        rows = list(analyse_module.analyse_articles(articles, workers=workers, min_parallel=2, chunk=2))
        assert [r["blas_threads"] for r in rows] == [[1]] * len(articles)


@pytest.mark.parametrize("text", ["", "Word", "“Quoted” 'x' ‘y’ \"z\" ABC abc’s 12 1999 Tenth tenth tenth tenth",
                                  "a_b c a b_c 1ST İstanbul ǅemal ΣΑΣ \ud800x “y\udcff”"])
def test_token_feature_columns_are_token_features_hashed(seed_text, text):
    """The token layer's columns, built from per-word hashes and continued checksums, are `hash_rows` of each
    token's `token_features`, bit for bit (the definition)."""
    from newstrace.signals import features as F

    ptc = sorted(need(PTC_ARTICLES).glob("article*.txt"))[:20]
    texts = [text, seed_text] + [p.read_bytes().decode("utf-8") for p in ptc]
    for t in texts:
        doc = F.analyse(t)
        rows = [F.token_features(doc, k) for k in range(len(doc.toks))]
        for a, b in zip(F.token_feature_columns(doc, 1 << 18), F.hash_rows(rows, 1 << 18), strict=True):
            assert np.array_equal(a, b) and a.dtype == b.dtype


def test_span_rows_equal_asdict(seed_text):
    from dataclasses import asdict

    from newstrace.signals.analyse import _scalar_fields, analyse_text
    from newstrace.signals.attribution import find_attributions
    from newstrace.signals.techniques import detect_techniques, load_model

    spans = [*detect_techniques(seed_text, load_model()), *find_attributions(seed_text)]
    assert spans and all(_scalar_fields(s) == asdict(s) for s in spans)
    assert analyse_text(seed_text)["attributions"] == [asdict(a) for a in find_attributions(seed_text)]


def _unit_features_by_definition(doc, a: int, b: int, sent, raw: str) -> dict[str, float]:
    """The word, pair and cue features of tokens a..b as first written, a loop over the words (the definition that
    `features.sentence_features` and `clause_features` compute from the document's cached names and counts)."""
    from newstrace.signals.features import _shape

    words = doc.toks.words[a:b]
    f: dict[str, float] = {"bias": 1.0}
    for w in words:
        f["w=" + w] = 1.0
    for x, y in zip(words, words[1:], strict=False):
        f["b=" + x + "_" + y] = 1.0
    if sent is not None:
        for w in doc.toks.words[sent.first_tok : sent.end_tok]:
            f["sw=" + w] = 0.5
    st, en = doc.toks.starts, doc.toks.ends
    caps = sum(1 for k in range(a, b) if _shape(doc.text[st[k]]) == "Cap")
    upper = sum(1 for k in range(a, b) if en[k] - st[k] > 1 and doc.text[st[k] : en[k]].isupper())
    rep = sum(1 for w in set(words) if len(w) > 3 and doc.counts.get(w, 0) >= 3)
    return {"f": f, "caps": caps, "upper": upper, "rep": rep, "quote": float(any(c in raw for c in "\"“”"))}


@pytest.mark.parametrize("text", ["", "A_B a b_c a_b c. SHOUT IT, NOW 1ST! “q” rep repeat repeat repeat.",
                                  "İstanbul ǅemal ΣΑΣ \ud800x “y\udcff”, z; w: v — u"])
def test_sentence_and_clause_features_follow_their_definition(seed_text, text):
    from newstrace.signals import features as F

    for t in (text, seed_text):
        doc = F.analyse(t)
        for i, s in enumerate(doc.sents):
            got, want = F.sentence_features(doc, i), _unit_features_by_definition(doc, s.first_tok, s.end_tok, None,
                                                                                t[s.start : s.end])
            assert list(got.items())[: len(want["f"])] == list(want["f"].items())
            n = s.end_tok - s.first_tok
            assert got[f"capfrac={int(4 * want['caps'] / n) if n else 0}"] == 1.0
            assert got.get("allcaps", 0.0) == float(min(want["upper"], 3))
            assert got[f"rep={min(want['rep'], 6)}"] == 1.0 and got["quote"] == want["quote"]
        for i, c in enumerate(doc.clauses):
            got = F.clause_features(doc, i)
            want = _unit_features_by_definition(doc, c.first_tok, c.end_tok, doc.sents[c.sent], t[c.start : c.end])
            assert list(got.items())[: len(want["f"])] == list(want["f"].items())
            assert got.get("allcaps", 0.0) == float(min(want["upper"], 3))
            assert got[f"rep={min(want['rep'], 6)}"] == 1.0 and got["quote"] == want["quote"]
