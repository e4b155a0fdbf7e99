"""HTML to article text and metadata, through trafilatura."""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass

EXTRACTOR = "trafilatura"

# Pages nested deeper than this are rejected before parsing: lxml gives up on them anyway, slowly.
MAX_NESTING = 4000

_DATE_PARAMS = {"original_date": True, "extensive_search": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"}


@dataclass(frozen=True)
class ExtractedPage:
    text: str
    title: str | None
    url: str | None
    published: str | None
    sitename: str | None


_META_TAG = re.compile(r"<meta\b[^>]*>", re.IGNORECASE)
_DATE_NAMES = re.compile(
    r"""(?:property|name|itemprop)\s*=\s*["']?(?:article:published_time|og:published_time|datePublished|"""
    r"""pubdate|publishdate|publish[-_]date|dc\.date\.issued|dcterms\.created|sailthru\.date)["'\s>]""",
    re.IGNORECASE,
)
_CONTENT = re.compile(r"""content\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_JSONLD_DATE = re.compile(r'"datePublished"\s*:\s*"([^"]+)"')
_TIME_TAG = re.compile(r"""<time\b[^>]*\bdatetime\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def declared_date(html: str | bytes) -> str | None:
    """The publication time a page declares in its metadata, with its time of day and zone.

    htmldate (inside trafilatura) sometimes keeps only the day, for instance when the URL holds a date. Copies in a
    laundering chain follow their source within hours, so the declared time matters: we read it first and fall
    back to htmldate's answer.
    """
    text = html.decode("utf-8", "replace") if isinstance(html, bytes) else html
    head = text[:200_000]
    for tag in _META_TAG.findall(head):
        if _DATE_NAMES.search(tag):
            content = _CONTENT.search(tag)
            if content:
                return content.group(1).strip()
    for pattern in (_JSONLD_DATE, _TIME_TAG):
        found = pattern.search(head)
        if found:
            return found.group(1).strip()
    return None


class ExtractionFailed(Exception):
    """trafilatura found no main text, or the markup could not be parsed."""


def _too_deep(html: str | bytes) -> bool:
    opener = b"<" if isinstance(html, bytes) else "<"
    # An honest page has far fewer tags than this; the check is cheap and bounds lxml's worst case.
    return html.count(opener) > MAX_NESTING and _max_depth(html) > MAX_NESTING


def _max_depth(html: str | bytes) -> int:
    text = html.decode("utf-8", "replace") if isinstance(html, bytes) else html
    depth = deepest = 0
    i = text.find("<")
    while i != -1:
        if text.startswith("</", i):
            depth = max(0, depth - 1)
        elif not text.startswith("<!", i):
            close = text.find(">", i)
            if close == -1 or text[close - 1] != "/":
                depth += 1
                deepest = max(deepest, depth)
        i = text.find("<", i + 1)
    return deepest


def extract_html(html: str | bytes, url: str | None = None) -> ExtractedPage:
    """Main text, title, canonical URL and publication date of one page."""
    import trafilatura

    if not html or not html.strip():
        raise ExtractionFailed("empty document")
    if _too_deep(html):
        raise ExtractionFailed(f"markup nested deeper than {MAX_NESTING} levels")
    # trafilatura logs and warns per page; one bad page must not flood the user's terminal.
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    logging.getLogger("htmldate").setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            doc = trafilatura.bare_extraction(
                html,
                url=url,
                with_metadata=True,
                include_comments=False,
                include_tables=False,
                date_extraction_params=_DATE_PARAMS,
            )
    except Exception as exc:
        # trafilatura and lxml raise assorted errors on hostile markup (RecursionError, ValueError, and, rarely and
        # not reproducibly, an AssertionError from lxml's drop_tree on an element already detached): one bad page
        # is reported, never the end of the run.
        raise ExtractionFailed(f"markup could not be parsed ({type(exc).__name__}: {str(exc)[:200]})") from exc
    if doc is None:
        raise ExtractionFailed("no main text found in the page")
    text = (doc.text or "").strip()
    if not text:
        raise ExtractionFailed("no main text found in the page")
    return ExtractedPage(
        text=text,
        title=doc.title or None,
        url=doc.url or url,
        published=declared_date(html) or doc.date or None,
        sitename=doc.sitename,
    )
