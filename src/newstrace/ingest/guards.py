"""Bounded reading of untrusted files: lines with a length limit, and archives that cannot inflate without end.

Readers use these so that memory stays bounded whatever a file holds: a 50 MB JSONL line, a CSV with no line
ends, or a .warc.gz whose gzip members inflate a thousandfold (a decompression bomb). A line over the limit is
cut off and read through (`lines_upto`, `too_long`, `rest_of_line`); an archive over a limit raises
`LimitExceeded` with a reason a user can read. The reader turns either into a `Problem`.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from functools import partial
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"
BLOCK = 1 << 16
INFLATE_STEP = 1 << 18  # at most this many bytes come out of one zlib call, however small the input

# A gzip member that has produced more than BOMB_AFTER bytes at over BOMB_RATIO times its compressed size is a
# bomb. News HTML inflates 4-10 times; a deflate stream of zeros inflates about 1,000 times.
BOMB_RATIO = 100.0
BOMB_AFTER = 16 << 20


class LimitExceeded(Exception):
    """A file is over one of the reading limits; its message says which."""


def lines_upto(handle: BinaryIO, limit: int) -> Iterator[bytes]:
    """The lines of a binary file (line ends kept), none longer than `limit` + 1 bytes: a longer line comes as its
    first `limit` + 1 bytes with no line end (see `too_long`), and `rest_of_line` reads through the rest. A C-level
    readline a line: as fast as iterating the file, without ever holding a huge line."""
    return iter(partial(handle.readline, limit + 1), b"")


def too_long(line: bytes, limit: int) -> bool:
    """Whether `line`, from `lines_upto(handle, limit)`, is the cut-off start of a line over `limit` bytes."""
    return len(line) > limit and not line.endswith(b"\n")


def rest_of_line(handle: BinaryIO) -> int:
    """Read through to the end of the current line, a block at a time; the number of bytes skipped."""
    skipped = 0
    while True:
        rest = handle.readline(BLOCK)
        skipped += len(rest)
        if not rest or rest.endswith(b"\n"):
            return skipped


class GuardedArchive:
    """A WARC file as an uncompressed byte stream for warcio, inflated here member by member (or passed through
    when it is not gzip), refusing a decompression bomb and any line longer than `max_line` bytes.

    warcio reads header lines with an unbounded `readline`, so an archive with a huge line, or a bomb that
    inflates to zeros, would otherwise be held in memory whole. Here every zlib call produces at most
    `INFLATE_STEP` bytes, each gzip member's inflation ratio is watched, and so is the run of bytes since the
    last line end.
    """

    def __init__(self, raw: BinaryIO, *, max_line: int, bomb_ratio: float = BOMB_RATIO, bomb_after: int = BOMB_AFTER):
        self.raw = raw
        self.max_line = max_line
        self.bomb_ratio = bomb_ratio
        self.bomb_after = bomb_after
        self._pending = bytearray()
        self._offset = 0
        self._line = 0  # bytes produced since the last b"\n"
        self._eof = False
        head = raw.read(len(GZIP_MAGIC))
        self._tail = head  # input not yet given to zlib (or not yet passed through)
        self._zlib: zlib._Decompress | None = None
        if head == GZIP_MAGIC:
            self._new_member(head)

    def tell(self) -> int:
        return self._offset

    def read(self, size: int | None = -1) -> bytes:
        """Up to `size` bytes; fewer when that is what the next step produced (as a raw stream's read may), so the
        records before a truncation or a bomb reach warcio before the error does."""
        want = size if size is not None and size >= 0 else 1 << 62
        while not self._pending and not self._eof:
            self._pending += self._produce()
        out = bytes(self._pending[:want])
        del self._pending[:want]
        self._offset += len(out)
        return out

    def close(self) -> None:
        self.raw.close()

    # ---- internals ------------------------------------------------------------------------------------------

    def _new_member(self, start: bytes) -> None:
        self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._tail = start
        self._member_in = self._member_out = 0

    def _produce(self) -> bytes:
        chunk = self._inflate() if self._zlib is not None else self._passthrough()
        if chunk:
            newline = chunk.rfind(b"\n")
            self._line = self._line + len(chunk) if newline < 0 else len(chunk) - newline - 1
            if self._line > self.max_line:
                raise LimitExceeded(f"a line longer than {self.max_line} bytes: not a WARC archive, or a hostile one")
        return chunk

    def _passthrough(self) -> bytes:
        data, self._tail = self._tail or self.raw.read(BLOCK), b""
        if not data:
            self._eof = True
        return data

    def _inflate(self) -> bytes:
        while True:
            z = self._zlib
            assert z is not None
            if z.eof:
                if not self._next_member(z.unused_data):
                    self._eof = True
                    return b""
                continue
            data = self._tail or self.raw.read(BLOCK)
            if not data:
                raise LimitExceeded("the archive is truncated: its gzip stream ends inside a record")
            try:
                out = z.decompress(data, INFLATE_STEP)
            except zlib.error as exc:
                raise LimitExceeded(f"the archive's gzip data is corrupt ({exc})") from None
            self._tail = z.unconsumed_tail
            self._member_in += len(data) - len(self._tail) - (len(z.unused_data) if z.eof else 0)
            self._member_out += len(out)
            if self._member_out > self.bomb_after and self._member_out > self.bomb_ratio * max(self._member_in, 1):
                raise LimitExceeded(
                    f"a gzip member inflates over {self.bomb_ratio:g} times its size, past {self.bomb_after} bytes: "
                    "a decompression bomb"
                )
            if out:
                return out

    def _next_member(self, leftover: bytes) -> bool:
        """Start the gzip member that follows; False at the end of the file (trailing zero padding included)."""
        while len(leftover) < len(GZIP_MAGIC):
            more = self.raw.read(BLOCK)
            if not more:
                break
            leftover += more
        if leftover.startswith(GZIP_MAGIC):
            self._new_member(leftover)
            return True
        if leftover and GZIP_MAGIC.startswith(leftover):
            raise LimitExceeded("the archive is truncated: its gzip stream ends inside a record")
        while leftover:
            if leftover.strip(b"\x00\r\n"):
                raise LimitExceeded("the archive has bytes after its last gzip member that are not gzip")
            leftover = self.raw.read(BLOCK)
        return False
