"""A bounded cache of rendered responses, with ETags, for an app over a store that does not change.

`PageCache` is plain ASGI middleware. A GET is keyed by its path and query string; a 200 answer
is kept (up to `max_entries` responses and `max_bytes` bytes, least recently used out first) with a strong
ETag made from its body, and sent again without running the app. `Cache-Control: no-cache` lets a browser
keep the page but ask each time; its `If-None-Match` gets a bodiless 304 when the ETag still holds.

The store is opened read-only, but the file can still be replaced (a new `analyze` run moved into place).
Before each request the cache compares the file's mtime and size with what it saw at the last request; when
they differ it empties itself and calls `on_change`, which reopens the store and reloads the lookups."""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CACHE_CONTROL = b"no-cache"
# Requests that must run every time: forms that post, the upload page, and the package's static files
# (StaticFiles sends its own ETag and Last-Modified).
BYPASS = ("/static/", "/check")


@dataclass
class Entry:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: bytes


def file_stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def etag_of(body: bytes) -> bytes:
    return b'"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'


def _matches(if_none_match: bytes | None, etag: bytes) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix(b"W/") for t in if_none_match.split(b",")]
    return b"*" in tags or etag in tags


class PageCache:
    """LRU of whole responses keyed by path + query string; see the module docstring."""

    def __init__(
        self,
        app: Any,
        *,
        watch: Path | None = None,
        on_change: Callable[[], None] | None = None,
        max_entries: int = 4096,
        max_bytes: int = 256 * 1024 * 1024,
        max_entry_bytes: int = 8 * 1024 * 1024,
    ):
        self.app = app
        self.watch, self.on_change = watch, on_change
        self.max_entries, self.max_bytes, self.max_entry_bytes = max_entries, max_bytes, max_entry_bytes
        self.entries: OrderedDict[str, Entry] = OrderedDict()
        self.size = 0
        self.hits = self.misses = self.not_modified = self.invalidations = 0
        self._stamp = file_stamp(watch) if watch is not None else None
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()
            self.size = 0

    def _check_file(self) -> None:
        if self.watch is None:
            return
        stamp = file_stamp(self.watch)
        if stamp == self._stamp:
            return
        with self._lock:
            if stamp == self._stamp:
                return
            self._stamp = stamp
            self.entries.clear()
            self.size = 0
            self.invalidations += 1
        if self.on_change is not None:
            self.on_change()

    def _store(self, key: str, entry: Entry) -> None:
        if len(entry.body) > self.max_entry_bytes:
            return
        with self._lock:
            old = self.entries.pop(key, None)
            if old is not None:
                self.size -= len(old.body)
            self.entries[key] = entry
            self.size += len(entry.body)
            while self.entries and (len(self.entries) > self.max_entries or self.size > self.max_bytes):
                _, dropped = self.entries.popitem(last=False)
                self.size -= len(dropped.body)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"].startswith(BYPASS):
            await self.app(scope, receive, send)
            return
        self._check_file()
        key = scope["path"] + "?" + scope.get("query_string", b"").decode("latin-1")
        inm = next((v for k, v in scope.get("headers") or [] if k == b"if-none-match"), None)
        with self._lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
        if entry is not None:
            self.hits += 1
            await self._send(send, entry, inm)
            return
        self.misses += 1
        captured: dict[str, Any] = {"start": None, "chunks": []}

        async def capture(message: dict) -> None:
            if message["type"] == "http.response.start":
                captured["start"] = message
            elif message["type"] == "http.response.body":
                captured["chunks"].append(message.get("body", b""))
                if not message.get("more_body", False):
                    await self._finish(send, key, captured, inm)
            else:
                await send(message)

        await self.app(scope, receive, capture)

    async def _finish(self, send: Any, key: str, captured: dict, inm: bytes | None) -> None:
        start, body = captured["start"], b"".join(captured["chunks"])
        headers = [
            (k, v) for k, v in start.get("headers", []) if k.lower() not in (b"etag", b"cache-control")
        ]
        status = start["status"]
        if status != 200:  # errors are not kept: a 404 costs little, and a 500 may pass
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        entry = Entry(status, headers, body, etag_of(body))
        self._store(key, entry)
        await self._send(send, entry, inm)

    async def _send(self, send: Any, entry: Entry, inm: bytes | None) -> None:
        extra = [(b"etag", entry.etag), (b"cache-control", CACHE_CONTROL)]
        if _matches(inm, entry.etag):
            self.not_modified += 1
            keep = [(k, v) for k, v in entry.headers if k.lower() not in (b"content-length", b"content-type")]
            await send({"type": "http.response.start", "status": 304, "headers": keep + extra})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": entry.status, "headers": entry.headers + extra})
        await send({"type": "http.response.body", "body": entry.body})
