from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest

from projects.domain.importers import DocumentIn, ImportLimits, parse_upload
from projects.domain.problems import ImportFailed, Problem
from projects.domain.scheme import SchemeSpec


def jsonl(*records: dict[str, Any]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


def failure(filename: str, data: bytes, **kwargs: Any) -> list[Problem]:
    with pytest.raises(ImportFailed) as info:
        parse_upload(filename, data, **kwargs)
    return list(info.value.problems)


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


# --- native JSONL ------------------------------------------------------------------------------


def test_plain_demo_jsonl_imports(demo_dir: Path) -> None:
    [document] = parse_upload("seed.jsonl", (demo_dir / "seed.jsonl").read_bytes())
    assert document.external_id == "voa-2003-04-12-us-china-resolution"
    assert document.title.startswith("US Declines")
    assert document.meta == {"outlet": "Voice of America", "date": "2003-04-12", "language": "en"}
    assert document.annotations == ()
    assert (document.file, document.line) == ("seed.jsonl", 1)


def test_annotated_demo_jsonl_imports_with_its_scheme(
    demo_dir: Path, demo_scheme: SchemeSpec
) -> None:
    raw = json.loads((demo_dir / "seed-annotated.jsonl").read_text(encoding="utf-8"))
    [document] = parse_upload(
        "seed-annotated.jsonl",
        (demo_dir / "seed-annotated.jsonl").read_bytes(),
        scheme=demo_scheme,
    )
    assert [a.annotator for a in document.annotations] == ["annotator1", "annotator2"]
    for annotation, raw_annotation in zip(document.annotations, raw["annotations"], strict=True):
        assert not annotation.gold and annotation.status == "submitted"
        assert len(annotation.spans) == len(raw_annotation["spans"])
        assert len(annotation.relations) == len(raw_annotation["relations"])
        assert annotation.stances[0].value == "neutral"
        for span, raw_span in zip(annotation.spans, raw_annotation["spans"], strict=True):
            assert (span.id, span.start, span.end, span.label) == (
                raw_span["id"],
                raw_span["start"],
                raw_span["end"],
                raw_span["label"],
            )
            assert span.text == document.text[span.start : span.end] == raw_span["text"]
            assert dict(span.attributes) == raw_span["attributes"]
    first = document.annotations[0].relations[0]
    assert (first.source, first.target, first.type) == ("a2", "a1", "supports")


def test_ndjson_extension_and_upper_case_are_accepted() -> None:
    data = jsonl({"id": 7, "text": "Seven."})
    [document] = parse_upload("DATA.NDJSON", data)
    assert (document.external_id, document.title) == ("7", "7")


def test_blank_lines_are_skipped_and_lines_are_physical() -> None:
    data = b'\n{"id": "a", "text": "A."}\n\n   \n{"id": "b", "text": "B."}\n'
    documents = parse_upload("docs.jsonl", data)
    assert [(d.external_id, d.line) for d in documents] == [("a", 2), ("b", 5)]


def _ten_lines() -> list[bytes]:
    return [json.dumps({"id": f"d{i}", "text": f"Text {i}."}).encode() for i in range(1, 11)]


def test_malformed_third_line_of_ten_is_reported_and_nothing_is_returned() -> None:
    lines = _ten_lines()
    lines[2] = b'{"id": "d3", "text": "unterminated}'
    problems = failure("ten.jsonl", b"\n".join(lines))
    assert [(p.line, p.code, p.file) for p in problems] == [(3, "parse", "ten.jsonl")]
    assert problems[0].message.startswith("not valid JSON")


def test_two_bad_lines_are_both_reported() -> None:
    lines = _ten_lines()
    lines[2] = b"[1, 2]"
    lines[6] = json.dumps({"id": "d7"}).encode()
    problems = failure("ten.jsonl", b"\n".join(lines))
    assert [(p.line, p.field) for p in problems] == [(3, None), (7, "text")]


def test_document_record_problems_are_all_reported() -> None:
    data = jsonl({"id": "", "text": 5, "title": 3, "meta": [], "annotations": {}})
    problems = failure("bad.jsonl", data)
    assert [p.field for p in problems] == ["id", "text", "title", "meta", "annotations"]
    assert all(p.line == 1 for p in problems)


def test_duplicate_document_ids_name_both_lines() -> None:
    data = jsonl({"id": "x", "text": "One."}, {"id": "y", "text": "Two."}, {"id": "x", "text": "3"})
    [problem] = failure("dup.jsonl", data)
    assert (problem.code, problem.line, problem.field) == ("duplicate", 3, "id")
    assert "line 1" in problem.message and "line 3" in problem.message


def test_invalid_utf8_names_the_file_line_and_byte_offset() -> None:
    data = b'{"id": "a", "text": "ok"}\n{"id": "b", "text": "caf\xe9"}\n'
    [problem] = failure("latin1.jsonl", data)
    assert (problem.code, problem.file, problem.line) == ("encoding", "latin1.jsonl", 2)
    bad_byte = data.index(b"\xe9")
    assert f"byte offset {bad_byte}" in problem.message
    assert "0xe9" in problem.message


def test_utf8_bom_is_stripped() -> None:
    [document] = parse_upload("bom.jsonl", b"\xef\xbb\xbf" + jsonl({"id": "a", "text": "A."}))
    assert document.external_id == "a"


def test_oversize_file_is_refused_before_parsing() -> None:
    [problem] = failure("big.jsonl", b"x" * 11, limits=ImportLimits(max_file_bytes=10))
    assert problem.code == "too_large"


def test_too_many_documents_are_refused() -> None:
    data = jsonl(*({"id": str(i), "text": "t"} for i in range(3)))
    problems = failure("many.jsonl", data, limits=ImportLimits(max_documents=2))
    assert [(p.code, p.line) for p in problems] == [("too_large", 3)]


def test_overlong_document_is_refused() -> None:
    data = jsonl({"id": "a", "text": "x" * 11})
    [problem] = failure("long.jsonl", data, limits=ImportLimits(max_document_chars=10))
    assert (problem.code, problem.field) == ("too_large", "text")


def test_empty_file_is_refused() -> None:
    [problem] = failure("empty.jsonl", b"\n\n")
    assert problem.code == "empty"


def test_unknown_extension_lists_the_supported_ones() -> None:
    [problem] = failure("report.docx", b"PK")
    assert problem.code == "unsupported"
    assert ".jsonl" in problem.message and ".zip" in problem.message and ".csv" in problem.message


def test_text_that_cannot_be_stored_is_refused() -> None:
    data = b'{"id": "a", "text": "nul \\u0000 here"}\n{"id": "b", "text": "half \\ud83d"}\n'
    problems = failure("odd.jsonl", data)
    assert [(p.line, p.field, p.code) for p in problems] == [
        (1, "text", "encoding"),
        (2, "text", "encoding"),
    ]


def test_text_is_normalised_on_import() -> None:
    [document] = parse_upload("n.jsonl", jsonl({"id": "a", "text": "Cafe\u0301\r\nnext\rlast"}))
    assert document.text == "Caf\u00e9\nnext\nlast"


# --- pre-annotations ---------------------------------------------------------------------------


def annotated(text: str, spans: list[dict[str, Any]], **extra: Any) -> bytes:
    annotation = {"annotator": "ann", "spans": spans, **extra}
    return jsonl({"id": "doc", "text": text, "annotations": [annotation]})


def test_crlf_offsets_are_remapped_onto_the_normalised_text() -> None:
    original = "Title line\r\nThe US will not sponsor it.\r\nCafe\u0301 owners object.\r\n"
    claim = "The US will not sponsor it."
    cafe = "Cafe\u0301 owners object."
    crlf_caf = "\r\nCaf"

    def at(piece: str) -> dict[str, int]:
        return {"start": original.index(piece), "end": original.index(piece) + len(piece)}

    spans = [
        {"id": "c", **at(claim), "label": "Claim", "text": claim},
        {**at(cafe), "label": "Critique"},
        {**at(crlf_caf), "label": "Critique", "text": crlf_caf},
    ]
    [document] = parse_upload("crlf.jsonl", annotated(original, spans))
    assert document.text == "Title line\nThe US will not sponsor it.\nCaf\u00e9 owners object.\n"
    first, second, third = document.annotations[0].spans
    assert (first.id, first.start, first.end) == ("c", 11, 11 + len(claim))
    assert first.text == document.text[first.start : first.end] == claim
    assert (second.id, second.text) == ("s1", "Caf\u00e9 owners object.")
    assert second.text == document.text[second.start : second.end]
    assert third.id == "s2"
    assert third.text == document.text[third.start : third.end] == "\nCaf"


def test_offset_inside_a_merged_sequence_is_refused_with_line_and_field() -> None:
    original = "ab\r\nCafe\u0301"
    spans = [
        {"start": 0, "end": 3, "label": "Claim"},  # ends between \r and \n
        {"start": 4, "end": 8, "label": "Claim"},  # ends between e and its accent
    ]
    problems = failure("merge.jsonl", annotated(original, spans))
    assert [(p.line, p.field, p.code) for p in problems] == [
        (1, "annotations[0].spans[0].end", "remap"),
        (1, "annotations[0].spans[1].end", "remap"),
    ]


def test_span_text_mismatch_names_line_and_field() -> None:
    data = jsonl(
        {"id": "ok", "text": "Fine."},
        {
            "id": "doc",
            "text": "Hello world",
            "annotations": [
                {
                    "annotator": "ann",
                    "spans": [{"start": 0, "end": 5, "label": "X", "text": "Hallo"}],
                }
            ],
        },
    )
    [problem] = failure("mismatch.jsonl", data)
    assert (problem.line, problem.field, problem.code) == (
        2,
        "annotations[0].spans[0].text",
        "mismatch",
    )
    assert "'Hallo'" in problem.message and "'Hello'" in problem.message


def test_span_text_is_checked_against_the_original_not_the_normalised_text() -> None:
    spans = [{"start": 0, "end": 5, "label": "Claim", "text": "Cafe\u0301"}]
    [document] = parse_upload("orig.jsonl", annotated("Cafe\u0301!", spans))
    assert document.annotations[0].spans[0].text == "Caf\u00e9"


def test_unknown_label_is_refused_with_a_scheme_only(demo_scheme: SchemeSpec) -> None:
    data = annotated("Hello world", [{"start": 0, "end": 5, "label": "Premise"}])
    [problem] = failure("labels.jsonl", data, scheme=demo_scheme)
    assert (problem.field, problem.code) == ("annotations[0].spans[0].label", "unknown_label")
    assert parse_upload("labels.jsonl", data)[0].annotations[0].spans[0].label == "Premise"


def test_every_pre_annotation_problem_is_reported(demo_scheme: SchemeSpec) -> None:
    spans = [
        {"id": "a", "start": -1, "end": 5, "label": "Claim"},
        {"id": "b", "start": 0, "end": 99, "label": "Nope"},
        {"id": "c", "start": 0, "end": 5, "label": "Claim", "attributes": {"stance": "x"}},
    ]
    data = annotated(
        "Hello world",
        spans,
        relations=[{"from": "a", "to": "zz", "type": "supports"}],
        stances=[{"target": "Unknown target", "value": "favor"}],
        status="done",
    )
    problems = failure("many.jsonl", data, scheme=demo_scheme)
    assert [p.field for p in problems] == [
        "annotations[0].status",
        "annotations[0].spans[0].start",
        "annotations[0].spans[1].end",
        "annotations[0].spans[1].label",
        "annotations[0].spans[2].attributes.stance",
        "annotations[0].relations[0].to",
        "annotations[0].stances[0].target",
    ]


def test_missing_span_ids_are_assigned_without_colliding() -> None:
    spans = [
        {"start": 0, "end": 1, "label": "X"},
        {"id": "s2", "start": 1, "end": 2, "label": "X"},
        {"start": 2, "end": 3, "label": "X"},
    ]
    [document] = parse_upload("ids.jsonl", annotated("abcd", spans))
    assert [s.id for s in document.annotations[0].spans] == ["s1", "s2", "s3"]


def test_gold_annotation_rules() -> None:
    text = "Hello"
    good = jsonl({"id": "g", "text": text, "annotations": [{"annotator": None, "gold": True}]})
    [document] = parse_upload("gold.jsonl", good)
    assert document.annotations[0].gold and document.annotations[0].annotator is None

    bad = jsonl(
        {
            "id": "g",
            "text": text,
            "annotations": [
                {"annotator": "ann", "gold": True},
                {"gold": False},
                {"gold": True},
                {"gold": True},
                {"annotator": "x", "gold": "yes"},
                {"annotator": "x"},
            ],
        }
    )
    problems = failure("gold.jsonl", bad)
    assert [(p.field, p.code) for p in problems] == [
        ("annotations[0].annotator", "invalid"),
        ("annotations[1].annotator", "invalid"),
        ("annotations[2].gold", "duplicate"),
        ("annotations[3].gold", "duplicate"),
        ("annotations[4].gold", "invalid"),
        ("annotations[5].annotator", "duplicate"),
    ]


def test_non_object_entries_are_reported_by_index() -> None:
    data = annotated("Hello", [{"start": 0, "end": 1, "label": "X"}, "oops"], relations="none")
    problems = failure("shape.jsonl", data)
    assert [p.field for p in problems] == [
        "annotations[0].spans[1]",
        "annotations[0].relations",
    ]


# --- CSV ---------------------------------------------------------------------------------------


def test_csv_with_meta_columns_and_quoted_newlines() -> None:
    data = (
        b"id,title,text,outlet,date\r\n"
        b'd1,First,"Para one.\r\n\r\nPara ""two"".",VOA,2003-04-12\r\n'
        b"d2,,Plain,BBC,2004-01-01\r\n"
    )
    first, second = parse_upload("docs.csv", data)
    assert first.text == 'Para one.\n\nPara "two".'
    assert first.meta == {"outlet": "VOA", "date": "2003-04-12"}
    assert (first.title, first.line) == ("First", 2)
    assert (second.external_id, second.title, second.line) == ("d2", "d2", 5)


def test_csv_header_is_matched_case_insensitively_after_a_bom() -> None:
    [document] = parse_upload("bom.csv", "\ufeffID,Text\r\nx,hello\r\n".encode())
    assert (document.external_id, document.text, document.meta) == ("x", "hello", {})


def test_csv_without_required_columns_is_refused() -> None:
    problems = failure("bad.csv", b"name,body\nx,y\n")
    assert [(p.line, p.field) for p in problems] == [(1, "id"), (1, "text")]


def test_csv_row_problems_name_their_lines() -> None:
    data = b'id,text\na,fine\nb\nc,"multi\nline",extra\n,empty id\n'
    problems = failure("rows.csv", data)
    assert [(p.line, p.field) for p in problems] == [(3, None), (4, None), (6, "id")]


def test_csv_fields_longer_than_the_csv_module_default_are_accepted() -> None:
    text = "word " * 40_000
    data = f'id,text\nlong,"{text}"\n'.encode()
    [document] = parse_upload("long.csv", data)
    assert len(document.text) == len(text)


def test_csv_duplicate_ids_name_both_lines() -> None:
    [problem] = failure("dup.csv", b"id,text\na,one\na,two\n")
    assert (problem.code, problem.line) == ("duplicate", 3)


# --- TXT and ZIP -------------------------------------------------------------------------------


def test_txt_file_is_one_document_named_after_the_file() -> None:
    [document] = parse_upload("uploads/Story One.TXT", "First\r\nSecond \U0001f642".encode())
    assert (document.external_id, document.title) == ("Story One", "Story One")
    assert document.text == "First\nSecond \U0001f642"
    assert document.line is None


def test_zip_of_txt_files_in_folders() -> None:
    data = zipped(
        {
            "corpus/": b"",
            "corpus/a.txt": b"Alpha",
            "corpus/sub/b.txt": "Beta \u4e2d\u6587".encode(),
            "__MACOSX/corpus/._a.txt": b"\x00\x05junk",
            "corpus/.DS_Store": b"\x00junk",
        }
    )
    documents = parse_upload("corpus.zip", data)
    assert [(d.external_id, d.title, d.file) for d in documents] == [
        ("corpus/a", "a", "corpus.zip/corpus/a.txt"),
        ("corpus/sub/b", "b", "corpus.zip/corpus/sub/b.txt"),
    ]
    assert documents[1].text == "Beta \u4e2d\u6587"


def test_zip_entries_that_escape_or_are_not_txt_are_refused() -> None:
    data = zipped({"../evil.txt": b"x", "/etc/passwd.txt": b"x", "ok.txt": b"x", "doc.pdf": b"x"})
    problems = failure("bad.zip", data)
    assert [p.code for p in problems] == ["unsafe_path", "unsafe_path", "unsupported"]
    assert "../evil.txt" in problems[0].message
    assert "doc.pdf" in problems[2].message


def test_zip_entry_with_invalid_utf8_names_the_entry() -> None:
    [problem] = failure("enc.zip", zipped({"a.txt": b"ok\nbad \xff"}))
    assert (problem.code, problem.file, problem.line) == ("encoding", "enc.zip/a.txt", 2)


def test_zip_whose_entries_declare_more_than_the_limit_is_refused() -> None:
    data = zipped({"bomb.txt": b"a" * 1_000_000})
    assert len(data) < 10_000
    [problem] = failure("bomb.zip", data, limits=ImportLimits(max_uncompressed_bytes=100_000))
    assert problem.code == "too_large"


def test_zip_whose_entry_contains_more_than_it_declares_is_refused() -> None:
    data = bytearray(zipped({"liar.txt": b"a" * 1_000_000}))
    # Claim 10 bytes uncompressed in both the local header and the central directory.
    struct.pack_into("<I", data, 22, 10)
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 10)
    problems = failure("liar.zip", bytes(data), limits=ImportLimits(max_uncompressed_bytes=100))
    assert problems[0].code in {"too_large", "parse"}


