"""One article -> its signals: technique spans, attributions, within-text injections and the sourcing profile.

`analyse_article` returns the `signals.jsonl` line of the contract (`id, techniques, attributions, injections`) plus
two keys the contract line leaves out and the report uses: `sourcing` (the profile) and `naming` (one entity called by
several names in the text).
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from typing import Any

from newstrace.edits.injections import find_injections, find_naming_inconsistencies
from newstrace.model import Article
from newstrace.signals.attribution import find_attributions
from newstrace.signals.sourcing import sourcing_profile
from newstrace.signals.techniques import TechniqueModel, detect_techniques, load_model
from newstrace.timelimit import DocumentTimeout, time_limit

CONTRACT_KEYS = ("id", "techniques", "attributions", "injections")


def analyse_text(text: str, article_id: str = "text", model: TechniqueModel | None = None) -> dict:
    """The signals of one raw text. Offsets are into `text` exactly as given. `model` is the technique model
    (default: the shipped fast one)."""
    attributions = find_attributions(text)
    return {
        "id": article_id,
        "techniques": [asdict(t) for t in detect_techniques(text, model or load_model())],
        "attributions": [asdict(a) for a in attributions],
        "injections": [asdict(i) for i in find_injections(text)],
        "sourcing": sourcing_profile(text, attributions).as_dict(),
        "naming": [asdict(n) for n in find_naming_inconsistencies(text)],
    }


def analyse_article(article: Article, model: TechniqueModel | None = None) -> dict:
    return analyse_text(article.text, article.id, model)


def contract_line(row: dict) -> dict:
    return {k: row[k] for k in CONTRACT_KEYS}


def analyse_articles(articles: Iterable[Article], *, progress: Any = None, model: TechniqueModel | None = None,
                     doc_seconds: float | None = None,
                     on_timeout: Callable[[Article, DocumentTimeout], None] | None = None,
                     workers: int = 1, min_parallel: int = 200, chunk: int = 50) -> Iterator[dict]:
    """Signals of many articles, in order, with a progress bar when `progress` (a rich Progress) is given.

    Each article gets `doc_seconds` of wall-clock time; one that takes longer is passed to `on_timeout` and has no
    line, so one pathological text cannot stall a corpus run. From `min_parallel` articles on, `workers` forked
    processes share them in runs of `chunk`: they inherit the articles and the model through fork (copy-on-write),
    get index ranges, and send back only the lines, which come out in the same order and are the same as with
    one process. Where fork is unavailable the work stays in this process."""
    global _ITEMS, _MODEL
    items = list(articles)
    model = model or load_model()
    task = progress.add_task("signals", total=len(items)) if progress is not None else None
    if workers <= 1 or len(items) < min_parallel or "fork" not in mp.get_all_start_methods():
        batches: Iterable[list[dict | float]] = (_analyse_range((i, i + 1, doc_seconds), items, model)
                                                 for i in range(len(items)))
        yield from _emit(items, batches, 1, progress, task, on_timeout)
        return
    ranges = [(i, min(i + chunk, len(items)), doc_seconds) for i in range(0, len(items), chunk)]
    _ITEMS, _MODEL = items, model
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as ex:
            yield from _emit(items, ex.map(_analyse_range, ranges), chunk, progress, task, on_timeout)
    finally:
        _ITEMS, _MODEL = (), None


_ITEMS: Sequence[Article] = ()  # what forked workers inherit (set only while a pool runs)
_MODEL: TechniqueModel | None = None


def _analyse_range(args: tuple[int, int, float | None], items: Sequence[Article] | None = None,
                   model: TechniqueModel | None = None) -> list[dict | float]:
    """Lines of `items[lo:hi]`; an article over its time limit gives the limit (seconds) instead of a line."""
    lo, hi, doc_seconds = args
    items = _ITEMS if items is None else items
    model = model or _MODEL
    out: list[dict | float] = []
    for article in items[lo:hi]:
        try:
            with time_limit(doc_seconds):
                out.append(analyse_article(article, model))
        except DocumentTimeout as exc:
            out.append(exc.seconds)
    return out


def _emit(items: Sequence[Article], batches: Iterable[list[dict | float]], chunk: int, progress: Any, task: Any,
          on_timeout: Callable[[Article, DocumentTimeout], None] | None) -> Iterator[dict]:
    lo = 0
    for batch in batches:
        for article, row in zip(items[lo : lo + len(batch)], batch, strict=True):
            if isinstance(row, dict):
                yield row
            elif on_timeout is not None:
                on_timeout(article, DocumentTimeout(row))
        lo += chunk
        if task is not None:
            progress.advance(task, len(batch))
