"""brat standoff import: real AAEC files as brat 1.3 wrote them, and the odd cases brat allows."""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path

import pytest

from projects.domain.importers import ImportLimits
from projects.domain.problems import Problem
from projects.domain.scheme import SchemeSpec

from .conftest import AAEC_DIR, failure, folder_zip, parse, zipped

AAEC_CORPUS = Path("/work/shared/data/aaec/aaec-step1-brat.zip")


def ann_lines(text: str) -> list[list[str]]:
    """An independent, minimal reading of .ann lines: id, the middle field, the rest."""
    return [line.split("\t") for line in text.splitlines() if line.strip()]


def problem(problems: list[Problem], code: str) -> Problem:
    [found] = [p for p in problems if p.code == code]
    return found


# --- the real thing ----------------------------------------------------------------------------


def test_the_aaec_essays_import_with_every_annotators_spans_relations_and_stances(
    aaec_scheme: SchemeSpec,
) -> None:
    notes: list[Problem] = []
    documents = parse("aaec.zip", folder_zip(AAEC_DIR), scheme=aaec_scheme, notes=notes)
    assert [d.external_id for d in documents] == ["essay199", "essay335"]
    assert notes == []  # annotation.conf is brat's own configuration, not something left out
    for document in documents:
        assert [a.annotator for a in document.annotations] == [
            "annotator1",
            "annotator2",
            "annotator3",
        ]
        assert document.text == (AAEC_DIR / "annotator1" / f"{document.external_id}.txt").read_text(
            encoding="utf-8"
        )
        for annotation in document.annotations:
            ann = AAEC_DIR / str(annotation.annotator) / f"{document.external_id}.ann"
            assert (
                annotation.origin == f"aaec.zip/{annotation.annotator}/{document.external_id}.ann"
            )
            lines = ann_lines(ann.read_text(encoding="utf-8"))
            textbounds = {
                line[0]: (
                    line[1].split()[0],
                    int(line[1].split()[1]),
                    int(line[1].split()[2]),
                    line[2],
                )
                for line in lines
                if line[0].startswith("T")
            }
            assert {
                span.id: (span.label, span.start, span.end, span.text) for span in annotation.spans
            } == textbounds
            for span in annotation.spans:
                assert document.text[span.start : span.end] == span.text
            relations = [line[1].split() for line in lines if line[0].startswith("R")]
            assert [(r.type, r.source, r.target) for r in annotation.relations] == [
                (kind, arg1.removeprefix("Arg1:"), arg2.removeprefix("Arg2:"))
                for kind, arg1, arg2 in relations
            ]
            stances = {
                line[1].split()[1]: line[1].split()[2].lower()
                for line in lines
                if line[0].startswith("A")
            }
            assert {
                span.id: span.attributes["stance"]
                for span in annotation.spans
                if "stance" in span.attributes
            } == stances


@pytest.mark.skipif(not AAEC_CORPUS.exists(), reason=f"the AAEC corpus is not at {AAEC_CORPUS}")
def test_the_whole_aaec_corpus_imports_and_every_t_line_is_a_span(aaec_scheme: SchemeSpec) -> None:
    data = AAEC_CORPUS.read_bytes()
    expected: Counter[tuple[str, str, str]] = Counter()
    with zipfile.ZipFile(AAEC_CORPUS) as archive:
        for name in archive.namelist():
            if not name.endswith(".ann"):
                continue
            folder, file = name.split("/")[-2:]
            for line in ann_lines(archive.read(name).decode("utf-8")):
                expected[(folder, file.removesuffix(".ann"), line[0][0])] += 1
    documents = parse("aaec-step1-brat.zip", data, scheme=aaec_scheme)
    assert len(documents) == 80
    found: Counter[tuple[str, str, str]] = Counter()
    for document in documents:
        for annotation in document.annotations:
            key = (str(annotation.annotator), document.external_id)
            found[(*key, "T")] += len(annotation.spans)
            found[(*key, "R")] += len(annotation.relations)
            found[(*key, "A")] += sum(len(span.attributes) for span in annotation.spans)
            for span in annotation.spans:
                assert document.text[span.start : span.end] == span.text
    assert found == expected
    by_label = Counter(
        (a.annotator, s.label) for d in documents for a in d.annotations for s in a.spans
    )
    # The counts the corpus's README gives.
    assert [by_label[("annotator1", label)] for label in ("MajorClaim", "Claim", "Premise")] == [
        151,
        258,
        749,
    ]
    assert sum(len(a.relations) for d in documents for a in d.annotations) == 748 + 45


