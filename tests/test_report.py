"""The data layer, highlight segments and the static report, on a small hand-built store with hostile content.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import datetime, timezone
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from newstrace.model import Article, Family, Passage, ReusePair
from newstrace.report import data, render_diff_page, report_html
from newstrace.report.marks import Mark, article_marks, pair_marks, segments
from newstrace.report.render import anchor, script_json
from newstrace.store import Store

PAYLOAD_TITLE = '<script>alert("title")</script>'
PAYLOAD_OUTLET = "<img src=x onerror=alert(1)>"
PAYLOAD_URL = "javascript:alert(document.cookie)"
PAYLOAD_ATTR = '" onerror="alert(3)'
INSERT = ", backed by Veldran,"

SOURCE_TEXT = (
    "The Oster Valley Brigade attacked a depot. Officials said the Oster Valley Brigade denied it.\n"
    "Later the Oster Valley Brigade moved north, police said.\n"
)
COPY_TEXT = (
    "The Oster Valley Brigade"
    + INSERT
    + " attacked a depot. <script>alert(2)</script> the Oster Valley Brigade"
    + INSERT
    + " denied it."
    + PAYLOAD_ATTR
    + "\nLater the Oster Valley Brigade"
    + INSERT
    + " moved north.\n"
)


def _spans(text: str, needle: str) -> list[list[int]]:
    return [[m.start(), m.end()] for m in re.finditer(re.escape(needle), text)]


def build_store(path: Path) -> Path:
    """Two articles, one copy of the other with a phrase inserted three times; the copy carries XSS payloads
    in its title, outlet, url and text."""
    when = datetime(2024, 3, 11, 6, 0, tzinfo=timezone.utc)
    with Store(path) as store:
        store.add_articles(
            [
                Article(
                    id="src-1",
                    text=SOURCE_TEXT,
                    url="https://meridian.example/a?x=1&y=2",
                    outlet="meridian.example",
                    published=when,
                    title="Depot attacked",
                    source_file="a.html",
                    extractor="test",
                ),
                Article(
                    id="copy-1",
                    text=COPY_TEXT,
                    url=PAYLOAD_URL,
                    outlet=PAYLOAD_OUTLET,
                    published=when.replace(hour=9),
                    title=PAYLOAD_TITLE,
                    source_file="b.html",
                ),
                Article(
                    id="alone",
                    text="Nothing to see.",
                    url="http://ok.example/",
                    outlet="ok.example",
                    title="Alone",
                ),
            ]
        )
        passages = [Passage(0, len(SOURCE_TEXT), 0, len(COPY_TEXT))]
        store.replace_reuse(
            [ReusePair("src-1", "copy-1", 0.91, "dated", passages)],
            [Family("F1", "src-1", ["src-1", "copy-1"])],
        )
        spans = _spans(COPY_TEXT, INSERT)
        edits = [
            {
                "kind": "insert",
                "source_start": 24,
                "source_end": 24,
                "copy_start": s,
                "copy_end": e,
                "source_text": "",
                "copy_text": INSERT,
            }
            for s, e in spans
        ]
        systematic = [
            {"kind": "insert", "source_text": "", "copy_text": INSERT, "count": 3, "copy_spans": spans},
            {
                "kind": "cut_attribution",
                "source_text": ", police said",
                "copy_text": "",
                "count": 1,
                "copy_spans": [[len(COPY_TEXT) - 2, len(COPY_TEXT) - 2]],
            },
        ]
        store.replace_rows("edits", [("src-1", "copy-1", json.dumps(edits), json.dumps(systematic))])
        injections = [
            {
                "phrase": INSERT,
                "anchor": "Oster Valley Brigade",
                "count": 3,
                "spans": spans,
                "seams": spans[:1],
            }
        ]
        techniques = [{"technique": "Loaded_Language", "start": 4, "end": 24, "score": 0.8}]
        attributions = [{"start": 0, "end": 10, "cue": "said", "source": PAYLOAD_OUTLET, "kind": "named"}]
        sourcing = {
            "factual": 2,
            "counts": {"named": 1, "anonymous": 0, "unattributed": 1},
            "shares": {"named": 0.5, "anonymous": 0.0, "unattributed": 0.5},
            "sentences": [],
        }
        store.replace_rows(
            "signals",
            [
                (
                    "copy-1",
                    json.dumps(techniques),
                    json.dumps(attributions),
                    json.dumps(injections),
                    json.dumps(sourcing),
                )
            ],
        )
    return path


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return build_store(tmp_path / "ui.duckdb")


@pytest.fixture
def store(store_path: Path):
    with Store(store_path, read_only=True) as s:
        yield s


class _Tags(HTMLParser):
    """Every start tag and its attributes, as a browser's tokenizer would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def assert_inert(html: str, shown: bool = True) -> None:
    """No payload reaches the page as markup: every one is escaped text, never a tag, attribute or link."""
    found = tags(html)
    assert not [t for t, _ in found if t in ("img", "iframe", "object", "embed", "base")]
    assert all((attrs.get("href") or "").startswith("/static/") for t, attrs in found if t == "link")
    assert not [a for _, attrs in found for a in attrs if a.startswith("on")]
    assert not [a for _, attrs in found for a in attrs if a == "src"]
    assert all(
        not (attrs.get("href") or "").strip().lower().startswith(("javascript", "data", "vbscript"))
        for _, attrs in found
    )
    assert "<script>alert" not in html
    if shown:
        assert "&lt;script&gt;alert" in html  # the payload is still there to read, as text


