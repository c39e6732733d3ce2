"""write_export: counts, checksums, the manifest, determinism and deterministic archives."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import replace

import pytest

from projects.domain.exports.base import dump_manifest
from projects.domain.exports.records import FORMATS, ExportDocument, ExportOptions
from projects.domain.exports.writer import ZIP_FORMATS, write_export

from .conftest import SCHEME, unicode_document, write


def corpus() -> list[ExportDocument]:
    return [unicode_document("train"), replace(unicode_document("test"), external_id="zz-2")]


SPLITS = (("train", 0.5), ("test", 0.5))


@pytest.mark.parametrize("format", list(FORMATS))
def test_every_format_writes_byte_identical_files_and_manifests_twice(format: str) -> None:
    first, first_summary = write(corpus(), format, splits=SPLITS, agreement={"alpha": 0.71})
    second, second_summary = write(corpus(), format, splits=SPLITS, agreement={"alpha": 0.71})
    assert first == second
    assert first_summary == second_summary
    assert first_summary.manifest == second_summary.manifest


@pytest.mark.parametrize("format", list(FORMATS))
def test_summary_checksum_and_size_describe_the_bytes_written(format: str) -> None:
    data, summary = write(corpus(), format, splits=SPLITS)
    assert summary.size == len(data)
    assert summary.sha256 == hashlib.sha256(data).hexdigest()
    assert summary.file_name == f"demo-{format}{FORMATS[format]}"


def test_the_file_is_written_from_the_current_position_of_out() -> None:
    out = io.BytesIO()
    out.write(b"prefix")
    summary = write_export(
        corpus(),
        out,
        options=ExportOptions(format="jsonl", splits=SPLITS),
        scheme=SCHEME,
        project="demo",
        tool_version="t",
    )
    data = out.getvalue()[len(b"prefix") :]
    assert summary.size == len(data)
    assert summary.sha256 == hashlib.sha256(data).hexdigest()


def test_counts_cover_documents_annotations_spans_relations_stances_per_split() -> None:
    _data, summary = write(corpus(), "jsonl", splits=SPLITS)
    per_document = {"documents": 1, "annotations": 2, "spans": 11, "relations": 3, "stances": 1}
    assert summary.counts == {
        "documents": 2,
        "annotations": 4,
        "spans": 22,
        "relations": 6,
        "stances": 2,
        "splits": {"train": per_document, "test": per_document},
    }


def test_manifest_is_sorted_indented_json_with_a_trailing_newline_and_no_timestamp() -> None:
    _data, summary = write(corpus(), "csv", splits=SPLITS, seed=7)
    text = summary.manifest.decode("utf-8")
    body = json.loads(text)
    assert text == json.dumps(body, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert body["project"] == "demo"
    assert body["format"] == "csv"
    assert body["scheme_version"] == 3
    assert body["tool_version"] == "stance-annotator 0.1.0"
    assert body["options"] == ExportOptions(format="csv", splits=SPLITS, seed=7).as_dict()
    assert body["counts"] == json.loads(json.dumps(summary.counts))
    assert body["files"] == {"demo-csv.csv": {"sha256": summary.sha256, "size": summary.size}}
    assert not any(key in text for key in ("created", "date", "time"))


@pytest.mark.parametrize("format", sorted(ZIP_FORMATS))
def test_zip_formats_carry_the_manifest_inside_with_every_other_members_checksum(
    format: str,
) -> None:
    data, summary = write(corpus(), format, splits=SPLITS)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert names[-1] == "manifest.json"
        inner = json.loads(archive.read("manifest.json"))
        assert set(inner["files"]) == set(names) - {"manifest.json"}
        for name, entry in inner["files"].items():
            content = archive.read(name)
            assert entry == {"sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}
        for info in archive.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.external_attr >> 16 == 0o100644
            assert info.create_system == 3
    outer = json.loads(summary.manifest)
    assert outer["members"] == inner["files"]
    assert {k: v for k, v in outer.items() if k not in ("files", "members")} == {
        k: v for k, v in inner.items() if k != "files"
    }


def test_progress_reports_documents_written_every_hundred_and_at_the_end() -> None:
    reports: list[int] = []
    many = (
        ExportDocument(external_id=f"d{n:04d}", title="t", text="some text") for n in range(250)
    )
    out = io.BytesIO()
    write_export(
        many,
        out,
        options=ExportOptions(),
        scheme=SCHEME,
        project="demo",
        tool_version="t",
        progress=reports.append,
    )
    assert reports == [100, 200, 250]


def test_a_document_in_a_split_the_options_do_not_declare_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match=r"'test'.*train"):
        write([unicode_document("test")], "jsonl")


def test_an_unknown_format_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match="'xml'"):
        write([], "xml")


def test_an_empty_export_still_has_a_file_and_a_manifest() -> None:
    for format in FORMATS:
        _data, summary = write([], format)
        assert summary.counts["documents"] == 0
        assert json.loads(summary.manifest)["counts"]["documents"] == 0


def test_the_fast_manifest_dump_is_exactly_what_json_dumps_gives() -> None:
    files = {f'f{n}/é "x".ann': {"sha256": f"{n:064x}", "size": n} for n in range(50)}
    body = {"project": "p", "files": files, "members": {}, "counts": {"splits": {"train": {}}}}
    expected = json.dumps(body, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert dump_manifest(body) == expected.encode("utf-8")