# --- text, offsets and quotes ------------------------------------------------------------------


def test_crlf_text_offsets_count_the_cr_as_brat_does_and_move_onto_the_stored_text() -> None:
    text = "First line.\r\nThe claim is here.\r\nLast."
    start = text.index("claim")
    data = zipped(
        {
            "a1/doc.txt": text.encode(),
            "a1/doc.ann": f"T1\tClaim {start} {start + 5}\tclaim\n",
        }
    )
    [document] = parse("crlf.zip", data)
    [span] = document.annotations[0].spans
    assert document.text == "First line.\nThe claim is here.\nLast."
    assert (span.start, span.text) == (start - 1, "claim")


def test_a_span_edge_inside_a_crlf_is_refused_with_its_file_line_and_id() -> None:
    text = "One.\r\nTwo."
    # brat always quotes the text, but the format lets a T line end after its offsets; then only
    # the offsets can be wrong.
    data = zipped({"a1/doc.txt": text, "a1/doc.ann": "T1\tClaim 0 4\tOne.\nT2\tClaim 0 5\n"})
    found = problem(failure("crlf.zip", data), "remap")
    assert (found.file, found.line, found.field) == ("crlf.zip/a1/doc.ann", 2, "T2.offsets")


def test_a_t_line_whose_text_differs_from_the_slice_names_the_file_line_and_id() -> None:
    data = zipped(
        {
            "a1/doc.txt": "Cars pollute cities.",
            "a1/doc.ann": "T1\tClaim 0 4\tCars\nT2\tClaim 5 12\tpolutes\n",
        }
    )
    found = problem(failure("t.zip", data), "mismatch")
    assert (found.file, found.line, found.field) == ("t.zip/a1/doc.ann", 2, "T2.text")
    assert "'polutes'" in found.message and "'pollute'" in found.message


def test_offsets_past_the_text_are_refused() -> None:
    data = zipped({"a1/doc.txt": "Short.", "a1/doc.ann": "T1\tClaim 2 60\tort.\n"})
    found = problem(failure("t.zip", data), "out_of_range")
    assert (found.line, found.field) == (1, "T1.offsets")
    assert "60" in found.message and "length 6" in found.message


def test_a_bom_that_brat_counted_is_not_stored_and_offsets_move_left_by_one() -> None:
    data = zipped(
        {"a1/doc.txt": b"\xef\xbb\xbfHello world", "a1/doc.ann": "T1\tClaim 7 12\tworld\n"}
    )
    [document] = parse("bom.zip", data)
    [span] = document.annotations[0].spans
    assert document.text == "Hello world"
    assert (span.start, span.end, span.text) == (6, 11, "world")


def test_emoji_and_accents_count_as_code_points() -> None:
    text = "Smile 🙂 café ok"
    data = zipped({"a1/doc.txt": text, "a1/doc.ann": "T1\tClaim 8 12\tcafé\n"})
    [document] = parse("u.zip", data)
    assert document.annotations[0].spans[0].text == "café"


# --- discontinuous spans -----------------------------------------------------------------------


def test_fragments_split_only_by_a_line_break_become_one_span_with_a_note() -> None:
    text = "The first half\nand the second half. Rest."
    notes: list[Problem] = []
    data = zipped(
        {"a1/doc.txt": text, "a1/doc.ann": "T1\tClaim 4 14;15 34\tfirst half and the second half\n"}
    )
    [document] = parse("d.zip", data, notes=notes)
    [span] = document.annotations[0].spans
    assert (span.start, span.end, span.text) == (4, 34, "first half\nand the second half")
    [note] = notes
    assert note.code == "ignored" and "discontinuous" in note.message


