"""The edit script: exact offsets, whole changed regions with their punctuation, moves, cuts, and no edits outside
the aligned passages."""

from __future__ import annotations

import random

import pytest

from conftest import PTC_ARTICLES, need
from newstrace.edits.diff import diff_opcodes
from newstrace.edits.script import diff_rows, edit_script, edit_script_tokens
from newstrace.model import Edit, Passage
from newstrace.reuse.align import align
from newstrace.tokens import tokenize

SOURCE = (
    "Grain convoy stopped at Orsk crossing\n\n"
    "Militia fighters stopped a grain convoy at the Orsk crossing on Monday, the regional governor said.\n\n"
    "Drivers said the fighters inspected every lorry and seized two of them before letting the rest continue "
    "towards the port of Delvan.\n\n"
    "The militia denied that it had seized any lorries and said its men were only checking papers.\n\n"
    "Aid agencies warned that a second closure of the crossing would leave the northern valleys without flour "
    "before the winter snows.\n"
)


def whole(text_a: str, text_b: str) -> list[Passage]:
    return [Passage(0, len(text_a), 0, len(text_b))]


def check_offsets(source: str, copy: str, edits: list[Edit]) -> None:
    for e in edits:
        assert source[e.source_start:e.source_end] == e.source_text
        assert copy[e.copy_start:e.copy_end] == e.copy_text
        assert e.kind in ("insert", "delete", "replace", "move")


def test_diff_opcodes_reconstruct_random_sequences():
    rng = random.Random(7)
    for _ in range(500):
        a = [rng.randint(0, 9) for _ in range(rng.randint(0, 40))]
        b = list(a)
        for _ in range(rng.randint(0, 8)):
            k = rng.randint(0, len(b))
            r = rng.random()
            if r < 0.4:
                b.insert(k, rng.randint(0, 15))
            elif b and r < 0.7:
                del b[min(k, len(b) - 1)]
            elif b:
                b[min(k, len(b) - 1)] = rng.randint(0, 15)
        rebuilt: list[int] = []
        pos = (0, 0)
        for tag, i1, i2, j1, j2 in diff_opcodes(a, b):
            assert (i1, j1) == pos
            if tag == "equal":
                assert a[i1:i2] == b[j1:j2]
            rebuilt += b[j1:j2]
            pos = (i2, j2)
        assert rebuilt == b and pos == (len(a), len(b))


def test_identical_texts_have_no_edits():
    assert edit_script(SOURCE, SOURCE, whole(SOURCE, SOURCE)) == []


def test_injected_appositive_is_one_insert_with_its_commas():
    copy = SOURCE.replace("Militia fighters stopped", "Militia fighters, armed by Kesh, stopped")
    edits = edit_script(SOURCE, copy, whole(SOURCE, copy))
    check_offsets(SOURCE, copy, edits)
    assert [(e.kind, e.copy_text) for e in edits] == [("insert", ", armed by Kesh,")]
    assert edits[0].source_start == edits[0].source_end == SOURCE.index("fighters stopped") + len("fighters")


def test_seamy_insert_and_relabel_are_separate_edits():
    copy = SOURCE.replace("Militia fighters stopped", "“Raiders”fighters ,armedby Kesh stopped")
    edits = edit_script(SOURCE, copy, whole(SOURCE, copy))
    check_offsets(SOURCE, copy, edits)
    assert [(e.kind, e.source_text, e.copy_text) for e in edits] == [
        ("replace", "Militia ", "“Raiders”"), ("insert", "", " ,armedby Kesh")]


def test_punctuation_only_change_is_an_edit_but_whitespace_is_not():
    copy = SOURCE.replace("on Monday, the regional", "on Monday the regional").replace("\n\nDrivers", "\nDrivers")
    edits = edit_script(SOURCE, copy, whole(SOURCE, copy))
    check_offsets(SOURCE, copy, edits)
    assert [(e.kind, e.source_text) for e in edits] == [("delete", ",")]


def test_cut_sentence_is_a_delete_of_the_sentence():
    cut = "The militia denied that it had seized any lorries and said its men were only checking papers.\n\n"
    copy = SOURCE.replace(cut, "")
    edits = edit_script(SOURCE, copy, whole(SOURCE, copy))
    check_offsets(SOURCE, copy, edits)
    assert len(edits) == 1 and edits[0].kind == "delete"
    assert edits[0].source_text.strip() == cut.strip()


def test_cut_clause_keeps_the_full_stop_aligned():
    copy = SOURCE.replace(" on Monday, the regional governor said.", " on Monday.")
    edits = edit_script(SOURCE, copy, whole(SOURCE, copy))
    check_offsets(SOURCE, copy, edits)
    assert [(e.kind, e.source_text) for e in edits] == [("delete", ", the regional governor said")]


