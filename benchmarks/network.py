"""Benchmarks for newstrace.network: planted-network quality and build speed at scale.

    .venv/bin/python benchmarks/network.py quality [--seeds 10]
    .venv/bin/python benchmarks/network.py speed [--articles 100000 --pairs 30000 --runs 3]

`quality` simulates outlets: 2-3 networks of 3-5 outlets (a lead publishes, followers copy within hours, and
sometimes copy each other), independent outlets that publish their own stories and copy rarely with days of
lag, noise pairs, undated articles, unknown-direction pairs and a few pairs whose direction the reuse stage
got wrong. It reports, per scenario and interval method, the adjusted Rand index of the communities against
the planted ones (each independent its own group), the share of planted lead->follower links whose dominant
direction is right, the share of planted leads named `lead`, and the number of independents merged into a
network.

`speed` times `build_graph` on a random corpus (fixed seed) and reports the median of `--runs`, with the ratio
to a baseline pass in the same process that only groups the pairs by outlet pair.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

from newstrace.model import Article, ReusePair
from newstrace.network import build_graph, network_summary, network_svg, write_graphml

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def adjusted_rand_index(truth: dict[str, str], found: dict[str, int]) -> float:
    """ARI between two labelings of the same items (Hubert & Arabie), from the contingency table."""
    items = sorted(truth)
    n = len(items)
    if n < 2:
        return 1.0
    pairs = Counter((truth[i], found[i]) for i in items)
    a = Counter(truth[i] for i in items)
    b = Counter(found[i] for i in items)

    def c2(k: int) -> float:
        return k * (k - 1) / 2

    index = sum(c2(v) for v in pairs.values())
    sa, sb = sum(c2(v) for v in a.values()), sum(c2(v) for v in b.values())
    expected = sa * sb / c2(n)
    top = (sa + sb) / 2
    if top == expected:  # both labelings are all-singletons or one group: perfect agreement
        return 1.0
    return (index - expected) / (top - expected)


class Sim:
    def __init__(self, seed: int, indep_copy: float, noise: int, flip: float, undated: float, stories: tuple[int, int]):
        self.rng = random.Random(seed)
        self.articles: list[Article] = []
        self.pairs: list[ReusePair] = []
        self.truth: dict[str, str] = {}
        self.planted: list[tuple[str, str]] = []
        self.leads: list[str] = []
        self.indep_copy, self.noise, self.flip, self.undated = indep_copy, noise, flip, undated
        self.stories = stories

    def article(self, outlet: str, when: datetime) -> Article:
        a = Article(id=f"a{len(self.articles)}", text="", outlet=outlet)
        # some outlets publish no machine-readable date
        a.published = None if self.rng.random() < self.undated else when
        a._true = when  # type: ignore[attr-defined]
        self.articles.append(a)
        return a

    def copy(self, src: Article, outlet: str, lag_h: float) -> Article:
        cp = self.article(outlet, src._true + timedelta(hours=lag_h))  # type: ignore[attr-defined]
        s, c = (cp, src) if self.rng.random() < self.flip else (src, cp)  # the reuse stage got it wrong
        if s.published and c.published:
            direction = "dated" if s.published < c.published else "textual"
        else:
            direction = "textual" if self.rng.random() < 0.7 else "unknown"
        self.pairs.append(ReusePair(s.id, c.id, 0.9, direction, []))
        return cp

    def run(self) -> Sim:
        rng = self.rng
        span_h = 90 * 24
        indeps = [f"indep{j}.example" for j in range(rng.randint(8, 14))]
        for o in indeps:
            self.truth[o] = o
        for k in range(rng.randint(2, 3)):
            outlets = [f"net{k}-o{i}.example" for i in range(rng.randint(3, 5))]
            lead, followers = outlets[0], outlets[1:]
            self.leads.append(lead)
            for o in outlets:
                self.truth[o] = f"net{k}"
            self.planted += [(lead, f) for f in followers]
            for _ in range(rng.randint(*self.stories)):
                story = self.article(lead, T0 + timedelta(hours=rng.uniform(0, span_h)))
                copies = []
                for f in followers:
                    if rng.random() < 0.6:
                        # a follower sometimes takes the story from another follower rather than the lead
                        src = rng.choice(copies) if copies and rng.random() < 0.2 else story
                        copies.append(self.copy(src, f, rng.lognormvariate(math.log(3), 0.8)))
                for o in indeps:
                    if rng.random() < self.indep_copy:
                        self.copy(story, o, rng.lognormvariate(math.log(60), 0.6))
            for o in followers:
                for _ in range(rng.randint(5, 15)):
                    self.article(o, T0 + timedelta(hours=rng.uniform(0, span_h)))
        for o in indeps:
            for _ in range(rng.randint(10, 30)):
                story = self.article(o, T0 + timedelta(hours=rng.uniform(0, span_h)))
                for other in indeps:
                    if other != o and rng.random() < self.indep_copy / 3:
                        self.copy(story, other, rng.lognormvariate(math.log(48), 0.7))
        for _ in range(self.noise):
            a, b = rng.sample(self.articles, 2)
            if a.outlet != b.outlet:
                self.pairs.append(ReusePair(a.id, b.id, 0.3, rng.choice(["dated", "textual", "unknown"]), []))
        return self


SCENARIOS = {
    "clean": dict(indep_copy=0.03, noise=10, flip=0.0, undated=0.0, stories=(25, 50)),
    "default": dict(indep_copy=0.05, noise=40, flip=0.03, undated=0.05, stories=(25, 50)),
    "hard": dict(indep_copy=0.12, noise=120, flip=0.08, undated=0.15, stories=(25, 50)),
    # few stories per network: recall limit of the min_repeats rule
    "sparse": dict(indep_copy=0.05, noise=40, flip=0.03, undated=0.05, stories=(4, 10)),
}


def quality(args: argparse.Namespace) -> None:
    print(f"min_repeats={args.min_repeats}")
    print(
        f"{'scenario':8} {'method':8} {'seeds':>5} {'ARI mean':>8} {'ARI min':>7} {'dir ok':>6} "
        f"{'leads ok':>8} {'merged':>6} {'interval h':>10}"
    )
    for name, params in SCENARIOS.items():
        for method in ("otsu", "quantile"):
            aris, dirs, leads, merged, intervals = [], [], [], 0, []
            for seed in range(args.seeds):
                sim = Sim(seed, **params).run()
                G = build_graph(sim.articles, sim.pairs, interval_method=method, min_repeats=args.min_repeats, seed=0)
                found = {n: G.nodes[n]["community"] for n in G.nodes}
                aris.append(adjusted_rand_index(sim.truth, found))
                for lead, f in sim.planted:
                    fwd = G[lead][f]["directed"] if G.has_edge(lead, f) else 0
                    back = G[f][lead]["directed"] if G.has_edge(f, lead) else 0
                    if fwd or back:  # a link the reuse stage never found has no direction to get right
                        dirs.append(fwd > back)
                leads += [G.nodes[lead]["role"] == "lead" for lead in sim.leads]
                sizes = Counter(found.values())
                merged += sum(1 for o, t in sim.truth.items() if t == o and sizes[found[o]] > 1)
                intervals.append(network_summary(G)["coordination"]["interval_hours"])
            print(
                f"{name:8} {method:8} {args.seeds:>5} {statistics.mean(aris):>8.3f} {min(aris):>7.3f} "
                f"{sum(dirs) / len(dirs):>6.3f} {sum(leads) / len(leads):>8.3f} {merged:>6} "
                f"{statistics.median(intervals):>10.2f}"
            )


def random_corpus(n_articles: int, n_pairs: int, seed: int) -> tuple[list[Article], list[ReusePair]]:
    rng = random.Random(seed)
    n_outlets = max(n_articles // 100, 2)
    # Zipf-ish outlet sizes: a few big outlets, a long tail
    weights = [1 / (i + 1) for i in range(n_outlets)]
    outlets = rng.choices([f"outlet{i}.example" for i in range(n_outlets)], weights=weights, k=n_articles)
    articles = []
    for i, o in enumerate(outlets):
        when = None if rng.random() < 0.05 else T0 + timedelta(minutes=rng.randrange(365 * 24 * 60))
        articles.append(Article(id=f"a{i}", text="", outlet=o, published=when))
    pairs = []
    for _ in range(n_pairs):
        a, b = rng.sample(articles, 2)
        if a.published and b.published and b.published < a.published:
            a, b = b, a
        direction = rng.choice(["dated", "dated", "textual", "unknown"])
        pairs.append(ReusePair(a.id, b.id, rng.random(), direction, []))
    return articles, pairs


def baseline(articles: list[Article], pairs: list[ReusePair]) -> int:
    outlet = {a.id: a.outlet for a in articles}
    groups: dict[tuple, list] = defaultdict(list)
    for p in pairs:
        groups[(outlet[p.source], outlet[p.copy])].append(p)
    return len(groups)


def speed(args: argparse.Namespace) -> None:
    articles, pairs = random_corpus(args.articles, args.pairs, args.seed)
    times, base = [], []
    for _ in range(args.runs):
        t = time.perf_counter()
        baseline(articles, pairs)
        base.append(time.perf_counter() - t)
        t = time.perf_counter()
        G = build_graph(articles, pairs)
        times.append(time.perf_counter() - t)
    med, bmed = statistics.median(times), statistics.median(base)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        write_graphml(G, Path(tmp) / "network.graphml")
        t_graphml = time.perf_counter() - t
    t = time.perf_counter()
    network_svg(G)
    t_svg = time.perf_counter() - t
    print(
        f"{'articles':>9} {'pairs':>7} {'outlets':>7} {'edges':>7} {'build s (median)':>16} "
        f"{'baseline s':>10} {'ratio':>6} {'graphml s':>9} {'svg s':>6}"
    )
    print(
        f"{args.articles:>9} {args.pairs:>7} {G.number_of_nodes():>7} {G.number_of_edges():>7} "
        f"{med:>16.2f} {bmed:>10.3f} {med / bmed:>6.1f} {t_graphml:>9.2f} {t_svg:>6.2f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("quality", help="planted-network simulation")
    q.add_argument("--seeds", type=int, default=10)
    q.add_argument("--min-repeats", type=int, default=3)
    s = sub.add_parser("speed", help="build time at scale")
    s.add_argument("--articles", type=int, default=100_000)
    s.add_argument("--pairs", type=int, default=30_000)
    s.add_argument("--runs", type=int, default=3)
    s.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    quality(args) if args.cmd == "quality" else speed(args)


if __name__ == "__main__":
    main()
