"""The static HTML report: one self-contained file that opens offline (no CDN, no network).

Every string that came from an article is escaped by Jinja2's autoescape; nothing from content reaches a script.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, select_autoescape

if TYPE_CHECKING:
    from newstrace.pipeline import Run


def _env() -> Environment:
    return Environment(
        loader=PackageLoader("newstrace", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def write_report(run: Run, path: Path) -> None:
    articles = run.load_articles()
    by_id = {a.id: a for a in articles}
    outlets: dict[str, int] = {}
    for a in articles:
        outlets[a.outlet or "unknown"] = outlets.get(a.outlet or "unknown", 0) + 1
    context = {
        "articles": articles,
        "by_id": by_id,
        "pairs": run.pairs,
        "families": run.families,
        "edits": run.edits,
        "fingerprints": run.fingerprints,
        "signals": run.signals,
        "outlets": sorted(outlets.items(), key=lambda kv: (-kv[1], kv[0])),
        "problems": run.ingest_report.problems if run.ingest_report else [],
        "stages": run.ran,
    }
    html = _env().get_template("report.html.j2").render(**context)
    path.write_text(html, encoding="utf-8")


def render_diff_page(source_name: str, copy_name: str, source_text: str, copy_text: str, record: dict) -> str:
    return _env().get_template("diff.html.j2").render(
        source_name=source_name, copy_name=copy_name, source_text=source_text, copy_text=copy_text, record=record
    )
