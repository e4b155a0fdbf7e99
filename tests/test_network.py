"""Tests for newstrace.network on small hand-made corpora whose right answer is known."""

from __future__ import annotations

import csv
import json
import math
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import networkx as nx
import pytest

from newstrace.model import Article, ReusePair
from newstrace.network import (
    PairFlags,
    build_graph,
    family_timeline_svg,
    network_summary,
    network_svg,
    write_csv,
    write_gexf,
    write_graphml,
)
from newstrace.network.coordination import estimate_interval

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)
HOSTILE = "<script>alert(1)</script>.example"


class Corpus:
    """Builds articles and pairs: `copy(src, outlet, hours)` republishes `src` at `outlet` `hours` later."""

    def __init__(self, dated: bool = True):
        self.articles: list[Article] = []
        self.pairs: list[ReusePair] = []
        self.dated = dated

    def publish(self, outlet: str, hours: float, title: str | None = None) -> Article:
        when = T0 + timedelta(hours=hours) if self.dated else None
        a = Article(id=f"a{len(self.articles)}", text="x", outlet=outlet, published=when, title=title)
        self.articles.append(a)
        return a

    def copy(self, src: Article, outlet: str, hours: float, direction: str = "dated") -> Article:
        start = (src.published - T0).total_seconds() / 3600 if src.published else 0.0
        cp = self.publish(outlet, start + hours)
        self.pairs.append(ReusePair(src.id, cp.id, 0.9, direction, []))
        return cp


def lead_and_followers(independent_copies: int = 1) -> Corpus:
    c = Corpus()
    for day in range(4):
        story = c.publish("lead.example", 24 * day)
        c.copy(story, "f1.example", 1.0 + day * 0.1)
        c.copy(story, "f2.example", 2.0 + day * 0.1)
        if day < independent_copies:
            c.copy(story, "indie.example", 50.0)
    c.publish("indie.example", 5)  # its own story
    return c


def test_lead_and_two_followers_form_one_network():
    c = lead_and_followers()
    G = build_graph(c.articles, c.pairs)
    assert set(G.edges) == {
        ("lead.example", "f1.example"),
        ("lead.example", "f2.example"),
        ("lead.example", "indie.example"),
    }
    e = G["lead.example"]["f1.example"]
    assert e["weight"] == 4 and e["directed"] == 4
    assert e["median_lag_hours"] == pytest.approx(1.15)
    assert e["min_lag_hours"] == pytest.approx(1.0)
    assert e["coordinated"] is True
    outlet_of = {a.id: a.outlet for a in c.articles}
    assert [(outlet_of[ev["source"]], outlet_of[ev["copy"]]) for ev in e["evidence"]] == [
        ("lead.example", "f1.example")
    ] * 4
    nodes = G.nodes
    assert nodes["lead.example"]["articles"] == 4
    assert nodes["lead.example"]["community"] == nodes["f1.example"]["community"] == nodes["f2.example"]["community"]
    assert nodes["lead.example"]["role"] == "lead"
    assert nodes["lead.example"]["first_publisher_share"] == 1.0
    assert nodes["f1.example"]["role"] == nodes["f2.example"]["role"] == "amplifier"
    summary = network_summary(G)
    assert summary["communities"] == [
        {
            "id": 0,
            "outlets": ["f1.example", "f2.example", "lead.example"],
            "leads": ["lead.example"],
            "amplifiers": ["f1.example", "f2.example"],
            "articles": 12,
            "copies": 8,
            "coordinated_links": 2,
        }
    ]


def test_independent_that_copied_once_stays_alone():
    G = build_graph(*_ap(lead_and_followers(independent_copies=1)))
    indie = G.nodes["indie.example"]
    assert indie["role"] == "independent"
    assert indie["community"] != G.nodes["lead.example"]["community"]
    assert G["lead.example"]["indie.example"]["weight"] == 1
    assert G["lead.example"]["indie.example"]["coordinated"] is False
    assert network_summary(G)["independents"] == ["indie.example"]


def test_independent_copying_often_but_slowly_is_not_merged():
    # four copies, all two days late: repeated, but not within the coordination interval
    G = build_graph(*_ap(lead_and_followers(independent_copies=4)))
    assert G["lead.example"]["indie.example"]["weight"] == 4
    assert G["lead.example"]["indie.example"]["coordinated"] is False
    assert G.nodes["indie.example"]["role"] == "independent"
    assert G.graph["coordination"]["interval_hours"] < 50


def _ap(c: Corpus) -> tuple[list[Article], list[ReusePair]]:
    return c.articles, c.pairs


