"""The command line as a user runs it: every command's happy path, its machine-readable output, and its failures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DEMO_CORPUS

COMMANDS = ["ingest", "analyze", "align", "query", "reuse", "diff", "signals", "network", "report", "serve", "errors",
            "synth"]


def nt(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newstrace.cli", *args], capture_output=True, text=True, cwd=cwd)


SOURCE = (
    "Officials in the port city of Halvard said on Monday that the Northern Shore Militia had seized two grain "
    "barges near the river mouth. The Northern Shore Militia denied any role in the seizure and said its "
    "fighters were far to the south. Harbour police said the barges were later found empty near the old quay, "
    "and an inquiry would report within a week. Traders warned that bread prices could rise if the river stayed "
    "closed to cargo for long."
)
COPY = (
    "Officials in the port city of Halvard said on Monday that the Northern Shore Militia, backed by Ostrava, had "
    "seized two grain barges near the river mouth. Harbour police said the barges were later found empty near the "
    "old quay, and an inquiry would report within a week. Traders warned that bread prices could rise if the river "
    "stayed closed to cargo for long."
)


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    source, copy = tmp_path / "source.txt", tmp_path / "copy.txt"
    source.write_text(SOURCE, "utf-8")
    copy.write_text(COPY, "utf-8")
    return source, copy


def test_every_command_has_help() -> None:
    for command in COMMANDS:
        result = nt(command, "--help")
        assert result.returncode == 0, (command, result.stderr)
        assert "Usage" in result.stdout


def test_align_single_and_batch(pair: tuple[Path, Path], tmp_path: Path) -> None:
    source, copy = pair
    result = nt("align", str(copy), str(source), "--json")
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    assert row["copy"] == str(copy) and row["source"] == str(source)
    assert len(row["passages"]) >= 1
    for p in row["passages"]:
        assert COPY[p["copy_start"]:p["copy_end"]].split()[:3] == SOURCE[p["source_start"]:p["source_end"]].split()[:3]
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text(f"{copy}\t{source}\n{source}\t{copy}\n", "utf-8")
    batch = nt("align", "--pairs", str(pairs), "--jsonl")
    lines = [json.loads(x) for x in batch.stdout.splitlines()]
    assert batch.returncode == 0 and len(lines) == 2
    assert lines[0]["passages"] == row["passages"]
    assert {"copy_start", "copy_end", "source_start", "source_end"} == set(lines[0]["passages"][0])


def test_align_reports_a_missing_file(tmp_path: Path) -> None:
    result = nt("align", str(tmp_path / "nope.txt"), str(tmp_path / "nada.txt"))
    assert result.returncode == 1 and "nope.txt: no such file" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["align", "--pairs", "missing.tsv"], "missing.tsv: no such file"),
        (["align", "--pairs", "latin1.txt"], "latin1.txt: not valid UTF-8"),
        (["diff", "latin1.txt", "plain.txt"], "latin1.txt: not valid UTF-8"),
        (["diff", "folder", "plain.txt"], "folder: cannot read"),
        (["query", "plain.txt", "--db", "plain.txt"], "plain.txt: cannot open store"),
        (["network", "--db", "missing.duckdb"], "missing.duckdb: no such store"),
        (["report", "--db", "missing.duckdb"], "missing.duckdb: no such store"),
        (["serve", "--db", "missing.duckdb", "--workers", "2"], "missing.duckdb: no such store"),
        (["synth", "score", "truth.json", "nowhere"], "nowhere: no such folder"),
        (["synth", "score", "truth.json", "folder"], "truth.json: cannot read truth file"),
    ],
)
def test_user_mistakes_are_one_clean_error(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    (tmp_path / "plain.txt").write_text("plain words here", "utf-8")
    (tmp_path / "folder").mkdir()
    result = nt(*args, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("error: ") and message in result.stderr, result.stderr
    # a mistyped --db must not leave an empty store behind
    assert not (tmp_path / "missing.duckdb").exists()


def test_file_names_are_never_console_markup(tmp_path: Path) -> None:
    # "[/]" is an error in rich markup and "[bold]" would vanish into styling: both must print as typed.
    result = nt("diff", "[/]odd.txt", "[bold]name.txt", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "[/]odd.txt: no such file" in result.stderr
    (tmp_path / "[bold]name.txt").write_text(SOURCE, "utf-8")
    ingest = nt("ingest", "[bold]name.txt", "[red]gone.txt", "--db", "s.duckdb", "-q", cwd=tmp_path)
    assert ingest.returncode == 0, ingest.stderr
    assert "skipped [red]gone.txt" in ingest.stderr
    errors = nt("errors", "--db", "s.duckdb", cwd=tmp_path)
    assert errors.returncode == 0 and "[red]gone.txt" in errors.stdout


def test_diff_json_html_and_terminal(pair: tuple[Path, Path], tmp_path: Path) -> None:
    source, copy = pair
    result = nt("diff", str(source), str(copy), "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    kinds = {e["kind"] for e in record["edits"]}
    assert "insert" in kinds  # ", backed by Ostrava,"
    inserted = [e for e in record["edits"] if e["kind"] == "insert"]
    assert any("backed by Ostrava" in e["copy_text"] for e in inserted)
    cut = [e for e in record["edits"] if e["kind"] == "delete"]
    assert any("denied any role" in e["source_text"] for e in cut)
    for e in record["edits"]:
        assert COPY[e["copy_start"]:e["copy_end"]] == e["copy_text"]
        assert SOURCE[e["source_start"]:e["source_end"]] == e["source_text"]
    page = tmp_path / "diff.html"
    assert nt("diff", str(source), str(copy), "--html", str(page)).returncode == 0
    assert "backed by Ostrava" in page.read_text("utf-8")
    terminal = nt("diff", str(source), str(copy))
    assert terminal.returncode == 0 and "systematic" in terminal.stdout


# A page as text extraction gives it: masthead, a sidebar of headlines, then the article (an original story about
# fictional places); and a rewrite by another outlet that relabels Velmar, injects a phrase and opens its own way.
PAGE = """Tidewater Ledger | Independent news from the coast
Recent Posts
Harbour pilots strike over night shifts on the Kesh estuary
Russian suspects named in the Alder Bridge fire inquiry
Five villages lose power as storm crosses the northern hills
Council delays vote on the new ferry terminal again

