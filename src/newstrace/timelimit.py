"""Per-document time limits: one hostile document must not hang a corpus run.

`time_limit(seconds)` arms a wall-clock timer (SIGALRM) around one document's work. Past the limit,
`DocumentTimeout` is raised wherever the main thread is running, in Python code or in a blocking read (a pipe that
never ends). The caller catches it, reports the document, and moves on.

- `DocumentTimeout` derives from `BaseException`, like `KeyboardInterrupt`, so the `except Exception` blocks inside
  third-party parsers (trafilatura has several) cannot swallow it. In case one swallows it anyway, the timer fires
  again every second until the block exits, and a `time_limit` block that ends past its limit raises at its end.
- Signals reach only the main thread, so in any other thread (the web app's threadpool) no limit is armed; the web
  app bounds its own work. A limit inside a limit leaves the outer one in charge.
- Arming costs two system calls, a few microseconds a document.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

DEFAULT_DOC_SECONDS = 60.0


class DocumentTimeout(BaseException):
    """One document took longer than its time limit."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        super().__init__(f"took longer than {seconds:g} s")


def _armable() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


class Deadlines:
    """A time limit for each of many items: the handler is installed once (`with`), then each item costs two
    `setitimer` calls, `arm()` before it and `disarm()` after. Not armed outside the main thread, nor inside
    another limit (the outer one stays in charge)."""

    def __init__(self, seconds: float | None):
        self.seconds = seconds
        self.active = False
        self._previous: object = None
        self._armed_at = 0.0

    def __enter__(self) -> Deadlines:
        if self.seconds and self.seconds > 0 and _armable() and signal.getitimer(signal.ITIMER_REAL)[0] == 0:
            self._previous = signal.signal(signal.SIGALRM, self._on_alarm)
            self.active = True
        return self

    def _on_alarm(self, signum: int, frame: object) -> None:
        raise DocumentTimeout(self.seconds or 0)

    def arm(self) -> None:
        if self.active:
            self._armed_at = time.monotonic()
            signal.setitimer(signal.ITIMER_REAL, self.seconds, 1.0)  # re-fires each second if swallowed

    def overran(self) -> bool:
        """Whether the item armed last has run past the limit: its `DocumentTimeout` may have been swallowed on the
        way (a library's catch-all, an exception raised inside a finaliser, which Python only prints), and a block
        that ends within a second of that is never interrupted again."""
        return self.active and time.monotonic() - self._armed_at > (self.seconds or 0)

    def disarm(self) -> None:
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def __exit__(self, *exc: object) -> None:
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)  # type: ignore[arg-type]
            self.active = False


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise `DocumentTimeout` in the block once it has run `seconds` of wall-clock time (None or 0: no limit)."""
    with Deadlines(seconds) as deadline:
        deadline.arm()
        yield
        if deadline.overran():
            raise DocumentTimeout(seconds or 0)
