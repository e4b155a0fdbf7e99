"""Static SVG pictures of the network and of one family's spread, written by hand (no matplotlib).

Outlet names, titles and ids are hostile input: every piece of text goes through `html.escape` before it
reaches the SVG, in element text and in attributes alike.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from html import escape

import networkx as nx

from newstrace.model import Article, ReusePair
from newstrace.network.export import xml_safe

PALETTE = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
    "#e377c2", "#17becf", "#bcbd22", "#393b79", "#ad494a", "#637939",
]  # fmt: skip
SINGLETON = "#a0a0a0"


def _e(text: object) -> str:
    return escape(xml_safe(str(text)), quote=True)


def _header(width: int, height: int, title: str, font_size: int = 11) -> list[str]:
    # userSpaceOnUse: arrowheads keep one size whatever the line's width (a thick edge got a huge head).
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="{font_size}">',
        f"<title>{_e(title)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" markerHeight="9" '
        'markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/>'
        "</marker></defs>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]


def _community_colours(G: nx.DiGraph) -> dict[int, str]:
    sizes: dict[int, int] = {}
    for _, d in G.nodes(data=True):
        sizes[d.get("community", -1)] = sizes.get(d.get("community", -1), 0) + 1
    multi = sorted(c for c, s in sizes.items() if s > 1)
    return {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(multi)}


def _fmt_lag(hours: float | None) -> str:
    return "unknown lag" if hours is None else f"median lag {hours:.1f} h"


def network_svg(
    G: nx.DiGraph,
    *,
    width: int = 900,
    height: int | None = None,
    seed: int = 0,
    max_nodes: int = 300,
    max_edges: int = 400,
) -> str:
    """The outlet network as SVG: nodes coloured by community (grey when alone), sized by articles, outlined
    in black when they lead; arrows run from source to copying outlet, dashed and headless when no pair of
    known direction supports them. Above `max_nodes` only the busiest outlets are drawn, and above
    `max_edges` only the strongest links (the title says so). `height` defaults to one that suits the number
    of outlets. Labels carry a white halo and sit on the inner side of nodes near the right edge, so none
    is cut off; the legend has a band of its own above the drawing."""
    nodes = list(G.nodes)
    if len(nodes) > max_nodes:
        busy = sorted(nodes, key=lambda n: (-G.degree(n, weight="weight"), n))
        nodes = busy[:max_nodes]
    S = G.subgraph(nodes)
    edges = sorted(
        S.edges(data=True), key=lambda e: (-e[2]["weight"], not e[2].get("coordinated"), e[0], e[1])
    )
    n_edges = len(edges)
    edges = sorted(edges[:max_edges], key=lambda e: (e[0], e[1]))
    shown = f"{n_edges} links" if n_edges <= max_edges else f"the strongest {max_edges} of {n_edges} links"
    title = f"Outlet network: {len(nodes)} of {G.number_of_nodes()} outlets, {shown}"
    if height is None:
        height = max(420, min(760, 300 + 28 * len(nodes)))
    colours = _community_colours(G)
    legend = _legend(G, colours)
    band = 12 + 18 * (max(0, len(legend) - 2) // 2)  # two SVG elements per legend line, plus the <g> pair
    out = _header(width, height, title, font_size=12)
    if not nodes:
        out.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">No outlets</text></svg>')
        return "\n".join(out)

    # Layout on log weights so that one heavy pair does not collapse everything else into a point; a longer
    # spring length than networkx's default spreads small graphs over the picture.
    U = nx.Graph()
    U.add_nodes_from(sorted(S.nodes))
    for u, v, d in S.edges(data=True):
        w = math.log1p(d["weight"]) * (2.0 if d.get("coordinated") else 1.0)
        U.add_edge(u, v, w=U[u][v]["w"] + w if U.has_edge(u, v) else w)
    k = 2.0 / math.sqrt(max(len(U), 1))
    pos = (
        nx.spring_layout(U, weight="w", seed=seed, k=k, iterations=200)
        if len(U) > 1
        else {nodes[0]: (0.0, 0.0)}
    )
    max_art = max(max(S.nodes[n].get("articles", 1) for n in nodes), 1)
    radius = {n: 5 + 15 * math.sqrt(S.nodes[n].get("articles", 0) / max_art) for n in nodes}
    margin_x, margin_y = 40, 34
    top = band + margin_y
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    span_x = (max(xs) - min(xs)) or 1.0
    span_y = (max(ys) - min(ys)) or 1.0

    def xy(n: str) -> tuple[float, float]:
        x = margin_x + (pos[n][0] - min(xs)) / span_x * (width - 2 * margin_x) if len(xs) > 1 else width / 2
        y = top + (pos[n][1] - min(ys)) / span_y * (height - top - margin_y) if len(ys) > 1 else height / 2
        return x, y

    max_w = max((d["weight"] for _, _, d in edges), default=1)

    out.append('<g class="edges" fill="none">')
    for u, v, d in edges:
        (x1, y1), (x2, y2) = xy(u), xy(v)
        dist = math.hypot(x2 - x1, y2 - y1) or 1.0
        ux, uy = (x2 - x1) / dist, (y2 - y1) / dist
        sx, sy = x1 + ux * radius[u], y1 + uy * radius[u]
        ex, ey = x2 - ux * (radius[v] + 2), y2 - uy * (radius[v] + 2)
        width_px = 0.8 + 3.2 * math.log1p(d["weight"]) / math.log1p(max_w)
        same = S.nodes[u].get("community") == S.nodes[v].get("community")
        colour = (
            colours.get(S.nodes[u].get("community"), "#888") if d.get("coordinated") and same else "#9a9a9a"
        )
        style = ' marker-end="url(#arrow)"' if d.get("directed", 0) else ' stroke-dasharray="4 3"'
        copies = "1 copy" if d["weight"] == 1 else f"{d['weight']} copies"
        tip = f"{u} → {v}: {copies}, {_fmt_lag(d.get('median_lag_hours'))}"
        if d.get("coordinated"):
            tip += ", coordinated"
        out.append(
            f'<line x1="{sx:.1f}" y1="{sy:.1f}" x2="{ex:.1f}" y2="{ey:.1f}" stroke="{colour}" '
            f'stroke-width="{width_px:.2f}" stroke-opacity="0.85"{style}><title>{_e(tip)}</title></line>'
        )
    out.append("</g>")

    labelled = set(sorted(nodes, key=lambda n: (-S.nodes[n].get("articles", 0), n))[:40])
    out.append('<g class="nodes">')
    labels = []
    for n in sorted(nodes):
        d = S.nodes[n]
        x, y = xy(n)
        fill = colours.get(d.get("community"), SINGLETON)
        lead = d.get("role") == "lead"
        stroke = ' stroke="black" stroke-width="2.5"' if lead else ' stroke="white" stroke-width="1"'
        tip = f"{n}: {d.get('articles', 0)} articles, community {d.get('community')}, {d.get('role', '')}"
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius[n]:.1f}" fill="{fill}"{stroke}>'
            f"<title>{_e(tip)}</title></circle>"
        )
        if n in labelled:
            # Right of the node, or left of it in the right third, so a long name stays inside the picture.
            left = x > width * 0.66
            tx = x - radius[n] - 4 if left else x + radius[n] + 4
            anchor = ' text-anchor="end"' if left else ""
            labels.append(
                f'<text x="{tx:.1f}" y="{y + 4:.1f}"{anchor} stroke="white" stroke-width="3" '
                f'paint-order="stroke">{_e(n)}</text>'
            )
    out.append("</g>")
    out.append('<g class="labels">' + "".join(labels) + "</g>")  # above every node and line
    out += legend
    out.append("</svg>")
    return "\n".join(out)


def _legend(G: nx.DiGraph, colours: dict[int, str], limit: int = 8) -> list[str]:
    """A swatch per network (multi-outlet community) naming its leads; the first `limit` only."""
    leads: dict[int, list[str]] = {c: [] for c in colours}
    sizes: dict[int, int] = dict.fromkeys(colours, 0)
    for n, d in G.nodes(data=True):
        if d.get("community") in colours:
            sizes[d["community"]] += 1
            if d.get("role") == "lead":
                leads[d["community"]].append(n)
    out = ['<g class="legend">']
    for i, c in enumerate(sorted(colours)[:limit]):
        y = 18 + 18 * i
        names = ", ".join(sorted(leads[c])[:2]) + (" …" if len(leads[c]) > 2 else "")
        text = f"network {c}: {sizes[c]} outlets" + (f", led by {names}" if names else "")
        out.append(f'<rect x="8" y="{y - 9}" width="10" height="10" fill="{colours[c]}"/>')
        out.append(f'<text x="22" y="{y}">{_e(text)}</text>')
    out.append("</g>")
    return out


def _utc(dt: datetime) -> datetime:
    return dt.astimezone(timezone.utc) if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def family_timeline_svg(
    articles: Mapping[str, Article] | Iterable[Article],
    members: Iterable[str],
    pairs: Iterable[ReusePair] | None = None,
    *,
    width: int = 900,
) -> str:
    """One family's spread: a row per outlet (first publisher on top), a dot per article on a UTC time axis,
    and, when `pairs` are given, an arrow for each copy between members. Undated articles sit in a "no date"
    column at the right rather than being placed at a guessed time."""
    by_id = articles if isinstance(articles, Mapping) else {a.id: a for a in articles}
    docs = [by_id[m] for m in dict.fromkeys(members) if m in by_id]
    far = datetime.max.replace(tzinfo=timezone.utc)
    first: dict[str, datetime] = {}
    for a in docs:
        outlet = a.outlet or "(no outlet)"
        t = _utc(a.published) if a.published else far
        first[outlet] = min(first.get(outlet, far), t)
    rows = sorted(first, key=lambda o: (first[o], o))
    row_h, top, left, right = 26, 40, 180, 90
    height = top + row_h * max(len(rows), 1) + 40
    out = _header(width, height, f"Family timeline: {len(docs)} articles, {len(rows)} outlets")
    if not docs:
        out.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">No articles</text></svg>')
        return "\n".join(out)

    dated = [_utc(a.published) for a in docs if a.published]
    t0 = min(dated) if dated else None
    t1 = max(dated) if dated else None
    if t0 is not None and t1 - t0 < timedelta(hours=1):
        t0, t1 = t0 - timedelta(minutes=30), t1 + timedelta(minutes=30)
    plot_w = width - left - right

    def xy(a: Article) -> tuple[float, float]:
        y = top + row_h * rows.index(a.outlet or "(no outlet)") + row_h / 2
        if a.published is None or t0 is None:
            return width - right / 2, y
        frac = (_utc(a.published) - t0) / (t1 - t0)
        return left + frac * plot_w, y

    for i, outlet in enumerate(rows):
        y = top + row_h * i + row_h / 2
        out.append(f'<line x1="{left}" y1="{y}" x2="{width - right}" y2="{y}" stroke="#eee"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4}" text-anchor="end">{_e(outlet)}</text>')
    axis_y = top + row_h * len(rows) + 4
    out.append(f'<line x1="{left}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}" stroke="#555"/>')
    if t0 is not None:
        for k in range(5):
            t = t0 + (t1 - t0) * (k / 4)
            x = left + plot_w * k / 4
            label = _e(t.strftime("%Y-%m-%d %H:%M"))
            out.append(f'<text x="{x:.1f}" y="{axis_y + 16}" text-anchor="middle">{label}</text>')
    if any(a.published is None for a in docs):
        out.append(f'<text x="{width - right / 2}" y="{top - 12}" text-anchor="middle">no date</text>')

    if pairs is not None:
        ids = {a.id for a in docs}
        out.append('<g class="copies" fill="none" stroke="#777">')
        for p in pairs:
            if p.source in ids and p.copy in ids:
                (x1, y1), (x2, y2) = xy(by_id[p.source]), xy(by_id[p.copy])
                head = ' marker-end="url(#arrow)"' if p.direction != "unknown" else ' stroke-dasharray="3 3"'
                out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"{head}/>')
        out.append("</g>")

    origin = min(docs, key=lambda a: (_utc(a.published) if a.published else far, a.id))
    for a in docs:
        x, y = xy(a)
        when = _utc(a.published).isoformat() if a.published else "no date"
        tip = f"{a.id} ({a.outlet or 'no outlet'}, {when})" + (f": {a.title}" if a.title else "")
        fill = "#d62728" if a is origin else "#1f77b4"
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{fill}"><title>{_e(tip)}</title></circle>')
    out.append("</svg>")
    return "\n".join(out)