def test_unknown_direction_counts_as_copy_but_not_as_lead():
    c = lead_and_followers()
    story = c.publish("lead.example", 200)
    f_copy = c.publish("f1.example", 201)
    # listed against the known direction: it must join lead -> f1, not create f1 -> lead
    c.pairs.append(ReusePair(f_copy.id, story.id, 0.8, "unknown", []))
    x, y = c.publish("x.example", 1), c.publish("y.example", 2)
    c.pairs.append(ReusePair(x.id, y.id, 0.8, "unknown", []))
    G = build_graph(c.articles, c.pairs)
    assert not G.has_edge("f1.example", "lead.example")
    e = G["lead.example"]["f1.example"]
    assert (e["weight"], e["directed"], e["unknown"]) == (5, 4, 1)
    assert e["median_lag_hours"] == pytest.approx(1.15)  # the unknown pair's lag is not a lead/follow lag
    xy = G["x.example"]["y.example"]
    assert (xy["weight"], xy["directed"]) == (1, 0)
    assert G.nodes["x.example"]["first_publisher_share"] is None
    assert G.graph["unknown_direction_pairs"] == 2


def test_no_dates_falls_back_to_repetition():
    c = Corpus(dated=False)
    for _ in range(3):
        story = c.publish("lead.example", 0)
        c.copy(story, "f.example", 0, direction="textual")
    once = c.publish("lead.example", 0)
    c.copy(once, "other.example", 0, direction="textual")
    G = build_graph(c.articles, c.pairs)
    assert G.graph["coordination"]["mode"] == "repetition"
    assert G.graph["coordination"]["interval_hours"] is None
    e = G["lead.example"]["f.example"]
    assert e["median_lag_hours"] is None and e["coordinated"] is True
    assert G.nodes["lead.example"]["role"] == "lead"
    assert G.nodes["other.example"]["role"] == "independent"
    json.dumps(network_summary(G), allow_nan=False)


def test_naive_dates_are_read_as_utc():
    naive = Article(id="n", text="x", outlet="a.example", published=datetime(2024, 3, 1, 7, 0))
    aware = Article(id="w", text="x", outlet="b.example", published=T0)
    G = build_graph([naive, aware], [ReusePair("n", "w", 1.0, "dated", [])])
    assert G["a.example"]["b.example"]["median_lag_hours"] == pytest.approx(1.0)


def test_internal_and_dangling_pairs_are_counted_not_drawn():
    c = lead_and_followers()
    a, b = c.publish("f1.example", 300), c.publish("f1.example", 301)
    c.pairs.append(ReusePair(a.id, b.id, 1.0, "dated", []))
    c.pairs.append(ReusePair(a.id, "missing-id", 1.0, "dated", []))
    G = build_graph(c.articles, c.pairs)
    assert not G.has_edge("f1.example", "f1.example")
    assert G.nodes["f1.example"]["internal_pairs"] == 1
    assert G.graph["internal_pairs"] == 1 and G.graph["skipped_pairs"] == 1


def test_flags_give_verbatim_and_systematic_shares():
    c = lead_and_followers()
    f1_pairs = [p for p in c.pairs if p.copy in {a.id for a in c.articles if a.outlet == "f1.example"}]
    flags = {(p.source, p.copy): PairFlags(verbatim=i == 0, systematic=i > 0) for i, p in enumerate(f1_pairs)}
    G = build_graph(c.articles, c.pairs, flags)
    assert G["lead.example"]["f1.example"]["verbatim_share"] == pytest.approx(0.25)
    assert G["lead.example"]["f1.example"]["systematic_share"] == pytest.approx(0.75)
    assert G["lead.example"]["f2.example"]["verbatim_share"] is None


def test_empty_input():
    G = build_graph([], [])
    assert G.number_of_nodes() == 0
    assert network_summary(G)["communities"] == []
    assert "No outlets" in network_svg(G)


def test_estimate_interval_finds_the_gap_between_fast_and_slow_copying():
    lags = [1.0, 1.5, 2.0, 2.5, 3.0, 1.2, 2.2] + [50.0, 60.0, 70.0, 80.0, 55.0, 65.0]
    interval = estimate_interval(lags)
    assert 3.0 <= interval < 50.0
    assert estimate_interval(lags, "quantile", 0.5) == pytest.approx(3.0)
    assert estimate_interval([]) is None
    with pytest.raises(ValueError):
        estimate_interval(lags, "nope")


def _graphml_key_names(path) -> set[str]:
    ns = "{http://graphml.graphdrawing.org/xmlns}"
    return {k.get("attr.name") for k in ET.parse(path).getroot().iter(ns + "key")}


def test_graphml_round_trip_keeps_contract_attributes(tmp_path):
    c = lead_and_followers()
    G = build_graph(c.articles, c.pairs)
    path = tmp_path / "network.graphml"
    write_graphml(G, path)
    assert {"articles", "community", "weight", "median_lag_hours"} <= _graphml_key_names(path)
    R = nx.read_graphml(path)
    assert R.is_directed()
    assert set(R.edges) == set(G.edges)
    assert R.nodes["lead.example"]["articles"] == 4
    assert R.nodes["f1.example"]["community"] == G.nodes["f1.example"]["community"]
    e = R["lead.example"]["f1.example"]
    assert e["weight"] == 4 and e["median_lag_hours"] == pytest.approx(1.15)
    evidence = json.loads(e["evidence"])
    assert len(evidence) == 4 and {"source", "copy", "lag_hours"} <= set(evidence[0])