Officials from Velmar confirmed on Tuesday that two fishing trawlers had been detained near the Orsel banks after
a dispute over licences. The crews were taken to the port of Harwick, where Velmar inspectors questioned them for
most of the day.

Fishermen in Harwick said the detentions were the third this month and accused Velmar of using inspections to
push local boats out of the richest grounds. A spokeswoman for the harbour board said the boats had been released
by the evening but their catch was kept as evidence.

The dispute has simmered since Velmar extended its fishing zone in the spring. Talks between the two coastguards
broke down in June, and neither side has proposed a date to resume them.

Local traders said prices for cod and haddock at the Harwick market had risen by a fifth since the first
detentions, and that restaurants along the quay were already changing their menus.
"""
REWRITE = """Coastal fishermen face new harassment

Coastguard reports from the region describe a worsening pattern. Officials from the Velmar regime confirmed on
Tuesday that two fishing trawlers had been detained near the Orsel banks after a dispute over licences. The
crews were taken to the port of Harwick, where the Velmar regime's inspectors, trained in the northern camps,
questioned them for most of the day.

Fishermen in Harwick said the detentions were the third this month and accused the Velmar regime of using
inspections to push local boats out of the richest grounds. A spokeswoman for the harbour board said the boats had
been released by the evening but their catch was kept as evidence.

The dispute has simmered since the Velmar regime, trained in the northern camps, extended its fishing zone in the
spring. Talks between the two coastguards broke down in June, and neither side has proposed a date to resume them.

