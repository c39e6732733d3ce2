"""A small, pure, deterministic tokeniser shared by the token-level formats (CoNLL, spaCy).

Token-level formats can only carry a span whose edges are token edges, so the rule that matters
most here is the last one: the text is cut at every span boundary, whatever the characters on
either side. No span is ever lost or moved to fit a tokeniser's idea of a word.

Rules, applied in this order to the document text:

1. A run of whitespace (``str.isspace``) is one *space piece*; it is not a token.
2. Each punctuation character (Unicode category ``P*``) is a token of its own.
3. Each CJK ideograph or kana is a token of its own (those scripts use no spaces, and
   character-level tokens are what CJK sequence labelling usually works on), with any combining
   marks that follow it.
4. A run of symbols (category ``S*``: emoji, currency, maths) is one token, with the combining
   marks and format characters inside it, so an emoji ZWJ sequence (👨‍👩‍👧) or an emoji with a
   skin-tone or variation selector stays whole.
5. Any other run of characters (letters, digits, combining marks, format characters) is a token.
6. Finally every piece is cut at every span boundary that falls inside it.

The text is never changed: the pieces cover it exactly, in order, so ``"".join`` of them is the
text, and the offsets are code points like every offset in the project. The same text and
boundaries always give the same pieces; nothing depends on a locale or a library version other
than the Unicode tables of the Python that runs it.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence

__all__ = ["Piece", "pieces", "tokens"]

#: ``(start, end)`` of a piece of text, in code points.
Piece = tuple[int, int]

_CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0xFF66, 0xFF9F),  # Halfwidth Katakana
    (0x20000, 0x3FFFF),  # Extensions B onwards (planes 2 and 3)
)

# Each code point is first mapped to a one-letter class, then a small regex over the (ASCII)
# class string finds the pieces: one C-speed pass each. (A regex over the text itself would need
# character classes of thousands of ranges, which Python's re scans linearly for every
# character outside the Basic Multilingual Plane: that was 20 times slower.)
_SPACE, _PUNCT, _CJK, _SYMBOL, _ATTACHED, _WORD = "SPCYMW"
_PIECE = re.compile(r"S+|P|CM*|Y[YM]*|[WM]+")


def _classify(codepoint: int) -> str:
    char = chr(codepoint)
    if char.isspace():
        return _SPACE
    if any(first <= codepoint <= last for first, last in _CJK_RANGES):
        return _CJK
    category = unicodedata.category(char)
    if category[0] == "P":
        return _PUNCT
    if category[0] == "S":
        return _SYMBOL
    if category[0] == "M" or category == "Cf":
        return _ATTACHED
    return _WORD


class _Classes(dict[int, str]):
    """``str.translate`` table that classifies each code point on first sight and remembers it:
    lookups stay in C, and the table only ever holds the characters actually met."""

    def __missing__(self, codepoint: int) -> str:
        value = _classify(codepoint)
        self[codepoint] = value
        return value


_CLASSES = _Classes()


@functools.lru_cache(maxsize=8)
def _edges(text: str) -> tuple[int, ...]:
    """Where the pieces of ``text`` begin, and its end. Cached for the few most recent texts:
    a document is tokenised once per annotation, with different span boundaries each time."""
    classes = text.translate(_CLASSES)
    return (*(match.start() for match in _PIECE.finditer(classes)), len(text))


def pieces(text: str, boundaries: Iterable[int] = ()) -> list[Piece]:
    """Tokens and space pieces covering ``text`` exactly, cut at every boundary.

    A piece is either all whitespace or has none; ``text[start].isspace()`` tells which.
    """
    edges: Sequence[int] = _edges(text)
    cuts = {b for b in boundaries if 0 < b < len(text)}
    if cuts:
        edges = sorted(cuts.union(edges))
    return list(itertools.pairwise(edges))


def tokens(text: str, boundaries: Iterable[int] = ()) -> list[Piece]:
    """The pieces that are not whitespace."""
    return [piece for piece in pieces(text, boundaries) if not text[piece[0]].isspace()]