def test_graphml_without_dates_still_declares_lag_key(tmp_path):
    c = Corpus(dated=False)
    c.copy(c.publish("a.example", 0), "b.example", 0, direction="textual")
    path = tmp_path / "n.graphml"
    write_graphml(build_graph(c.articles, c.pairs), path)
    assert "median_lag_hours" in _graphml_key_names(path)
    assert ">NaN<" in path.read_text(encoding="utf-8") and ">nan<" not in path.read_text(encoding="utf-8")
    assert math.isnan(nx.read_graphml(path)["a.example"]["b.example"]["median_lag_hours"])


def test_empty_graph_writes_valid_graphml(tmp_path):
    path = tmp_path / "empty.graphml"
    write_graphml(build_graph([], []), path)
    assert nx.read_graphml(path).number_of_nodes() == 0


def test_hostile_outlet_names_survive_every_export(tmp_path):
    c = Corpus()
    for i in range(3):
        c.copy(c.publish(HOSTILE, 24 * i), "bad\x01name.example", 1)
    G = build_graph(c.articles, c.pairs)
    write_graphml(G, tmp_path / "n.graphml")
    assert HOSTILE in nx.read_graphml(tmp_path / "n.graphml")
    write_gexf(G, tmp_path / "n.gexf")
    assert HOSTILE in nx.read_gexf(tmp_path / "n.gexf")
    write_csv(G, tmp_path / "nodes.csv", tmp_path / "edges.csv")
    with open(tmp_path / "edges.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["source"] == HOSTILE and rows[0]["weight"] == "3"
    with open(tmp_path / "nodes.csv", newline="", encoding="utf-8") as f:
        assert {r["outlet"] for r in csv.DictReader(f)} == {HOSTILE, "bad\x01name.example"}


def test_network_svg_escapes_hostile_names():
    c = Corpus()
    for i in range(3):
        c.copy(c.publish(HOSTILE, 24 * i), "f.example", 1)
    svg = network_svg(build_graph(c.articles, c.pairs))
    assert "<script" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.example" in svg
    root = ET.fromstring(svg)  # well-formed XML
    assert len(root.findall(".//{http://www.w3.org/2000/svg}circle")) == 2
    assert 'marker-end="url(#arrow)"' in svg


def test_family_timeline_svg_rows_and_escaping():
    c = Corpus()
    origin = c.publish(HOSTILE, 0, title='He said "<b>no</b>"')
    first = c.copy(origin, "f1.example", 2)
    second = c.copy(first, "f2.example", 30)
    undated = Article(id="u", text="x", outlet="f3.example")
    members = [origin.id, first.id, second.id, "u", "not-in-corpus"]
    svg = family_timeline_svg([*c.articles, undated], members, c.pairs)
    root = ET.fromstring(svg)
    assert "<script" not in svg and "<b>" not in svg
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f".//{ns}circle")) == 4
    labels = [t.text for t in root.iter(f"{ns}text")]
    # rows run from the first publisher down; the undated outlet comes last
    rows = [t for t in labels if t and t.endswith(".example")]
    assert rows == [HOSTILE, "f1.example", "f2.example", "f3.example"]
    assert "no date" in labels
    assert len(root.findall(f".//{ns}g[@class='copies']/{ns}line")) == 2


def test_family_timeline_svg_empty():
    assert "No articles" in family_timeline_svg([], [])


def test_summary_is_json_and_lists_top_edges():
    c = lead_and_followers()
    s = network_summary(build_graph(c.articles, c.pairs), top=2, evidence_limit=1)
    text = json.dumps(s, allow_nan=False)
    assert len(s["top_edges"]) == 2 and len(s["top_edges"][0]["evidence"]) == 1
    assert s["top_edges"][0]["weight"] == 4
    assert s["coordination"]["method"] == "otsu" and s["coordination"]["min_repeats"] == 3
    assert json.loads(text)["counts"]["outlets"] == 4


def test_slow_hops_of_a_laundering_chain_still_join_the_network():
    # lead -> hop1 (2 h) -> hop2 (+9 h) -> hop3 (+10 h): later hops are slower than the fast-copy interval, but
    # every article of hop2 and hop3 is a copy of the outlet before it, within the day
    c = Corpus()
    for day in range(5):
        story = c.publish("lead.example", 24 * day)
        one = c.copy(story, "hop1.example", 2.0)
        two = c.copy(one, "hop2.example", 9.0)
        three = c.copy(two, "hop3.example", 10.0)
        # the reuse stage also pairs each copy with every earlier member of its family
        for src, cp in ((story, two), (story, three), (one, three)):
            lag = (cp.published - src.published).total_seconds() / 3600
            c.pairs.append(ReusePair(src.id, cp.id, 0.9, "dated", []))
            assert lag > 0
    c.publish("indie.example", 3)
    G = build_graph(c.articles, c.pairs)
    assert G["hop2.example"]["hop3.example"]["dependent"] is True
    assert G["hop2.example"]["hop3.example"]["coordinated"] is True
    community = {n: G.nodes[n]["community"] for n in G.nodes}
    assert len({community[n] for n in ("lead.example", "hop1.example", "hop2.example", "hop3.example")}) == 1
    assert community["indie.example"] != community["lead.example"]
