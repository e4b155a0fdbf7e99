"""Systematic edits on hand-written source/copy pairs: injection with seams, relabelling with misses, cut denial,
lead and boilerplate, and a pair edited the way the seed article was."""

from __future__ import annotations

from newstrace.edits import diff_pair, systematic_edits
from newstrace.edits.script import edit_script
from newstrace.model import Passage
from newstrace.reuse.align import align

# An original story about a fictional militia; every "Orsk Front fighters" is a mention the copy edits.
SOURCE = """Orsk Front fighters seize second crossing in the north

Orsk Front fighters took control of the Delvan river crossing on Saturday after a night of shelling, according to
residents of the nearby villages, who said the bridge was closed to all traffic by morning.

The regional governor, Mara Istvanova, said the crossing had been defended by a small police unit that withdrew
before dawn to avoid casualties. She said talks with local elders were under way.
Villagers said Orsk Front fighters had set up checkpoints on the hill road.

Orsk Front fighters have now cut two of the three roads that carry grain to the port of Delvan, and traders in the
port said that flour prices had risen by a third within a week.

A spokesman for the Orsk Front denied that its men had shelled the villages and said the fighters had come under
fire first. He gave no evidence for the claim.

Aid agencies said that Orsk Front fighters had allowed two convoys of medicine through the crossing on Sunday, and
that they expected a third to pass on Tuesday if the road stayed open.

Analysts in the capital said the Orsk Front was trying to force the government into talks before the winter. Orsk
Front fighters are thought to number about four thousand, most of them recruited in the mountain districts.
"""


def seamy_copy() -> str:
    """The source edited by hand, the way a hurried find-and-replace editor would."""
    c = SOURCE
    c = c.replace("Orsk Front fighters took", "Orsk gangs , funded by Velmar, took")
    c = c.replace("Orsk Front fighters have", "Orsk gangs ,fundedby Velmar have")
    c = c.replace("that Orsk Front fighters had", "that Orsk gangs, funded byVelmar,had")
    c = c.replace("Orsk\nFront fighters are", "Orsk\ngangs, funded by Velmra, are")
    c = c.replace("A spokesman for the Orsk Front denied that its men had shelled the villages and said the fighters "
                  "had come under\nfire first. He gave no evidence for the claim.\n\n", "")
    c = "Velmar Daily News: Orsk gangs close in on Delvan\n\n" + c.split("\n\n", 1)[1]
    return c + "\nRead more at Velmar Daily. Follow us for updates.\n"


def by_kind(findings):
    out: dict[str, list] = {}
    for f in findings:
        out.setdefault(f.kind, []).append(f)
    return out


def test_injection_with_seams_is_one_group_with_its_variants_and_anchor():
    copy = seamy_copy()
    pe = diff_pair(SOURCE, copy, align(SOURCE, copy))
    ins = by_kind(pe.systematic)["insert"]
    assert len(ins) == 1
    f = ins[0]
    assert f.count == 4
    assert {copy[a:b].strip(" ,") for a, b in f.copy_spans} == {
        "funded by Velmar", "fundedby Velmar", "funded byVelmar", "funded by Velmra"}
    assert len(f.variants) == 4
    assert f.anchor.split()[-1] == "gangs"
    assert f.source_text == ""


def test_relabel_is_grouped_and_its_misses_located():
    copy = seamy_copy()
    pe = diff_pair(SOURCE, copy, align(SOURCE, copy))
    kinds = by_kind(pe.systematic)
    rep = kinds["replace"][0]
    assert rep.source_text.split() == ["Front", "fighters"] and rep.copy_text.strip() == "gangs"
    assert rep.count == 4
    missed = kinds["replace_missed"][0]
    assert missed.source_text.split() == ["Front", "fighters"]
    # the villagers' sentence was left alone by the editor
    assert missed.count == 1
    a, b = missed.copy_spans[0]
    assert copy[a:b] == "Front fighters" and copy[a - 20:a] == "Villagers said Orsk "
    assert copy[a:b].split() == ["Front", "fighters"]


