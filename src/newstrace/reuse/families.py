"""Families: connected components of the reuse-pair graph, each with a stable id and an origin."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from newstrace.model import Family, ReusePair


def family_id(members: Sequence[str]) -> str:
    """A stable id from the sorted member ids: the same members give the same id in every run."""
    digest = hashlib.sha1("\n".join(sorted(members)).encode("utf-8")).hexdigest()
    return "F" + digest[:12]


def _components(nodes: set[str], pairs: Sequence[ReusePair]) -> list[list[str]]:
    parent = {n: n for n in nodes}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p in pairs:
        ra, rb = find(p.source), find(p.copy)
        if ra != rb:
            # the smaller id becomes the root so that the result does not depend on pair order
            if rb < ra:
                ra, rb = rb, ra
            parent[rb] = ra
    groups: dict[str, list[str]] = {}
    for n in nodes:
        groups.setdefault(find(n), []).append(n)
    return [sorted(g) for g in groups.values()]


def _origin(members: list[str], pairs: Sequence[ReusePair], published: dict[str, datetime | None]) -> str:
    dated = [(published[m], m) for m in members if published.get(m) is not None]
    if dated:
        return min(dated)[1]
    # textual root: a member that others copied from and that copies no one; the most-copied one wins
    incoming: dict[str, int] = {m: 0 for m in members}
    outgoing: dict[str, int] = {m: 0 for m in members}
    for p in pairs:
        if p.direction == "unknown":
            continue
        outgoing[p.source] += 1
        incoming[p.copy] += 1
    roots = [m for m in members if incoming[m] == 0 and outgoing[m] > 0]
    if roots:
        return min(roots, key=lambda m: (-outgoing[m], m))
    return members[0]


def build_families(pairs: Sequence[ReusePair], published: dict[str, datetime | None]) -> list[Family]:
    """Families of the articles that appear in `pairs`, sorted by size (largest first), then by id.

    `published` maps article id to its date (or None); the origin is the earliest dated member, else the
    textual root (a member with outgoing but no incoming directed pair), else the smallest id.
    """
    nodes = {p.source for p in pairs} | {p.copy for p in pairs}
    comps = _components(nodes, pairs)
    member_of = {m: i for i, c in enumerate(comps) for m in c}
    pairs_of: list[list[ReusePair]] = [[] for _ in comps]
    for p in pairs:
        pairs_of[member_of[p.source]].append(p)
    out = [
        Family(family=family_id(c), origin=_origin(c, pairs_of[i], published), members=c) for i, c in enumerate(comps)
    ]
    out.sort(key=lambda f: (-len(f.members), f.family))
    return out
