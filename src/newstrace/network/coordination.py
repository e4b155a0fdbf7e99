"""Coordination, CooRnet-style: outlets that repeatedly copy each other faster than the corpus usually does.

CooRnet flags accounts that share the same link within a short interval, again and again. Here the "share"
is a republished article: two outlets are coordinated when at least `min_repeats` copies between them (either
way) appeared within the coordination interval. The interval comes from the data: for each copy, its fastest
known lag from any other outlet, and the interval is a quantile of those lags. Communities are then found with
Louvain on the coordinated links only, so one copy, or many slow ones, never pull an independent outlet into a
network.

When the corpus has no usable dates at all, there is no interval: the module falls back to repetition alone
(`mode == "repetition"`), where every copy between two outlets counts towards `min_repeats`.

Speed is not the only sign. Along a laundering chain each hop adds hours, so the later hops can be slower than the
interval while the relation is plainly systematic: an outlet most of whose articles are copies of one other outlet
is that outlet's amplifier even when each hop is slower than the interval. Such an edge is `dependent` (at least
`min_repeats` directed copies, at least `dependency_share` of the copier's articles, and a median lag within one news
cycle, `dependency_hours`) and counts as coordinated too. An independent outlet that copies now and then stays below
the share, and one that picks stories up days later stays outside the news cycle.
"""

from __future__ import annotations

from collections import defaultdict

import networkx as nx
import numpy as np


def copy_lags(G: nx.DiGraph) -> list[float]:
    """Each copy's fastest non-negative lag (hours) from another outlet, over pairs with a known direction."""
    fastest: dict[str, float] = {}
    for _, _, d in G.edges(data=True):
        for e in d["evidence"]:
            lag = e["lag_hours"]
            if e["direction"] == "unknown" or lag is None or lag < 0:
                continue
            if lag < fastest.get(e["copy"], float("inf")):
                fastest[e["copy"]] = lag
    return sorted(fastest.values())


def _otsu_log(lags: list[float]) -> tuple[float, float]:
    """Otsu's two-class split of log lags: (largest lag of the fast class, effectiveness eta in [0, 1]).

    eta is the between-class share of the variance; one Gaussian gives 2/pi (about 0.64), two well-separated
    modes approach 1.
    """
    x = np.log(np.maximum(np.asarray(lags, dtype=float), 1 / 60))  # floor at a minute: lag 0 has no log
    x.sort()
    n = len(x)
    total_var = float(x.var())
    if n < 4 or total_var == 0.0:
        return float(np.exp(x[-1])), 0.0
    k = np.arange(1, n)  # split after k items
    cum = np.cumsum(x)[:-1]
    mean_lo = cum / k
    mean_hi = (x.sum() - cum) / (n - k)
    between = (k / n) * ((n - k) / n) * (mean_hi - mean_lo) ** 2
    between[x[1:] == x[:-1]] = -1.0  # a split must fall between distinct values
    best = int(np.argmax(between))
    return float(np.exp(x[best])), float(between[best] / total_var)


def estimate_interval(lags: list[float], method: str = "otsu", quantile: float = 0.5) -> float | None:
    """The coordination interval in hours from the fastest copy lags; None without lags.

    `method="otsu"` (the default) splits the log lags into a fast and a slow class with the least within-class
    variance and ends the interval at the fast class. Coordinated copying is the fast mode and organic
    republishing the slow one; a fixed quantile drifts into the slow mode whenever organic copying is common,
    while the split stays in the gap. On one unimodal lag distribution the split falls near the median, which
    is what `method="quantile"` (CooRnet's way: the `quantile` of the lags) gives with the default 0.5.
    """
    if not lags:
        return None
    if method == "otsu":
        return _otsu_log(lags)[0]
    if method == "quantile":
        return float(np.quantile(np.asarray(lags, dtype=float), quantile))
    raise ValueError(f"unknown interval method {method!r}: use 'otsu' or 'quantile'")


