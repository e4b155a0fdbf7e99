"""Base texts for the synthetic corpus: real articles read by path, grouped into paragraphs, made disjoint.

The default base is the PTC train articles (title, blank line, then one sentence per line). Any folder of
`.txt` files in that shape, or of plain prose with blank-line paragraphs, works too. Base files are only
read at run time; nothing from them is stored in the repository.

Real articles sometimes share text (a wire quote, a site's footer). Two base articles that share an 8-word
passage would make a "negative" pair that is really a reuse pair, so `load_base` drops every sentence whose
word 8-grams already occurred in an earlier base article: after it, base texts share no 8-gram at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from newstrace.tokens import tokenize

DEFAULT_BASE = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "ptc-train" / "train-articles"
SHINGLE = 8
MAX_PARAGRAPHS = 32  # caps the few very long base articles, so one family does not dominate the corpus size


@dataclass
class BaseArticle:
    name: str  # file stem, for provenance in the truth
    title: str
    paragraphs: list[str]  # each paragraph: sentences joined by single spaces

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)


def default_base_dir() -> Path:
    return DEFAULT_BASE.resolve()


def _shingles(text: str) -> set[int]:
    words = tokenize(text).words
    return {hash(tuple(words[i : i + SHINGLE])) for i in range(len(words) - SHINGLE + 1)}


def _group(lines: list[str]) -> list[str]:
    """Groups sentence lines into paragraphs of 1-2 sentences, as online news sites print them."""
    paras: list[str] = []
    cur: list[str] = []
    for line in lines:
        cur.append(line)
        size = sum(len(x) for x in cur)
        if len(cur) >= 2 or size >= 200:
            paras.append(" ".join(cur))
            cur = []
    if cur:
        paras.append(" ".join(cur))
    return paras


def read_base_file(path: Path) -> BaseArticle | None:
    raw = path.read_text(encoding="utf-8", errors="replace")
    lines = [re.sub(r"\s+", " ", ln).strip() for ln in raw.splitlines()]
    lines = [ln for ln in lines if ln]
    if len(lines) < 4:
        return None
    return BaseArticle(path.stem, lines[0], _group(lines[1:])[:MAX_PARAGRAPHS])


def load_base(base_dir: Path | None = None, *, min_paragraphs: int = 4) -> list[BaseArticle]:
    """Reads `*.txt` under `base_dir` (sorted by name, so runs are deterministic) and makes them disjoint.

    Sentences whose 8-grams were seen in an earlier article are dropped; articles left with fewer than
    `min_paragraphs` paragraphs are skipped.
    """
    base_dir = Path(base_dir) if base_dir is not None else default_base_dir()
    if not base_dir.is_dir():
        raise FileNotFoundError(f"base folder not found: {base_dir}")
    seen: set[int] = set()
    out: list[BaseArticle] = []
    for path in sorted(base_dir.rglob("*.txt")):
        art = read_base_file(path)
        if art is None:
            continue
        paras = _disjoint([split_sentences(p) for p in art.paragraphs], seen)
        body = "\n\n".join(" ".join(p) for p in paras)
        seen |= _shingles(body)
        if len(paras) >= min_paragraphs:
            out.append(BaseArticle(art.name, art.title, [" ".join(p) for p in paras]))
    return out


def _disjoint(paras: list[list[str]], seen: set[int], rounds: int = 6) -> list[list[str]]:
    """Drops sentences until the body shares no 8-gram with `seen`.

    8-grams can span sentence (and paragraph) joins, and dropping a sentence makes new joins, hence rounds.
    """
    for _ in range(rounds):
        spans: list[tuple[int, int, int, int]] = []  # (start, end, paragraph, sentence)
        pos = 0
        for k, sents in enumerate(paras):
            for j, sent in enumerate(sents):
                spans.append((pos, pos + len(sent), k, j))
                pos += len(sent) + 1
            pos += 1  # "\n\n" joins paragraphs: one more character than the " " joining sentences
        body = "\n\n".join(" ".join(p) for p in paras)
        tok = tokenize(body)
        w = tok.words
        hits = [(tok.starts[i], tok.ends[i + SHINGLE - 1]) for i in range(len(w) - SHINGLE + 1)
                if hash(tuple(w[i : i + SHINGLE])) in seen]
        if not hits:
            return paras
        drop = {(k, j) for s, e, k, j in spans if any(a < e and s < b for a, b in hits)}
        paras = [[x for j, x in enumerate(sents) if (k, j) not in drop] for k, sents in enumerate(paras)]
        paras = [p for p in paras if p]
    return []


_SENT_RE = re.compile(r"(?<=[.!?])[\"”’']?\s+(?=[\"“‘'(]?[A-Z0-9])")


def split_sentences(para: str) -> list[str]:
    """Splits a paragraph into sentences on end punctuation followed by a capital; keeps closing quotes."""
    out: list[str] = []
    pos = 0
    for m in _SENT_RE.finditer(para):
        # keep a closing quote with its sentence
        j = m.start()
        while j < len(para) and para[j] in "\"”’'":
            j += 1
        out.append(para[pos:j].strip())
        pos = m.end()
    tail = para[pos:].strip()
    if tail:
        out.append(tail)
    return [s for s in out if s]


def sentence_spans(para: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of `para` (local offsets), as split by `split_sentences`."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for sent in split_sentences(para):
        start = para.find(sent, pos)
        if start < 0:
            continue
        spans.append((start, start + len(sent)))
        pos = start + len(sent)
    return spans
