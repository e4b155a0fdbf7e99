"""Field rules shared by every input format: ids, outlets and publication dates (DESIGN.md §2, Input)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit


def stable_id(url: str | None, text: str) -> str:
    """A missing id becomes a stable hash of url+text, so re-ingesting the same record yields the same id."""
    digest = hashlib.sha1(f"{url or ''}\n{text}".encode()).hexdigest()
    return digest[:16]


@lru_cache(maxsize=1)
def _extractor():
    import tldextract

    # suffix_list_urls=() keeps tldextract on its bundled public-suffix snapshot: no network at run time.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@lru_cache(maxsize=65536)
def registered_domain(url: str) -> str | None:
    """The registered domain of a URL (news.bbc.co.uk -> bbc.co.uk), or its host when the suffix is unknown."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return None
    if not host:
        return None
    parts = _extractor()(host)
    if parts.suffix and parts.domain:
        return f"{parts.domain}.{parts.suffix}"
    # Reserved or private TLDs (.example, .local, intranet hosts) have no public suffix: keep the host itself.
    return host[4:] if host.startswith("www.") else host


def outlet_for(outlet: str | None, url: str | None, path: Path) -> str:
    """Explicit outlet, else the registered domain of the URL, else the parent folder's name."""
    if outlet:
        return outlet
    if url:
        domain = registered_domain(url)
        if domain:
            return domain
    return path.parent.name or "unknown"


def parse_published(value: object) -> datetime | None:
    """Parse an ISO 8601 date or datetime. Naive values are taken as UTC so every date is comparable.

    Raises ValueError on a value that is present but unreadable, so the caller can report it.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    else:
        raw = str(value).strip()
        if raw.endswith("Z"):
            raw = raw[:-1] + "+00:00"
        # "+0200" (no colon) is what htmldate emits; fromisoformat in 3.10 needs "+02:00".
        if len(raw) > 5 and raw[-5] in "+-" and raw[-4:].isdigit() and "T" in raw:
            raw = raw[:-2] + ":" + raw[-2:]
        parsed = datetime.fromisoformat(raw)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed
