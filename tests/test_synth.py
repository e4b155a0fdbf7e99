"""The synthetic corpus generator: determinism, exact truth offsets, every operation, disjoint negatives."""

from __future__ import annotations

import difflib
import json
import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from conftest import PTC_ARTICLES, need
from newstrace.eval.synth_score import norm_phrase
from newstrace.synth.base import load_base
from newstrace.synth.generate import generate
from newstrace.synth.ngram import NGramModel
from newstrace.synth.operations import Piece
from newstrace.synth.truth import child_blocks, passages
from newstrace.tokens import tokenize


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict, dict]:
    need(PTC_ARTICLES)
    out = tmp_path_factory.mktemp("synth")
    generate(out, n_articles=320, seed=21, filler=False)
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    rows = {}
    for line in (out / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        rows[r["id"]] = r
    return out, truth, rows


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    need(PTC_ARTICLES)
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, n_articles=120, seed=3)
    generate(b, n_articles=120, seed=3)
    generate(c, n_articles=120, seed=4)
    for name in ("corpus.jsonl", "truth.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
        assert (a / name).read_bytes() != (c / name).read_bytes()


def test_corpus_rows_follow_the_contract(corpus) -> None:
    _, truth, rows = corpus
    assert len(rows) == 320
    for r in rows.values():
        assert set(r) == {"id", "url", "outlet", "published", "title", "text"}
        assert datetime.fromisoformat(r["published"]).tzinfo is not None
        assert r["url"].startswith(f"https://{r['outlet']}/")
    assert {a["id"] for a in truth["articles"]} == set(rows)  # filler=False: every article is planted


def test_passages_match_in_source_and_copy(corpus) -> None:
    _, truth, rows = corpus
    assert truth["pairs"]
    for p in truth["pairs"]:
        src, cp = rows[p["source"]], rows[p["copy"]]
        assert src["published"] <= cp["published"] or datetime.fromisoformat(src["published"]) <= \
            datetime.fromisoformat(cp["published"])
        for q in p["passages"]:
            s = src["text"][q["source_start"] : q["source_end"]]
            c = cp["text"][q["copy_start"] : q["copy_end"]]
            # passages start and end on shared characters; inside, only the recorded edits differ
            assert s[0] == c[0] and s[-1] == c[-1]
            ws, wc = tokenize(s).words, tokenize(c).words
            sm = difflib.SequenceMatcher(None, ws, wc, autojunk=False)
            matched = sum(b.size for b in sm.get_matching_blocks())
            # one side may gain phrases or lose a cut sentence, and a copy of a copy adds both sides' edits;
            # the shorter side is still mostly shared
            assert matched >= 0.7 * min(len(ws), len(wc)), (p["source"], p["copy"], q)


def test_planted_edits_sit_at_their_offsets(corpus) -> None:
    _, truth, rows = corpus
    outlets = {o["outlet"]: o for o in truth["outlets"]}
    for s in truth["systematic"]:
        parent, copy = rows[s["source"]]["text"], rows[s["copy"]]["text"]
        spans = [copy[a:b] for a, b in s["copy_spans"]]
        if s["kind"] in ("replace", "relabel"):
            assert s["count"] == len(spans) >= 1
            assert all(x.casefold() == s["copy_text"].casefold() for x in spans)
            assert len(re.findall(re.escape(s["source_text"]), copy)) >= s["misses"]
            if s["kind"] == "relabel":  # the new label keeps the old name, with words on one or both sides
                assert s["source_text"] in s["copy_text"] and s["source_text"] != s["copy_text"]
                assert s["count"] >= 2
        elif s["kind"] == "insert":
            assert s["count"] == len(spans) >= 2
            seams = [tuple(x) for x in s["seams"]]
            for (a, b), x in zip(s["copy_spans"], spans, strict=True):
                seamed = any(a <= sa and sb <= b for sa, sb in seams)
                assert seamed or norm_phrase(x) == norm_phrase(s["phrase"])
            assert copy[s["copy_spans"][0][0] - len(s["anchor"]) : s["copy_spans"][0][0]] == s["anchor"]
        elif s["kind"].startswith("cut_"):
            a, b = s["source_spans"][0]
            assert parent[a:b] == s["source_text"]
            assert s["source_text"] not in copy
        elif s["kind"] == "lead" and s["copy_text"]:
            assert copy[s["copy_spans"][0][0] : s["copy_spans"][0][1]] == s["copy_text"]
    sidebars = 0
    for a in truth["articles"]:
        o = outlets[a["outlet"]]
        text = rows[a["id"]]["text"]
        got = [text[x:y] for x, y in a["boilerplate_spans"]]
        assert got == ([o["header"], o["footer"]] if o["header"] else [])
        # a sidebar of 4-7 headlines under a title line, right before the article, on the outlet's pages only
        assert bool(a["sidebar_spans"]) == o["sidebar"]
        for x, y in a["sidebar_spans"]:
            lines = text[x:y].split("\n")
            assert 5 <= len(lines) <= 8 and lines[0] in ("Recent Posts", "Latest News", "Most Read",
                                                          "Related Stories", "Top Stories")
            assert text[y:y + 2] == "\n\n" and (x == 0 or text[x - 2:x] == "\n\n")
            sidebars += 1
    assert sidebars


def test_every_operation_and_role_appears(corpus) -> None:
    _, truth, _ = corpus
    ops = {o["op"] for a in truth["articles"] for o in a["operations"]}
    assert ops >= {"verbatim", "lead_rewrite", "lead_drop", "inject", "replace", "relabel", "cut_attribution",
                   "cut_denial", "noise", "noise_word", "appositive", "reorder", "partial"}
    kinds = {s["kind"] for s in truth["systematic"]}
    assert kinds == {"insert", "replace", "relabel", "cut_attribution", "cut_denial", "lead", "boilerplate"}
    assert {a["role"] for a in truth["articles"]} == {"origin", "copy", "partial", "negative", "same_facts"}
    assert {h["kind"] for h in truth["hard_negatives"]} == {"same_topic", "same_facts"}
    assert any(s["seams"] for s in truth["systematic"] if s["kind"] == "insert")
    assert any(s["misses"] for s in truth["systematic"] if s["kind"] == "replace")
    # both shapes of relabel: words on both sides of the name, and a suffix glued on with a hyphen
    relabels = [(s["source_text"], s["copy_text"]) for s in truth["systematic"] if s["kind"] == "relabel"]
    assert any(new.lower().startswith("the ") and not new.endswith(old) for old, new in relabels)
    assert any(new.startswith(old + "-") for old, new in relabels)


def test_timing_of_chains(corpus) -> None:
    _, truth, rows = corpus
    net = {o["outlet"]: o["network"] for o in truth["outlets"]}
    arts = {a["id"]: a for a in truth["articles"]}
    seen_net = seen_ind = False
    for a in truth["articles"]:
        if a["parent"] is None or a["role"] != "copy":
            continue
        lag = (datetime.fromisoformat(rows[a["id"]]["published"])
               - datetime.fromisoformat(rows[a["parent"]]["published"])).total_seconds() / 3600
        if net[a["outlet"]] and net[a["outlet"]] == net[arts[a["parent"]]["outlet"]]:
            assert 0 < lag <= 18
            seen_net = True
        elif not net[a["outlet"]]:
            assert lag >= 48
            seen_ind = True
    assert seen_net and seen_ind
    assert any(len({net[e["source"]], net[e["copy"]]}) == 1 and net[e["source"]] for e in truth["edges"])


def test_negatives_share_no_passage(corpus) -> None:
    """No two articles outside a family share a run of 10 words (outlet boilerplate and sidebars aside).

    Base texts share no 8-gram at all, but an edit (a cut, a typo) can join words into a common 8-word
    phrase that another text happens to contain; that is chance, not a passage, so up to two 8-grams pass.
    """
    _, truth, rows = corpus
    bps = {a["id"]: a["boilerplate_spans"] + a["sidebar_spans"] for a in truth["articles"]}
    true = {frozenset((p["source"], p["copy"])) for p in truth["pairs"]}
    # members of one family share text by construction; below the truth's passage size (a short paragraph that a
    # reorder moved away from its neighbours) they are not listed as a pair, and are not negatives either
    family = {a["id"]: a["family"] for a in truth["articles"] if a["family"]}
    true |= {frozenset((x, y)) for x in family for y in family if x != y and family[x] == family[y]}
    owners: dict[tuple, set[str]] = defaultdict(set)
    for i, r in rows.items():
        text = r["text"]
        for a, b in bps.get(i, []):
            text = text[:a] + " " * (b - a) + text[b:]
        w = tokenize(text).words
        for k in range(len(w) - 7):
            owners[tuple(w[k : k + 8])].add(i)
    shared: dict[tuple[str, str], int] = defaultdict(int)
    for ids in owners.values():
        ids = sorted(ids)
        for n, x in enumerate(ids):
            for y in ids[n + 1 :]:
                if frozenset((x, y)) not in true:
                    shared[(x, y)] += 1
    assert not {k: v for k, v in shared.items() if v > 2}


def test_filler_shares_no_8gram() -> None:
    base = load_base(need(PTC_ARTICLES))
    model = NGramModel(b.body for b in base)
    docs = model.generate(np.random.default_rng(0), 400)
    assert 2500 < np.median([len(d) for d in docs]) < 4000
    grams: dict[tuple, int] = {}
    base_grams = set()
    for b in base:
        w = tokenize(b.body).words
        base_grams |= {tuple(w[i : i + 8]) for i in range(len(w) - 7)}
    for n, d in enumerate(docs):
        w = tokenize(d).words
        for g in {tuple(w[i : i + 8]) for i in range(len(w) - 7)}:
            assert g not in base_grams
            assert grams.setdefault(g, n) == n


def test_passages_from_blocks_follow_a_reorder() -> None:
    """Hand-made pieces: a copy that moves the second paragraph to the end and adds a phrase."""
    p1, p2, p3 = "a" * 150, "b" * 150, "c" * 150
    src = f"{p1}\n\n{p2}\n\n{p3}"
    src_blocks = child_blocks(0, [(0, len(src), Piece(src, None, False))], [], set())
    # copy: p1 + inserted phrase, p3, p2
    pieces = [(0, 150, Piece(p1, (0, 150), True)), (150, 160, Piece(", x y z,", None, False, 0)),
              (162, 312, Piece(p3, (304, 454), True)), (314, 464, Piece(p2, (152, 302), True))]
    copy_blocks = child_blocks(1, pieces, src_blocks, set())
    got = passages(src_blocks, copy_blocks, min_shared=100)
    assert got == [{"source_start": 0, "source_end": 150, "copy_start": 0, "copy_end": 150},
                   {"source_start": 152, "source_end": 302, "copy_start": 314, "copy_end": 464},
                   {"source_start": 304, "source_end": 454, "copy_start": 162, "copy_end": 312}]
    # boilerplate (skipped tags) is never owned, so it never makes a passage
    assert child_blocks(1, [(0, 150, Piece(p1, None, False, 7))], [], {7}) == []


def test_headline_drops_a_lone_punctuation_word() -> None:
    from newstrace.synth.generate import _headline

    # a fragment ending in a word of punctuation alone used to trim it to "" and loop forever
    assert _headline("the minister said on friday that ,") == "The minister said on friday"
    assert _headline("ministers meet in the capital -- ;") == "Ministers meet in the capital"
    assert _headline("a b c") == "A b c"


def test_filler_sidebars_are_headline_lists(tmp_path) -> None:
    """Fillers' titles are phrases of several words starting on a word, so a filler page's sidebar lists
    headlines as a real one does (a two-word title or one opening with a comma is no headline)."""
    from newstrace.reuse.refine import furniture

    need(PTC_ARTICLES)
    generate(tmp_path, n_articles=900, seed=3)
    truth = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))
    planted = {a["id"] for a in truth["articles"]}
    sidebars = 0
    for line in (tmp_path / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["id"] in planted:
            continue
        assert len(row["title"].split()) >= 6 and row["title"][:1].isalnum(), row["title"]
        start = row["text"].find("Recent Posts\n")
        if start >= 0:
            end = row["text"].find("\n\n", start)
            assert any(a <= start and end <= b for a, b in furniture(row["text"])), row["text"][start:end]
            sidebars += 1
    assert sidebars >= 20


def test_filler_articles_share_no_8gram_outside_their_outlet_furniture(tmp_path: Path) -> None:
    """Whole filler articles, sidebars included: two of them sharing a run of words would be a reuse pair the
    truth does not list (a sidebar's headlines once slid along the filler, so neighbours shared four of five)."""
    generate(tmp_path, n_articles=1500, seed=5, base_dir=need(PTC_ARTICLES))
    truth = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))
    planted = {a["id"] for a in truth["articles"]}
    furniture = {x for o in truth["outlets"] for x in (o["header"], o["footer"]) if x}
    owner: dict[tuple, str] = {}
    fillers = 0
    for line in (tmp_path / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["id"] in planted:
            continue
        fillers += 1
        text = "\n\n".join(p for p in row["text"].split("\n\n") if p not in furniture)
        w = tokenize(text).words
        for g in {tuple(w[i : i + 8]) for i in range(len(w) - 7)}:
            assert owner.setdefault(g, row["id"]) == row["id"], (g, owner[g], row["id"])
    assert fillers > 300