def test_cut_denial_lead_and_boilerplate():
    copy = seamy_copy()
    pe = diff_pair(SOURCE, copy, align(SOURCE, copy))
    kinds = by_kind(pe.systematic)
    assert "denied" in kinds["cut_denial"][0].source_text
    a, b = kinds["cut_denial"][0].copy_spans[0]
    assert a == b  # the point in the copy where the paragraph was cut
    assert kinds["lead"][0].copy_text.startswith("Velmar Daily News")
    assert "Read more at Velmar Daily" in kinds["boilerplate"][0].copy_text
    for f in pe.systematic:
        for a, b in f.copy_spans:
            assert 0 <= a <= b <= len(copy)
    assert len(pe.anchors) == len(pe.edits)


def test_relabel_merged_with_injection_is_split():
    # when the relabelled word and the injection touch, the diff sees one replacement; grouping splits it
    source = ("Raiders crossed the river. Later the Orsk Front attacked the mill. Farmers said the Orsk Front "
              "took the grain. Police said the Orsk Front left at noon. The Orsk Front denied it.")
    copy = ("Raiders crossed the river. Later the Orsk gangs, funded by Velmar, attacked the mill. Farmers said "
            "the Orsk gangs, funded by Velmar, took the grain. Police said the Orsk gangs, funded by Velmar, left "
            "at noon. The Orsk Front denied it.")
    edits = edit_script(source, copy, [Passage(0, len(source), 0, len(copy))])
    kinds = by_kind(systematic_edits(edits, source, copy))
    assert kinds["insert"][0].count == 3
    assert kinds["insert"][0].copy_text == ", funded by Velmar,"
    assert kinds["replace"][0].count == 3
    assert (kinds["replace"][0].source_text, kinds["replace"][0].copy_text) == ("Front", "gangs")
    assert kinds["replace_missed"][0].count == 1


# A few paragraphs of invented wire copy, and the same text edited the seed's way: "ISIS" relabelled as “Daesh”
# with quote seams and misses, ", backed by Saudi Arabia," attached after the relabelled group with spacing seams
# and a typo, and a placeholder footer.
WIRE = """Militants shift fighters towards the eastern border

After losing ground along the river valley, ISIS militants are moving small groups of fighters towards the
eastern border, officials in two provinces said on Sunday.

ISIS militants were pushed out of three market towns last month and now hold only scattered villages in the
hills, according to a military spokesman.

Border guards said they had stopped a lorry carrying ISIS militants and weapons near the Zarin checkpoint. A
spokesman for the group denied that any of its members had been detained.

Local elders say ISIS militants have offered money to young men in the border villages in exchange for
shelter. Officials said the offers were being investigated.
"""


def seed_style(text: str) -> str:
    c = text
    c = c.replace("valley, ISIS militants are", "valley, “Daesh” militants , backed by Saudi Arabia, are")
    c = c.replace("ISIS militants were", "“Daesh”militants ,backedby Saudi Arabia were")
    c = c.replace("carrying ISIS militants and", "carrying “Daesh “militants, backed bySaudi Arabai,and")
    c = c.replace(" A\nspokesman for the group denied that any of its members had been detained.", "")
    return c + "\nSource # Website\n"


def test_seed_style_pair():
    copy = seed_style(WIRE)
    pe = diff_pair(WIRE, copy, align(WIRE, copy))
    for e in pe.edits:
        assert WIRE[e.source_start:e.source_end] == e.source_text
        assert copy[e.copy_start:e.copy_end] == e.copy_text
    kinds = by_kind(pe.systematic)
    ins = kinds["insert"][0]
    assert ins.count == 3 and ins.anchor.endswith("militants")
    assert {"".join(c for c in v if c.isalpha()).lower() for v in ins.variants} <= {
        "backedbysaudiarabia", "backedbysaudiarabai"}
    rep = kinds["replace"][0]
    assert rep.source_text.strip() == "ISIS" and rep.count == 3 and "Daesh" in rep.copy_text
    # the fourth "ISIS militants" (local elders) was left alone
    missed = kinds["replace_missed"][0]
    assert missed.count == 1 and copy[missed.copy_spans[0][0]:].startswith("ISIS militants have offered")
    assert "denied" in kinds["cut_denial"][0].source_text
    assert kinds["boilerplate"][0].copy_text.strip() == "Source # Website"


