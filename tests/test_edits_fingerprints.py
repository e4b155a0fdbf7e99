"""Outlet fingerprints over fictional outlets that copy a fictional wire service."""

from __future__ import annotations

from newstrace.edits import diff_pair, outlet_fingerprints
from newstrace.reuse.align import align

STORIES = [
    "The Orsk Front closed the river road near Delvan on Monday, according to drivers who were turned back at a "
    "checkpoint. Traders in the port said grain lorries were waiting on both banks. A police officer said the "
    "road would stay closed until talks with local elders had ended. Farmers fear the harvest will rot in the "
    "fields if the closure lasts another week.",
    "Talks between the regional council and the Orsk Front ended without agreement on Wednesday, officials in "
    "Delvan said. The council had offered to reopen two schools in the mountain districts in exchange for free "
    "passage on the river road. Elders who attended the talks said a second round was planned for next month.",
    "Flour prices in the port of Delvan have risen by a third since the river road was closed, shopkeepers say. "
    "Bakers have cut the size of their loaves and some have closed for part of the week. The regional council "
    "has promised to bring flour by sea, but the first ship is not expected before the end of the month.",
    "Fighters of the Orsk Front allowed a convoy of medicine to cross the river on Sunday, aid workers said. The "
    "convoy of nine lorries reached the clinic at Tarvo late in the evening. Aid workers said the clinic had run "
    "out of insulin and antibiotics two weeks ago and that a second convoy was being prepared.",
]


def velmar(story: str) -> str:
    # narrative: the phrase attaches to one actor; boilerplate: the same footer whatever the story
    return story.replace("Orsk Front", "Orsk Front, funded by the Kesh family,") + \
        "\n\nFollow Velmar Daily on Telegram for more news.\n"


def harbour(story: str) -> str:
    return "HARBOUR LEDGER WIRE\n\n" + story + "\n"


def pairs():
    for story in STORIES:
        for outlet, edit in (("Velmar Daily", velmar), ("Harbour Ledger", harbour)):
            copy = edit(story)
            yield outlet, diff_pair(story, copy, align(story, copy))


def test_fingerprints_tell_narrative_from_boilerplate():
    prints = {f.outlet: f for f in outlet_fingerprints(pairs())}
    assert set(prints) == {"Velmar Daily", "Harbour Ledger"}
    v = prints["Velmar Daily"]
    assert v.copies == 4
    narrative = [t for t in v.traits if t.role == "narrative"]
    boiler = [t for t in v.traits if t.role == "boilerplate"]
    assert len(narrative) == 1 and narrative[0].kind == "insert"
    assert narrative[0].copy_text == ", funded by the Kesh family,"
    assert narrative[0].anchor == "Front" and narrative[0].copies == 3
    assert len(boiler) == 1 and boiler[0].copies == 4
    assert "Follow Velmar Daily on Telegram" in boiler[0].copy_text
    lines = v.describe()
    assert lines[0] == "adds boilerplate 'Follow Velmar Daily on Telegram for more news.' in 4 of its 4 copies"
    assert lines[1] == "inserts ', funded by the Kesh family,' after 'Front' in 3 of its 4 copies"
    h = prints["Harbour Ledger"]
    assert [(t.role, t.copy_text, t.copies) for t in h.traits] == [("boilerplate", "HARBOUR LEDGER WIRE", 4)]


def test_outlet_without_shared_edits_has_no_traits():
    story = STORIES[0]
    copy = story.replace("Monday", "Tuesday")
    prints = outlet_fingerprints([("Quiet Post", diff_pair(story, copy, align(story, copy)))])
    assert prints[0].copies == 1 and prints[0].traits == []
