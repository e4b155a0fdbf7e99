"""Page rendering for the demo corpus: outlet HTML templates and the WARC archive.

Each outlet's pages carry the same navigation, share bar, related-links aside, newsletter box and footer,
so that boilerplate repeats across an outlet exactly as it does on real sites. The article body is a run of
bare <p> elements inside one container; trafilatura's default extraction returns exactly those paragraphs
joined by "\\n", which is what the truth offsets for HTML and WARC articles assume
(tests/test_demo_corpus.py checks it).
"""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import datetime, timezone
from email.utils import format_datetime
from html import escape

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

# A fixed namespace keeps WARC record ids stable across builds (uuid4 would change the archive on every run).
_RECORD_NS = uuid.UUID("6d1f3c1e-2b55-4c47-9a59-3f1b0e7a2c10")
ARCHIVE_DATE = "2024-03-20T00:00:00Z"


def _when(published: str | None) -> tuple[str, str]:
    """(machine, human) forms of a published timestamp; empty when the article is undated."""
    if not published:
        return "", ""
    dt = datetime.fromisoformat(published)
    return published, f"{dt.day} {dt:%B %Y}, {dt:%H:%M}"


def _nav(outlet: dict) -> str:
    items = "".join(
        f'<li><a href="/{escape(n.lower().replace(" ", "-"))}/">{escape(n)}</a></li>' for n in outlet["nav"]
    )
    return f'<nav class="main-nav"><ul>{items}</ul></nav>'


def _aside(outlet: dict, related: list[tuple[str, str]]) -> str:
    links = "".join(f'<li><a href="{escape(u)}">{escape(t)}</a></li>' for u, t in related)
    return (
        f'<aside class="related"><h2>{escape(outlet["related_title"])}</h2><ul>{links}</ul></aside>\n'
        f'    <section class="newsletter"><h2>{escape(outlet["newsletter_title"])}</h2>'
        f"<p>{escape(outlet['newsletter'])}</p>"
        '<form action="/subscribe" method="post"><input type="email" name="email" placeholder="Your email">'
        "<button>Subscribe</button></form></section>"
    )


def _body(paragraphs: list[str], indent: str) -> str:
    return "\n".join(f"{indent}<p>{escape(p, quote=False)}</p>" for p in paragraphs)


def render_html(
    article: dict,
    title: str,
    paragraphs: list[str],
    outlet: dict,
    domain: str,
    related: list[tuple[str, str]],
) -> str:
    """One article page in the outlet's layout ("story", "wordpress" or "semantic")."""
    iso, human = _when(article["published"])
    url = article["url"]
    head_meta = [
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title, quote=False)} | {escape(outlet['name'], quote=False)}</title>",
        f'<meta name="description" content="{escape(paragraphs[0][:150])}">',
        '<meta property="og:type" content="article">',
        f'<meta property="og:title" content="{escape(title)}">',
        f'<meta property="og:site_name" content="{escape(outlet["name"])}">',
        f'<meta property="og:url" content="{escape(url)}">',
    ]
    if iso:
        head_meta.append(f'<meta property="article:published_time" content="{iso}">')
    head_meta.append(f'<link rel="canonical" href="{escape(url)}">')
    head_meta.append(f'<link rel="stylesheet" href="https://{domain}/static/site.css">')
    head = "\n  ".join(head_meta)
    byline = f"By {escape(outlet['byline'])}" + (f' · <time datetime="{iso}">{human}</time>' if iso else "")
    share = f'<div class="share-bar">{escape(outlet["share"])}</div>'
    logo = f'<a class="logo" href="https://{domain}/">{escape(outlet["name"])}</a>'
    layout = outlet["layout"]
    if layout == "story":
        main = (
            f'  <main>\n    <div class="story-head">\n      <h1>{escape(title, quote=False)}</h1>\n'
            f'      <p class="byline">{byline}</p>\n    </div>\n'
            f'    <article class="story">\n      <div class="article-body">\n'
            f'{_body(paragraphs, "        ")}\n'
            f"      </div>\n      {share}\n    </article>\n    {_aside(outlet, related)}\n  </main>"
        )
    elif layout == "wordpress":
        main = (
            f'  <div id="content" class="site-content">\n    <div class="post type-post">\n'
            f'      <h1 class="entry-title">{escape(title, quote=False)}</h1>\n'
            f'      <div class="entry-meta">Posted by {escape(outlet["byline"])}'
            + (f' on <time class="published" datetime="{iso}">{human}</time>' if iso else "")
            + "</div>\n"
            f'      <div class="entry-content" itemprop="articleBody">\n'
            f'{_body(paragraphs, "        ")}\n      </div>\n'
            f'      {share}\n    </div>\n'
            f'    <div id="sidebar">\n    {_aside(outlet, related)}\n    </div>\n  </div>'
        )
    elif layout == "semantic":
        main = (
            f'  <main id="main">\n    <header class="article-header">\n'
            f'      <h1 class="headline">{escape(title, quote=False)}</h1>\n'
            f'      <p class="meta">{byline}</p>\n    </header>\n'
            f'    <article>\n      <section class="article-text">\n{_body(paragraphs, "        ")}\n'
            f"      </section>\n    </article>\n    {share}\n    {_aside(outlet, related)}\n  </main>"
        )
    else:
        raise ValueError(f"outlet {domain} has no HTML layout")
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n  {head}\n</head>\n<body>\n'
        f'  <header class="site-header">\n    {logo}\n    {_nav(outlet)}\n  </header>\n{main}\n'
        f'  <footer class="site-footer"><p>{escape(outlet["footer"], quote=False)}</p></footer>\n'
        "</body>\n</html>\n"
    )


def _warc_date(published: str | None) -> str:
    if not published:
        return ARCHIVE_DATE
    return datetime.fromisoformat(published).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_warc(pages: list[tuple[str, str | None, str]]) -> bytes:
    """A gzipped WARC with a warcinfo record, then one HTTP response record per (url, published, html) page.

    Record ids and dates are derived from the inputs, and warcio's per-record gzip members carry no
    timestamp, so the bytes are identical on every build.
    """
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    info = writer.create_warcinfo_record(
        "archive.warc.gz",
        {
            "software": "newstrace examples/build_corpus.py",
            "format": "WARC File Format 1.0",
            "description": "Demo crawl of fictional outlets (.example domains)",
        },
    )
    info.rec_headers.replace_header("WARC-Date", ARCHIVE_DATE)
    info.rec_headers.replace_header("WARC-Record-ID", f"<urn:uuid:{uuid.uuid5(_RECORD_NS, 'warcinfo')}>")
    writer.write_record(info)
    for url, published, page in pages:
        payload = page.encode("utf-8")
        when = datetime.fromisoformat(published) if published else datetime(2024, 3, 20, tzinfo=timezone.utc)
        http_headers = StatusAndHeaders(
            "200 OK",
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Date", format_datetime(when.astimezone(timezone.utc), usegmt=True)),
                ("Server", "nginx"),
                ("Content-Length", str(len(payload))),
            ],
            protocol="HTTP/1.1",
        )
        record = writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(payload),
            http_headers=http_headers,
            warc_headers_dict={
                "WARC-Record-ID": f"<urn:uuid:{uuid.uuid5(_RECORD_NS, url)}>",
                "WARC-Date": _warc_date(published),
            },
        )
        writer.write_record(record)
    return buf.getvalue()


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()