def test_fragments_with_text_between_them_are_refused() -> None:
    text = "Taxes, in my view, should rise."
    ann = "T1\tClaim 0 5;19 31\tTaxes should rise.\nA1\tStance T1 For\n"
    data = zipped({"a1/doc.txt": text, "a1/doc.ann": ann})
    # One problem: the attribute of the refused span does not add a second.
    [found] = failure("d.zip", data)
    assert (found.code, found.line, found.field) == ("discontinuous", 1, "T1.offsets")
    assert "in my view" in found.message


# --- the scheme --------------------------------------------------------------------------------


def test_labels_attributes_and_relations_are_checked_against_the_scheme_where_brat_put_them(
    aaec_scheme: SchemeSpec,
) -> None:
    text = "Schools matter. Kids learn. Taxes help."
    ann = (
        "T1\tMajorClaim 0 14\tSchools matter\n"
        "T2\tPremise 16 26\tKids learn\n"
        "T3\tOpinion 28 38\tTaxes help\n"
        "A1\tStance T2 Maybe\n"
        "A2\tColour T1 Red\n"
        "R1\tsupports Arg1:T1 Arg2:T2\n"
        "R2\tsupports Arg1:T2 Arg2:T9\n"
    )
    problems = failure("s.zip", zipped({"a1/d.txt": text, "a1/d.ann": ann}), scheme=aaec_scheme)
    located = {(p.code, p.line, p.field) for p in problems}
    assert located == {
        ("unknown_label", 3, "T3.type"),
        ("unknown_value", 4, "A1"),
        ("unknown_attribute", 5, "A2"),
        ("not_allowed", 6, "R1.Arg1"),
        ("unknown_span", 7, "R2.Arg2"),
    }
    assert all(p.file == "s.zip/a1/d.ann" for p in problems)
    assert "'Opinion'" in problem(problems, "unknown_label").message


def test_attribute_names_and_choice_values_match_the_scheme_ignoring_case(
    aaec_scheme: SchemeSpec,
) -> None:
    text = "Taxes should rise."
    ann = "T1\tClaim 0 17\tTaxes should rise\nA1\tSTANCE T1 Against\nA2\tSource T1 The_mayor\n"
    [document] = parse("c.zip", zipped({"a/d.txt": text, "a/d.ann": ann}), scheme=aaec_scheme)
    assert dict(document.annotations[0].spans[0].attributes) == {
        "stance": "against",
        "source": "The_mayor",
    }


def test_without_a_scheme_a_binary_attribute_is_true_and_names_are_kept() -> None:
    ann = "T1\tClaim 0 4\tCars\nA1\tNegated T1\n"
    [document] = parse("b.zip", zipped({"a/d.txt": "Cars pollute.", "a/d.ann": ann}))
    assert dict(document.annotations[0].spans[0].attributes) == {"Negated": "true"}


def test_an_attribute_of_an_unknown_span_and_a_second_value_are_refused() -> None:
    ann = "T1\tClaim 0 4\tCars\nA1\tStance T1 For\nA2\tStance T1 Against\nA3\tStance T7 For\n"
    problems = failure("b.zip", zipped({"a/d.txt": "Cars pollute.", "a/d.ann": ann}))
    assert {(p.code, p.line, p.field) for p in problems} == {
        ("duplicate", 3, "A2"),
        ("unknown_span", 4, "A3"),
    }


# --- what brat has and this tool has not -------------------------------------------------------


def test_events_normalisations_notes_and_equivalences_are_left_out_with_notes() -> None:
    ann = (
        "T1\tClaim 0 4\tCars\n"
        "T2\tRise 5 12\tpollute\n"
        "E1\tRise:T2 Theme:T1\n"
        "A1\tNegation E1\n"
        "R1\tsupports Arg1:T1 Arg2:E1\n"
        "N1\tReference T1 Wikipedia:534366\tCar\n"
        "#1\tAnnotatorNotes T1\tcheck this\n"
        "*\tEquiv T1 T2\n"
    )
    notes: list[Problem] = []
    [document] = parse("e.zip", zipped({"a/d.txt": "Cars pollute.", "a/d.ann": ann}), notes=notes)
    annotation = document.annotations[0]
    assert [s.id for s in annotation.spans] == ["T1", "T2"]  # the trigger span is a T line
    assert annotation.relations == ()
    assert [s.attributes for s in annotation.spans] == [{}, {}]
    messages = " | ".join(n.message for n in notes)
    for what in (
        "event (E)",
        "normalisation (N)",
        "note (#)",
        "equivalence (*)",
        "attributes of events",
        "relations to or from events",
    ):
        assert what in messages
    assert all(n.code == "ignored" and n.file == "e.zip/a/d.ann" for n in notes)


