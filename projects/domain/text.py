"""Text normalisation and offset conversion.

Offsets are Unicode code points into the *stored* text, which is normalised once at import (line
endings to ``\\n``, then NFC) and never changes afterwards, so every offset recorded stays valid.
Pre-annotations arrive with offsets into the *original* text; :func:`normalise_with_map` says where
each of those offsets lands after normalisation, or that it cannot land anywhere exactly.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

__all__ = [
    "Normalised",
    "codepoint_to_utf16",
    "normalise",
    "normalise_with_map",
    "sha256_text",
    "utf16_to_codepoint",
]


def normalise(text: str) -> str:
    """Give every document one canonical form, so equal texts have equal offsets and hashes.

    CRLF and lone CR become LF first (NFC never touches line endings, so the order is free), then
    Unicode NFC, which composes ``e`` + U+0301 into ``é`` the way most editors store it.
    """
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def sha256_text(text: str) -> str:
    """Fingerprint a stored text so a consumer (or a later import) can prove it is unchanged."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- offset mapping -------------------------------------------------------------------------------
#
# NFC is local: the text can be cut before any "stable starter" (canonical combining class 0,
# already NFC on its own, and never the second half of a canonical composition), and normalising the
# pieces separately gives the same result as normalising the whole. CRLF folding is local too, but
# "\r" and "\n" must stay in one piece. So the original text is cut into segments at those
# boundaries; a segment that normalisation leaves alone maps offset for offset, and a segment it
# changes maps only its two ends: an offset strictly inside it (between "\r" and "\n", between a
# letter and the accent it absorbed) has no exact counterpart, and we say so instead of guessing.

# Every character below U+0300 is a stable starter (checked by a test), and "\r" is the only one of
# them that normalisation changes, so only these characters can start work: a fast C-level scan
# skips the (usually overwhelming) rest.
_MAYBE_UNSTABLE = re.compile("[\r\u0300-\U0010ffff]")

# Hangul jamo compose algorithmically (no entry in the decomposition table): vowels and trailing
# consonants are second halves of compositions.
_HANGUL_SECONDS = frozenset(range(0x1161, 0x1176)) | frozenset(range(0x11A8, 0x11C3))


@functools.cache
def _composition_seconds() -> frozenset[int]:
    """Characters that can merge into the character before them under NFC.

    Built from this Python's own Unicode tables (so it is right for the Unicode version that
    ``unicodedata.normalize`` implements). Canonical pair decompositions only exist below U+30000,
    which keeps the one-off scan to ~30 ms; it runs lazily, on the first text that needs it.
    """
    seconds = set(_HANGUL_SECONDS)
    for cp in range(0x30000):
        decomposition = unicodedata.decomposition(chr(cp))
        if decomposition and not decomposition.startswith("<"):
            parts = decomposition.split()
            if len(parts) == 2:
                seconds.add(int(parts[1], 16))
    return frozenset(seconds)


@functools.lru_cache(maxsize=8192)
def _is_stable_starter(char: str) -> bool:
    """True if normalisation can never merge ``char`` with what comes before it, nor change it."""
    if char < "\u0300":
        return True
    return (
        unicodedata.combining(char) == 0
        and unicodedata.is_normalized("NFC", char)
        and ord(char) not in _composition_seconds()
    )


def _is_boundary(text: str, index: int) -> bool:
    """Can ``text`` be cut before ``index`` without changing how either side normalises?"""
    if index <= 0 or index >= len(text):
        return True
    char = text[index]
    if char == "\n" and text[index - 1] == "\r":
        return False
    return _is_stable_starter(char)


@dataclass(frozen=True)
class _Edit:
    """A segment of the original text that normalisation replaced: ``original[start:end]``."""

    start: int
    end: int
    replacement: str