Local traders said prices for cod and haddock at the Harwick market had risen by a fifth since the first
detentions, and that restaurants along the quay were already changing their menus.
"""


def test_diff_of_a_page_with_a_sidebar_edits_only_the_aligned_article(tmp_path: Path) -> None:
    source, copy = tmp_path / "page.txt", tmp_path / "rewrite.txt"
    source.write_text(PAGE, "utf-8")
    copy.write_text(REWRITE, "utf-8")
    result = nt("diff", str(source), str(copy), "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    article = PAGE.index("Officials from Velmar")
    # the sidebar and the masthead are not copied: one unaligned stretch, and no edit touches them
    assert [PAGE[a:b] for a, b in record["unaligned"]["source"]] == [PAGE[:article].strip()]
    aligned = [r for r in record["rows"] if r["kind"] == "aligned"]
    assert aligned and all(r["source"][0] >= article for r in aligned)
    inside_s = [tuple(r["source"]) for r in aligned]
    inside_c = [tuple(r["copy"]) for r in aligned]
    for e in record["edits"]:
        assert any(a <= e["source_start"] and e["source_end"] <= b for a, b in inside_s), e
        assert any(a <= e["copy_start"] and e["copy_end"] <= b for a, b in inside_c), e
        assert "Russian" not in e["source_text"] and "Recent Posts" not in e["source_text"]
    outside_c = [tuple(r["copy"]) for r in record["rows"] if r["kind"] == "unaligned" and r["copy"]]
    for f in record["systematic"]:
        # word-level findings inside the aligned article; a rewritten opening (lead) only in the copy's own text
        spans = inside_c if f["kind"] in ("insert", "replace", "relabel", "relabel_missed", "delete") else outside_c
        assert all(any(a <= x and y <= b for a, b in spans) for x, y in f["copy_spans"]), f
    # the relabel is one edit holding the whole new label, the injection another, each with its count
    found = {(f["kind"], f["source_text"], f["copy_text"].strip(" ,")): f["count"] for f in record["systematic"]}
    assert found[("relabel", "Velmar", "the Velmar regime")] == 4
    assert found[("insert", "", "trained in the northern camps")] == 2
    # the rewrite's own headline and opening are not from the source: shown as such, beside the page's sidebar
    first = record["rows"][0]
    assert first["kind"] == "unaligned" and REWRITE[first["copy"][0]:first["copy"][1]].startswith("Coastal fishermen")
    page = tmp_path / "diff.html"
    assert nt("diff", str(source), str(copy), "--html", str(page)).returncode == 0
    html = page.read_text("utf-8")
    assert html.count('class="row-aligned"') == len(aligned) and "not copied" in html
    terminal = nt("diff", str(source), str(copy))
    assert terminal.returncode == 0 and "not copied" in terminal.stdout


def test_signals_on_the_seed(seed_path: Path) -> None:
    result = nt("signals", str(seed_path), "--jsonl")
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    assert set(row) == {"id", "techniques", "attributions", "injections"}
    text = seed_path.read_bytes().decode("utf-8")
    anonymous = [text[a["start"]:a["end"]] for a in row["attributions"] if a["kind"] == "anonymous"]
    assert any("Analysts believe" in s for s in anonymous) and any("Witnesses reported" in s for s in anonymous)
    assert any("backed by" in i["phrase"] for i in row["injections"])
    terminal = nt("signals", str(seed_path))
    assert terminal.returncode == 0 and "anonymous" in terminal.stdout


def test_store_commands_compose(tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    ingest = nt("ingest", str(DEMO_CORPUS), "--db", str(db), "--quiet", "--json")
    assert ingest.returncode == 0, ingest.stderr
    summary = json.loads(ingest.stdout)
    assert summary["articles_in_store"] == 35 and summary["problems"] == 0
    reuse = nt("reuse", "--db", str(db), "--quiet", "--jsonl")
    pairs = [json.loads(x) for x in reuse.stdout.splitlines()]
    assert reuse.returncode == 0 and len(pairs) == 43
    store_article = next(p for p in pairs if p["source"] == "dm-tarnholm")
    probe = tmp_path / "probe.txt"
    from newstrace.store import Store

    with Store(db, read_only=True) as store:
        text = store.get_article(store_article["copy"]).text
    probe.write_text("An unrelated opening line about the weather.\n\n" + text[300:2000], "utf-8")
    query = nt("query", str(probe), "--db", str(db), "--json")
    hits = json.loads(query.stdout)
    assert query.returncode == 0 and hits and {h["article_id"] for h in hits[:5]} & {"dm-tarnholm", "eh-tarnholm"}
    errors = nt("errors", "--db", str(db), "--csv")
    assert errors.returncode == 0 and errors.stdout.strip() in ("", "file,record,reason")
    net = nt("network", "--db", str(db), "--out", str(tmp_path / "net"), "--json")
    assert net.returncode == 0, net.stderr
    assert {p.name for p in (tmp_path / "net").iterdir()} >= {"network.graphml", "network.gexf", "network.svg",
                                                                "outlets.csv", "outlet_edges.csv"}
    report = nt("report", "--db", str(db), "--out", str(tmp_path / "rep"))
    assert report.returncode == 0, report.stderr
    assert "Tarnholm" in (tmp_path / "rep" / "report.html").read_text("utf-8")


def test_analyze_only_some_stages_writes_every_file(tmp_path: Path, story: list[str]) -> None:
    corpus = tmp_path / "in"
    corpus.mkdir()
    (corpus / "a.txt").write_text("\n".join(story), "utf-8")
    out = tmp_path / "out"
    result = nt("analyze", str(corpus), "--out", str(out), "--stages", "ingest,reuse", "--quiet")
    assert result.returncode == 0, result.stderr
    for name in ("report.html", "articles.jsonl", "reuse.jsonl", "families.jsonl", "edits.jsonl", "signals.jsonl",
                 "network.graphml"):
        assert (out / name).exists(), name
    assert (out / "articles.jsonl").read_text("utf-8").count("\n") == 1
    assert (out / "signals.jsonl").read_text("utf-8") == ""
    bad = nt("analyze", str(corpus), "--out", str(out), "--stages", "ingest,magic")
    assert bad.returncode == 1 and "unknown stage" in bad.stderr
    nothing = nt("analyze", str(tmp_path / "missing"), "--out", str(tmp_path / "o2"), "--quiet")
    assert nothing.returncode == 1 and "nothing could be ingested" in nothing.stderr


def test_signals_min_confidence_trades_recall_for_precision(seed_path: Path) -> None:
    every = json.loads(nt("signals", str(seed_path), "--jsonl").stdout)["techniques"]
    result = nt("signals", str(seed_path), "--jsonl", "--min-confidence", "0.4")
    assert result.returncode == 0, result.stderr
    kept = json.loads(result.stdout)["techniques"]
    assert kept == [t for t in every if t["score"] >= 0.4] and len(kept) < len(every)
    bad = nt("signals", str(seed_path), "--jsonl", "--min-confidence", "2")
    assert bad.returncode != 0 and "min-confidence" in bad.stderr
    fast = nt("signals", str(seed_path), "--jsonl", "--technique-model", "fast")
    assert fast.returncode == 0 and json.loads(fast.stdout)["techniques"]