# ---- data layer --------------------------------------------------------------------------------------------


def test_safe_url_only_allows_http_links():
    assert data.safe_url("https://a.example/x") == "https://a.example/x"
    assert data.safe_url("http://a.example") == "http://a.example"
    for bad in (
        PAYLOAD_URL,
        " javascript:alert(1)",
        "JaVaScRiPt:x",
        "data:text/html,<b>",
        "vbscript:x",
        "//a.b/c",
        'https://a.example/"onmouseover=x',
        "",
        None,
    ):
        assert data.safe_url(bad) is None


def test_overview_counts_and_findings(store):
    ov = data.overview(store)
    assert ov["counts"]["articles"] == 3 and ov["counts"]["families"] == 1 and ov["counts"]["pairs"] == 1
    assert ov["counts"]["edited_pairs"] == 1 and ov["counts"]["with_injections"] == 1
    top = ov["findings"]["edits"][0]
    assert top["kind"] == "insert" and top["pairs"] == 1 and top["count"] == 3
    assert top["explanation"] == f"Inserted “{INSERT}” after “Oster Valley Brigade” 3 times"
    assert ov["findings"]["injections"][0]["phrase"] == INSERT
    assert ov["families"][0]["family"] == "F1" and ov["families"][0]["edited_copies"] == 1


def test_family_pair_and_article(store):
    fam = data.family(store, "F1")
    assert [m["id"] for m in fam["members"]] == ["src-1", "copy-1"]
    assert fam["chains"] == [["src-1", "copy-1"]]
    assert fam["members"][1]["parent"] == "src-1" and fam["members"][1]["systematic"] == 2
    assert data.family(store, "nope") is None
    rec = data.pair(store, "src-1", "copy-1")
    assert rec["copy"]["text"] == COPY_TEXT and rec["score"] == 0.91
    assert (
        rec["systematic"][1]["explanation"].startswith("Cut a attribution")
        or "attribution" in rec["systematic"][1]["explanation"]
    )
    art = data.article(store, "copy-1")
    assert art["safe_url"] is None and art["url"] == PAYLOAD_URL
    assert art["sources"][0]["id"] == "src-1" and art["family"] == "F1"
    assert art["technique_counts"] == {"Loaded_Language": 1}
    assert data.article(store, "src-1")["safe_url"] == "https://meridian.example/a?x=1&y=2"


def test_article_listing_filters_and_escapes_like(store):
    assert data.articles(store)["total"] == 3
    assert [r["id"] for r in data.articles(store, q="depot")["rows"]] == ["src-1"]
    assert data.articles(store, q="%")["total"] == 0  # a literal percent sign, not a wildcard
    assert data.articles(store, outlet="ok.example")["total"] == 1
    assert {r["id"] for r in data.articles(store, findings_only=True)["rows"]} == {"src-1", "copy-1"}


# ---- segments ----------------------------------------------------------------------------------------------


def test_segments_cover_text_and_combine_overlaps():
    text = "abcdefghij"
    segs = segments(text, [Mark(2, 6, "a", "A"), Mark(4, 8, "b", "B"), Mark(9, 9, "pt", "P")])
    assert "".join(s.text for s in segs) == text
    assert [(s.text, s.cls) for s in segs if not s.point] == [
        ("ab", ""),
        ("cd", "a"),
        ("ef", "a b"),
        ("gh", "b"),
        ("i", ""),
        ("j", ""),
    ]
    assert [s.cls for s in segs if s.point] == ["pt"]


def test_pair_and_article_marks_point_at_the_inserted_phrase(store):
    rec = data.pair(store, "src-1", "copy-1")
    _, cp = pair_marks(rec)
    sys_marked = {COPY_TEXT[m.start : m.end] for m in cp if "sys0" in m.cls}
    assert sys_marked == {INSERT}
    art = data.article(store, "copy-1")
    inj = [m for m in article_marks(art) if m.cls == "inj"]
    assert len(inj) == 3 and all(COPY_TEXT[m.start : m.end] == INSERT for m in inj)


