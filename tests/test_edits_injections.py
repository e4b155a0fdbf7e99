"""Injections and relabelling found in one text: the seed article, hand-written texts, and ordinary news (PTC)."""

from __future__ import annotations

from conftest import PTC_ARTICLES, need
from newstrace.edits import find_injections, find_naming_inconsistencies


def test_seed_every_injected_phrase_found_with_seams(seed_text):
    found = find_injections(seed_text)
    assert len(found) == 1
    inj = found[0]
    # Counted by hand: 9 occurrences, among them ",backedby Saudi Arabia", "backed bySaudi Arabai" and
    # ", backed by Saudi Arabia,out".
    assert inj.count == 9 and len(inj.spans) == 9
    assert inj.phrase == ", backed by Saudi Arabia,"
    assert inj.anchor.endswith("terrorists")
    texts = [seed_text[a:b] for a, b in inj.spans]
    assert ",backedby Saudi Arabia" in texts
    assert ", backed bySaudi Arabai," in texts
    assert texts.count(", backed by Saudi Arabia,") == 7
    seams = [seed_text[a:b] for a, b in inj.seams]
    for seam in (" ,", "backedby", "bySaudi", "Arabai", ",out", "\u00a0"):
        assert seam in seams, seam
    # every seam lies at or next to an occurrence
    for a, b in inj.seams:
        assert any(s - 12 <= a and b <= e + 12 for s, e in inj.spans)


def test_seed_relabelling_found_with_quote_seams(seed_text):
    found = find_naming_inconsistencies(seed_text)
    assert [f.entity for f in found] == ["ISIS"]
    labels = found[0].labels
    assert list(labels) == ["Daesh", "ISIS"]
    assert len(labels["ISIS"]) == 3 and len(labels["Daesh"]) >= 15
    seams = [seed_text[a:b] for a, b in found[0].seams]
    assert "“Daesh “" in seams  # opened twice, never closed
    assert "”terrorists" in seams  # closing quote glued to the next word
    inj = found[0].as_injection()
    assert inj.count == len(labels["ISIS"]) + len(labels["Daesh"])


CLEAN = """The Kesh Brigade, a militia armed by Velmar, shelled the mill at Orsk on Monday.

Farmers said the Kesh Brigade, a militia armed by Velmar, had taken their grain. A week earlier the Kesh
Brigade, a militia armed by Velmar, closed the river road. Officials in the capital said they expected the
Kesh Brigade, a militia armed by Velmar, to withdraw before the winter.
"""


def test_clean_injection_without_seams_is_found():
    found = find_injections(CLEAN)
    assert len(found) == 1
    assert found[0].phrase == ", a militia armed by Velmar,"
    assert found[0].anchor == "Kesh Brigade" and found[0].count == 4
    assert found[0].seams == []


QUOTED = """Minister: "We will build the northern road, the southern road and the coast road"

The minister told reporters: "We will build the northern road, the southern road and the coast road this year."
Critics asked how the ministry would pay for the northern road, the southern road and the coast road.
"""


def test_repeated_quotation_and_list_are_not_injections():
    assert find_injections(QUOTED) == []


def test_neutral_names_alternating_is_not_a_relabelling():
    text = "Islamic State fighters left the town. ISIS had held it for a year. Later ISIL returned."
    assert find_naming_inconsistencies(text) == []
    defined = "Islamic State, also known as Daesh, left the town. Daesh fighters had held it for a year."
    assert find_naming_inconsistencies(defined) == []


def test_ordinary_news_stays_quiet(ptc_articles):
    files = sorted(need(PTC_ARTICLES).glob("*.txt"))
    flagged = []
    for f in files:
        text = f.read_bytes().decode("utf-8")
        if find_injections(text) or find_naming_inconsistencies(text):
            flagged.append(f.name)
    assert len(files) == 371
    # measured: 0 of 371; the target is at most 2%
    assert len(flagged) <= 0.02 * len(files), flagged


def _all_places(text: str) -> dict[str, dict[int, int]]:
    """Every 3-8 word run's places, as `find_injections` once collected them, kept where 3+ places are set off."""
    from newstrace.edits.injections import _key, _set_off
    from newstrace.tokens import tokenize

    t = tokenize(text)
    occ: dict[str, dict[int, int]] = {}
    for i in range(len(t.words)):
        for n in range(3, 9):
            if i + n > len(t.words):
                break
            occ.setdefault(_key(t.words[i:i + n]), {}).setdefault(i, n)
    return {k: v for k, v in occ.items() if sum(_set_off(text, t.starts[i]) for i in v) >= 3}


def _hurried_copies(seed_text: str) -> list[str]:
    # the seed's phrase pasted after other words, glued, misspelt and apostrophised, and one set off only twice
    words = seed_text.split(" ")
    out = []
    for k, phrase in enumerate((", backed by Saudi Arabia,", ",backedby Saudi Arabia ,", " — it's Tehran's proxy —",
                                ", the so-called regime,")):
        w = list(words)
        for j in range(5 + k, len(w), 40 + 9 * k):
            w[j] += phrase
        out.append(" ".join(w))
    out.append("One, two three four. One, two three four. Five two three four, two three four.")
    return out


def test_phrase_places_are_every_set_off_run_in_order_of_first_place(seed_text):
    from newstrace.edits.injections import _phrase_places
    from newstrace.tokens import tokenize

    texts = [seed_text, *_hurried_copies(seed_text)]
    texts += [p.read_bytes().decode("utf-8") for p in sorted(need(PTC_ARTICLES).glob("article*.txt"))[:40]]
    for text in texts:
        found = _phrase_places(text, tokenize(text))
        # the same keys, in the same order (which breaks ties between candidates), with the same places
        assert list(found.items()) == list(_all_places(text).items())
    assert any(_phrase_places(t, tokenize(t)) for t in texts[1:5])