@dataclass(frozen=True)
class Normalised:
    """A normalised text plus the means to carry offsets from the original text onto it.

    The map is sparse (one entry per changed segment), so a 1 MB text that is already normalised
    costs nothing beyond the scan, and remapping is a binary search.
    """

    text: str
    original_length: int
    _edits: tuple[_Edit, ...] = field(default=(), repr=False)
    # _shifts[k]: how far offsets after edit k move (cumulative length change up to and incl. k).
    _shifts: tuple[int, ...] = field(default=(), repr=False, compare=False)
    _starts: tuple[int, ...] = field(default=(), repr=False, compare=False)

    @property
    def changed(self) -> bool:
        """Whether normalisation changed anything (then some offsets may not be remappable)."""
        return bool(self._edits)

    def remap(self, offset: int) -> int | None:
        """Where an offset into the original text lands in :attr:`text`.

        Returns None when the offset falls strictly inside a sequence that normalisation merged, so
        a pre-annotation starting or ending there is refused rather than silently moved. Raises
        ValueError for an offset outside ``0..original_length``: that is a caller bug, not data.
        """
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise TypeError(f"offset must be an int, not {type(offset).__name__}")
        if not 0 <= offset <= self.original_length:
            raise ValueError(f"offset {offset} is outside 0..{self.original_length}")
        index = bisect.bisect_right(self._starts, offset) - 1
        if index < 0:
            return offset
        edit = self._edits[index]
        before = self._shifts[index - 1] if index > 0 else 0
        if offset == edit.start:
            return offset + before
        if offset < edit.end:
            return None
        return offset + self._shifts[index]


def normalise_with_map(text: str) -> Normalised:
    """Normalise ``text`` as :func:`normalise` does, and remember how offsets move.

    O(n): one regex scan, then Python-level work only around characters that can change.
    """
    length = len(text)
    if "\r" not in text and unicodedata.is_normalized("NFC", text):
        # The usual case, checked in C: nothing changes, so every offset maps to itself.
        return Normalised(text, length)
    edits: list[_Edit] = []
    covered = 0
    for match in _MAYBE_UNSTABLE.finditer(text):
        position = match.start()
        if position < covered:
            continue
        char = text[position]
        if char != "\r" and _is_stable_starter(char):
            continue
        start = position
        while not _is_boundary(text, start):
            start -= 1
        end = position + 1
        while not _is_boundary(text, end):
            end += 1
        segment = text[start:end]
        replacement = normalise(segment)
        if replacement != segment:
            edits.append(_Edit(start, end, replacement))
        covered = end

    pieces: list[str] = []
    shifts: list[int] = []
    previous = 0
    shift = 0
    for edit in edits:
        pieces.append(text[previous : edit.start])
        pieces.append(edit.replacement)
        shift += len(edit.replacement) - (edit.end - edit.start)
        shifts.append(shift)
        previous = edit.end
    pieces.append(text[previous:])
    result = "".join(pieces)

    expected = normalise(text)
    if result != expected:  # pragma: no cover - the segmentation above is exact; belt and braces
        # Never store a text that differs from normalise(): fall back to a map that only knows the
        # two ends, which is always correct (every inner offset is refused, none is misplaced).
        whole = _Edit(0, length, expected)
        return Normalised(expected, length, (whole,), (len(expected) - length,), (0,))
    return Normalised(result, length, tuple(edits), tuple(shifts), tuple(e.start for e in edits))


# --- UTF-16 ---------------------------------------------------------------------------------------
#
# Browsers count string positions in UTF-16 code units; we store code points. These two helpers are
# the only place the conversion happens, so "🙂 is one code point but two units" is handled once.


def codepoint_to_utf16(text: str, offset: int) -> int:
    """Convert a code-point offset into ``text`` to the UTF-16 offset a browser would use."""
    if not 0 <= offset <= len(text):
        raise ValueError(f"offset {offset} is outside 0..{len(text)}")
    return len(text[:offset].encode("utf-16-le", "surrogatepass")) // 2


def utf16_to_codepoint(text: str, offset: int) -> int:
    """Convert a browser's UTF-16 offset into a code-point offset into ``text``.

    Raises ValueError if the offset is out of range or splits a surrogate pair: such an offset
    cannot come from a correct client, and rounding it would silently move a span.
    """
    units = text.encode("utf-16-le", "surrogatepass")
    if not 0 <= offset <= len(units) // 2:
        raise ValueError(f"UTF-16 offset {offset} is outside 0..{len(units) // 2}")
    prefix = units[: 2 * offset].decode("utf-16-le", "surrogatepass")
    result = len(prefix)
    if codepoint_to_utf16(text, result) != offset:
        raise ValueError(f"UTF-16 offset {offset} falls inside a surrogate pair")
    return result
