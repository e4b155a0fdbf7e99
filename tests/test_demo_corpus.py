"""The bundled demo corpus (examples/corpus) and its truth.json: reproducible, consistent, and extractable.

Everything else is tested against this corpus, so these tests pin what the truth promises: every referenced
article exists, offsets point at the text as ingested (trafilatura's default extraction for HTML and WARC),
chains run forward in time, and the planted edits are really in the extracted texts.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from datetime import datetime
from functools import lru_cache
from hashlib import sha1
from pathlib import Path

import pytest

trafilatura = pytest.importorskip("trafilatura")
ArchiveIterator = pytest.importorskip("warcio.archiveiterator").ArchiveIterator

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CORPUS = EXAMPLES / "corpus"


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_corpus", EXAMPLES / "build_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


@lru_cache(maxsize=1)
def truth() -> dict:
    return json.loads((CORPUS / "truth.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def warc_pages() -> dict[str, str]:
    pages = {}
    with open(CORPUS / "archive.warc.gz", "rb") as fh:
        for rec in ArchiveIterator(fh):
            if rec.rec_type == "response":
                pages[rec.rec_headers.get_header("WARC-Target-URI")] = (
                    rec.content_stream().read().decode("utf-8")
                )
    return pages


@lru_cache(maxsize=1)
def feed_records() -> dict[str, dict]:
    out = {}
    for path in CORPUS.rglob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            out[rec["id"]] = rec
    return out


def page_html(article: dict) -> str:
    if article["format"] == "warc":
        return warc_pages()[article["url"]]
    return (CORPUS / article["file"]).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def texts() -> dict[str, str]:
    """The text of every article as ingest sees it, keyed by its truth reference."""
    out = {}
    for a in truth()["articles"]:
        if a["format"] in ("html", "warc"):
            out[a["url"]] = trafilatura.extract(page_html(a))
        elif a["format"] == "jsonl":
            out[a["url"]] = feed_records()[a["id"]]["text"]
        else:
            out[a["url"]] = (CORPUS / a["file"]).read_text(encoding="utf-8")
    return out


def articles_by_ref() -> dict[str, dict]:
    return {a["url"]: a for a in truth()["articles"]}


def when(ref: str) -> datetime | None:
    p = articles_by_ref()[ref]["published"]
    return datetime.fromisoformat(p) if p else None


def test_build_is_deterministic(tmp_path):
    _load_builder().build(tmp_path)
    built = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(CORPUS) for p in CORPUS.rglob("*") if p.is_file())
    assert built == committed, "examples/corpus is stale: run python examples/build_corpus.py"
    for rel in built:
        assert (tmp_path / rel).read_bytes() == (CORPUS / rel).read_bytes(), rel


def test_corpus_shape_and_identity():
    t = truth()
    arts = t["articles"]
    assert 30 <= len(arts) <= 50
    assert len(t["outlets"]) == 10
    assert {a["format"] for a in arts} == {"html", "jsonl", "warc", "txt"}
    refs = [a["url"] for a in arts]
    assert len(set(refs)) == len(refs)
    ids = [a["id"] for a in arts if a["id"] is not None]
    assert len(set(ids)) == len(ids)
    assert all(a["outlet"].endswith(".example") and a["outlet"] in t["outlets"] for a in arts)
    for a in arts:
        if a["format"] == "txt":
            assert a["url"].startswith("file:") and a["published"] is None
            assert Path(a["file"]).parent.name == a["outlet"]  # .txt outlets come from the folder name
            assert Path(a["file"]).stem == a["id"]
        elif a["format"] == "html":
            assert Path(a["file"]).stem == a["id"]
            assert f'<link rel="canonical" href="{a["url"]}">' in page_html(a)
        elif a["format"] == "warc":
            assert a["id"] is None and a["url"] in warc_pages()
        else:
            rec = feed_records()[a["id"]]
            assert (rec["url"], rec["outlet"], rec["title"]) == (a["url"], a["outlet"], a["title"])
            assert datetime.fromisoformat(rec["published"]).tzinfo is not None
    # no article is stored twice: WARC pages are not also loose .html files
    assert not set(warc_pages()) & {a["url"] for a in arts if a["format"] == "html"}


def test_texts_match_truth_hashes():
    for a in truth()["articles"]:
        text = texts()[a["url"]]
        assert len(text) == a["text_chars"], a["url"]
        assert sha1(text.encode("utf-8")).hexdigest() == a["text_sha1"], a["url"]


def test_trafilatura_extracts_title_and_date_but_not_page_boilerplate():
    boiler = truth()["boilerplate"]
    for a in truth()["articles"]:
        if a["format"] not in ("html", "warc"):
            continue
        meta = json.loads(trafilatura.extract(page_html(a), output_format="json", with_metadata=True))
        assert meta["title"] == a["title"]
        assert meta["date"] == a["published"][:10]
        for chunk in boiler[a["outlet"]]["page"]:
            assert chunk not in meta["text"], (a["url"], chunk)
        in_text = boiler[a["outlet"]]["in_text"]
        assert in_text is None or meta["text"].endswith(in_text)


def test_every_reference_exists():
    t = truth()
    known = set(articles_by_ref())
    refs = [r[k] for r in t["reuse"] for k in ("source_url", "copy_url")]
    refs += [u for pair in t["non_copies"] for u in pair] + [u for c in t["chains"] for u in c]
    refs += [f["origin_url"] for f in t["families"]] + [u for f in t["families"] for u in f["member_urls"]]
    refs += [e[k] for e in t["edits"] for k in ("source_url", "copy_url")] + [
        i["url"] for i in t["injections"]
    ]
    assert set(refs) <= known
    assert set(t["outlets"].values()) >= {"network:meridian", "network:northwind"}


def test_chains_and_copies_run_forward_in_time():
    t = truth()
    assert max(len(c) for c in t["chains"]) >= 4
    for chain in t["chains"]:
        dates = [when(u) for u in chain]
        assert all(dates) and dates == sorted(dates) and len(set(dates)) == len(dates), chain
    for r in t["reuse"]:
        if r["relation"] != "sibling" and r["direction"] == "dated":
            assert when(r["source_url"]) < when(r["copy_url"]), r
    textual = [r for r in t["reuse"] if r["relation"] == "direct" and r["direction"] == "textual"]
    assert textual, "a pair whose direction only the text can tell"


def test_passage_offsets_point_into_ingested_texts():
    tx = texts()
    kinds = set()
    for r in truth()["reuse"]:
        kinds.add(r["kind"])
        src, cp = tx[r["source_url"]], tx[r["copy_url"]]
        assert r["passages"]
        for p in r["passages"]:
            assert 0 <= p["source_start"] < p["source_end"] <= len(src)
            assert 0 <= p["copy_start"] < p["copy_end"] <= len(cp)
            assert src[p["source_start"] :].startswith(p["source_snippet"])
            assert cp[p["copy_start"] :].startswith(p["copy_snippet"])
    assert {"full", "partial", "reordered"} <= kinds


def test_verbatim_copies_have_identical_passages():
    """Unedited copies repeat their source's passages word for word.

    Only paragraph breaks differ by format: one newline in extracted HTML, a blank line in JSONL and .txt."""
    tx = texts()
    edited = {e["copy_url"] for e in truth()["edits"] if e["kind"] in ("insert", "replace", "cut_denial")}
    checked = 0
    for r in truth()["reuse"]:
        if r["relation"] == "direct" and r["copy_url"] not in edited:
            for p in r["passages"]:
                a = tx[r["source_url"]][p["source_start"] : p["source_end"]]
                b = tx[r["copy_url"]][p["copy_start"] : p["copy_end"]]
                assert a.split() == b.split()
                checked += 1
    assert checked >= 10


def test_injections_match_texts():
    tx = texts()
    injections = truth()["injections"]
    assert max(i["count"] for i in injections) >= 4
    for inj in injections:
        text = tx[inj["url"]]
        assert inj["count"] == len(inj["spans"]) == text.count(inj["anchor"])
        for s, e in inj["spans"]:
            assert text[:s].endswith(inj["anchor"])
            # a planted variant: the phrase itself, or the phrase damaged by find-and-replace seams
            assert re.sub(r"[\s,]", "", text[s:e])[:6] == re.sub(r"[\s,]", "", inj["phrase"])[:6]
        assert inj["seams"] and set(map(tuple, inj["seams"])) <= set(map(tuple, inj["spans"]))
    inserts = [e for e in truth()["edits"] if e["kind"] == "insert" and e["anchor"]]
    for e in inserts:
        text = tx[e["copy_url"]]
        assert len(e["planted"]) == e["count"]
        assert all(e["anchor"] + v in text for v in e["planted"])
        assert len({s for s in e["seams"] if s}) >= 2


def test_planted_edits_are_in_the_texts():
    tx = texts()
    kinds = {e["kind"] for e in truth()["edits"]}
    assert {"insert", "replace", "cut_denial", "reorder", "boilerplate", "lead", "title"} <= kinds
    for e in truth()["edits"]:
        src, cp = tx[e["source_url"]], tx[e["copy_url"]]
        if e["kind"] == "replace":
            assert len(re.findall(rf"\b{e['copy_text']}\b", cp)) == e["count"] >= 3
            assert len(re.findall(rf"\b{e['source_text']}\b", cp, re.I)) == e["missed"]
            assert 1 <= e["missed"] <= 2 and e["source_text"] in src
        elif e["kind"] == "cut_denial":
            assert e["source_text"] in src and e["source_text"] not in cp
            assert "denied" in e["source_text"] or "said" in e["source_text"]
        elif e["kind"] == "lead":
            assert src.count(e["source_text"]) == 1 and e["source_text"] not in cp
            assert e["copy_text"] == "" or e["copy_text"] in cp
        elif e["kind"] == "boilerplate":
            assert e["copy_text"] in cp and e["copy_text"] not in src


def test_non_copies_share_no_long_passage():
    """Hard negatives cover the same events with the same names, but share no 8-word run of text."""
    tx = texts()
    boiler = [b["in_text"] for b in truth()["boilerplate"].values() if b["in_text"]]

    def grams(text: str) -> set[tuple[str, ...]]:
        for b in boiler:
            text = text.replace(b, "")
        words = re.findall(r"\w+", text.lower())
        return {tuple(words[i : i + 8]) for i in range(len(words) - 7)}

    pairs = truth()["non_copies"]
    assert len(pairs) >= 10
    for a, b in pairs:
        assert not grams(tx[a]) & grams(tx[b]), (a, b)
    # and they are hard: same event, same named people and places
    arts = articles_by_ref()
    for a, b in pairs:
        assert arts[a]["topic"] == arts[b]["topic"]
        names_a, names_b = (set(re.findall(r"\b[A-Z][a-z]{3,}\b", tx[x])) for x in (a, b))
        assert len(names_a & names_b) >= 3, (a, b)


def test_families_are_connected_by_reuse():
    t = truth()
    linked = {frozenset((r["source_url"], r["copy_url"])) for r in t["reuse"]}
    for fam in t["families"]:
        assert fam["origin_url"] in fam["member_urls"]
        for m in fam["member_urls"]:
            if m != fam["origin_url"]:
                assert frozenset((fam["origin_url"], m)) in linked