def test_script_json_cannot_break_out():
    text = script_json(["</script><script>alert(1)</script>", "<!--", "\u2028"])
    assert "<" not in text and ">" not in text and "\u2028" not in text
    assert json.loads(text)[0] == "</script><script>alert(1)</script>"


# ---- the static report -------------------------------------------------------------------------------------


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_report_is_self_contained_and_inert(store):
    html = report_html(store)
    assert_inert(html)
    csp = unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1))
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    # The one executable script and the stylesheet are allowed by hash, and nothing loads from elsewhere.
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert len(scripts) == 1 and _sha(scripts[0]) in csp
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    assert _sha(style) in csp
    assert "@import" not in html and "url(" not in style  # nothing is fetched (no src, no link: assert_inert)
    # Pages: the family, both family members, and the pair diff inside the family page.
    for key, prefix in (("F1", "f"), ("copy-1", "a"), ("src-1", "a")):
        assert f'id="{anchor(prefix, key)}"' in html
    assert f'id="{anchor("p", "src-1" + chr(0) + "copy-1")}"' in html
    assert len(re.findall(f'<mark class="sys sys0[^"]*" title="#1 Inserted “{INSERT}”', html)) == 3
    assert 'href="https://meridian.example/a?x=1&amp;y=2" rel="noopener noreferrer nofollow"' in html


def test_report_index_lists_every_article(store):
    html = report_html(store)
    raw = re.search(r'<script type="application/json" id="article-index">(.*?)</script>', html, re.S).group(1)
    rows = json.loads(raw)
    assert {r[0] for r in rows} == {"src-1", "copy-1", "alone"}
    assert next(r for r in rows if r[0] == "alone")[4] == ""  # no findings: listed, but no page of its own


def test_render_diff_page_is_inert():
    record = {
        "source": "s",
        "copy": "c",
        "edits": [],
        "systematic": [
            {
                "kind": "insert",
                "source_text": "",
                "copy_text": INSERT,
                "count": 3,
                "copy_spans": _spans(COPY_TEXT, INSERT),
            }
        ],
    }
    html = render_diff_page(PAYLOAD_TITLE, PAYLOAD_OUTLET, SOURCE_TEXT, COPY_TEXT, record)
    assert_inert(html)
    assert len(re.findall('<mark class="sys sys0[^"]*" title=', html)) == 3


# ---- polish: naming layer, network picture -------------------------------------------------------------


def test_article_view_shows_one_group_called_by_two_names():
    from newstrace.report.render import article_view

    text = "“Daesh”fighters left the town. Later ISIS fighters came back, and “Daesh” was blamed again."
    art = {"id": "x", "title": "t", "text": text, "analysed": True, "techniques": [], "attributions": [],
           "injections": [], "technique_counts": {}}
    view = article_view(art)
    assert view["naming"] and view["naming"][0]["entity"] == "ISIS"
    marked = {s.text for s in view["segments"] if "name" in s.cls.split()}
    assert {"Daesh", "ISIS"} <= marked
    assert any("seam" in s.cls.split() for s in view["segments"])  # the quote glued to "fighters"
    assert article_view({**art, "analysed": False})["naming"] == []  # no signals, no claim


def test_network_picture_keeps_labels_inside_and_caps_links():
    import xml.etree.ElementTree as ET

    import networkx as nx

    from newstrace.network.draw import network_svg

    G = nx.DiGraph()
    names = [f"a-rather-long-outlet-name-{i:02d}.example" for i in range(30)]
    for i, n in enumerate(names):
        G.add_node(n, articles=5 + i, community=i % 3, role="lead" if i < 3 else "amplifier")
    for i, u in enumerate(names):
        for v in names[i + 1 :]:
            G.add_edge(u, v, weight=1 + (i % 4), directed=1, median_lag_hours=2.0)
    svg = network_svg(G, max_edges=100)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f".//{ns}line")) == 100
    assert "the strongest 100 of 435 links" in root.find(f"{ns}title").text
    width = float(root.get("width"))
    for t in root.findall(f".//{ns}g[@class='labels']/{ns}text"):
        x, est = float(t.get("x")), 7.0 * len(t.text)  # about 7 px a character at 12 px
        assert (x - est >= 0) if t.get("text-anchor") == "end" else (x + est <= width), t.text
    legend_bottom = max(float(r.get("y")) + 10 for r in root.findall(f".//{ns}g[@class='legend']/{ns}rect"))
    assert all(float(c.get("cy")) - float(c.get("r")) > legend_bottom for c in root.iter(f"{ns}circle"))


def test_technique_marks_show_the_confidence():
    art = {"techniques": [{"technique": "Loaded_Language", "start": 0, "end": 5, "score": 0.4271}]}
    (mark,) = article_marks(art)
    assert "43% confidence" in mark.tip