def test_text_outside_passages_is_not_copied_rather_than_edited():
    paras = SOURCE.split("\n\n")
    body = "\n\n".join(paras[1:])
    copy = "BREAKING: convoy seized, say locals\n\n" + body + "\nShare this story on Velmar Daily\n"
    p0 = SOURCE.index(paras[1])
    c0 = copy.index(paras[1])
    n = len(body.rstrip())
    passages = [Passage(p0, p0 + n, c0, c0 + n)]
    # the two headlines share a word ("convoy"), but they are not aligned: no edit pairs their words
    assert edit_script(SOURCE, copy, passages) == []
    script = edit_script_tokens(SOURCE, copy, passages, tokenize(SOURCE), tokenize(copy))
    assert [SOURCE[a:b] for a, b, _ in script.source_free] == [paras[0]]
    assert [copy[a:b] for a, b, _ in script.copy_free] == ["BREAKING: convoy seized, say locals",
                                                           "Share this story on Velmar Daily"]
    # each stretch knows where it sits in the other text: before the passage, or after it
    assert [p for _, _, p in script.copy_free] == [p0, p0 + n]
    assert script.source_free[0][2] == c0


def test_reordered_paragraph_is_a_move_and_its_changes_still_diffed():
    paras = SOURCE.rstrip("\n").split("\n\n")
    moved = paras[4].replace("Aid agencies", "Aid groups")
    copy = "\n\n".join([paras[0], paras[1], moved, paras[2], paras[3]]) + "\n"
    passages = [
        Passage(SOURCE.index(p), SOURCE.index(p) + len(p), copy.index(c), copy.index(c) + len(c))
        for p, c in zip(paras, [paras[0], paras[1], paras[2], paras[3], moved], strict=True)
    ]
    edits = edit_script(SOURCE, copy, passages)
    check_offsets(SOURCE, copy, edits)
    moves = [e for e in edits if e.kind == "move"]
    assert len(moves) == 1 and moves[0].copy_text == moved
    assert [(e.kind, e.source_text, e.copy_text) for e in edits if e.kind != "move"] == [
        ("replace", "agencies", "groups")]


def test_offsets_exact_on_real_articles_through_the_aligner(ptc_articles):
    rng = random.Random(3)
    files = sorted(need(PTC_ARTICLES).glob("*.txt"))[:25]
    fillers = [", according to local reports,", " (reportedly)", ", backed by Velmar,", "\u00a0"]
    for f in files:
        source = f.read_bytes().decode("utf-8")
        words = list(source.split(" "))
        for _ in range(6):
            k = rng.randrange(len(words))
            r = rng.random()
            if r < 0.5:
                words[k] = words[k] + rng.choice(fillers)
            elif r < 0.8:
                words[k] = ""
            else:
                words[k] = words[k].upper()
        copy = "Velmar Daily | " + " ".join(words) + "\nSource # Website"
        edits = edit_script(source, copy, align(source, copy))
        check_offsets(source, copy, edits)


@pytest.mark.parametrize("passages", [[], [Passage(0, 5, 0, 5), Passage(0, 5, 0, 5)]])
def test_degenerate_passages_do_not_break_offsets(passages):
    copy = SOURCE.replace("grain", "wheat")
    check_offsets(SOURCE, copy, edit_script(SOURCE, copy, passages))


def test_rows_put_each_paragraph_beside_its_source_and_unaligned_text_apart():
    paras = SOURCE.rstrip("\n").split("\n\n")
    copy = "Velmar Daily | world desk\n\n" + "\n\n".join([paras[1], paras[3], paras[2]]) + "\n"
    passages = [Passage(SOURCE.index(p), SOURCE.index(p) + len(p), copy.index(p), copy.index(p) + len(p))
                for p in (paras[1], paras[3], paras[2])]
    rows = diff_rows(SOURCE, copy, passages)
    shown = [(r.kind, SOURCE[r.source[0]:r.source[1]] if r.source else None,
              copy[r.copy[0]:r.copy[1]] if r.copy else None) for r in rows]
    # the copy's masthead beside the source's dropped headline, both unaligned; then the paragraphs in copy order,
    # the one the copy moved up marked as moved; the source's last paragraph, not copied, where it would have been
    assert shown == [("unaligned", paras[0], "Velmar Daily | world desk"),
                     ("aligned", paras[1], paras[1]),
                     ("moved", paras[3], paras[3]),
                     ("aligned", paras[2], paras[2]),
                     ("unaligned", paras[4], None)]


def test_rows_split_one_passage_at_the_paragraphs_both_texts_keep():
    copy = SOURCE.replace("Monday, the regional", "Monday, the provincial")
    rows = diff_rows(SOURCE, copy, whole(SOURCE, copy))
    assert [r.kind for r in rows] == ["aligned"] * 5
    assert [copy[r.copy[0]:r.copy[1]].rstrip("\n") for r in rows] == copy.rstrip("\n").split("\n\n")
