"""Word tokens with raw character offsets: the one normalisation every analyser shares.

Normalisation happens here and only here: tokens are lower-cased and typographic quotes/dashes folded, while
`starts`/`ends` always point into the raw, unnormalised text. Anything that matches on tokens maps back to raw
offsets through these arrays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A word is a run of letters/digits, optionally joined by an apostrophe (don't, Syria’s).
WORD_RE = re.compile(r"\w+(?:['’]\w+)*", re.UNICODE)

_FOLD = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " "})


@dataclass(frozen=True)
class Tokens:
    words: list[str]  # normalised (lower-cased, quote-folded)
    starts: list[int]  # raw start offset of each word
    ends: list[int]  # raw end offset of each word

    def __len__(self) -> int:
        return len(self.words)


def normalise_word(word: str) -> str:
    return word.translate(_FOLD).lower()


def tokenize(text: str) -> Tokens:
    words: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for m in WORD_RE.finditer(text):
        words.append(m.group().translate(_FOLD).lower())
        starts.append(m.start())
        ends.append(m.end())
    return Tokens(words, starts, ends)
