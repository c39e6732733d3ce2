from __future__ import annotations

import time
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projects.domain import text as text_module
from projects.domain.text import (
    codepoint_to_utf16,
    normalise,
    normalise_with_map,
    sha256_text,
    utf16_to_codepoint,
)

FAMILY = "\U0001f469\u200d\U0001f469\u200d\U0001f467"  # 👩‍👩‍👧: 5 code points, 8 UTF-16 units
FLAG = "\U0001f1eb\U0001f1f7"  # 🇫🇷: two regional indicators
SMILE = "\U0001f642"  # 🙂
E_ACUTE_DECOMPOSED = "e\u0301"


def test_crlf_and_lone_cr_become_lf() -> None:
    assert normalise("a\r\nb\rc\n\r\n") == "a\nb\nc\n\n"


def test_combining_accent_is_composed_by_nfc() -> None:
    assert normalise("Cafe\u0301") == "Caf\u00e9"


def test_sha256_is_of_the_utf8_bytes() -> None:
    assert sha256_text("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert sha256_text("é") != sha256_text(E_ACUTE_DECOMPOSED)


def test_already_normal_text_maps_every_offset_to_itself() -> None:
    original = f"Smile {SMILE} family {FAMILY} flag {FLAG} 中文 caf\u00e9\n"
    mapped = normalise_with_map(original)
    assert mapped.text == original
    assert not mapped.changed
    assert [mapped.remap(i) for i in range(len(original) + 1)] == list(range(len(original) + 1))


def test_offset_between_cr_and_lf_cannot_be_remapped() -> None:
    mapped = normalise_with_map("ab\r\ncd")
    assert mapped.text == "ab\ncd"
    assert [mapped.remap(i) for i in range(7)] == [0, 1, 2, None, 3, 4, 5]


def test_lone_cr_maps_one_to_one() -> None:
    mapped = normalise_with_map("ab\rcd")
    assert mapped.text == "ab\ncd"
    assert [mapped.remap(i) for i in range(6)] == [0, 1, 2, 3, 4, 5]


def test_offset_between_letter_and_composed_accent_cannot_be_remapped() -> None:
    mapped = normalise_with_map("Cafe\u0301 ok")
    assert mapped.text == "Caf\u00e9 ok"
    assert [mapped.remap(i) for i in range(9)] == [0, 1, 2, 3, None, 4, 5, 6, 7]


def test_reordered_combining_marks_only_map_their_ends() -> None:
    # a + acute (ccc 230) + dot below (ccc 220): NFC reorders, then composes a + dot below.
    original = "xa\u0301\u0323y"
    mapped = normalise_with_map(original)
    assert mapped.text == normalise(original) == "x\u1ea1\u0301y"
    assert [mapped.remap(i) for i in range(6)] == [0, 1, None, None, 3, 4]


def test_hangul_jamo_that_compose_are_one_merged_sequence() -> None:
    mapped = normalise_with_map("a\u1100\u1161b")
    assert mapped.text == "a\uac00b"
    assert [mapped.remap(i) for i in range(5)] == [0, 1, None, 2, 3]


def test_singleton_decomposition_keeps_both_ends() -> None:
    mapped = normalise_with_map("\u212b!")  # ANGSTROM SIGN becomes LATIN CAPITAL A WITH RING
    assert mapped.text == "\u00c5!"
    assert [mapped.remap(i) for i in range(3)] == [0, 1, 2]


def test_offsets_inside_unchanged_emoji_sequences_are_kept() -> None:
    # Code points are the contract; snapping to grapheme clusters is the workspace's job.
    original = f"{FAMILY}\r\n{FLAG}"
    mapped = normalise_with_map(original)
    assert mapped.remap(2) == 2
    assert mapped.remap(5) == 5
    assert mapped.remap(6) is None
    assert mapped.remap(7) == 6
    assert mapped.remap(8) == 7


def test_remap_refuses_offsets_outside_the_original_text() -> None:
    mapped = normalise_with_map("abc")
    with pytest.raises(ValueError):
        mapped.remap(4)
    with pytest.raises(ValueError):
        mapped.remap(-1)
    with pytest.raises(TypeError):
        mapped.remap(True)


def test_spans_over_mixed_text_round_trip_exactly() -> None:
    pieces = [
        "Intro ",
        SMILE,
        " and ",
        FAMILY,
        "\r\n",
        "\u4e2d\u6587\u6587\u672c",
        "\r",
        "Cafe\u0301",
        " ",
        FLAG,
        "\r\n",
        "end",
    ]
    original = "".join(pieces)
    mapped = normalise_with_map(original)
    assert mapped.text == normalise(original)
    assert "\r" not in mapped.text
    position = 0
    for piece in pieces:
        start, end = position, position + len(piece)
        position = end
        new_start, new_end = mapped.remap(start), mapped.remap(end)
        assert new_start is not None and new_end is not None, piece
        assert mapped.text[new_start:new_end] == normalise(piece)


def test_every_character_below_u0300_is_a_stable_starter() -> None:
    # The fast scan in normalise_with_map skips these characters; this is why that is safe.
    seconds = text_module._composition_seconds()
    for code_point in range(0x300):
        char = chr(code_point)
        assert unicodedata.combining(char) == 0
        assert unicodedata.is_normalized("NFC", char)
        assert code_point not in seconds


def test_composition_seconds_include_accents_and_jamo() -> None:
    seconds = text_module._composition_seconds()
    assert 0x0301 in seconds
    assert 0x1161 in seconds
    assert ord("e") not in seconds


def test_a_megabyte_of_text_is_mapped_quickly() -> None:
    original = ("Caf\u00e9 e\u0301 line\r\n " + SMILE + " \u4e2d\u6587 ") * 40_000
    began = time.perf_counter()
    mapped = normalise_with_map(original)
    elapsed = time.perf_counter() - began
    assert mapped.text == normalise(original)
    assert elapsed < 5.0


# --- property: remapped slices equal normalised slices ----------------------------------------

# Tokens whose first character can never merge with what precedes it: an offset in front of one
# of them must always be remappable.
SAFE_TOKENS = ["a", "B", " ", "\u00e9", "\u4e2d", "\u6587", SMILE, FAMILY, FLAG, ".", "\u0434"]
# Tokens that may merge with their neighbours (or change themselves).
MERGING_TOKENS = [
    "\r\n",
    "\r",
    "\n",
    "\u0301",
    "\u0323",
    "\u0308",
    "\u0327",
    "\u1100",
    "\u1161",
    "\u11a8",
    "\u212b",
    "\u0f73",
    "\u0dd9\u0dcf",
]

tokens = st.lists(st.sampled_from(SAFE_TOKENS + MERGING_TOKENS), max_size=40)


@settings(max_examples=300, deadline=None)
@given(tokens, st.data())
def test_remapped_slices_equal_normalised_slices(pieces: list[str], data: st.DataObject) -> None:
    original = "".join(pieces)
    mapped = normalise_with_map(original)
    assert mapped.text == normalise(original)
    assert mapped.remap(0) == 0
    assert mapped.remap(len(original)) == len(mapped.text)

    remapped = [mapped.remap(i) for i in range(len(original) + 1)]
    known = [r for r in remapped if r is not None]
    assert known == sorted(known)
    assert len(set(known)) == len(known)

    # Offsets in front of a safe token are never refused (unless the text before is a CR that
    # the token does not complete - safe tokens never start with "\n", so that cannot happen).
    position = 0
    for piece in pieces:
        if piece in SAFE_TOKENS:
            assert remapped[position] is not None, (original, position)
        position += len(piece)

    a = data.draw(st.integers(0, len(original)))
    b = data.draw(st.integers(a, len(original)))
    if remapped[a] is not None and remapped[b] is not None:
        assert mapped.text[remapped[a] : remapped[b]] == normalise(original[a:b])


# --- UTF-16 -------------------------------------------------------------------------------------


def test_codepoint_offsets_convert_to_utf16_units() -> None:
    sample = f"a{SMILE}b{FAMILY}c\u4e2d"
    assert codepoint_to_utf16(sample, 0) == 0
    assert codepoint_to_utf16(sample, 1) == 1
    assert codepoint_to_utf16(sample, 2) == 3
    assert codepoint_to_utf16(sample, 3) == 4
    assert codepoint_to_utf16(sample, len(sample)) == len(sample.encode("utf-16-le")) // 2


@given(
    st.lists(st.sampled_from(["a", SMILE, "\u4e2d", "\u0301", FLAG, "\n"]), max_size=30).map(
        "".join
    )
)
def test_utf16_helpers_round_trip(sample: str) -> None:
    for offset in range(len(sample) + 1):
        assert utf16_to_codepoint(sample, codepoint_to_utf16(sample, offset)) == offset


def test_utf16_offset_inside_a_surrogate_pair_is_refused() -> None:
    with pytest.raises(ValueError, match="surrogate pair"):
        utf16_to_codepoint(f"a{SMILE}", 2)


def test_out_of_range_offsets_are_refused_in_both_directions() -> None:
    with pytest.raises(ValueError):
        utf16_to_codepoint("ab", 3)
    with pytest.raises(ValueError):
        utf16_to_codepoint("ab", -1)
    with pytest.raises(ValueError):
        codepoint_to_utf16("ab", 3)
