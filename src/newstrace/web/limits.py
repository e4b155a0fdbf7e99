"""Limits and headers for the web app: request size limits, the gate that bounds text checks, the security
headers, and the options `newstrace serve` gives uvicorn.

The middleware is plain ASGI (no BaseHTTPMiddleware), so it adds no task per request and sees the raw byte stream.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import Callable
from typing import Any

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")  # what a browser on this machine sends as Host for the app
MAX_URL = 8 * 1024  # bytes of path and query string: every link the app makes is far shorter
MAX_HEADERS = 32 * 1024  # bytes of request headers, names and values together
CHECKS_AT_ONCE = 2  # text checks (seconds of CPU each) running at once; more wait their turn
CHECK_SECONDS = 30.0  # longest a check may take, waiting for its turn included

# uvicorn settings for `newstrace serve`: idle keep-alive connections close after 5 s; past `limit_concurrency`
# connections and requests in flight, new ones get 503 at once rather than queueing without bound.
SERVER_OPTIONS = {"timeout_keep_alive": 5, "limit_concurrency": 1024, "h11_max_incomplete_event_size": MAX_HEADERS}

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


async def _reply(send: Any, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def host_name(header: bytes) -> str:
    """The host of a Host header, without its port ("[::1]:8765" -> "::1")."""
    text = header.decode("latin-1").strip().lower()
    if text.startswith("["):
        return text[1:text.find("]")] if "]" in text else text
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


class RequestLimits:
    """Refuse, before the app parses a byte of it: a Host not in `allowed_hosts` (400; None allows any), a URL over
    `max_url` bytes (414), headers over `max_headers` bytes (431), and a body over `limit` bytes (413).

    The Host check stops DNS rebinding: a web page the analyst visits cannot point its own domain at 127.0.0.1 and
    read the store through the analyst's browser, because the app answers only to the names of this machine.

    A declared Content-Length is checked up front; a chunked body is read (up to the limit) and replayed to
    the app, so a client that lies about or omits the length gets the same answer."""

    def __init__(self, app: Any, limit: int, *, max_url: int = MAX_URL, max_headers: int = MAX_HEADERS,
                 allowed_hosts: tuple[str, ...] | None = None):
        self.app, self.limit, self.max_url, self.max_headers = app, limit, max_url, max_headers
        self.allowed_hosts = None if allowed_hosts is None else {h.lower() for h in allowed_hosts}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.allowed_hosts is not None:
            host = next((v for k, v in scope.get("headers") or [] if k == b"host"), b"")
            if host_name(host) not in self.allowed_hosts:
                await _reply(send, 400, "this app answers only to the names of the machine it runs on")
                return
        url = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string") or b"")
        if url > self.max_url:
            await _reply(send, 414, f"URL over {self.max_url} bytes")
            return
        if sum(len(k) + len(v) + 4 for k, v in scope.get("headers") or []) > self.max_headers:  # as on the wire
            await _reply(send, 431, f"request headers over {self.max_headers} bytes")
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        too_big = f"request body over {self.limit} bytes"
        if declared is not None:
            try:
                if int(declared) > self.limit:
                    await _reply(send, 413, too_big)
                    return
            except ValueError:
                await _reply(send, 400, "bad content-length")
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await _reply(send, 413, too_big)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body, sent = b"".join(chunks), False

        async def replay() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class CheckRefused(Exception):
    """A text check was not answered in time; `detail` says why."""

    def __init__(self, detail: str):
        self.detail = detail
        super().__init__(detail)


class CheckGate:
    """Text checks run in the threadpool, at most `at_once` together, each answered within `seconds` or refused.

    A thread cannot be stopped, so a check that runs past its time keeps its place until it ends: the number of
    checks using the CPU never exceeds `at_once`, however many clients ask."""

    def __init__(self, at_once: int = CHECKS_AT_ONCE, seconds: float = CHECK_SECONDS):
        self.at_once, self.seconds = at_once, seconds
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = \
            weakref.WeakKeyDictionary()

    async def run(self, func: Callable[..., Any], *args: Any) -> Any:
        from starlette.concurrency import run_in_threadpool

        loop = asyncio.get_running_loop()
        # A semaphore belongs to one event loop: uvicorn has one; test clients start one each.
        slots = self._slots.setdefault(loop, asyncio.Semaphore(self.at_once))
        deadline = loop.time() + self.seconds
        if slots.locked():  # every slot is taken: wait for one, within the time limit
            try:
                await asyncio.wait_for(slots.acquire(), self.seconds)
            except asyncio.TimeoutError:
                raise CheckRefused(f"too many checks at once (at most {self.at_once}); try again in a moment") from None
        else:
            await slots.acquire()
        task = asyncio.ensure_future(run_in_threadpool(func, *args))
        task.add_done_callback(lambda _: slots.release())
        try:
            return await asyncio.wait_for(asyncio.shield(task), max(0.0, deadline - loop.time()))
        except asyncio.TimeoutError:
            raise CheckRefused(f"the check took longer than {self.seconds:g} s; try a shorter text, or "
                               "`newstrace query` and `newstrace signals` on the command line") from None


class SecurityHeaders:
    """Add the CSP and friends to every HTTP response."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    h for h in HEADERS if h[0] not in names
                ]
            await send(message)

        await self.app(scope, receive, with_headers)
