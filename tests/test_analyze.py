"""End to end: `newstrace analyze` on the demo corpus, checked against the contract and against truth.json."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import pytest

from conftest import DEMO_CORPUS, SHARED

CHECK_CONTRACT = SHARED / "bin" / "check-contract"


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "out"
    result = subprocess.run(
        [sys.executable, "-m", "newstrace.cli", "analyze", str(DEMO_CORPUS), "--out", str(out), "--quiet"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((DEMO_CORPUS / "truth.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def ids(demo_run: Path, truth: dict) -> dict[str, str]:
    """truth URL (or file:path) -> article id in the run."""
    articles = _lines(demo_run / "articles.jsonl")
    by_url = {a["url"]: a["id"] for a in articles if a["url"]}
    mapping = {}
    for t in truth["articles"]:
        mapping[t["url"]] = by_url.get(t["url"]) or t["id"]
    return mapping


def test_contract_files_pass_the_checker(demo_run: Path) -> None:
    for name in ("report.html", "articles.jsonl", "reuse.jsonl", "families.jsonl", "edits.jsonl", "signals.jsonl",
                 "network.graphml"):
        assert (demo_run / name).is_file(), name
    if not CHECK_CONTRACT.exists():
        pytest.skip("../shared/bin/check-contract is not available")
    result = subprocess.run([sys.executable, str(CHECK_CONTRACT), str(demo_run)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
    assert "contract: OK" in result.stdout


def test_every_reuse_relation_is_recovered_and_no_false_pair(demo_run: Path, truth: dict, ids: dict) -> None:
    found = {frozenset((p["source"], p["copy"])): p for p in _lines(demo_run / "reuse.jsonl")}
    expected = {frozenset((ids[r["source_url"]], ids[r["copy_url"]])) for r in truth["reuse"]}
    missing = expected - set(found)
    assert not missing, f"missed {len(missing)} of {len(expected)}: {sorted(map(sorted, missing))}"
    negatives = {frozenset((ids[a], ids[b])) for a, b in truth["non_copies"]}
    assert not (negatives & set(found)), "a same-topic non-copy was reported as reuse"
    extra = set(found) - expected
    assert not extra, f"pairs not in truth: {sorted(map(sorted, extra))}"


def test_directions_and_passages(demo_run: Path, truth: dict, ids: dict) -> None:
    articles = {a["id"]: a for a in _lines(demo_run / "articles.jsonl")}
    found = {(p["source"], p["copy"]): p for p in _lines(demo_run / "reuse.jsonl")}
    for r in truth["reuse"]:
        if r["relation"] != "direct":
            continue
        pair = found.get((ids[r["source_url"]], ids[r["copy_url"]]))
        assert pair is not None, f"direction wrong or pair missing: {r['source_url']} -> {r['copy_url']}"
        assert pair["direction"] in ("dated", "textual")
        copy_len = len(articles[pair["copy"]]["text"])
        assert pair["passages"] and all(0 <= q["copy_start"] < q["copy_end"] <= copy_len for q in pair["passages"])


def test_families_and_origins(demo_run: Path, truth: dict, ids: dict) -> None:
    families = _lines(demo_run / "families.jsonl")
    family_of = {m: f for f in families for m in f["members"]}
    derived = {t["url"]: t["derived_from"] for t in truth["articles"]}
    for t in truth["families"]:
        members = {ids[u] for u in t["member_urls"]}
        fams = {family_of[m]["family"] for m in members if m in family_of}
        assert len(fams) == 1, f"family of {t['origin_url']} split or missing: {fams}"
        # A truth family whose origin itself copies another story is part of that story's (connected) family,
        # whose origin is the earlier story.
        if not derived[t["origin_url"]]:
            assert family_of[ids[t["origin_url"]]]["origin"] == ids[t["origin_url"]]


def test_injected_phrase_found_within_one_text(demo_run: Path, truth: dict, ids: dict) -> None:
    signals = {s["id"]: s for s in _lines(demo_run / "signals.jsonl")}
    for planted in truth["injections"]:
        found = signals[ids[planted["url"]]]["injections"]
        letters = "".join(ch for ch in planted["phrase"].lower() if ch.isalpha())
        # the finder may report the phrase a little shorter than planted, when the variants differ at its end
        match = [i for i in found
                 if (got := "".join(ch for ch in i["phrase"].lower() if ch.isalpha())) in letters
                 and len(got) >= 0.6 * len(letters)]
        assert match, f"no injection found in {planted['url']}: {found}"
        spans = {tuple(s) for i in match for s in i["spans"]}
        for s, e in planted["spans"]:
            assert any(a < e and s < b for a, b in spans), f"occurrence {s}-{e} missed in {planted['url']}"


def test_network_recovers_the_two_networks_and_the_independents(demo_run: Path, truth: dict) -> None:
    ns = "{http://graphml.graphdrawing.org/xmlns}"
    root = ET.parse(demo_run / "network.graphml").getroot()
    keys = {k.get("id"): k.get("attr.name") for k in root.iter(ns + "key")}
    community = {}
    for node in root.iter(ns + "node"):
        data = {keys[d.get("key")]: d.text for d in node.iter(ns + "data")}
        community[node.get("id")] = data["community"]
    groups: dict[str, set[str]] = defaultdict(set)
    for outlet, label in truth["outlets"].items():
        if outlet in community:
            groups[label].add(community[outlet])
    for label, comms in groups.items():
        assert len(comms) == 1, f"{label} is split across communities {comms}"
    labels_of: dict[str, set[str]] = defaultdict(set)
    for outlet, label in truth["outlets"].items():
        if outlet in community:
            labels_of[community[outlet]].add(label)
    for comm, labels in labels_of.items():
        assert len(labels) == 1, f"community {comm} merges {labels}"


def test_publication_times_match_truth(demo_run: Path, truth: dict, ids: dict) -> None:
    """Declared times survive ingest (htmldate alone keeps only the day for some pages)."""
    from newstrace.ingest.fields import parse_published

    articles = {a["id"]: a for a in _lines(demo_run / "articles.jsonl")}
    for t in truth["articles"]:
        got = articles[ids[t["url"]]]["published"]
        want = t.get("published")
        if want is None:
            assert got is None, t["url"]
        else:
            assert got is not None and parse_published(got) == parse_published(want), (t["url"], got, want)


def test_outlet_fingerprints_reach_the_output_and_the_report(demo_run: Path) -> None:
    fingerprints = {f["outlet"]: f for f in _lines(demo_run / "fingerprints.jsonl")}
    pv = fingerprints["pressvoice24.example"]["described"]
    assert any("boilerplate" in d and "Follow PressVoice24" in d and "5 of its 5 copies" in d for d in pv)
    report = (demo_run / "report.html").read_text("utf-8")
    assert "Follow PressVoice24 on Telegram" in report and "of its 5 copies" in report


def test_a_pair_or_article_over_the_time_limit_is_reported_once_and_skipped(tmp_path: Path) -> None:
    """Each stage after ingest skips what runs over --doc-timeout and reports it; a rerun replaces, not doubles."""
    from newstrace.pipeline import Run, analyze
    from newstrace.stages import EDITS_SKIPPED, REUSE_SKIPPED, SIGNALS_SKIPPED
    from newstrace.store import Store

    def reasons(store: Store) -> list[str]:
        return [r[0] for r in store.con.execute("SELECT reason FROM errors").fetchall()]

    with Store(tmp_path / "t.duckdb") as store:
        seen: list = []
        run = Run(store=store, inputs=[DEMO_CORPUS], on_problem=seen.append)
        analyze(run, ["ingest", "reuse"])
        pairs, before = len(run.pairs), len(reasons(store))
        assert pairs > 10
        run.doc_seconds = 1e-4  # no pair can be diffed, no article analysed, this fast
        analyze(run, ["edits", "signals"])
        assert run.edits == [] and run.signals == []
        skipped = [r for r in reasons(store) if r.startswith((EDITS_SKIPPED, SIGNALS_SKIPPED))]
        assert len(skipped) == pairs + store.count("articles") and len(seen) == len(skipped)
        assert all("(the --doc-timeout)" in r for r in skipped)
        analyze(run, ["reuse", "edits", "signals"])  # every candidate pair now times out in reuse instead
        not_aligned = sum(r.startswith(REUSE_SKIPPED) for r in reasons(store))
        assert run.pairs == [] and not_aligned >= pairs
        assert len(reasons(store)) == before + not_aligned + store.count("articles")  # replaced, not added
        run.doc_seconds = 60
        analyze(run, ["reuse", "edits", "signals"])  # with time enough, the skipped rows go
        assert len(run.pairs) == pairs and len(run.edits) == pairs and len(reasons(store)) == before


def test_one_and_two_workers_write_the_same_files(demo_run: Path, tmp_path: Path) -> None:
    """Forked workers share shingling, alignment, edits and signals: the files must not depend on their number."""
    out = tmp_path / "w1"
    result = subprocess.run(
        [sys.executable, "-m", "newstrace.cli", "analyze", str(DEMO_CORPUS), "--out", str(out), "--quiet",
         "--workers", "1"], capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    for name in ("articles.jsonl", "reuse.jsonl", "families.jsonl", "edits.jsonl", "signals.jsonl"):
        assert (out / name).read_bytes() == (demo_run / name).read_bytes(), name


def test_report_articles_in_batches_equal_one_by_one(demo_run: Path) -> None:
    # the static report reads its article pages with `articles_by_id`; the web app reads one with `article`
    from newstrace.report import data
    from newstrace.store import Store

    with Store(demo_run / "newstrace.duckdb", read_only=True) as store:
        ids = [r[0] for r in store.con.execute("SELECT id FROM articles ORDER BY published DESC, id").fetchall()]
        ids.insert(3, "no-such-article")
        many = data.articles_by_id(store, ids, chunk=7)
        one = [a for a in (data.article(store, i) for i in ids) if a is not None]
    assert many == one and len(many) == len(ids) - 1
    assert sum(len(a["sources"]) + len(a["copies"]) for a in many) > 10 and any(a["family"] for a in many)


def test_report_pairs_in_batches_equal_one_by_one(demo_run: Path) -> None:
    from newstrace.report import data
    from newstrace.store import Store

    with Store(demo_run / "newstrace.duckdb", read_only=True) as store:
        keys = [tuple(r) for r in store.con.execute("SELECT source, copy FROM reuse_pairs ORDER BY score").fetchall()]
        keys += [(keys[0][1], keys[0][0]), ("no-such-article", keys[0][1])]  # a pair the other way round, a missing one
        many = data.pairs_by_key(store, keys, chunk=5)
        one = {k: rec for k in keys if (rec := data.pair(store, *k)) is not None}
    assert many == one and len(many) == len(keys) - 1
    assert any(rec["systematic"] for rec in many.values())
    assert all(rec["passages"] for k, rec in many.items() if k != (keys[0][1], keys[0][0]))


def test_report_families_in_batches_equal_one_by_one(demo_run: Path) -> None:
    from newstrace.report import data
    from newstrace.store import Store

    with Store(demo_run / "newstrace.duckdb", read_only=True) as store:
        ids = [r[0] for r in store.con.execute("SELECT family FROM families ORDER BY size, family").fetchall()]
        ids.insert(1, "no-such-family")
        many = data.families_by_id(store, ids)
        one = [f for f in (data.family(store, i) for i in ids) if f is not None]
    assert many == one and len(many) == len(ids) - 1
    assert sum(len(f["pairs"]) for f in many) > 10 and any(len(c) > 2 for f in many for c in f["chains"])


def test_articles_file_written_during_the_stages_appears_only_with_the_others(tmp_path: Path, monkeypatch) -> None:
    """articles.jsonl is written on a thread from the end of ingest; a later stage that fails leaves no contract
    file and no temporary behind, and a run that succeeds writes the same file as the plain writer."""
    from newstrace import stages
    from newstrace.export import write_articles
    from newstrace.pipeline import Run, analyze
    from newstrace.store import Store

    def broken(run: Run) -> None:
        assert run.articles_file is not None  # started by ingest
        raise RuntimeError("the reuse stage failed")

    out = tmp_path / "out"
    with Store(tmp_path / "a.duckdb") as store, monkeypatch.context() as m:
        m.setitem(stages.STAGES, "reuse", broken)
        with pytest.raises(RuntimeError, match="reuse stage failed"):
            analyze(Run(store=store, inputs=[DEMO_CORPUS], out_dir=out), ["ingest", "reuse"])
    assert [p.name for p in out.iterdir()] == []
    with Store(tmp_path / "b.duckdb") as store:
        run = analyze(Run(store=store, inputs=[DEMO_CORPUS], out_dir=out), ["ingest", "reuse"])
        write_articles(tmp_path / "plain.jsonl", run.articles)
    assert (out / "articles.jsonl").read_bytes() == (tmp_path / "plain.jsonl").read_bytes()
    assert not list(out.glob(".*partial-*"))
