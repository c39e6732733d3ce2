"""brat standoff: every .ann parses, every T line's text is the .txt slice, names are safe."""

from __future__ import annotations

import hashlib
import io
import json
import re
import urllib.parse
import zipfile
from dataclasses import replace

from projects.domain.exports.brat import METADATA_NAME, brat_name, file_stem, fragments
from projects.domain.exports.records import ExportAnnotation, ExportDocument, ExportSpan

from .conftest import unicode_document, write

T_LINE = re.compile(r"^(T\d+)\t(\S+) (\d+ \d+(?:;\d+ \d+)*)\t(.*)$")
R_LINE = re.compile(r"^(R\d+)\t(\S+) Arg1:(T\d+) Arg2:(T\d+)$")
A_LINE = re.compile(r"^(A\d+)\t(\S+) (T\d+) (\S+)$")


def unbrat(name: str) -> str:
    return urllib.parse.unquote(name.replace("_", " "))


def archive(documents: list[ExportDocument], **options: object) -> zipfile.ZipFile:
    data, _ = write(documents, "brat", **options)  # type: ignore[arg-type]
    return zipfile.ZipFile(io.BytesIO(data))


def parse_ann(content: str) -> tuple[dict, list, list]:
    """A strict .ann reader: every line must be a T, R or A line (brat's own grammar)."""
    spans: dict[str, tuple[str, list[tuple[int, int]], str]] = {}
    relations, attributes = [], []
    for line in content.split("\n")[:-1]:
        if match := T_LINE.match(line):
            t_id, label, offsets, text = match.groups()
            pairs = [tuple(map(int, part.split())) for part in offsets.split(";")]
            spans[t_id] = (label, pairs, text)  # type: ignore[assignment]
        elif match := R_LINE.match(line):
            relations.append(match.groups())
        elif match := A_LINE.match(line):
            attributes.append(match.groups())
        else:
            raise AssertionError(f"not a brat line: {line!r}")
    return spans, relations, attributes


def test_every_t_line_text_is_the_slice_of_the_txt_in_code_points() -> None:
    document = unicode_document()
    with archive([document]) as zipped:
        anns = [name for name in zipped.namelist() if name.endswith(".ann")]
        assert len(anns) == 2
        for name in anns:
            text = zipped.read(name[:-4] + ".txt").decode("utf-8")
            assert text == document.text
            spans, relations, attributes = parse_ann(zipped.read(name).decode("utf-8"))
            for _label, pairs, shown in spans.values():
                assert shown == " ".join(text[start:end] for start, end in pairs)
                assert all("\n" not in text[start:end] for start, end in pairs)
            for _r, _type, source, target in relations:
                assert source in spans and target in spans
            for _a, _name, target, _value in attributes:
                assert target in spans


def test_spans_crossing_a_line_break_become_fragments() -> None:
    document = unicode_document()
    crossing = next(s for s in document.annotations[0].spans if "\n" in s.text)
    with archive([document]) as zipped:
        name = next(
            n for n in zipped.namelist() if n.startswith("annotator1/") and n.endswith(".ann")
        )
        spans, _, _ = parse_ann(zipped.read(name).decode("utf-8"))
    line_break = document.text.index("\n", crossing.start)
    assert (unbrat("Critique"), [(crossing.start, line_break), (line_break + 1, crossing.end)]) in [
        (label, pairs) for label, pairs, _ in spans.values()
    ]


def test_every_span_relation_and_attribute_is_written_and_decodes_back() -> None:
    document = unicode_document()
    with archive([document]) as zipped:
        lines = zipped.read(METADATA_NAME).decode("utf-8").splitlines()
        metadata = {record["ann"]: record for record in map(json.loads, lines)}
        assert len(metadata) == len(document.annotations)
        for annotation in document.annotations:
            folder = "gold" if annotation.gold else annotation.annotator
            stem = f"{folder}/{file_stem(document.external_id)}"
            spans, relations, attributes = parse_ann(zipped.read(f"{stem}.ann").decode("utf-8"))
            sidecar = metadata[f"{stem}.ann"]
            by_t = sidecar["spans"]
            assert len(spans) == len(annotation.spans)
            for t_id, (label, pairs, _shown) in spans.items():
                original = next(s for s in annotation.spans if s.id == by_t[t_id])
                assert unbrat(label) == original.label
                assert (pairs[0][0], pairs[-1][1]) == (original.start, original.end)
            assert sorted(
                (by_t[s], by_t[t], unbrat(kind)) for _, kind, s, t in relations
            ) == sorted((r.source, r.target, r.type) for r in annotation.relations)
            assert sorted((by_t[t], unbrat(n), unbrat(v)) for _, n, t, v in attributes) == sorted(
                (s.id, n, v) for s in annotation.spans for n, v in s.attributes.items()
            )
            assert sidecar["id"] == document.external_id
            assert sidecar["title"] == document.title and sidecar["meta"] == document.meta
            assert sidecar["annotator"] == (None if annotation.gold else annotation.annotator)
            assert sidecar["gold"] == annotation.gold
            assert sidecar["stances"] == [
                {"target": s.target, "value": s.value} for s in annotation.stances
            ]


