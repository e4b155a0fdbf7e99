"""Terminal views (rich) for `align`, `diff` and `signals`. Presentation only: the data comes from the library.

rich's `Text` treats its content literally, so article text can never inject console markup; `terminal_safe`
turns control characters into printable ones of the same length, so it cannot inject terminal escapes either.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from newstrace.model import Article, Passage
from newstrace.output import terminal_safe

TECHNIQUE_COLOURS = {
    "Loaded_Language": "on dark_red",
    "Name_Calling,Labeling": "on red3",
    "Repetition": "on dark_orange3",
    "Doubt": "on purple4",
    "Exaggeration,Minimisation": "on dark_magenta",
    "Appeal_to_fear-prejudice": "on orange4",
    "Flag-Waving": "on blue3",
    "Causal_Oversimplification": "on dark_cyan",
    "Appeal_to_Authority": "on deep_sky_blue4",
    "Slogans": "on green4",
    "Whataboutism,Straw_Men,Red_Herring": "on grey35",
    "Black-and-White_Fallacy": "on dark_olive_green3",
    "Thought-terminating_Cliches": "on medium_purple4",
    "Bandwagon,Reductio_ad_hitlerum": "on salmon4",
}
ATTRIBUTION_STYLES = {"named": "underline green", "anonymous": "underline yellow", "unattributed": "underline red"}


def _console() -> Console:
    return Console(highlight=False)


def _snippet(text: str, start: int, end: int, limit: int = 70) -> str:
    piece = " ".join(terminal_safe(text[start:end]).split())
    return piece if len(piece) <= limit else piece[: limit // 2 - 1] + " … " + piece[-(limit // 2 - 2):]


def print_alignment(source: str, copy: str, passages: Sequence[Passage]) -> None:
    console = _console()
    table = Table(title=f"{len(passages)} reused passage(s)")
    for col in ("copy", "source", "copy text"):
        table.add_column(col)
    for p in passages:
        table.add_row(f"{p.copy_start}-{p.copy_end}", f"{p.source_start}-{p.source_end}",
                      Text(_snippet(copy, p.copy_start, p.copy_end)))
    console.print(table)


_ROW_NOTES = {"moved": ("moved in the copy", "moved from elsewhere in the source"),
              "unaligned": ("not copied", "not in the source")}


def print_diff(source: str, copy: str, record: dict) -> None:
    """Systematic edits first, then the two texts in rows aligned passage by passage: deletions (red) and
    insertions (green) inside each aligned region, and text that no passage covers shown as not copied."""
    console = _console()
    systematic = record.get("systematic", [])
    table = Table(title=f"{len(systematic)} systematic edit(s)")
    for col in ("kind", "source text", "copy text", "count"):
        table.add_column(col)
    for s in systematic:
        table.add_row(Text(s["kind"]), Text(terminal_safe(repr(s["source_text"]))),
                      Text(terminal_safe(repr(s["copy_text"]))), str(s["count"]))
    console.print(table)
    source_view, copy_view = Text(terminal_safe(source)), Text(terminal_safe(copy))
    for e in record.get("edits", []):
        if e["kind"] in ("delete", "replace") and e["source_end"] > e["source_start"]:
            source_view.stylize("strike red", e["source_start"], e["source_end"])
        if e["kind"] in ("insert", "replace") and e["copy_end"] > e["copy_start"]:
            copy_view.stylize("bold green", e["copy_start"], e["copy_end"])
    side = Table(show_lines=True, expand=True)
    side.add_column(Text(terminal_safe(f"source ({record.get('source')})")), ratio=1)
    side.add_column(Text(terminal_safe(f"copy ({record.get('copy')})")), ratio=1)
    for row in record.get("rows", []):
        cells = []
        for span, view, note in ((row["source"], source_view, 0), (row["copy"], copy_view, 1)):
            if span is None:
                cells.append(Text(""))
                continue
            cell = view[span[0]:span[1]]
            if row["kind"] in _ROW_NOTES:
                cell.stylize("dim")
                cell = Text.assemble((f"[{_ROW_NOTES[row['kind']][note]}]\n", "italic yellow"), cell)
            cells.append(cell)
        side.add_row(*cells)
    console.print(side)
    console.print(Text(f"{len(record.get('edits', []))} edits inside the aligned passages: red = cut or replaced "
                       "in the source, green = inserted or replaced in the copy; text no passage covers is marked "
                       "not copied", style="dim"))


def print_signals(article: Article, row: dict) -> None:
    """The article with technique spans coloured, attributions underlined by kind, and injections in bold."""
    console = _console()
    view = Text(terminal_safe(article.text))
    for t in row.get("techniques", []):
        view.stylize(TECHNIQUE_COLOURS.get(t["technique"], "reverse"), t["start"], t["end"])
    for a in row.get("attributions", []):
        if a.get("cue") is not None:
            view.stylize(ATTRIBUTION_STYLES.get(a["kind"], "underline"), a["start"], a["end"])
    for inj in row.get("injections", []):
        for s, e in inj["spans"]:
            view.stylize("bold", s, e)
    console.print(Panel(view, title=Text(terminal_safe(f"{article.id} · {article.outlet or ''}")), expand=True))
    used = sorted({t["technique"] for t in row.get("techniques", [])})
    legend = Text()
    for name in used:
        legend.append(f" {name} ", style=TECHNIQUE_COLOURS.get(name, "reverse"))
        legend.append(" ")
    for kind, style in ATTRIBUTION_STYLES.items():
        legend.append(kind, style=style)
        legend.append(" ")
    console.print(legend)
    profile = row.get("sourcing") or {}
    if profile:
        shares = ", ".join(f"{k} {v:.0%}" for k, v in (profile.get("shares") or {}).items())
        console.print(Text(f"sourcing of {profile.get('factual_sentences', 0)} factual sentences: {shares}"))
    for inj in row.get("injections", []):
        console.print(Text(terminal_safe(f"injection: {inj['phrase']!r} after {inj['anchor']!r} ×{inj['count']}, "
                                         f"{len(inj['seams'])} seam(s)")))