def test_a_line_that_is_not_brat_is_a_parse_error_with_its_line() -> None:
    ann = "T1\tClaim 0 4\tCars\nthis is not brat\nT2\tClaim four 9\tx\nT1\tClaim 0 4\tCars\n"
    problems = failure("p.zip", zipped({"a/d.txt": "Cars pollute.", "a/d.ann": ann}))
    assert [(p.code, p.line) for p in problems] == [("parse", 2), ("parse", 3), ("duplicate", 4)]


# --- folders, annotators and documents ---------------------------------------------------------


def test_one_document_under_three_folders_is_one_document_with_three_annotations() -> None:
    text = "Cars pollute."
    data = zipped(
        {
            "export/ann-b/d.txt": text,
            "export/ann-b/d.ann": "T1\tClaim 0 4\tCars\n",
            "export/ann-a/d.txt": text,
            "export/ann-a/d.ann": "T1\tClaim 5 12\tpollute\n",
            "export/ann-c/d.txt": text,
            "export/ann-c/d.ann": "",
        }
    )
    notes: list[Problem] = []
    [document] = parse("f.zip", data, notes=notes)
    assert [a.annotator for a in document.annotations] == ["ann-a", "ann-b"]
    [note] = notes
    assert "empty or no .ann" in note.message


def test_the_result_does_not_depend_on_the_order_of_the_archive() -> None:
    entries = {
        "b/x.txt": "Text x.",
        "b/x.ann": "T1\tClaim 0 4\tText\n",
        "a/x.txt": "Text x.",
        "a/x.ann": "T1\tClaim 5 6\tx\n",
        "a/w.txt": "Text w.",
    }
    forward = parse("o.zip", zipped(entries))
    backward = parse("o.zip", zipped(dict(reversed(entries.items()))))
    assert forward == backward
    assert [(d.external_id, [a.annotator for a in d.annotations]) for d in forward] == [
        ("w", []),
        ("x", ["a", "b"]),
    ]


def test_a_document_whose_text_differs_between_folders_is_refused_naming_both() -> None:
    data = zipped(
        {
            "a/d.txt": "Cars\npollute.",
            "a/d.ann": "",
            "b/d.txt": "Cars\r\npollute.",
            "b/d.ann": "",
        }
    )
    found = problem(failure("m.zip", data), "mismatch")
    assert found.file == "m.zip/b/d.txt"
    assert "m.zip/a/d.txt" in found.message and "line endings" in found.message


def test_top_level_pairs_need_the_annotator_option_when_they_hold_annotations() -> None:
    data = zipped({"d.txt": "Cars pollute.", "d.ann": "T1\tClaim 0 4\tCars\n", "e.txt": "Plain."})
    found = problem(failure("t.zip", data), "no_annotator")
    assert found.file == "t.zip/d.ann" and "outside any annotator folder" in found.message
    documents = parse("t.zip", data, annotator="ann1")
    assert [(d.external_id, [a.annotator for a in d.annotations]) for d in documents] == [
        ("d", ["ann1"]),
        ("e", []),
    ]


def test_an_ann_without_its_txt_and_a_second_copy_in_one_folder_are_refused() -> None:
    data = zipped(
        {
            "a/d.ann": "T1\tClaim 0 4\tCars\n",
            "x/b/e.txt": "One.",
            "y/b/e.txt": "One.",
        }
    )
    problems = failure("m.zip", data)
    assert {(p.code, p.file) for p in problems} == {
        ("missing", "m.zip/a/d.ann"),
        ("duplicate", "m.zip/y/b/e.txt"),
    }