def test_attribute_values_with_spaces_and_symbols_are_encoded_reversibly() -> None:
    for value in ("US government", "=cmd|' /C calc'!A0", "snake_case", "100%", "Ärger 🙂"):
        encoded = brat_name(value)
        assert not any(c.isspace() for c in encoded)
        assert "|" not in encoded and "," not in encoded
        assert unbrat(encoded) == value
    assert brat_name("US government") == "US_government"


def test_file_names_cannot_escape_their_folder_and_stay_unique() -> None:
    nasty = ["../../etc/passwd", "a/b", "a\\b", "..", ".hidden", "con\x00trol\n", "名前", "x" * 300]
    stems = [file_stem(value) for value in nasty]
    for stem in stems:
        assert "/" not in stem and "\\" not in stem
        assert not stem.startswith(".")
        assert all(c.isprintable() and c.isascii() for c in stem)
        assert len(stem.encode()) <= 200
    assert len(set(stems)) == len(stems)


def test_folders_are_per_annotator_with_gold_apart_even_for_a_user_called_gold() -> None:
    base = unicode_document()
    annotations = (
        replace(base.annotations[0], annotator="gold"),
        replace(base.annotations[0], annotator="../x"),
        base.annotations[1],
    )
    document = replace(base, annotations=annotations)
    twin = replace(document, external_id="UNICODE/../DOC 1")  # differs only by case
    with archive([document, twin]) as zipped:
        names = zipped.namelist()
    folders = {name.split("/")[0] for name in names if "/" in name}
    assert folders == {"gold", f"gold~{hashlib.sha256(b'gold').hexdigest()[:16]}", "%2E.%2Fx"}
    assert len({name.casefold() for name in names}) == len(names)
    for name in names:
        assert not name.startswith("/") and ".." not in name.split("/")


def test_conf_files_declare_labels_relations_and_every_attribute_value_used() -> None:
    with archive([unicode_document()]) as zipped:
        conf = zipped.read("annotation.conf").decode("utf-8")
        visual = zipped.read("visual.conf").decode("utf-8")
    sections = {}
    current = None
    for line in conf.splitlines():
        if line.startswith("["):
            current = line.strip("[]")
            sections[current] = []
        elif current and line and not line.startswith("#"):
            sections[current].append(line)
    assert sections["entities"] == ["Claim", "Justification", "Critique"]
    assert [line.split("\t")[0] for line in sections["relations"]][:2] == ["supports", "attacks"]
    attributes = dict(line.split("\tArg:<ENTITY>, Value:") for line in sections["attributes"])
    assert {unbrat(v) for v in attributes["source"].split("|")} == {
        "café owners",
        "=cmd|' /C calc'!A0",
        "@evil",
    }
    assert attributes["stance"] == "favor"
    assert "Claim | Claim" in visual and "[drawing]" in visual


def test_a_span_of_line_breaks_only_has_no_fragment() -> None:
    assert fragments("a\n\nb", 1, 3) == []
    assert fragments("ab\ncd\u2028ef", 0, 8) == [(0, 2), (3, 5), (6, 8)]
    document = ExportDocument(
        external_id="d",
        title="t",
        text="a\n\nb",
        annotations=(
            ExportAnnotation("x", False, "submitted", (ExportSpan("s", 1, 3, "Claim", "\n\n"),)),
        ),
    )
    with archive([document]) as zipped:
        assert zipped.read("x/d.ann") == b""
        metadata = [json.loads(line) for line in zipped.read(METADATA_NAME).splitlines()]
    # brat cannot show it, but the export never drops it silently
    assert metadata[0]["left_out"] == [{"id": "s", "start": 1, "end": 3, "label": "Claim"}]