def test_reordered_paragraphs_and_dropped_lead():
    paras = WIRE.rstrip("\n").split("\n\n")
    copy = "\n\n".join([paras[1], paras[3], paras[2]]) + "\n"  # headline dropped, last two swapped
    passages = [Passage(WIRE.index(p), WIRE.index(p) + len(p), copy.index(p), copy.index(p) + len(p))
                for p in (paras[1], paras[3], paras[2])]
    kinds = by_kind(diff_pair(WIRE, copy, passages).systematic)
    assert kinds["move"][0].count == 1
    lead = kinds["lead"][0]
    assert lead.source_text == paras[0] and lead.copy_text == ""


# Relabels that keep the name: words wrapped around it, glued to it with a hyphen, or added to a possessive.
HARBOUR = """Kesh coastguard vessels turned back three fishing boats near the Marrow banks on Friday, the port office
said.

Officials in Kesh said the boats had no licence for the spring season. Fishermen in Orlo said Kesh had never
asked for one before, and that the Kesh patrols had grown more frequent since the winter.

Kesh’s fisheries minister is due in Orlo next week. Traders said the price of cod had risen by a quarter, and
that the market would close early if the boats stayed in port.
"""


def test_relabel_wrapped_around_the_name_is_one_edit_with_its_misses():
    copy = (HARBOUR.replace("Officials in Kesh", "Officials in the Kesh regime")
            .replace("said Kesh had", "said the Kesh regime had")
            .replace("the Kesh patrols", "the Kesh regime patrols")
            .replace("Kesh’s fisheries", "The Kesh regime’s fisheries"))
    pe = diff_pair(HARBOUR, copy, align(HARBOUR, copy))
    kinds = by_kind(pe.systematic)
    rel = kinds["relabel"][0]
    assert (rel.source_text, rel.copy_text.lower(), rel.count) == ("Kesh", "the kesh regime", 4)
    assert [copy[a:b].lower() for a, b in rel.copy_spans] == ["the kesh regime"] * 4
    # the first mention, at the start of the story, was left alone; no piece of the label is an insert of its own
    missed = kinds["relabel_missed"][0]
    assert missed.count == 1 and missed.copy_spans[0][0] == 0
    assert "insert" not in kinds and "replace" not in kinds


def test_relabel_glued_with_a_hyphen_is_one_edit():
    copy = (HARBOUR.replace("in Kesh said", "in Kesh-led aggressors said")
            .replace("said Kesh had", "said Kesh-led aggressors had")
            .replace("that the Kesh patrols", "that the Kesh-led aggressors patrols"))
    kinds = by_kind(diff_pair(HARBOUR, copy, align(HARBOUR, copy)).systematic)
    rel = kinds["relabel"][0]
    assert (rel.source_text, rel.copy_text, rel.count) == ("Kesh", "Kesh-led aggressors", 3)
    assert "insert" not in kinds


def test_injected_appositive_is_no_relabel():
    copy = HARBOUR.replace("in Kesh said", "in Kesh, a client of Orlo, said").replace(
        "said Kesh had", "said Kesh, a client of Orlo, had")
    kinds = by_kind(diff_pair(HARBOUR, copy, align(HARBOUR, copy)).systematic)
    assert "relabel" not in kinds and kinds["insert"][0].count == 2


def test_a_phrase_after_a_name_or_words_after_a_sentence_opening_are_no_relabel():
    # "Kesh on the coast" adds a phrase after the name (it opens with a preposition), not a new label for it
    copy = HARBOUR.replace("in Kesh said", "in Kesh on the coast said").replace(
        "said Kesh had", "said Kesh on the coast had")
    kinds = by_kind(diff_pair(HARBOUR, copy, align(HARBOUR, copy)).systematic)
    assert "relabel" not in kinds
    assert [(f.copy_text.strip(), f.count) for f in kinds["insert"]] == [("on the coast", 2)]
    # a capital "The" opening a sentence is no name: "The local" is an insertion of "local", twice
    story = HARBOUR + "\nThe port office said the boats would be inspected. The market opened late on Saturday.\n"
    copy = story.replace("The port office", "The local port office").replace("The market", "The local market")
    kinds = by_kind(diff_pair(story, copy, align(story, copy)).systematic)
    assert "relabel" not in kinds
    assert [(f.copy_text.strip(), f.count) for f in kinds["insert"]] == [("local", 2)]