def test_other_files_are_skipped_with_a_note_and_brat_configuration_silently() -> None:
    data = zipped(
        {
            "annotation.conf": "[entities]\nClaim\n",
            "visual.conf": "",
            "a/d.txt": "Cars.",
            "a/d.ann": "",
            "a/d.a1": "T1\tClaim 0 4\tCars\n",
            "stats.csv": "x",
        }
    )
    notes: list[Problem] = []
    parse("o.zip", data, notes=notes)
    skipped = [n for n in notes if "skipped" in n.message]
    assert (
        len(skipped) == 1 and "'a/d.a1'" in skipped[0].message and ".conf" not in skipped[0].message
    )


def test_zip_safety_and_limits_apply_to_brat_archives() -> None:
    unsafe = zipped({"../a/d.txt": "x", "a/d.ann": "", "a/d.txt": "Cars."})
    assert [p.code for p in failure("u.zip", unsafe)] == ["unsafe_path"]
    many = zipped({f"a/d{i}.txt": "Text." for i in range(3)} | {"a/d0.ann": ""})
    found = problem(failure("m.zip", many, limits=ImportLimits(max_documents=2)), "too_large")
    assert "2 documents" in found.message


# --- this tool's own brat export ---------------------------------------------------------------


def test_our_own_brat_export_reimports_losslessly_gold_ids_stances_and_encoded_names() -> None:
    from tests.domain.exports.conftest import (
        DEMO_DIR,
        export_documents,
        unicode_document,
        write,
    )

    seed = (DEMO_DIR / "seed-annotated.jsonl").read_bytes()
    documents = [*export_documents(parse("seed-annotated.jsonl", seed)), unicode_document()]
    data, _ = write(documents, "brat")
    notes: list[Problem] = []
    back = parse("export.zip", data, notes=notes)
    assert export_documents(back) == sorted(documents, key=lambda d: d.external_id)
    # The only note: the exporter splits spans at line breaks, and they are joined again.
    [note] = notes
    assert "discontinuous" in note.message


def test_a_span_of_line_breaks_only_survives_the_brat_round_trip_through_the_metadata() -> None:
    """brat cannot show it as a T line; the export lists it under left_out, and it comes back."""
    from projects.domain.exports.records import ExportAnnotation, ExportDocument, ExportSpan
    from tests.domain.exports.conftest import export_documents, write

    spans = (ExportSpan("s1", 0, 4, "Claim", "Cars"), ExportSpan("s2", 4, 6, "Claim", "\n\n"))
    document = ExportDocument(
        external_id="d",
        title="t",
        text="Cars\n\nbuses.",
        annotations=(ExportAnnotation("ann1", False, "submitted", spans),),
    )
    data, _ = write([document], "brat")
    back = parse("export.zip", data)
    [annotation] = export_documents(back)[0].annotations
    assert [(s.id, s.start, s.end) for s in annotation.spans] == [("s1", 0, 4), ("s2", 4, 6)]


def test_export_metadata_is_found_under_a_wrapping_folder_and_a_bad_line_is_refused() -> None:
    line = (
        '{"ann": "gold/doc%2F1.ann", "annotator": null, "gold": true, "id": "doc/1", '
        '"meta": {"outlet": "X"}, "spans": {"T1": "g1"}, "split": null, "stances": [], '
        '"status": "submitted", "title": "Doc one"}\n'
    )
    entries = {
        "export/gold/doc%2F1.txt": "US government said so.",
        "export/gold/doc%2F1.ann": "T1\tClaim 0 13\tUS government\nA1\tsource T1 the_US%5Fgov\n",
        "export/metadata.jsonl": line,
    }
    [document] = parse("e.zip", zipped(entries))
    [gold] = document.annotations
    assert (document.external_id, document.title, document.meta) == (
        "doc/1",
        "Doc one",
        {"outlet": "X"},
    )
    assert (gold.gold, gold.annotator, gold.spans[0].id) == (True, None, "g1")
    assert dict(gold.spans[0].attributes) == {"source": "the US_gov"}
    entries["export/metadata.jsonl"] = line + "not json\n"
    [found] = failure("e.zip", zipped(entries))
    assert (found.code, found.file, found.line) == ("parse", "e.zip/export/metadata.jsonl", 2)
