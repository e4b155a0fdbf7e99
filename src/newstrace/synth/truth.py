"""Ground-truth passages, by construction: every character of every article has an owner.

Text is *owned* by the article that first wrote it: the origin owns its body, and a copy owns what it added
(an injected phrase, a relabelled word, a rewritten lead, the host text around a partial reuse). An article's
`blocks` map its character ranges to (owner, offset in owner). Copying an exact piece inherits the parent's
owners, so the blocks of any two members of a family can be intersected in owner space: that yields the
characters they truly share, even between two copies of a copy, with no re-alignment.

Shared characters are then chained into passages, PAN style: one passage runs while both sides move forward
and neither skips more than `GAP` characters of unshared text (an injected phrase, a cut sentence, a typo).
Boilerplate is never owned, so it never counts as reuse.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict

from newstrace.synth.operations import Piece

Block = tuple[int, int, int, int]  # (start, end, owner article index, offset in owner)

GAP = 300  # longest unshared stretch (characters) bridged inside one passage
MIN_SHARED = 100  # a passage must share at least this many characters to count


def child_blocks(idx: int, pieces: list[tuple[int, int, Piece]], parent: list[Block],
                 skip_tags: set[int]) -> list[Block]:
    """Blocks of an article from its rendered pieces.

    Exact pieces inherit owners from the parent's blocks; new text is owned by the article itself (an origin
    is all new text, with no parent); pieces tagged with a `skip_tags` edit (boilerplate) are never owned.
    """
    starts = [b[0] for b in parent]
    out: list[Block] = []
    for cs, ce, p in pieces:
        if ce <= cs or (p.tag is not None and p.tag in skip_tags):
            continue
        if p.exact and p.src is not None:
            ps, pe = p.src
            i = max(0, bisect_right(starts, ps) - 1)
            while i < len(parent) and parent[i][0] < pe:
                bs, be, owner, off = parent[i]
                lo, hi = max(ps, bs), min(pe, be)
                if lo < hi:
                    out.append((cs + lo - ps, cs + hi - ps, owner, off + lo - bs))
                i += 1
        else:
            out.append((cs, ce, idx, cs))
    return out


def shared_segments(bx: list[Block], by: list[Block]) -> list[tuple[int, int, int]]:
    """(x_start, y_start, length) of the characters two articles share, sorted by x."""
    by_owner: dict[int, list[Block]] = defaultdict(list)
    for b in by:
        by_owner[b[2]].append(b)
    for v in by_owner.values():
        v.sort(key=lambda b: b[3])
    segs = []
    for xs, xe, owner, xo in bx:
        ys_list = by_owner.get(owner)
        if not ys_list:
            continue
        offs = [b[3] for b in ys_list]
        i = max(0, bisect_right(offs, xo) - 1)
        x_lo, x_hi = xo, xo + (xe - xs)
        while i < len(ys_list) and ys_list[i][3] < x_hi:
            ys, ye, _, yo = ys_list[i]
            lo, hi = max(x_lo, yo), min(x_hi, yo + (ye - ys))
            if lo < hi:
                segs.append((xs + lo - xo, ys + lo - yo, hi - lo))
            i += 1
    segs.sort()
    return segs


def passages(bx: list[Block], by: list[Block], gap: int = GAP, min_shared: int = MIN_SHARED) -> list[dict]:
    """Passages between articles x (as source) and y (as copy), from their blocks."""
    segs = shared_segments(bx, by)
    if not segs:
        return []
    y_starts = sorted(s[1] for s in segs)
    out: list[dict] = []
    cur: list[int] | None = None  # [xs, xe, ys, ye, shared]

    def close() -> None:
        if cur is not None and cur[4] >= min_shared:
            out.append({"source_start": cur[0], "source_end": cur[1], "copy_start": cur[2], "copy_end": cur[3]})

    for x, y, n in segs:
        if cur is not None and y >= cur[3] and x - cur[1] <= gap and y - cur[3] <= gap:
            # bridge only unshared text: a y-gap that holds shared text belongs to another passage
            if bisect_left(y_starts, y) - bisect_left(y_starts, cur[3]) == 0:
                cur[1], cur[3], cur[4] = x + n, y + n, cur[4] + n
                continue
        close()
        cur = [x, x + n, y, y + n, n]
    close()
    return out
