"""One article -> its signals: technique spans, attributions, within-text injections and the sourcing profile.

`analyse_article` returns the `signals.jsonl` line of the contract (`id, techniques, attributions, injections`) plus
two keys the contract line leaves out and the report uses: `sourcing` (the profile) and `naming` (one entity called by
several names in the text).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from typing import Any

from newstrace.blas import one_blas_thread
from newstrace.edits.injections import find_injections, find_naming_inconsistencies
from newstrace.forkmap import fork_map
from newstrace.model import Article, Attribution, TechniqueSpan
from newstrace.signals.attribution import analyse as analyse_sentences
from newstrace.signals.attribution import find_attributions
from newstrace.signals.sourcing import sourcing_profile
from newstrace.signals.techniques import TechniqueModel, detect_techniques, load_model
from newstrace.timelimit import DocumentTimeout, time_limit

CONTRACT_KEYS = ("id", "techniques", "attributions", "injections")


def analyse_text(text: str, article_id: str = "text", model: TechniqueModel | None = None) -> dict:
    """The signals of one raw text. Offsets are into `text` exactly as given. `model` is the technique model
    (default: the shipped fast one)."""
    # one tokenisation and one sentence analysis serve every analyser
    analysed = analyse_sentences(text)
    toks = analysed[3]
    attributions = find_attributions(text, analysed=analysed)
    return {
        "id": article_id,
        "techniques": [_scalar_fields(t) for t in detect_techniques(text, model or load_model(), toks)],
        "attributions": [_scalar_fields(a) for a in attributions],
        "injections": [asdict(i) for i in find_injections(text, toks)],
        "sourcing": sourcing_profile(text, attributions, analysed=analysed).as_dict(),
        "naming": [asdict(n) for n in find_naming_inconsistencies(text, toks)],
    }


def _scalar_fields(span: TechniqueSpan | Attribution) -> dict:
    """`asdict` of a dataclass whose fields are all scalars: its fields in order, without asdict's recursive copy
    (a twentieth of the analysis time, for the many spans of an article)."""
    return dict(span.__dict__)


def analyse_article(article: Article, model: TechniqueModel | None = None) -> dict:
    return analyse_text(article.text, article.id, model)


def contract_line(row: dict) -> dict:
    return {k: row[k] for k in CONTRACT_KEYS}


def analyse_articles(articles: Iterable[Article], *, progress: Any = None, model: TechniqueModel | None = None,
                     doc_seconds: float | None = None,
                     on_timeout: Callable[[Article, DocumentTimeout], None] | None = None,
                     workers: int = 1, min_parallel: int = 200, chunk: int = 20) -> Iterator[dict]:
    """Signals of many articles, in order, with a progress bar when `progress` (a rich Progress) is given.

    Each article gets `doc_seconds` of wall-clock time; one that takes longer is passed to `on_timeout` and has no
    line, so one pathological text cannot stall a corpus run. From `min_parallel` articles on, `workers` forked
    processes share them in runs of `chunk` (`forkmap.fork_map`); the lines are the same, in the same order."""
    items = list(articles)
    model = model or load_model()
    task = progress.add_task("signals", total=len(items)) if progress is not None else None

    def analyse_range(lo: int, hi: int) -> list[dict | float]:
        out: list[dict | float] = []
        for article in items[lo:hi]:
            # Appended after the block: a block that ends past its limit raises at its end, after its work is done.
            try:
                with time_limit(doc_seconds):
                    row = analyse_article(article, model)
            except DocumentTimeout as exc:  # the limit in seconds stands for the line (exceptions pickle badly)
                out.append(exc.seconds)
                continue
            out.append(row)
        return out

    size = chunk if workers > 1 else 1
    lo = 0
    with one_blas_thread():  # forked workers inherit the limit
        for batch in fork_map(analyse_range, len(items), workers=workers, chunk=size, min_parallel=min_parallel):
            for article, row in zip(items[lo : lo + len(batch)], batch, strict=True):
                if isinstance(row, dict):
                    yield row
                elif on_timeout is not None:
                    on_timeout(article, DocumentTimeout(row))
            lo += len(batch)
            if task is not None:
                progress.advance(task, len(batch))
