"""Analyst views: the self-contained static report (`write_report`) and the pages the web app shares with it.

`data` queries the store into plain dicts, `marks` turns spans into highlight segments, `render` holds the
Jinja2 environment and view contexts, and `static` writes report.html. Every string that came from an article
is escaped by Jinja2's autoescape; nothing from content reaches a script."""

from newstrace.report.static import Caps, render_diff_page, report_html, write_report

__all__ = ["Caps", "render_diff_page", "report_html", "write_report"]
