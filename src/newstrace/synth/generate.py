"""The synthetic news-reuse corpus: planted families among negatives and filler, with ground truth.

`generate(out_dir, n_articles=...)` writes `corpus.jsonl` (the contract's article fields) and `truth.json`.
Everything is drawn from `numpy.random.default_rng` streams derived from `seed`, and base files are read in
sorted order, so the same seed and base folder give byte-identical files.

Composition: about one family per eight articles, up to a third of the base texts. A family is an origin
from a base text plus copies by the members of one network within hours (sometimes a copy of a copy), now
and then a late copy by an independent outlet, a partial reuse embedded in another base text, and a
"same facts" rewrite (a hard negative). Remaining base texts are standalone negatives, the nearest ones by
TF-IDF to each origin recorded as "same topic" hard negatives. The rest, in scale runs, is n-gram filler,
generated in batches and streamed to disk.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path

import numpy as np

from newstrace.synth import copyops
from newstrace.synth.base import BaseArticle, load_base, split_sentences
from newstrace.synth.ngram import NGramModel
from newstrace.synth.operations import DENIAL_RE, Edit, Para, Piece, render
from newstrace.synth.outlets import PATRONS, PHRASES, Outlet, make_outlets
from newstrace.synth.realism import Realism
from newstrace.synth.realism import apply as apply_realism
from newstrace.synth.realism import briefs as realism_briefs
from newstrace.synth.truth import Block, child_blocks
from newstrace.synth.truthfile import write_truth

EPOCH = datetime(2017, 1, 1, tzinfo=timezone.utc)
SPAN_DAYS = 730
FILLER_BATCH = 2000
SIDEBAR_TITLES = 5  # headlines in a filler article's sidebar
Launder = Callable[[copyops.CopyState], None]  # the `realism` options, applied to one copy


@dataclass
class Art:
    idx: int
    outlet: Outlet
    published: datetime
    title: str
    role: str  # origin | copy | partial | negative | same_facts
    family: int | None
    parent: int | None
    base: str | None
    text: str = ""
    body_spans: list[tuple[int, int]] = field(default_factory=list)
    boiler_spans: list[tuple[int, int]] = field(default_factory=list)
    sidebar_spans: list[tuple[int, int]] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    log: list[dict] = field(default_factory=list)
    # names and phrases edited anywhere up the chain: a copy of a copy must not edit them again
    terms: set[str] = field(default_factory=set)
    id: str = ""

    @property
    def url(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")[:60] or "article"
        d = self.published
        return f"https://{self.outlet.domain}/{d:%Y/%m/%d}/{slug}-{self.idx}/"

    def row(self) -> dict:
        return {"id": self.id, "url": self.url, "outlet": self.outlet.domain,
                "published": self.published.astimezone(self.outlet.tz).isoformat(), "title": self.title,
                "text": self.text}


def _publish(art: Art, body: list[Para], edits: list[Edit], parent: Art | None, sidebar: str | None = None,
             sep: str = "\n\n") -> None:
    """Adds the outlet's boilerplate (and its sidebar of headlines, if any), renders the text, and derives spans,
    blocks and edit spans."""
    o = art.outlet
    paras = list(body)
    if o.header or (parent is not None and parent.boiler_spans):
        old = "\n\n".join(parent.text[s:e] for s, e in parent.boiler_spans) if parent is not None else ""
        new = "\n\n".join(x for x in (o.header, o.footer) if x)
        edits.append(Edit("boilerplate", old, new))
        tag = len(edits) - 1
        if o.header:
            paras = [[Piece(o.header, None, False, tag)]] + paras + [[Piece(o.footer or "", None, False, tag)]]
    if sidebar:
        edits.append(Edit("sidebar", "", sidebar))
        paras.insert(1 if o.header else 0, [Piece(sidebar, None, False, len(edits) - 1)])
    rendered = render(paras, edits, sep)
    art.text = rendered.text
    spans, pos = [], 0
    for para in paras:
        n = sum(len(p.text) for p in para)
        spans.append((pos, pos + n))
        pos += n + len(sep)
    has_bp = bool(o.header)
    art.boiler_spans = [spans[0], spans[-1]] if has_bp else []
    side = (1 if has_bp else 0) if sidebar else None
    art.sidebar_spans = [spans[side]] if side is not None else []
    art.body_spans = [sp for i, sp in enumerate(spans)
                      if i != side and not (has_bp and i in (0, len(spans) - 1))]
    skip = {i for i, e in enumerate(edits) if e.kind in ("boilerplate", "sidebar")}
    art.blocks = child_blocks(art.idx, rendered.pieces, parent.blocks if parent else [], skip)
    art.edits = edits


_SIDEBAR_TITLES = ["Recent Posts", "Latest News", "Most Read", "Related Stories", "Top Stories"]


def _sidebar(outlet: Outlet, rng: np.random.Generator, headlines: list[str]) -> str | None:
    """A sidebar of 4-7 headlines of other stories, printed before the article on the outlet's pages."""
    if not outlet.sidebar or not headlines:
        return None
    k = int(rng.integers(4, 8))
    picks = [headlines[int(i)] for i in rng.choice(len(headlines), size=min(k, len(headlines)), replace=False)]
    return "\n".join([_SIDEBAR_TITLES[int(rng.integers(len(_SIDEBAR_TITLES)))]] + picks)


