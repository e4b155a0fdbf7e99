"""Writing the outlet network out: GraphML (the contract), GEXF (Gephi), CSV node/edge lists, a JSON summary.

GraphML and GEXF hold scalars only, and each attribute needs one type. So the exporters write a flat copy of
the graph: lists such as the evidence pairs become JSON strings and unknown strings become "". Unknown floats
(a lag without dates) become `NaN` in GraphML, so that the contract's keys exist even when no edge has a
value; GEXF leaves them out, which Gephi reads as missing. The in-memory graph is never modified.
"""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import networkx as nx

from newstrace.export import atomic_path, atomic_write, csv_cell, ensure_writable, write_text
from newstrace.network.coordination import communities

NODE_FIELDS = {
    "articles": int,
    "community": int,
    "role": str,
    "first_publisher_share": float,
    "community_first_share": float,
    "copies_out": int,
    "copies_in": int,
    "internal_pairs": int,
}
EDGE_FIELDS = {
    "weight": int,
    "median_lag_hours": float,
    "min_lag_hours": float,
    "directed": int,
    "unknown": int,
    "fast_copies": int,
    "coordinated": bool,
    "verbatim_share": float,
    "systematic_share": float,
    "evidence": str,
}


# Characters XML 1.0 cannot hold at all, even escaped; hostile outlet names may carry them.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """`text` with the characters XML cannot carry replaced by U+FFFD."""
    return _XML_BAD.sub("\ufffd", text)


def _scalar(value, kind: type):
    if kind is float:
        return math.nan if value is None else float(value)
    if kind is str:
        if value is None:
            return ""
        return xml_safe(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    return kind(value)


def _attrs(d: dict, fields: dict[str, type], keep_unknown: bool) -> dict:
    return {k: _scalar(d.get(k), t) for k, t in fields.items() if keep_unknown or not (t is float and d.get(k) is None)}


def flat_graph(G: nx.DiGraph, keep_unknown: bool = True) -> nx.DiGraph:
    """A copy of `G` with only typed scalar attributes, as GraphML and GEXF require.

    With `keep_unknown`, every element carries every field (unknown floats as NaN), so each key is declared
    with one type; otherwise unknown floats are left out. Names lose the characters XML cannot hold.
    """
    F = nx.DiGraph()
    for n, d in G.nodes(data=True):
        F.add_node(xml_safe(str(n)), label=xml_safe(str(n)), **_attrs(d, NODE_FIELDS, keep_unknown))
    for u, v, d in G.edges(data=True):
        F.add_edge(xml_safe(str(u)), xml_safe(str(v)), **_attrs(d, EDGE_FIELDS, keep_unknown))
    coord = G.graph.get("coordination", {})
    interval = coord.get("interval_hours")
    if keep_unknown or interval is not None:
        F.graph["coordination_interval_hours"] = math.nan if interval is None else float(interval)
    F.graph["coordination_mode"] = str(coord.get("mode", ""))
    F.graph["min_repeats"] = int(coord.get("min_repeats", 0))
    return F


def write_graphml(G: nx.DiGraph, path: str | Path) -> None:
    """Write the contract's `network.graphml` (nodes: `articles`, `community`; edges: `weight`,
    `median_lag_hours`)."""
    lines = nx.generate_graphml(flat_graph(G))
    text = "\n".join(lines)
    # networkx writes NaN as "nan", which Java-based readers (Gephi, yEd) reject; "NaN" parses everywhere.
    doubles = set(re.findall(r'<key id="([^"]+)" for="[^"]+" attr.name="[^"]*" attr.type="double"', text))
    text = re.sub(
        r'<data key="([^"]+)">nan</data>',
        lambda m: f'<data key="{m.group(1)}">NaN</data>' if m.group(1) in doubles else m.group(0),
        text,
    )
    write_text(path, '<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n")


def write_gexf(G: nx.DiGraph, path: str | Path) -> None:
    """Write a GEXF file for Gephi, with the same flat attributes as the GraphML."""
    with atomic_path(path) as tmp:
        nx.write_gexf(flat_graph(G, keep_unknown=False), str(tmp), encoding="utf-8")


def write_csv(G: nx.DiGraph, nodes_path: str | Path, edges_path: str | Path) -> None:
    """Write a node list (`outlet` + node fields) and an edge list (`source`, `copy` + edge fields)."""
    with atomic_write(nodes_path) as f:
        w = csv.writer(f)
        w.writerow(["outlet", *NODE_FIELDS])
        for n, d in sorted(G.nodes(data=True)):
            w.writerow([_cell(n), *(_cell(d.get(k)) for k in NODE_FIELDS)])
    with atomic_write(edges_path) as f:
        w = csv.writer(f)
        w.writerow(["source", "copy", *EDGE_FIELDS])
        for u, v, d in sorted(G.edges(data=True), key=lambda e: (e[0], e[1])):
            w.writerow([_cell(u), _cell(v), *(_cell(d.get(k)) for k in EDGE_FIELDS)])


def _cell(value) -> object:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return csv_cell(value)  # outlet names come from the articles: never a formula in a spreadsheet


def _edge_row(u: str, v: str, d: dict, evidence_limit: int) -> dict:
    return {
        "source": u,
        "copy": v,
        "weight": d["weight"],
        "directed": d["directed"],
        "median_lag_hours": d["median_lag_hours"],
        "min_lag_hours": d["min_lag_hours"],
        "coordinated": d["coordinated"],
        "fast_copies": d["fast_copies"],
        "verbatim_share": d["verbatim_share"],
        "systematic_share": d["systematic_share"],
        "evidence": d["evidence"][:evidence_limit],
    }


def network_summary(G: nx.DiGraph, *, top: int = 20, evidence_limit: int = 5) -> dict:
    """A JSON-friendly digest: counts, the coordination interval, communities with leads and amplifiers,
    independent outlets, and the `top` edges by weight with a few evidence pairs each."""
    edges = sorted(G.edges(data=True), key=lambda e: (-e[2]["weight"], e[0], e[1]))
    return {
        "counts": {
            "outlets": G.number_of_nodes(),
            "edges": G.number_of_edges(),
            "copies": sum(d["weight"] for _, _, d in G.edges(data=True)),
            "pairs": G.graph.get("pairs", 0),
            "internal_pairs": G.graph.get("internal_pairs", 0),
            "unknown_direction_pairs": G.graph.get("unknown_direction_pairs", 0),
            "skipped_pairs": G.graph.get("skipped_pairs", 0),
        },
        "coordination": dict(G.graph.get("coordination", {})),
        "communities": communities(G),
        "independents": sorted(n for n, d in G.nodes(data=True) if d.get("role") == "independent"),
        "top_edges": [_edge_row(u, v, d, evidence_limit) for u, v, d in edges[:top]],
    }


def export_all(G: nx.DiGraph, out_dir: str | Path) -> list[Path]:
    """Every export of one graph into `out_dir`: GraphML (the contract), GEXF, CSV node and edge lists, SVG."""
    from newstrace.network.draw import network_svg

    out = Path(out_dir)
    ensure_writable(out)
    written = [out / "network.graphml", out / "network.gexf", out / "outlets.csv", out / "outlet_edges.csv",
               out / "network.svg"]
    write_graphml(G, written[0])
    write_gexf(G, written[1])
    write_csv(G, written[2], written[3])
    write_text(written[4], network_svg(G))
    return written