def mark_coordination(
    G: nx.DiGraph,
    *,
    method: str = "otsu",
    quantile: float = 0.5,
    min_repeats: int = 3,
    interval_hours: float | None = None,
    dependency_share: float = 0.5,
    dependency_hours: float = 24.0,
) -> None:
    """Set `fast_copies`, `dependent` and `coordinated` on every edge, and `G.graph["coordination"]`.

    `coordinated` is a property of the outlet pair, so both directions of a pair carry the same value.
    """
    lags = copy_lags(G)
    estimated = interval_hours is None
    if estimated:
        interval = estimate_interval(lags, method, quantile)
    else:
        interval, method = float(interval_hours), "given"
    mode = "repetition" if interval is None else "interval"

    pair_fast: dict[frozenset, int] = defaultdict(int)
    for u, v, d in G.edges(data=True):
        if interval is None:
            fast = d["weight"]
        else:
            # |lag| so that an unknown-direction pair with dates still counts as a fast shared copy
            fast = sum(1 for e in d["evidence"] if e["lag_hours"] is not None and abs(e["lag_hours"]) <= interval)
        d["fast_copies"] = fast
        pair_fast[frozenset((u, v))] += fast
    dependent_pairs: set[frozenset] = set()
    for u, v, d in G.edges(data=True):
        articles = G.nodes[v].get("articles") or 0
        lag = d.get("median_lag_hours")
        d["dependent"] = bool(
            articles
            and d.get("directed", 0) >= min_repeats
            and d["directed"] >= dependency_share * articles
            and lag is not None
            and lag <= dependency_hours
        )
        if d["dependent"]:
            dependent_pairs.add(frozenset((u, v)))
    for u, v, d in G.edges(data=True):
        pair = frozenset((u, v))
        d["coordinated"] = pair_fast[pair] >= min_repeats or pair in dependent_pairs

    G.graph["coordination"] = {
        "interval_hours": interval,
        "method": method,
        "quantile": quantile if method == "quantile" else None,
        "min_repeats": min_repeats,
        "dependency_share": dependency_share,
        "dependency_hours": dependency_hours,
        "mode": mode,
        "lags_used": len(lags),
    }


def assign_communities(G: nx.DiGraph, *, seed: int = 0) -> list[list[str]]:
    """Louvain on the undirected, coordinated links (weight = fast copies, or all directed copies of a dependent
    link); everyone else is a singleton.

    Community ids are stable: multi-outlet communities first (largest first, then by name), then singletons by
    name. Sets the node attribute `community` and returns the communities in id order.
    """
    H = nx.Graph()
    for u, v, d in G.edges(data=True):
        if d["coordinated"]:
            w = H[u][v]["weight"] if H.has_edge(u, v) else 0
            # a dependent (slow-hop) link weighs its copies, or Louvain would see it as weightless
            H.add_edge(u, v, weight=w + max(d["fast_copies"], d["directed"] if d.get("dependent") else 0))
    groups: list[list[str]] = []
    if H.number_of_edges():
        found = nx.community.louvain_communities(H, weight="weight", seed=seed)
        groups = [sorted(c) for c in found if len(c) > 1]
    grouped = {n for c in groups for n in c}
    groups.sort(key=lambda c: (-len(c), c[0]))
    groups += [[n] for n in sorted(G.nodes) if n not in grouped]
    for i, members in enumerate(groups):
        for n in members:
            G.nodes[n]["community"] = i
    return groups


def assign_roles(G: nx.DiGraph) -> None:
    """Name leads and amplifiers inside each multi-outlet community.

    Inside a community, an outlet's `community_first_share` is the share of the community's directed copies
    touching it in which it published first. Leads have a share of at least one half; the rest amplify. A
    community with no pair of known direction cannot say who leads: its outlets are `undetermined`. Outlets
    alone in their community are `independent`.
    """
    members: dict[int, list[str]] = defaultdict(list)
    for n, d in G.nodes(data=True):
        members[d["community"]].append(n)
    for _cid, group in members.items():
        if len(group) == 1:
            G.nodes[group[0]].update(role="independent", community_first_share=None)
            continue
        inside = set(group)
        out_c = dict.fromkeys(group, 0)
        in_c = dict.fromkeys(group, 0)
        for u, v, d in G.subgraph(inside).edges(data=True):
            out_c[u] += d["directed"]
            in_c[v] += d["directed"]
        for n in group:
            total = out_c[n] + in_c[n]
            share = out_c[n] / total if total else None
            if share is None:
                role = "undetermined"
            else:
                role = "lead" if share >= 0.5 and out_c[n] > 0 else "amplifier"
            G.nodes[n].update(role=role, community_first_share=share)


def communities(G: nx.DiGraph) -> list[dict]:
    """Each multi-outlet community with its leads and amplifiers, in community-id order."""
    groups: dict[int, list[str]] = defaultdict(list)
    for n, d in G.nodes(data=True):
        groups[d["community"]].append(n)
    out = []
    for cid in sorted(groups):
        group = sorted(groups[cid])
        if len(group) < 2:
            continue
        inside = G.subgraph(group)
        out.append(
            {
                "id": cid,
                "outlets": group,
                "leads": [n for n in group if G.nodes[n]["role"] == "lead"],
                "amplifiers": [n for n in group if G.nodes[n]["role"] == "amplifier"],
                "articles": sum(G.nodes[n]["articles"] for n in group),
                "copies": sum(d["weight"] for _, _, d in inside.edges(data=True)),
                "coordinated_links": sum(1 for _, _, d in inside.edges(data=True) if d["coordinated"]),
            }
        )
    return out