def test_zip_with_too_many_entries_is_refused() -> None:
    data = zipped({f"{i}.txt": b"x" for i in range(5)})
    [problem] = failure("many.zip", data, limits=ImportLimits(max_zip_entries=4))
    assert problem.code == "too_large"


def test_zip_duplicate_ids_name_both_entries() -> None:
    [problem] = failure("dup.zip", zipped({"a.txt": b"one", "a.TXT": b"two"}))
    assert problem.code == "duplicate"
    assert "dup.zip/a.txt" in problem.message and "dup.zip/a.TXT" in problem.message


def test_a_corrupt_zip_is_refused() -> None:
    [problem] = failure("broken.zip", b"PK\x03\x04 not really a zip")
    assert problem.code == "parse"


def test_documents_carry_file_and_line_for_the_service() -> None:
    [document] = parse_upload("f.jsonl", jsonl({"id": "a", "text": "A."}))
    assert isinstance(document, DocumentIn)
    assert (document.file, document.line) == ("f.jsonl", 1)


def test_a_failed_import_still_hands_back_what_it_could_read(demo_scheme: SchemeSpec) -> None:
    """The caller adds the database's checks (ids taken, annotators who are not members) to
    the same report, so it needs the documents, including one whose span label is wrong, but
    not one whose id is unusable."""
    good = {"id": "ok", "text": "Fine text."}
    flawed = {
        "id": "bad-label",
        "text": "Some text here.",
        "annotations": [{"annotator": "ann", "spans": [{"start": 0, "end": 4, "label": "Nope"}]}],
    }
    no_id = {"text": "No id at all."}
    with pytest.raises(ImportFailed) as caught:
        parse_upload(
            "three.jsonl",
            b"\n".join(json.dumps(r).encode() for r in (good, flawed, no_id)),
            scheme=demo_scheme,
        )
    assert [(d.external_id, d.line) for d in caught.value.documents] == [
        ("ok", 1),
        ("bad-label", 2),
    ]
    assert [a.annotator for a in caught.value.documents[1].annotations] == ["ann"]
    assert not caught.value.truncated
