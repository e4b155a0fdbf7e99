"""The edits stage over a corpus: one contract line per reuse pair, and each outlet's fingerprint."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from newstrace.edits.fingerprints import outlet_fingerprints
from newstrace.edits.script import diff_rows
from newstrace.edits.systematic import PairEdits, diff_pair
from newstrace.forkmap import fork_map
from newstrace.model import Article, Passage, ReusePair
from newstrace.timelimit import DocumentTimeout, time_limit


def edit_line(source_id: str, copy_id: str, result: PairEdits) -> dict:
    """The `edits.jsonl` line of one pair: the contract's fields, and `unaligned`, the text of each side that no
    passage covers ({"source": [[start, end], ...], "copy": [...]}): not copied, so no edit is made there."""
    return {
        "source": source_id,
        "copy": copy_id,
        "edits": [asdict(e) for e in result.edits],
        "systematic": [f.contract_row() for f in result.systematic],
        "unaligned": {"source": [list(x) for x in result.source_free], "copy": [list(x) for x in result.copy_free]},
    }


def pair_record(source_id: str, copy_id: str, source_text: str, copy_text: str,
                passages: Sequence[Passage]) -> dict:
    """The `edits.jsonl` line of one pair, plus `explained` (each systematic edit's anchor and variants),
    `passages`, and `rows`: both texts aligned passage by passage (`script.diff_rows`), as
    {"kind", "source": [start, end] | None, "copy": [start, end] | None}."""
    result = diff_pair(source_text, copy_text, list(passages))
    line = edit_line(source_id, copy_id, result)
    line["explained"] = [{"anchor": f.anchor, "variants": f.variants} for f in result.systematic]
    line["passages"] = [asdict(p) for p in passages]
    line["rows"] = [{"kind": r.kind, "source": list(r.source) if r.source else None,
                     "copy": list(r.copy) if r.copy else None} for r in diff_rows(source_text, copy_text, passages)]
    return line


def corpus_edits(articles: Mapping[str, Article], pairs: Sequence[ReusePair], *, progress: Any = None,
                 pair_seconds: float | None = None,
                 on_timeout: Callable[[ReusePair, DocumentTimeout], None] | None = None,
                 workers: int = 1, min_parallel: int = 200, chunk: int = 25,
                 ) -> tuple[list[dict], list[dict]]:
    """Edit lines for every pair (contract fields only) and the outlet fingerprints (as dicts).

    A pair whose diff takes longer than `pair_seconds` goes to `on_timeout` and has no line. From `min_parallel`
    pairs on, `workers` forked processes share the pairs (`forkmap.fork_map`); the results do not change."""
    task = progress.add_task("edits", total=len(pairs)) if progress is not None else None

    def diff_range(lo: int, hi: int) -> list[PairEdits | float]:
        out: list[PairEdits | float] = []
        for pair in pairs[lo:hi]:
            # Appended after the block: a block that ends past its limit raises at its end, after its work is done.
            try:
                with time_limit(pair_seconds):
                    result = diff_pair(articles[pair.source].text, articles[pair.copy].text, list(pair.passages))
            except DocumentTimeout as exc:  # the limit in seconds stands for the result (exceptions pickle badly)
                out.append(exc.seconds)
                continue
            out.append(result)
        return out

    lines: list[dict] = []
    by_outlet: list[tuple[str, PairEdits, str]] = []
    lo = 0
    for batch in fork_map(diff_range, len(pairs), workers=workers, chunk=chunk if workers > 1 else 1,
                          min_parallel=min_parallel):
        for pair, result in zip(pairs[lo : lo + len(batch)], batch, strict=True):
            if not isinstance(result, PairEdits):
                if on_timeout is not None:
                    on_timeout(pair, DocumentTimeout(result))
                continue
            lines.append(edit_line(pair.source, pair.copy, result))
            by_outlet.append((articles[pair.copy].outlet or "unknown", result, pair.copy))
        lo += len(batch)
        if task is not None:
            progress.advance(task, len(batch))
    fingerprints = []
    for fp in outlet_fingerprints(by_outlet):
        row = asdict(fp)
        row["described"] = fp.describe()
        fingerprints.append(row)
    return lines, fingerprints