PIER = """Dunmore council votes to close the old ferry pier

Dunmore council voted on Tuesday to close the old ferry pier at the end of the month, saying repairs would cost
more than a new landing stage. Fishermen who moor at the pier said they had not been consulted.

A spokesman said Dunmore council had commissioned two surveys of the pier since the winter storms, and both had
found the timber piles rotten below the waterline.

Traders on the quay asked Dunmore council to keep the pier open until the new landing stage is built, since the
summer boats bring most of their trade.
"""


def test_a_label_that_replaces_the_words_after_the_name_is_one_replacement_of_the_phrase():
    copy = PIER.replace("said Dunmore council had", "said the Dunmore junta had").replace(
        "asked Dunmore council to", "asked the Dunmore junta to")
    kinds = by_kind(diff_pair(PIER, copy, align(PIER, copy)).systematic)
    # not "Dunmore" -> "the Dunmore" plus "council" -> "junta": one replacement of the whole phrase, and its misses
    assert "relabel" not in kinds and "insert" not in kinds
    rep = kinds["replace"]
    assert [(f.source_text, f.copy_text, f.count) for f in rep] == [("Dunmore council", "the Dunmore junta", 2)]
    assert [copy[a:b] for a, b in rep[0].copy_spans] == ["the Dunmore junta"] * 2
    assert [copy[a:b] for a, b in kinds["replace_missed"][0].copy_spans] == ["Dunmore council"] * 2


def test_a_denial_at_the_end_of_the_source_that_the_copy_stops_before_is_a_cut():
    denial = "A spokesman for the Dunmore council denied that the fishermen had been misled about the surveys."
    source = PIER.rstrip("\n") + "\n\n" + denial + "\n"
    for copy in (PIER, PIER + "\nRead more at the Vell Courier.\n"):
        pe = diff_pair(source, copy, align(source, copy))
        assert [source[a:b] for a, b in pe.source_free] == [denial]
        cuts = by_kind(pe.systematic)["cut_denial"]
        assert [(f.source_text, f.copy_text) for f in cuts] == [(denial, "")]
    # a copy that goes on with its own story after the passage did not stop where the source was cut
    copy = PIER + "\n" + " ".join(["The harbour master will publish the tide tables for the summer next week."] * 4)
    assert "cut_denial" not in by_kind(diff_pair(source, copy, align(source, copy)).systematic)


def test_the_seed_against_its_source_rebuilt_from_the_notes(seed_text):
    """NOTES: the earlier article read "ISIS terrorists"; the seed relabels ISIS as “Daesh” and injects ", backed
    by Saudi Arabia," with seams. Undo both to rebuild the source, then diff: one insertion ×9, one replacement."""
    import re

    def unjoin(m: re.Match) -> str:
        return (" " + m.group(1)) if m.group(1).isalpha() else m.group(1)

    source = re.sub(r"\s*,\s*backed\s*by\s*Saudi\s*Arab(?:ia|ai),?(\S?)", unjoin, seed_text)
    source = source.replace("“Daesh “", "ISIS ").replace("“Daesh”", "ISIS")
    source = re.sub(r"ISIS(?=[a-z])", "ISIS ", source)
    pe = diff_pair(source, seed_text, align(source, seed_text))
    kinds = by_kind(pe.systematic)
    ins = kinds["insert"]
    assert len(ins) == 1 and ins[0].count == 9 and "backed by Saudi Arabia" in ins[0].copy_text
    rep = kinds["replace"]
    assert len(rep) == 1 and rep[0].source_text.strip() == "ISIS" and rep[0].count == 17
    assert kinds["replace_missed"][0].count == 3
    # the whole article is aligned: no text of either side is left as not copied
    assert not pe.copy_free and not pe.source_free
