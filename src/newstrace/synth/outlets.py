"""Fictional outlets: coordinated networks (a lead and its members) and independent outlets.

Every outlet has a fixed UTC offset for its timestamps and, most of them, boilerplate lines (a header and a
footer) that are the same on every page it publishes, as real sites have. About a third also print a sidebar of
recent headlines before the article, which text extraction keeps (a "Recent Posts" list). Domains are invented
from word lists (`daily-meridian.net`); none is meant to name a real site.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta, timezone

import numpy as np

_ADJ = ["daily", "free", "global", "true", "open", "new", "eastern", "northern", "capital", "civic", "red",
        "silver", "central", "pan", "first", "clear", "united", "frontline", "citizen", "morning", "evening",
        "national", "world", "liberty"]
_NOUN = ["herald", "voice", "tribune", "report", "wire", "observer", "press", "monitor", "dispatch", "post",
         "gazette", "chronicle", "review", "insider", "beacon", "sentinel", "courier", "ledger", "digest",
         "bulletin", "journal", "times", "signal", "agenda"]
_TLD = ["net", "org", "com", "info", "news", "press"]
_TZ_HOURS = [0, 1, 2, 3, 3.5, 4.5, 5, -5, -4, 8, 5.5, -3]

# The "campaign" of a network: who its injected phrases credit, and how it relabels terms.
PATRONS = ["Saudi Arabia", "Washington", "the Pentagon", "Tel Aviv", "NATO", "the Gulf monarchies", "Riyadh",
           "Western intelligence services", "London", "Ankara", "Brussels", "the Kremlin"]
PHRASES = ["backed by {p}", "funded by {p}", "a proxy of {p}", "loyal to {p}", "sponsored by {p}",
           "allied with {p}", "on the payroll of {p}"]
LABELS = ["the regime", "“terrorists”", "the occupation forces", "the so-called authorities",
          "the puppet government", "the mercenaries", "the aggressors", "the Takfiri militants", "“rebels”",
          "the junta"]
# Relabels that wrap the old name instead of replacing it ("Delhi" -> "the Delhi regime", "Israel" ->
# "Israel-led aggressors"): the new label keeps the name, with words added on one or both sides.
WRAPS = ["the {} regime", "{}-led aggressors", "the {}-backed militias", "the criminal {} regime",
         "the so-called {} authorities", "{} occupation forces", "the {} junta", "{}-sponsored terrorists",
         "the illegitimate {} government", "the {} puppet administration"]


@dataclass
class Outlet:
    domain: str
    name: str
    network: str | None  # "net-1", ... or None for an independent outlet
    lead: bool
    tz_hours: float
    header: str | None
    footer: str | None
    patron: str | None = None  # networks only: the campaign's patron
    labels: list[str] = field(default_factory=list)
    wraps: list[str] = field(default_factory=list)  # networks only: relabel templates that keep the name
    sidebar: bool = False  # its pages carry a "Recent Posts" list of headlines before the article

    @property
    def community(self) -> str:
        """The truth community label: the network, or a singleton label for an independent outlet."""
        return self.network if self.network else f"solo:{self.domain}"

    @property
    def tz(self) -> timezone:
        return timezone(timedelta(minutes=round(self.tz_hours * 60)))

    def to_json(self) -> dict:
        return {"outlet": self.domain, "name": self.name, "network": self.network, "community": self.community,
                "lead": self.lead, "utc_offset_hours": self.tz_hours, "header": self.header,
                "footer": self.footer, "patron": self.patron, "sidebar": self.sidebar}


def make_outlets(rng: np.random.Generator, n_networks: int, n_independent: int,
                 members: tuple[int, int] = (4, 8)) -> list[Outlet]:
    """Networks first (member 0 of each is its lead), then independents; domains unique and deterministic."""
    total = n_networks * members[1] + n_independent
    combos = [(a, n, t) for a in _ADJ for n in _NOUN for t in _TLD]
    if total > len(combos):
        raise ValueError(f"too many outlets requested ({total}); at most {len(combos)}")
    picks = rng.choice(len(combos), size=total, replace=False)
    names = iter(combos[int(i)] for i in picks)
    outlets: list[Outlet] = []

    def one(network: str | None, lead: bool) -> Outlet:
        a, n, t = next(names)
        name = f"{a.title()} {n.title()}"
        has_bp = rng.random() < 0.8
        year = int(rng.integers(1998, 2016))
        header = f"{name} | News and analysis since {year}" if has_bp else None
        footer = (f"Follow {name} for daily updates. All rights reserved © {year}-2019 {a}-{n}.{t}"
                  if has_bp else None)
        tz = float(_TZ_HOURS[int(rng.integers(len(_TZ_HOURS)))])
        return Outlet(f"{a}-{n}.{t}", name, network, lead, tz, header, footer, sidebar=bool(rng.random() < 0.35))

    patrons = list(rng.permutation(PATRONS))
    for k in range(n_networks):
        net = f"net-{k + 1}"
        size = int(rng.integers(members[0], members[1] + 1))
        patron = str(patrons[k % len(patrons)])
        labels = [str(x) for x in rng.choice(LABELS, size=3, replace=False)]
        wraps = [str(x) for x in rng.choice(WRAPS, size=3, replace=False)]
        for j in range(size):
            o = one(net, j == 0)
            o.patron, o.labels, o.wraps = patron, labels, wraps
            outlets.append(o)
    for _ in range(n_independent):
        outlets.append(one(None, False))
    return outlets