def _plant_denial(paras: list[str], rng: np.random.Generator, used: set[tuple[int, ...]]) -> list[str]:
    """Adds a denial sentence to a middle paragraph when the origin has none, so copies can cut one.

    The sentence is built from four slots; a combination is never used twice in a corpus, so two origins'
    denials never share an 8-word run (the slots together are at most eight words).
    """
    if any(DENIAL_RE.search(p) for p in paras) or len(paras) < 3:
        return paras
    names = [m.group() for p in paras for m in _NAME_RE.finditer(p)]
    if not names:
        return paras
    verb = ["denied", "rejected", "dismissed", "refuted", "disputed"]
    what = ["the allegations", "the claims", "the reports", "any involvement", "the accusations"]
    how = ["calling them", "describing them as", "saying they were", "and called them"]
    adj = ["baseless", "fabricated", "politically motivated", "false", "absurd", "a smear"]
    for _ in range(50):
        combo = (int(rng.integers(5)), int(rng.integers(5)), int(rng.integers(4)), int(rng.integers(6)))
        if combo not in used:
            break
    else:
        return paras
    used.add(combo)
    who = names[int(rng.integers(len(names)))]
    sent = f"{who} {verb[combo[0]]} {what[combo[1]]}, {how[combo[2]]} {adj[combo[3]]}."
    k = int(rng.integers(1, len(paras) - 1))
    out = list(paras)
    out[k] = out[k] + " " + sent
    return out


# a person or body named mid-sentence: two or more capitalised words, not after a full stop
_NAME_RE = re.compile(r"(?<=[a-z,] )(?:[A-Z][a-z]+ ){1,2}[A-Z][a-z]+\b")


def _same_facts(origin: BaseArticle, model: NGramModel, rng: np.random.Generator) -> list[str]:
    """A text on the same facts in other words: each sentence keeps its names and numbers, new words around."""
    words = [w for w in re.findall(r"[A-Za-z']+", model.generate(rng, 1, 3000)[0]) if w.islower()]
    it = iter(words * 2)
    paras = []
    for para in origin.paragraphs:
        sents = []
        for sent in split_sentences(para):
            # names and numbers of at most three words, so no 8-word run of the origin survives
            facts = [m.group() for m in re.finditer(r"\b(?:[A-Z][a-z]+|[A-Z]{2,}|\d[\d,.]*)\b(?: [A-Z][a-z]+){0,2}",
                                                   sent)][:4]
            toks: list[str] = []
            for f in facts:
                toks += [next(it) for _ in range(int(rng.integers(2, 6)))] + [f]
            toks += [next(it) for _ in range(int(rng.integers(2, 5)))]
            s = " ".join(toks)
            sents.append(s[:1].upper() + s[1:] + ".")
        paras.append(" ".join(sents))
    return paras


