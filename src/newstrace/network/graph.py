"""The outlet graph: who copies whom, how fast, and the article pairs behind every edge.

Nodes are outlets; a directed edge `u -> v` means outlet `v` republished text first published by outlet `u`.
Every edge keeps its evidence (the article pairs), so any claim the network makes can be traced to texts.

Choices worth knowing:
- Pairs inside one outlet never make an edge (an outlet re-running its own story is not laundering); they are
  counted on the node as `internal_pairs`.
- Pairs with `direction == "unknown"` count as copies (`weight`) but never as evidence of who leads: they join
  the edge that the pairs with a known direction say dominates between the two outlets, or, when there is
  none, the orientation the pair was listed in, and that edge then has `directed == 0`. Lags,
  first-publisher shares and roles use pairs with a known direction only.
- Pairs naming an article that is not in `articles`, or an article without an outlet, are skipped and counted
  in `G.graph["skipped_pairs"]`: an outlet-less article cannot be placed in an outlet network.
- Attributes that cannot be known (a lag without dates, a verbatim share without flags) are `None` in memory;
  the exporters turn them into NaN or empty cells.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

import networkx as nx

from newstrace.model import Article, ReusePair
from newstrace.network.coordination import assign_communities, assign_roles, mark_coordination


@dataclass(frozen=True)
class PairFlags:
    """What the edits stage learned about one copy: verbatim, and/or carrying systematic edits."""

    verbatim: bool
    systematic: bool


def _aware(dt: datetime) -> datetime:
    # The model asks for tz-aware datetimes; a naive one is read as UTC rather than crashing the subtraction.
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)


def _lag_hours(src: Article, cp: Article) -> float | None:
    if src.published is None or cp.published is None:
        return None
    return (_aware(cp.published) - _aware(src.published)).total_seconds() / 3600.0


def _share(values: list[bool | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def build_graph(
    articles: Iterable[Article],
    pairs: Iterable[ReusePair],
    flags: Mapping[tuple[str, str], PairFlags] | None = None,
    *,
    interval_method: str = "otsu",
    quantile: float = 0.5,
    min_repeats: int = 3,
    interval_hours: float | None = None,
    seed: int = 0,
) -> nx.DiGraph:
    """Build the outlet network from articles and reuse pairs.

    `flags` maps `(source_id, copy_id)` to `PairFlags`. The coordination interval is estimated from each
    copy's fastest lag (`interval_method` "otsu" or "quantile" with `quantile`; see
    `coordination.estimate_interval`) unless `interval_hours` is given. Outlet pairs with at least
    `min_repeats` copies inside the interval are `coordinated`; Louvain communities (seeded by `seed`) are
    found on those links only, so an outlet with no coordinated link stays alone in its community.
    """
    flags = flags or {}
    by_id: dict[str, Article] = {}
    article_count: Counter[str] = Counter()
    for a in articles:
        by_id[a.id] = a
        if a.outlet:
            article_count[a.outlet] += 1

    G = nx.DiGraph()
    for outlet in sorted(article_count):
        G.add_node(outlet, articles=article_count[outlet], internal_pairs=0)

    internal: Counter[str] = Counter()
    directed_ev: dict[tuple[str, str], list[dict]] = defaultdict(list)
    unknown_ev: dict[tuple[str, str], list[dict]] = defaultdict(list)
    skipped = n_pairs = 0
    for p in pairs:
        n_pairs += 1
        src, cp = by_id.get(p.source), by_id.get(p.copy)
        if src is None or cp is None or not src.outlet or not cp.outlet:
            skipped += 1
            continue
        if src.outlet == cp.outlet:
            internal[src.outlet] += 1
            continue
        f = flags.get((p.source, p.copy))
        ev = {
            "source": p.source,
            "copy": p.copy,
            "score": float(p.score),
            "direction": p.direction,
            "lag_hours": _lag_hours(src, cp),
            "verbatim": f.verbatim if f else None,
            "systematic": f.systematic if f else None,
        }
        if p.direction == "unknown":
            unknown_ev[(src.outlet, cp.outlet)].append(ev)
        else:
            directed_ev[(src.outlet, cp.outlet)].append(ev)

    edges: dict[tuple[str, str], list[dict]] = {k: list(v) for k, v in directed_ev.items()}
    for (u, v), evs in unknown_ev.items():
        forward, backward = len(directed_ev.get((u, v), ())), len(directed_ev.get((v, u), ()))
        key = (v, u) if backward > forward else (u, v)
        edges.setdefault(key, []).extend(evs)

    for (u, v), evs in edges.items():
        directed = [e for e in evs if e["direction"] != "unknown"]
        lags = [e["lag_hours"] for e in directed if e["lag_hours"] is not None]
        G.add_edge(
            u,
            v,
            weight=len(evs),
            directed=len(directed),
            unknown=len(evs) - len(directed),
            median_lag_hours=statistics.median(lags) if lags else None,
            min_lag_hours=min(lags) if lags else None,
            verbatim_share=_share([e["verbatim"] for e in evs]),
            systematic_share=_share([e["systematic"] for e in evs]),
            evidence=sorted(evs, key=lambda e: (e["lag_hours"] is None, e["lag_hours"] or 0.0, e["copy"])),
        )

    for outlet, n in internal.items():
        G.nodes[outlet]["internal_pairs"] = n
    for n in G.nodes:
        out_d = sum(d["directed"] for _, _, d in G.out_edges(n, data=True))
        in_d = sum(d["directed"] for _, _, d in G.in_edges(n, data=True))
        G.nodes[n]["copies_out"] = out_d
        G.nodes[n]["copies_in"] = in_d
        G.nodes[n]["first_publisher_share"] = out_d / (out_d + in_d) if out_d + in_d else None

    G.graph.update(
        pairs=n_pairs,
        skipped_pairs=skipped,
        internal_pairs=sum(internal.values()),
        unknown_direction_pairs=sum(len(v) for v in unknown_ev.values()),
    )
    mark_coordination(
        G, method=interval_method, quantile=quantile, min_repeats=min_repeats, interval_hours=interval_hours
    )
    assign_communities(G, seed=seed)
    assign_roles(G)
    return G
