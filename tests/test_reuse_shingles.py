"""Shingles: exact agreement with the shared tokenizer, stable hashes, and the winnowing guarantee."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from conftest import PTC_ARTICLES, need
from newstrace.reuse.shingles import (
    ShingleParams,
    fingerprint,
    ngram_hashes,
    shingle_rows,
    winnow,
    word_hashes,
    word_spans,
    words_of,
)
from newstrace.tokens import tokenize


def test_words_match_tokenize_on_real_texts(seed_text):
    texts = [seed_text] + [p.read_text(encoding="utf-8") for p in sorted(need(PTC_ARTICLES).glob("*.txt"))[:60]]
    for t in texts:
        assert words_of(t) == tokenize(t).words


def test_hashes_are_stable_across_processes(seed_text):
    here = fingerprint(seed_text)
    code = (
        "import sys; from newstrace.reuse.shingles import fingerprint; "
        "print(','.join(map(str, fingerprint(sys.stdin.read()).tolist())))"
    )
    out = subprocess.run([sys.executable, "-c", code], input=seed_text, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ",".join(map(str, here.tolist()))


def test_ngram_hash_depends_on_word_order():
    a = ngram_hashes(word_hashes("one two three four five".split()), 5)
    b = ngram_hashes(word_hashes("two one three four five".split()), 5)
    assert len(a) == 1 and a[0] != b[0]


def test_case_and_quotes_do_not_change_keys():
    assert np.array_equal(
        fingerprint("He said the Syria’s army will win the war in the north"),
        fingerprint("he said THE syria's army will win the war in the north"),
    )


def test_winnowing_keeps_a_key_in_every_long_shared_run(seed_text):
    p = ShingleParams(n=5, window=8)
    words = seed_text.split()
    shared = " ".join(words[100 : 100 + p.window + p.n - 1])
    other = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi"
    a = fingerprint(other + " " + shared + " " + other[::-1], p)
    b = fingerprint(shared, p)
    assert len(np.intersect1d(a, b)) >= 1
    h = ngram_hashes(word_hashes(words_of(seed_text)), p.n)
    kept = winnow(h, p.window)
    assert 0.15 < len(kept) / len(h) < 0.3  # about 2 / (window + 1)
    assert np.all(np.diff(kept) <= p.window)


def test_shingle_rows_are_distinct_per_document(seed_text):
    docs, hashes = shingle_rows([seed_text, "", seed_text + " " + seed_text])
    assert docs.dtype == np.int32 and hashes.dtype == np.int64
    assert not np.any(docs == 1)
    for d in (0, 2):
        assert len(np.unique(hashes[docs == d])) == np.sum(docs == d)


def test_batched_rows_equal_per_text_fingerprints(seed_text):
    texts = [p.read_text(encoding="utf-8") for p in sorted(need(PTC_ARTICLES).glob("*.txt"))[:40]]
    texts += ["", "too short", "one two three four five six seven", seed_text]
    docs, hashes = shingle_rows(texts)
    for i, t in enumerate(texts):
        assert np.array_equal(hashes[docs == i], fingerprint(t)), i


UNICODE_CASES = [
    "Syria’s army didn't win; the ‘rebels’ said “no” — twice…",
    "naïve café in Zürich, 1,000 ½ ² _under_score x-y a’b’c it''s 'quoted' ’lead trail’",
    "ΟΔΟΣ Αθηνών, Москва и Киев, 東京 と 大阪, עברית",
    "emoji 😀 and math 𝒳y outside the BMP, then plain words again",
    "non\u00a0breaking\u00a0spaces and tabs\tand\nnewlines",
    "",
    "'",
    "a",
]


def test_word_scan_matches_tokenize_offsets_and_hashes(seed_text):
    texts = [seed_text, *UNICODE_CASES]
    texts += [p.read_text(encoding="utf-8") for p in sorted(need(PTC_ARTICLES).glob("*.txt"))[:60]]
    for t in texts:
        tk = tokenize(t)
        h, starts, ends = word_spans(t)
        assert starts.tolist() == tk.starts and ends.tolist() == tk.ends, t[:60]
        assert np.array_equal(h, word_hashes(tk.words)), t[:60]


def test_dotted_capital_i_keeps_offsets():
    # 'İ'.lower() is two characters; the scan must still report raw offsets
    t = "In İstanbul and İzmir today"
    _, starts, ends = word_spans(t)
    tk = tokenize(t)
    assert starts.tolist() == tk.starts and ends.tolist() == tk.ends
    assert np.array_equal(fingerprint(t.replace("İ", "I")), fingerprint(t))


def test_rows_do_not_depend_on_batching(seed_text):
    texts = [p.read_text(encoding="utf-8") for p in sorted(need(PTC_ARTICLES).glob("*.txt"))[:30]]
    texts += UNICODE_CASES + [seed_text]
    docs, hashes = shingle_rows(texts)
    for cut in (1, 7, len(texts) - 1):
        d1, h1 = shingle_rows(texts[:cut])
        d2, h2 = shingle_rows(texts[cut:])
        assert np.array_equal(np.concatenate([d1, d2 + cut]), docs)
        assert np.array_equal(np.concatenate([h1, h2]), hashes)


def test_winnowed_values_equal_positional_winnowing(seed_text):
    # the batch path takes window minima as values; the positional `winnow` must keep the same set
    for p in (ShingleParams(5, 8), ShingleParams(3, 5), ShingleParams(4, 1), ShingleParams(5, 3)):
        for t in (seed_text, seed_text[:400], "one two three four five six seven"):
            h = ngram_hashes(word_hashes(words_of(t)), p.n)
            expected = np.unique(h[winnow(h, p.window)].view(np.int64))
            assert np.array_equal(fingerprint(t, p), expected)


def test_parallel_corpus_shingling_equals_one_batch(seed_text):
    from newstrace.reuse.engine import shingle_corpus

    texts = [p.read_text(encoding="utf-8") for p in sorted(need(PTC_ARTICLES).glob("*.txt"))[:50]]
    texts = (texts + UNICODE_CASES + [seed_text]) * 3
    p = ShingleParams()
    docs, hashes = shingle_rows(texts, p)
    d2, h2 = shingle_corpus(texts, p, workers=2, min_parallel=10, chunk=37)
    assert np.array_equal(docs, d2) and np.array_equal(hashes, h2)


def test_headline_lists_are_left_out_of_the_shingles():
    sidebar = ("Recent Posts\nMinisters meet in the capital over the harbour plan\nFloods close the northern rail line"
               " for a week\nCouncil votes to rebuild the old market hall\nTeachers strike over pay in three regions")
    body_a = "\n\n".join(f"The harbour board met on day {k} and said the plan would cost more than it had hoped."
                         for k in range(12))
    body_b = "\n\n".join(f"Another story entirely, told in paragraph {k} of the page about the weather."
                         for k in range(12))
    with_a, with_b = f"Masthead\n\n{sidebar}\n\n{body_a}", f"Masthead\n\n{sidebar}\n\n{body_b}"
    # the two pages share their sidebar, and nothing of it is a key: only the story's own words are
    assert np.intersect1d(fingerprint(with_a), fingerprint(with_b)).size == 0
    blanked = f"Masthead\n\n{' ' * len(sidebar)}\n\n{body_a}"
    assert fingerprint(with_a).tolist() == fingerprint(blanked).tolist()
    # with the option off, the sidebar's words make keys the two pages share
    off = ShingleParams(furniture=False)
    assert np.intersect1d(fingerprint(with_a, off), fingerprint(with_b, off)).size >= 3


def test_folding_by_table_equals_lower_casing_text_by_text(seed_text):
    """The scan folds BMP text through a code-unit table; it must give what `str.lower` per text gives, dotted
    capital I, curly apostrophes and scripts with case included (and the Greek sigma and astral text, which take
    the slow way)."""
    import random

    from newstrace.reuse.shingles import _SEP, _code_points, _fold, _folded_code_points

    rng = random.Random(7)
    ranges = [(0x20, 0x250), (0x370, 0x530), (0x1E00, 0x2200), (0x2C00, 0x2D30), (0xA640, 0xA7FF), (0xFF00, 0xFFEF)]
    texts = [seed_text, "İstanbul’s ISTANBUL", "ΟΔΥΣΣΕΥΣ ΣΟΦΟΣ", "astral \U0001d400 text"]
    for _ in range(200):
        texts.append("".join(chr(rng.randrange(*rng.choice(ranges))) for _ in range(40)))
    for batch in ([t] for t in texts):
        assert np.array_equal(_folded_code_points(batch), _code_points(_SEP.join(map(_fold, batch))))
    assert np.array_equal(_folded_code_points(texts[4:]), _code_points(_SEP.join(map(_fold, texts[4:]))))
