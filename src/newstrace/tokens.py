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
    """The words of `text`, normalised, with their raw offsets.

    The text is lower-cased once and words are sliced out of it, which gives the word-by-word result (`translate`
    then `lower`) whenever lower-casing keeps every character one character (the length is unchanged) and needs
    no context (only the Greek capital sigma does): inside a word, the curly apostrophe is the one character
    `_FOLD` changes. Other texts go word by word."""
    folded = text.lower().replace("’", "'")
    if len(folded) != len(text) or "Σ" in text:
        return tokenize_by_word(text)
    spans = [m.span() for m in WORD_RE.finditer(text)]
    return Tokens([folded[a:b] for a, b in spans], [a for a, _ in spans], [b for _, b in spans])


def tokenize_by_word(text: str) -> Tokens:
    """`tokenize` by its definition: each word matched, folded and lower-cased on its own."""
    words: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for m in WORD_RE.finditer(text):
        words.append(m.group().translate(_FOLD).lower())
        starts.append(m.start())
        ends.append(m.end())
    return Tokens(words, starts, ends)