def _hard_neighbours(base: list[BaseArticle], origins: list[int], pool: list[int]) -> dict[int, tuple[int, float]]:
    """For each origin, the most similar (TF-IDF cosine) base text in `pool`, each used at most once."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not origins or not pool:
        return {}
    vec = TfidfVectorizer(min_df=2, stop_words="english", sublinear_tf=True)
    x = vec.fit_transform([base[i].title + " " + base[i].body for i in range(len(base))])
    sims = (x[origins] @ x[pool].T).toarray()
    out: dict[int, tuple[int, float]] = {}
    taken: set[int] = set()
    for r in np.argsort(-sims.max(axis=1), kind="stable"):
        for c in np.argsort(-sims[r], kind="stable"):
            if int(c) not in taken:
                taken.add(int(c))
                out[origins[int(r)]] = (pool[int(c)], float(sims[r, c]))
                break
    return out


_TITLE_PREFIX = ["BREAKING: ", "Exclusive: ", "Report: ", "WATCH: "]


def _derive(arts: list[Art], parent: Art, outlet: Outlet, lag_hours: float, mode: str, family: int,
            rng: np.random.Generator, model: NGramModel, phrase: str, headlines: list[str],
            host: BaseArticle | None = None, launder: Launder | None = None) -> Art:
    """Makes one copy of `parent` at `outlet`, applying the operations `mode` calls for."""
    title = parent.title
    if rng.random() < 0.2:
        title = _TITLE_PREFIX[int(rng.integers(len(_TITLE_PREFIX)))] + title
    role = "partial" if mode == "partial" else "copy"
    art = Art(len(arts), outlet, parent.published + timedelta(hours=lag_hours), title, role, family,
              parent.idx, host.name if host else None)
    st = copyops.CopyState(copyops.from_parent(parent.text, parent.body_spans), rng,
                           used_terms=set(parent.terms))
    r = rng.random
    if mode == "partial" and host is not None:
        copyops.partial(st, host.paragraphs)
    elif mode == "network" and r() >= 0.2:  # one network copy in five is verbatim
        labels = outlet.labels or ["the regime"]
        if r() < 0.3:
            copyops.lead(st, model, drop=r() < 0.35)
        if r() < 0.4:
            copyops.cut(st, "cut_denial" if r() < 0.5 else "cut_attribution") or copyops.cut(st, "cut_attribution")
        if r() < 0.3:
            copyops.replace(st, labels)
        if r() < 0.45:
            copyops.relabel(st, outlet.wraps or ["the {} regime"])
        if r() < 0.55:
            copyops.inject(st, phrase)
        if r() < 0.4:
            copyops.appositives(st, int(rng.integers(1, 4)))
        if r() < 0.7:
            copyops.noise(st, float(rng.uniform(0.2, 0.5)))
        if r() < 0.3:
            copyops.reorder(st, int(rng.integers(1, 3)))
    elif mode == "independent":
        if r() < 0.5:
            copyops.lead(st, model, drop=r() < 0.5)
        if r() < 0.2:
            copyops.cut(st, "cut_attribution")
        if r() < 0.3:
            copyops.appositives(st, int(rng.integers(1, 3)))
        if r() < 0.7:
            copyops.noise(st, float(rng.uniform(0.15, 0.45)))
        if r() < 0.25:
            copyops.reorder(st, int(rng.integers(1, 3)))
    if not st.log:
        st.log.append({"op": "verbatim"})
    if launder is not None:
        launder(st)
    _publish(art, st.paras, st.edits, parent, _sidebar(outlet, rng, headlines), st.sep)
    art.log = st.log
    art.terms = st.used_terms | {x for e in st.edits if e.kind in ("insert", "replace", "relabel")
                                 for x in (e.phrase, e.copy_text) if x}
    arts.append(art)
    return art


def _fresh(arts: list[Art], paras: list[str], title: str, outlet: Outlet, when: datetime, role: str,
           family: int | None, base: str | None, sidebar: str | None = None) -> Art:
    art = Art(len(arts), outlet, when, title, role, family, None, base)
    _publish(art, [[Piece(p, None, False)] for p in paras], [], None, sidebar)
    arts.append(art)
    return art


def _when(rng: np.random.Generator) -> datetime:
    return EPOCH + timedelta(seconds=int(rng.integers(0, SPAN_DAYS * 86400)))


def _family(arts: list[Art], f: int, origin: BaseArticle, outlets: list[Outlet], rng: np.random.Generator,
            model: NGramModel, hosts: list[BaseArticle], hard: list[tuple[int, int, str, float]],
            denials: set[tuple[int, ...]], headlines: list[str], launder: Launder | None = None) -> None:
    nets = sorted({o.network for o in outlets if o.network})
    inds = [o for o in outlets if not o.network]
    paras = _plant_denial(origin.paragraphs, rng, denials) if rng.random() < 0.5 else origin.paragraphs
    if rng.random() < 0.85:
        net = nets[int(rng.integers(len(nets)))]
        members = [o for o in outlets if o.network == net]
        home = members[0] if rng.random() < 0.7 else members[int(rng.integers(len(members)))]
        root = _fresh(arts, paras, origin.title, home, _when(rng), "origin", f, origin.name,
                      _sidebar(home, rng, headlines))
        patron = home.patron or PATRONS[0]
        phrase = PHRASES[int(rng.integers(len(PHRASES)))].format(p=patron)
        others = [o for o in members if o is not home]
        k = int(rng.integers(1, min(6, len(others)) + 1))
        copies: list[Art] = []
        for o in (others[int(i)] for i in rng.choice(len(others), size=k, replace=False)):
            parent = copies[int(rng.integers(len(copies)))] if copies and rng.random() < 0.25 else root
            copies.append(_derive(arts, parent, o, float(rng.uniform(0.5, 18)), "network", f, rng, model,
                                  phrase, headlines, launder=launder))
        if rng.random() < 0.15:
            o = inds[int(rng.integers(len(inds)))]
            _derive(arts, root, o, float(rng.uniform(48, 480)), "independent", f, rng, model, phrase, headlines,
                    launder=launder)
    else:
        home, other = (inds[int(i)] for i in rng.choice(len(inds), size=2, replace=False))
        root = _fresh(arts, paras, origin.title, home, _when(rng), "origin", f, origin.name,
                      _sidebar(home, rng, headlines))
        _derive(arts, root, other, float(rng.uniform(48, 480)), "independent", f, rng, model, "", headlines,
                launder=launder)
    fam = [a for a in arts if a.family == f]
    used = {a.outlet.domain for a in fam}
    if hosts and rng.random() < 0.5:
        parent = fam[int(rng.integers(len(fam)))]
        free = [o for o in outlets if o.domain not in used]
        o = free[int(rng.integers(len(free)))]
        lag = rng.uniform(1, 18) if o.network and o.network == parent.outlet.network else rng.uniform(48, 480)
        _derive(arts, parent, o, float(lag), "partial", f, rng, model, "", headlines, host=hosts.pop(),
                launder=launder)
    if rng.random() < 0.35:
        free = [o for o in inds if o.domain not in used]
        o = free[int(rng.integers(len(free)))]
        sf = _fresh(arts, _same_facts(origin, model, rng), origin.title, o,
                    root.published + timedelta(hours=float(rng.uniform(-12, 48))), "same_facts", None, None,
                    _sidebar(o, rng, headlines))
        hard.append((root.idx, sf.idx, "same_facts", 0.0))


def generate(out_dir: Path, *, n_articles: int, seed: int = 13, base_dir: Path | None = None,
             filler: bool = True, realism: Realism | None = None) -> Path:
    """Writes `corpus.jsonl` and `truth.json` into `out_dir` and returns the path of `corpus.jsonl`.

    `n_articles` is the exact corpus size. With `filler=False` every article comes from a base text, so
    `n_articles` may not exceed what the base folder supports (a ValueError says so). `realism`: what real
    laundering does beyond the planted edits (`synth.realism`), applied to every copy from a random stream of its
    own; None or all off leaves the corpus as it was.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    base = load_base(base_dir)
    if len(base) < 8:
        raise ValueError(f"need at least 8 usable base articles, found {len(base)}")
    model = NGramModel(b.body for b in base)
    realism_rng = np.random.default_rng([seed, 29])
    if realism is not None and realism.briefs:
        base = realism_briefs(base, realism.briefs, realism_rng)
    outlets = make_outlets(rng, 3 if n_articles < 20000 else 4, 12 + min(150, n_articles // 2000))
    order = [int(i) for i in rng.permutation(len(base))]
    n_fam = max(1, min(n_articles // 8, int(len(base) * 0.35)))
    origins, pool = order[:n_fam], order[n_fam:]
    hosts = [base[i] for i in pool[len(pool) - n_fam // 2 :]] if n_fam >= 2 else []
    pool = pool[: len(pool) - len(hosts)]
    headlines = [b.title for b in base]
    arts: list[Art] = []
    hard: list[tuple[int, int, str, float]] = []
    denials: set[tuple[int, ...]] = set()
    launder: Launder | None = None
    if realism is not None and realism.on:
        launder = partial(apply_realism, r=realism, model=model, rng=realism_rng)
    for f, bi in enumerate(origins):
        if len(arts) >= 0.75 * n_articles:
            break
        _family(arts, f, base[bi], outlets, rng, model, hosts, hard, denials, headlines, launder)
    # standalone negatives: the nearest base text to each origin first (same-topic hard negatives)
    used_origins = [bi for bi in origins if any(a.base == base[bi].name and a.role == "origin" for a in arts)]
    near = _hard_neighbours(base, used_origins, pool)
    root_of = {a.base: a for a in arts if a.role == "origin"}
    negs = [(near[o][0], root_of[base[o].name], near[o][1]) for o in used_origins if o in near]
    chosen = {n for n, _, _ in negs}
    negs += [(i, None, 0.0) for i in pool if i not in chosen]
    for bi, near_root, sim in negs:
        if len(arts) >= n_articles:
            break
        o = outlets[int(rng.integers(len(outlets)))]
        when = (near_root.published + timedelta(hours=float(rng.uniform(-72, 72))) if near_root else _when(rng))
        neg = _fresh(arts, base[bi].paragraphs, base[bi].title, o, when, "negative", None, base[bi].name,
                     _sidebar(o, rng, headlines))
        if near_root is not None:
            hard.append((near_root.idx, neg.idx, "same_topic", round(sim, 4)))
    n_fill = n_articles - len(arts)
    if n_fill and not filler:
        raise ValueError(f"the base folder supports at most {len(arts)} articles without filler; "
                         f"asked for {n_articles}")
    positions = np.sort(rng.choice(n_articles, size=len(arts), replace=False))
    slots = rng.permutation(len(arts))
    width = max(6, len(str(n_articles)))
    for pos, k in zip(positions, slots, strict=True):
        arts[int(k)].id = f"n{int(pos):0{width}d}"
    corpus = out_dir / "corpus.jsonl"
    _write_corpus(corpus, arts, n_articles, width, outlets, model, np.random.default_rng([seed, 7]))
    write_truth(out_dir / "truth.json", arts, outlets, hard,
                {"seed": seed, "n_articles": n_articles, "n_filler": n_fill, "base_dir": str(base_dir or ""),
                 "n_base": len(base), **({"realism": realism.to_json()} if launder else {})})
    return corpus


_TAIL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or", "the", "to", "with",
               "that", "than", "after", "before", "is", "are", "was", "were", "has", "have", "had", "its", "their",
               "his", "her"}


def _filler_titles(runs: list[str], min_words: int = 6, max_words: int = 14) -> list[str]:
    """Titles for fillers, cut from short runs of n-gram text read as one stream of words: each starts on a
    word (the model can start a run with a comma) and ends at the first sentence end after `min_words` words, or
    after `max_words` words.

    Cut at each run's first full stop instead, a run like "This and. ..." made a two-word title, and a sidebar
    listing it held a line that no headline list has (see `_headline`)."""
    words = [w for run in runs for w in run.split()]
    titles: list[str] = []
    k = 0
    while k < len(words):
        while k < len(words) and not any(ch.isalnum() for ch in words[k]):
            k += 1
        end = k
        while end < len(words) and end - k < max_words:
            end += 1
            if end - k >= min_words and words[end - 1].endswith("."):
                break
        if end - k >= min_words:
            titles.append(" ".join(words[k:end]).rstrip("."))
        k = end
    return titles


def _headline(text: str) -> str:
    """An n-gram sentence fragment made to read like a headline: it ends on a content word, with no trailing
    punctuation, and starts with a capital."""
    words = text.split()
    while len(words) > 3 and (words[-1].lower().strip(",;:'\"") in _TAIL_WORDS or not words[-1][-1:].isalnum()):
        last = words[-1]
        trimmed = last[:-1] if last.lower().strip(",;:'\"") not in _TAIL_WORDS else ""
        # a word that was only punctuation is dropped outright: trimming it to "" would loop forever
        words = words[:-1] + ([trimmed] if trimmed else [])
    # a fragment already down to three words still loses its trailing punctuation ("the diplomats,")
    out = " ".join(words).rstrip(",;:.'\"-")
    return (out[:1].upper() + out[1:]) or text


def _write_corpus(path: Path, arts: list[Art], n: int, width: int, outlets: list[Outlet], model: NGramModel,
                  frng: np.random.Generator) -> None:
    by_id = {a.id: a for a in arts}
    batch: list[str] = []
    titles: list[str] = []
    with path.open("w", encoding="utf-8") as fh:
        for pos in range(n):
            aid = f"n{pos:0{width}d}"
            art = by_id.get(aid)
            if art is not None:
                fh.write(json.dumps(art.row(), ensure_ascii=False) + "\n")
                continue
            if not batch:
                batch = model.generate(frng, FILLER_BATCH)[::-1]
                # a title and SIDEBAR_TITLES sidebar headlines per filler article, none used twice: a headline
                # list shared by two fillers would be a passage they share, a reuse pair the truth lacks
                need = FILLER_BATCH * (1 + SIDEBAR_TITLES)
                titles = []
                while len(titles) < need:
                    titles += _filler_titles(model.generate(frng, need, 16))
                titles = titles[:need][::-1]
            body, title = batch.pop(), titles.pop()
            o = outlets[int(frng.integers(len(outlets)))]
            side = None
            if o.sidebar:
                side = "\n".join(["Recent Posts"] + [_headline(titles.pop()) for _ in range(SIDEBAR_TITLES)])
            text = "\n\n".join(x for x in (o.header, side, body, o.footer) if x)
            when = _when(frng).astimezone(o.tz)
            slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "article"
            row = {"id": aid, "url": f"https://{o.domain}/{when:%Y/%m/%d}/{slug}-f{pos}/", "outlet": o.domain,
                   "published": when.isoformat(), "title": title, "text": text}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
