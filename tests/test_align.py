"""Local alignment on hand-built copies of a news text, and on a few PAN 2013 pairs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newstrace.eval.plagdet import Case, plagdet, read_pan13
from newstrace.reuse import align as A
from newstrace.reuse.align import AlignParams, align, align_many

PAN = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "pan13-train"

# An invented wire story (written for these tests), one paragraph per item.
PARAS = [
    "The port authority in Hodeidah reported on Tuesday that three cargo ships carrying wheat and fuel had been "
    "turned away after waiting for nine days outside the harbour, raising fears of shortages in the north.",
    "Officials said the Houthi movement had demanded new inspection fees from shipping agents, a claim that the "
    "movement's spokesman rejected as propaganda spread by foreign broadcasters and their local partners.",
    "Aid agencies warned that bakeries in several districts were already rationing bread, and that hospital "
    "generators would stop within a week unless diesel deliveries resumed through the western coast.",
    "A regional envoy travelled to Muscat for talks with negotiators from both camps, hoping to revive an "
    "earlier agreement on customs revenue that collapsed last winter amid mutual accusations of bad faith.",
    "Local traders described queues stretching for kilometres at petrol stations, while prices for cooking gas "
    "doubled in markets across the capital and the Houthi administration blamed the naval blockade.",
    "Diplomats expect the Security Council to discuss the crisis next month, though few believe a binding "
    "resolution can pass while the permanent members remain divided over the conduct of the coalition.",
]
SOURCE = "\n\n".join(PARAS)

OTHER = (
    "The city council approved a new budget for public libraries on Monday, adding funds for longer opening "
    "hours and a mobile reading van that will visit schools in outlying villages. Councillors argued for hours "
    "about the cost of repairing the historic reading room, whose roof has leaked since a storm two years ago. "
    "Librarians welcomed the decision but said staffing remained the main problem, since many experienced "
    "employees have retired and younger applicants prefer jobs in the private sector. The mayor promised a "
    "review of salaries before the summer and thanked volunteers who kept branches open during the winter."
)


def _covers(p, copy_lo: int, copy_hi: int, slack: int = 3) -> bool:
    return p.copy_start <= copy_lo + slack and p.copy_end >= copy_hi - slack


def test_verbatim_copy_with_boilerplate_is_one_passage() -> None:
    head = "Breaking | World News Network | Subscribe to our newsletter for daily updates\n\n"
    tail = "\n\nShare this article. Related: ten recipes for summer. Copyright 2024 All rights reserved."
    copy = head + SOURCE + tail
    ps = align(SOURCE, copy)
    assert len(ps) == 1
    p = ps[0]
    assert _covers(p, len(head), len(head) + len(SOURCE))
    assert p.source_start <= 3 and p.source_end >= len(SOURCE) - 3
    assert p.copy_start >= len(head) - 3


def test_injected_phrase_after_every_mention_stays_one_passage() -> None:
    phrase = ", backed by Iran and armed by smugglers from across the sea,"
    copy = "\n\n".join(
        para.replace("Houthi movement", "Houthi movement" + phrase).replace(
            "cargo ships", "cargo ships" + phrase
        ).replace("regional envoy", "regional envoy" + phrase).replace("Diplomats", "Diplomats" + phrase)
        for para in PARAS
    )
    assert copy.count(phrase) >= 4
    ps = align(SOURCE, copy)
    assert len(ps) == 1
    assert _covers(ps[0], 0, len(copy))


def test_word_level_noise_stays_one_passage() -> None:
    words = SOURCE.split(" ")
    noisy = " ".join("reportedly" if i % 9 == 4 else w for i, w in enumerate(words))
    ps = align(SOURCE, noisy)
    assert len(ps) == 1
    assert _covers(ps[0], 0, len(noisy), slack=20)


def test_reordered_paragraphs_map_back_to_their_source() -> None:
    order = [3, 4, 5, 0, 1, 2]
    copy = "\n\n".join(PARAS[i] for i in order)
    ps = align(SOURCE, copy)
    assert 2 <= len(ps) <= 3
    assert ps == sorted(ps, key=lambda p: p.copy_start)
    # the second half of the copy is the start of the source: a passage maps backwards
    moved = copy.index(PARAS[0])
    back = [p for p in ps if p.copy_start >= moved - 3]
    assert back and back[0].source_start <= 3
    assert ps[0].source_start >= SOURCE.index(PARAS[3]) - 3
    covered = sum(p.copy_end - p.copy_start for p in ps)
    assert covered >= 0.9 * len(copy)


def test_partial_reuse_inside_a_longer_article() -> None:
    embedded = PARAS[2] + "\n\n" + PARAS[3]
    first, second = OTHER[: len(OTHER) // 2], OTHER[len(OTHER) // 2 :]
    copy = first + "\n\n" + embedded + "\n\n" + second
    ps = align(SOURCE, copy)
    assert len(ps) == 1
    p = ps[0]
    lo = copy.index(embedded)
    assert abs(p.copy_start - lo) <= 3 and abs(p.copy_end - (lo + len(embedded))) <= 3
    assert abs(p.source_start - SOURCE.index(PARAS[2])) <= 3
    assert abs(p.source_end - (SOURCE.index(PARAS[3]) + len(PARAS[3]))) <= 3


def test_unrelated_texts_give_no_passage() -> None:
    assert align(SOURCE, OTHER) == []
    assert align(OTHER, SOURCE) == []
    assert align("", SOURCE) == []
    assert align(SOURCE, "") == []


def test_unicode_offsets_stay_raw() -> None:
    # curly quotes, non-breaking spaces and an accented prefix before the reused text
    source = SOURCE.replace("propaganda", "\u201cpropaganda\u201d").replace("Houthi movement", "Houthi\u00a0movement")
    head = "Éditorial\u00a0— “Revue de presse” «\u00a0international\u00a0»\n\n"
    copy = head + source.replace("\u201c", '"').replace("\u201d", '"')
    ps = align(source, copy)
    assert len(ps) == 1
    p = ps[0]
    assert p.copy_start == len(head)
    assert copy[p.copy_start : p.copy_start + 20] == source[p.source_start : p.source_start + 20]
    assert source[p.source_end - 10 : p.source_end] == copy[p.copy_end - 10 : p.copy_end]


def test_align_many_matches_align_in_order() -> None:
    pairs = [(SOURCE, "x " * i + SOURCE) for i in range(6)] + [(SOURCE, OTHER), (OTHER, OTHER)]
    many = align_many(pairs, workers=2)
    assert many == [align(s, c) for s, c in pairs]
    assert many[6] == [] and len(many[7]) == 1


def test_params_are_documented_knobs() -> None:
    p = AlignParams(gap=10)
    assert p.gap == 10 and AlignParams().gap > 10
    assert align(SOURCE, SOURCE, p)[0].copy_end >= len(SOURCE) - 1


def test_pan_no_obfuscation_sample() -> None:
    if not PAN.exists():
        pytest.skip("../shared PAN data absent")
    pairs = [p for p in read_pan13(PAN) if p.subcorpus == "02-no-obfuscation"][:40]
    texts = [(p.source_path.read_text(encoding="utf-8"), p.copy_path.read_text(encoding="utf-8")) for p in pairs]
    found = align_many(texts, workers=1)
    cases = [c for p in pairs for c in p.cases]
    dets = [
        Case(p.key, x.copy_start, x.copy_end, x.source_start, x.source_end)
        for p, xs in zip(pairs, found, strict=True)
        for x in xs
    ]
    r = plagdet(cases, dets)
    assert r.recall >= 0.95
    assert r.granularity <= 1.05
    assert r.plagdet >= 0.92


def test_topical_heading_near_the_source_passage_is_not_taken_in() -> None:
    # The heading repeats words of the reused paragraphs just before them in the source: its matches chain onto
    # the passage but run against the copy's order, so the source side must still start at the paragraph.
    head = "Bread rationing, hospital generators and diesel deliveries: what the aid agencies warned"
    filler = "Readers wrote to us in large numbers after last week's edition, and we print a selection of letters."
    body = "\n\n".join(PARAS[1:4])
    source = PARAS[0] + "\n\n" + head + "\n\n" + filler + "\n\n" + body
    copy = "From our wire desk.\n\n" + body + "\n\nMore later."
    ps = align(source, copy)
    assert len(ps) == 1
    p = ps[0]
    assert p.source_start == source.index(body) and p.source_end == len(source)
    assert p.copy_start == copy.index(body) and p.copy_end == copy.index(body) + len(body)


def test_swapped_word_pair_before_a_copy_does_not_extend_it() -> None:
    # "reports ... port" in the copy's lead-in matches "port ... reported" in the source as an unordered pair
    copy = "Our correspondent reports.\n\n" + "\n\n".join(PARAS[:3]) + "\n\nMore on this story later."
    ps = align(SOURCE, copy)
    assert len(ps) == 1
    assert ps[0].copy_start == copy.index(PARAS[0]) and ps[0].source_start == 0


@pytest.mark.parametrize(
    "text",
    [
        SOURCE,
        "Éditorial\u00a0— “Revue de presse” «\u00a0international\u00a0» don’t 'quoted' ‘single’",
        "İstanbul’daki İSKELE: the dotted capital I lower-cases to two code points",
        "ΟΔΟΣ.Α and ΟΔΟΣ Α: the Greek final sigma depends on what follows",
        "",
        "   \n\t ",
    ],
)
def test_fast_tokenizer_is_tokenize(text: str) -> None:
    from newstrace.tokens import tokenize, tokenize_by_word

    assert tokenize(text) == tokenize_by_word(text)


_TRICKY = list("aZ9 \n.,'’‘“”\u00a0-ßİıΣσςÉéﬁŉǅ\u0130\u03a3ΑΒΓ日本\U0001d400")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(_TRICKY), max_size=80))
def test_fast_tokenizer_is_tokenize_on_any_text(text: str) -> None:
    from newstrace.tokens import tokenize, tokenize_by_word

    assert tokenize(text) == tokenize_by_word(text)


def _pan_score(sub: str, n: int, with_cases: bool = True):
    pairs = [p for p in read_pan13(PAN) if p.subcorpus == sub and (bool(p.cases) or not with_cases)][:n]
    texts = [(p.source_path.read_text(encoding="utf-8"), p.copy_path.read_text(encoding="utf-8")) for p in pairs]
    found = align_many(texts, workers=1)
    dets = [
        Case(p.key, x.copy_start, x.copy_end, x.source_start, x.source_end)
        for p, xs in zip(pairs, found, strict=True)
        for x in xs
    ]
    return plagdet([c for p in pairs for c in p.cases], dets)


def test_pan_summary_sample() -> None:
    if not PAN.exists():
        pytest.skip("../shared PAN data absent")
    # a summary case spans the whole source document: only the summary pass gets its source side
    r = _pan_score("05-summary-obfuscation", 40)
    assert r.recall >= 0.6
    assert r.granularity <= 1.1
    assert r.precision >= 0.9


def test_pan_no_plagiarism_sample_has_few_detections() -> None:
    if not PAN.exists():
        pytest.skip("../shared PAN data absent")
    r = _pan_score("01-no-plagiarism", 150, with_cases=False)
    assert r.detections <= 1


# ---- passage boundaries (reuse/refine.py) ----------------------------------------------------------------------

SHORT = ("For them these were not stories but their own lives, and I say again that I am sorry for what they "
         "suffered and still suffer.")


def test_short_paragraph_moved_elsewhere_is_a_passage_of_its_own() -> None:
    # 24 words, few of them content words: too few for the seeds alone, but a verbatim run in a reuse pair
    source = "\n\n".join(PARAS[:3] + [SHORT] + PARAS[3:])
    copy = "\n\n".join([SHORT] + PARAS)
    ps = align(source, copy)
    moved = [p for p in ps if copy[p.copy_start:p.copy_end] == SHORT]
    assert len(moved) == 1 and source[moved[0].source_start:moved[0].source_end] == SHORT
    assert sum(p.copy_end - p.copy_start for p in ps) >= 0.97 * len(copy)


def test_edges_reach_through_a_typo_and_a_relabel_in_the_first_sentence() -> None:
    copy = SOURCE.replace("The port authority in Hodeidah reported",
                          "The port athority in the Hodeidah regime reported")
    ps = align(SOURCE, copy)
    assert len(ps) == 1 and ps[0].copy_start == 0 and ps[0].source_start == 0
    assert ps[0].copy_end >= len(copy) - 1


def test_masthead_sharing_a_phrase_stays_out_of_the_passage() -> None:
    source = "Harbour Voice | News and analysis since 2004\n\n" + SOURCE
    copy = "Morning Ledger | News and analysis since 2011\n\n" + SOURCE
    ps = align(source, copy)
    assert len(ps) == 1
    assert ps[0].copy_start == copy.index(PARAS[0]) and ps[0].source_start == source.index(PARAS[0])


HEADLINES = [
    "Pilots strike over night shifts on the Kesh estuary after a second collision in a month",
    "Suspects named in the Alder Bridge fire inquiry as the families ask for a public hearing",
    "Five villages lose power as the storm crosses the northern hills and the roads close",
    "Council delays its vote on the new ferry terminal again, citing the cost of the harbour wall",
]


def test_pages_that_share_only_a_sidebar_of_headlines_give_no_passage() -> None:
    page_a = "Recent Posts\n" + "\n".join(HEADLINES) + "\n\n" + SOURCE
    page_b = "Latest News\n" + "\n".join(HEADLINES[1:] + HEADLINES[:1]) + "\n\n" + OTHER
    assert align(page_a, page_b) == []
    # the same sidebar beside a real copy: the passage is the article, not the list
    ps = align(page_a, "Most Read\n" + "\n".join(HEADLINES) + "\n\n" + SOURCE)
    assert len(ps) == 1 and ps[0].source_start == page_a.index(PARAS[0])


def test_hard_wrapped_copy_keeps_a_last_line_of_one_word() -> None:
    import textwrap

    # both texts wrapped at 64 columns: the story's last line is "coalition." alone, a wrap and no boundary
    wrapped = "\n\n".join(textwrap.fill(p, 64) for p in PARAS)
    assert wrapped.rsplit("\n", 1)[1] == "coalition."
    assert [(p.copy_start, p.copy_end, p.source_start, p.source_end) for p in align(wrapped, wrapped)] == [
        (0, len(wrapped), 0, len(wrapped))]
    # a masthead line next to the story is still a boundary: it stays out
    page = "Morning Ledger | News and analysis since 2011\n" + wrapped
    ps = align("Harbour Voice | News and analysis since 2004\n" + wrapped, page)
    assert len(ps) == 1 and ps[0].copy_start == page.index(wrapped) and ps[0].copy_end == len(page)


NAMES = "The crews named in the strike notice\nInes Marlow\nTomas Rell\nAna Perel\nIvo Sandberg\nMarta Quill\n"


def test_furniture_is_a_list_of_headlines_not_a_list_of_names_nor_wrapped_prose() -> None:
    from newstrace.reuse.refine import furniture

    sidebar = "Recent Posts\n" + "\n".join(HEADLINES)
    assert furniture(sidebar + "\n\n" + SOURCE) == [(0, len(sidebar))]
    assert furniture(SOURCE + "\n\n" + NAMES) == []
    prose = ("The Council of the Kesh Estuary met\nIn the Long Hall of Harwick Town\n"
             "Where Tomas Rell spoke for the Crews\nOf Vell and the Outer Islands\n")
    assert furniture(prose.replace("Crews\n", "Crews of\n")) == []


def test_a_list_of_names_copied_at_the_end_of_a_story_is_part_of_the_passage() -> None:
    source = "Harbour Post\n\n" + SOURCE + "\n\n" + NAMES
    copy = "Island Courier | news for Vell\n\n" + SOURCE + "\n\n" + NAMES
    ps = align(source, copy)
    assert [(copy[p.copy_start:p.copy_end], source[p.source_start:p.source_end]) for p in ps] == [
        ((SOURCE + "\n\n" + NAMES).strip(), (SOURCE + "\n\n" + NAMES).strip())]


# one-sentence paragraphs, as many news pages print them (an original story)
BRIEF = [
    "Ferry crews in Dunmore stopped work on Thursday after the operator announced a new summer rota.",
    "Passengers queued at the terminal for most of the day while managers ran a reduced service.",
    "The union said the crews had warned Calloway Lines in March that they would refuse longer shifts.",
    "Calloway Lines said the rota was needed to keep the island routes running through the season.",
    "Shopkeepers on Vell said their deliveries of fresh food had already been delayed twice this month.",
    "Councillors in Dunmore asked both sides to accept mediation before the holiday weekend begins.",
]


def test_short_paragraphs_reordered_map_back_one_by_one() -> None:
    # too short to keep their seeds apart, the six paragraphs made one passage from masthead to footer before
    source = ("Harbour Voice | News and analysis since 2004\n" + "\n".join(BRIEF) +
              "\nFollow Harbour Voice for daily updates. All rights reserved 2004-2019\n")
    paras = list(BRIEF)
    paras[2] = paras[2].replace("warned", "wanred")
    order = [0, 3, 1, 4, 2, 5]
    copy = ("Morning Ledger | News and analysis since 2011\n\n" + "\n\n".join(paras[i] for i in order) +
            "\n\nFollow Morning Ledger for daily updates. All rights reserved 2011-2019\n")
    got = [(copy[p.copy_start:p.copy_end], source[p.source_start:p.source_end]) for p in align(source, copy)]
    assert got == [(paras[i], BRIEF[i]) for i in order]


def test_a_paragraph_moved_with_typos_is_matched_as_a_paragraph() -> None:
    from newstrace.reuse.align import AlignParams, _prepare
    from newstrace.reuse.refine import moved_lines

    moved = BRIEF[2].replace("union", "unoin").replace("shifts", "shfits")
    source = "Harbour Voice\n" + "\n".join(BRIEF) + "\nFollow us\n"
    copy = "Morning Ledger\n" + "\n".join([BRIEF[0], BRIEF[1], BRIEF[3], BRIEF[4], moved, BRIEF[5]]) + "\nFollow us\n"
    src, cp = _prepare(source, AlignParams()), _prepare(copy, AlignParams())
    ct, st = cp.tokens, src.tokens

    def box(c_text: str, s_text: str) -> tuple[int, int, int, int]:
        c0, s0 = copy.index(c_text), source.index(s_text)
        return (ct.starts.index(c0), ct.ends.index(c0 + len(c_text.rstrip("."))),
                st.starts.index(s0), st.ends.index(s0 + len(s_text.rstrip("."))))

    held = [box(p, p) for p in (BRIEF[0], BRIEF[1], BRIEF[3], BRIEF[4], BRIEF[5])]
    # a 17-word paragraph whose typos leave no 6-word run of 12 words: found as the paragraph it was
    found = moved_lines(src.side, cp.side, held, min_words=15)
    assert [(copy[ct.starts[b[0]]:ct.ends[b[1]]], source[st.starts[b[2]]:st.ends[b[3]]]) for b in found] == [
        (moved.rstrip("."), BRIEF[2].rstrip("."))]
    # a paragraph the source does not hold is no match, and a line a passage already holds is not looked at
    other = copy.replace(moved, "Harbour pilots said the new rota would leave the night boats without a second mate.")
    assert moved_lines(src.side, _prepare(other, AlignParams()).side, held, min_words=15) == []
    assert moved_lines(src.side, cp.side, held + [box(moved, BRIEF[2])], min_words=15) == []


def test_a_headline_listed_in_a_sidebar_and_printed_alone_elsewhere_is_no_passage() -> None:
    page_a = "Recent Posts\n" + "\n".join(HEADLINES) + "\n\n" + SOURCE
    long_headline = HEADLINES[1] + " and the council promises a full report on the night of the fire by the summer"
    page_a = page_a.replace(HEADLINES[1], long_headline)
    page_b = long_headline + "\n\n" + OTHER
    assert align(page_a, page_b) == []


def test_common_words_counts_the_multiset_intersection() -> None:
    from collections import Counter

    from newstrace.reuse.refine import common_words

    rng = np.random.default_rng(5)
    for _ in range(200):
        a, b = rng.integers(0, 20, int(rng.integers(0, 50))), rng.integers(0, 20, int(rng.integers(0, 50)))
        assert common_words(a, b) == sum((Counter(a.tolist()) & Counter(b.tolist())).values())


def test_exact_share_from_prepared_texts_equals_the_definition(seed_text: str) -> None:
    """The share of verbatim trigrams `analyse_pair` computes from the aligner's tokens equals `exact_share` on
    the texts, and gives way to it wherever a passage edge cuts a word."""
    from newstrace.model import Passage
    from newstrace.reuse import engine

    copy = seed_text[400:5000].replace(" the ", " a ") + "\nShare this story."
    passages = align(seed_text, copy)
    assert passages
    ta, tb = A._prepare_cached(seed_text, AlignParams().stem), A._prepare_cached(copy, AlignParams().stem)
    checked = 0
    for q in passages:
        for shift in range(0, 4):
            moved = Passage(q.source_start + shift, q.source_end - shift, q.copy_start, q.copy_end - shift)
            fast = engine._exact_share_prepared(ta, tb, moved)
            if fast is not None:
                checked += 1
                assert fast == engine.exact_share(seed_text, copy, moved)
    assert checked >= len(passages)
