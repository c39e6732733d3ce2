"""CoNLL: BIO tags decode back to every span; tokens and sentences follow the documented rules."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from projects.domain.exports.conll import layer_spans
from projects.domain.exports.records import ExportAnnotation, ExportDocument, ExportSpan
from projects.domain.exports.tokenize import pieces, tokens

from .conftest import unicode_document, write


@dataclass
class Block:
    comments: dict[str, str] = field(default_factory=dict)
    untagged: list[str] = field(default_factory=list)
    sentences: list[list[list[str]]] = field(default_factory=list)


def parse(data: bytes) -> list[Block]:
    """A reader as a consumer would write it from the file header alone."""
    blocks: list[Block] = []
    sentence: list[list[str]] = []
    for line in data.decode("utf-8").split("\n"):
        if line == "-DOCSTART-":
            blocks.append(Block())
            sentence = []
        elif line.startswith("# "):
            if blocks:
                key, _, value = line[2:].partition(" = ")
                if key == "untagged":
                    blocks[-1].untagged.append(value)
                else:
                    blocks[-1].comments[key] = value
        elif not line:
            if sentence:
                blocks[-1].sentences.append(sentence)
            sentence = []
        else:
            sentence.append(line.split("\t"))
    return blocks


def decode(block: Block) -> set[tuple[int, int, str]]:
    """BIO tags of every column back to (start, end, label); a span never crosses a sentence."""
    found: set[tuple[int, int, str]] = set()
    columns = int(block.comments["tag_columns"])
    for sentence in block.sentences:
        for column in range(columns):
            current: list[object] | None = None
            for row in sentence:
                assert len(row) == 3 + columns
                tag, start, end = row[3 + column], int(row[1]), int(row[2])
                if tag.startswith("B-"):
                    if current:
                        found.add((current[0], current[1], current[2]))  # type: ignore[arg-type]
                    current = [start, end, tag[2:]]
                elif tag.startswith("I-"):
                    assert current is not None and current[2] == tag[2:], "I- without B-"
                    current[1] = end
                else:
                    if current:
                        found.add((current[0], current[1], current[2]))  # type: ignore[arg-type]
                    current = None
            if current:
                found.add((current[0], current[1], current[2]))  # type: ignore[arg-type]
    return found


def trimmed(text: str, span: ExportSpan) -> tuple[int, int, str]:
    start, end = span.start, span.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end, span.label)


def test_tags_decode_back_to_every_span_of_every_annotation() -> None:
    document = unicode_document()
    data, _ = write([document], "conll")
    blocks = parse(data)
    assert len(blocks) == len(document.annotations)
    for block, annotation in zip(blocks, document.annotations, strict=True):
        expected = {trimmed(document.text, span) for span in annotation.spans}
        assert decode(block) == expected
        for sentence in block.sentences:
            for row in sentence:
                assert row[0] == document.text[int(row[1]) : int(row[2])]


def test_spans_are_exact_unless_they_begin_or_end_on_whitespace() -> None:
    document = unicode_document()
    data, _ = write([document], "conll")
    decoded = decode(parse(data)[0])
    for span in document.annotations[0].spans:
        if span.text == span.text.strip():
            assert (span.start, span.end, span.label) in decoded


def test_block_comments_name_the_document_annotator_and_split() -> None:
    data, _ = write([unicode_document()], "conll")
    first, gold = parse(data)
    assert first.comments["id"] == "unicode/../doc 1"
    assert first.comments["annotator"] == "annotator1"
    assert first.comments["gold"] == "false"
    assert first.comments["split"] == "train"
    assert gold.comments["annotator"] == "gold" and gold.comments["gold"] == "true"


def test_the_file_header_documents_columns_and_layering() -> None:
    data, _ = write([unicode_document()], "conll")
    head = data.decode("utf-8").split("-DOCSTART-")[0]
    assert "TOKEN START END TAG_1" in head and "layering" in head


def test_overlapping_and_nested_spans_go_to_extra_columns() -> None:
    data, _ = write([unicode_document()], "conll")
    gold = parse(data)[1]
    assert gold.comments["tag_columns"] == "2"  # g1 overlaps both g2 (nested) and g3
    assert decode(gold) == {
        (s.start, s.end, s.label) for s in unicode_document().annotations[1].spans
    }


def test_sentences_break_at_line_ends_and_full_stops_but_never_inside_a_span() -> None:
    text = "First one. Second one.\nThird. Fourth one. fifth."
    spanning = ExportSpan("s1", 6, 29, "Claim", text[6:29])  # "one. Second one.\nThird."
    document = ExportDocument(
        external_id="d",
        title="t",
        text=text,
        annotations=(ExportAnnotation("a", False, "submitted", (spanning,)),),
    )
    data, _ = write([document], "conll")
    [block] = parse(data)
    sentences = [" ".join(row[0] for row in sentence) for sentence in block.sentences]
    assert sentences == [
        "First one . Second one . Third .",
        "Fourth one . fifth .",
    ]
    assert decode(block) == {(6, 29, "Claim")}


def test_a_span_of_whitespace_only_is_listed_not_lost() -> None:
    text = "a  b"
    document = ExportDocument(
        external_id="d",
        title="t",
        text=text,
        annotations=(
            ExportAnnotation("a", False, "submitted", (ExportSpan("w", 1, 3, "Claim", "  "),)),
        ),
    )
    data, _ = write([document], "conll")
    [block] = parse(data)
    assert block.untagged == ["w 1 3 Claim"]


def test_newlines_in_comments_are_escaped() -> None:
    document = ExportDocument(
        external_id="d",
        title="two\nlines",
        text="x",
        annotations=(ExportAnnotation("a", False, "submitted"),),
    )
    data, _ = write([document], "conll")
    [block] = parse(data)
    assert block.comments["title"] == "two\\nlines"


def test_the_tokeniser_covers_the_text_and_cuts_at_every_boundary() -> None:
    text = unicode_document().text
    cover = pieces(text)
    assert "".join(text[a:b] for a, b in cover) == text
    assert [text[a:b] for a, b in tokens(text)][:7] == [
        "Café",
        "owners",
        "🙂",
        "said",
        ":",
        "the",
        "family",
    ]
    assert "👨\u200d👩\u200d👧" in [text[a:b] for a, b in tokens(text)]
    cjk = "中国人民 q\u0307 re-use"
    assert [cjk[a:b] for a, b in tokens(cjk)] == [
        "中",
        "国",
        "人",
        "民",
        "q\u0307",
        "re",
        "-",
        "use",
    ]
    assert [cjk[a:b] for a, b in tokens(cjk, [6, 9])] == [
        "中",
        "国",
        "人",
        "民",
        "q",
        "\u0307",
        "r",
        "e",
        "-",
        "use",
    ]


@settings(max_examples=100, deadline=None)
@given(
    text=st.text(
        alphabet=st.sampled_from(list("ab .,\n\t 🙂中é\u0301\u200d-")), min_size=1, max_size=40
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=40), max_size=8),
)
def test_pieces_cover_any_text_and_include_every_boundary(text: str, cuts: list[int]) -> None:
    cover = pieces(text, cuts)
    assert "".join(text[a:b] for a, b in cover) == text
    assert all(a < b for a, b in cover)
    edges = {a for a, _ in cover} | {b for _, b in cover}
    assert {c for c in cuts if 0 <= c <= len(text)} <= edges | {0, len(text)}
    for a, b in cover:
        chunk = text[a:b]
        assert chunk.isspace() or not any(c.isspace() for c in chunk)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(1, 10)), max_size=12))
def test_layers_never_overlap_and_keep_every_span(extents: list[tuple[int, int]]) -> None:
    spans = [
        ExportSpan(f"s{n}", start, start + length, "L", "")
        for n, (start, length) in enumerate(extents)
    ]
    layers = layer_spans(spans)
    assert sorted(s.id for layer in layers for s in layer) == sorted(s.id for s in spans)
    for layer in layers:
        ordered = sorted(layer, key=lambda s: s.start)
        assert all(a.end <= b.start for a, b in itertools.pairwise(ordered))


def naive_sentence_ends(text: str, spans: list[ExportSpan]) -> list[list[str]]:
    """The sentence rule of the module doc, token by token: the reference for the fast one."""
    pieces = tokens(text, [edge for s in spans for edge in (s.start, s.end)])
    tagged = [trimmed(text, s) for s in spans]  # tags cover a span's tokens, not its whitespace
    covered = [
        any(first < start and end <= last for first, last, _ in tagged) for start, end in pieces
    ]  # the token continues a span that began before it
    sentences: list[list[str]] = [[]]
    for index, (start, end) in enumerate(pieces):
        sentences[-1].append(text[start:end])
        if index + 1 == len(pieces) or covered[index + 1]:
            continue
        following = pieces[index + 1][0]
        gap = text[end:following]
        if "\n" in gap or (
            gap
            and text[start:end] in (".", "!", "?")
            and (text[following].isupper() or text[following].isdigit())
        ):
            sentences.append([])
    return sentences


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list("ab A1.!? \n")), min_size=1, max_size=40).filter(
        lambda t: t.strip()
    ),
    extents=st.lists(st.tuples(st.integers(0, 39), st.integers(1, 8)), max_size=4),
)
def test_sentence_ends_follow_the_documented_rule(
    text: str, extents: list[tuple[int, int]]
) -> None:
    spans = [
        ExportSpan(f"s{n}", start, min(start + length, len(text)), "L", "")
        for n, (start, length) in enumerate(extents)
        if start < len(text) and text[start : start + length].strip()
    ]
    document = ExportDocument(
        external_id="d",
        title="t",
        text=text,
        annotations=(ExportAnnotation("a", False, "submitted", tuple(spans)),),
    )
    data, _ = write([document], "conll")
    [block] = parse(data)
    assert [[row[0] for row in sentence] for sentence in block.sentences] == naive_sentence_ends(
        text, spans
    )
