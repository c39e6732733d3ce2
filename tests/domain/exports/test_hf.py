"""Hugging Face: datasets loads the Parquet with the declared features, and rows round-trip."""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import datasets
import pyarrow.parquet as pq
import pytest
import yaml

from projects.domain.exports import hf
from projects.domain.exports.base import ExportContext
from projects.domain.exports.records import ExportDocument, ExportOptions

from .conftest import SCHEME, unicode_document, write

SPLITS = (("train", 0.5), ("validation", 0.25), ("test", 0.25))


def corpus() -> list[ExportDocument]:
    return [
        unicode_document("train"),
        replace(unicode_document("test"), external_id="zz-test-doc"),
    ]


def unpack(data: bytes, folder: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(folder)
    return folder


def load(folder: Path, cache: Path) -> datasets.DatasetDict:
    result = datasets.load_dataset(str(folder), cache_dir=str(cache))
    assert isinstance(result, datasets.DatasetDict)
    return result


def declared(**options: object) -> datasets.Features:
    context = ExportContext(
        options=ExportOptions(format="hf", **options),  # type: ignore[arg-type]
        scheme=SCHEME,
        project="demo",
        tool_version="t",
    )
    return datasets.Features.from_dict(hf.features(context))


def test_datasets_loads_every_nonempty_split_with_the_declared_features(tmp_path: Path) -> None:
    data, _ = write(corpus(), "hf", splits=SPLITS)
    loaded = load(unpack(data, tmp_path / "export"), tmp_path / "cache")
    assert set(loaded) == {"train", "test"}  # validation has no document: not declared
    for split in loaded.values():
        assert split.features == declared(splits=SPLITS)
    label = loaded["train"].features["spans"].feature["label"]
    assert isinstance(label, datasets.ClassLabel)
    assert label.names == list(SCHEME.labels)


def test_rows_round_trip_to_the_records(tmp_path: Path) -> None:
    documents = corpus()
    data, _ = write(documents, "hf", splits=SPLITS)
    loaded = load(unpack(data, tmp_path / "export"), tmp_path / "cache")
    names = list(SCHEME.labels)
    for document in documents:
        rows = [row for row in loaded[document.split] if row["id"] == document.external_id]
        assert len(rows) == len(document.annotations)
        for row, annotation in zip(rows, document.annotations, strict=True):
            assert row["title"] == document.title and row["text"] == document.text
            assert json.loads(row["meta"]) == document.meta
            assert row["annotator"] == (None if annotation.gold else annotation.annotator)
            assert row["gold"] is annotation.gold and row["status"] == annotation.status
            assert [
                (
                    s["id"],
                    s["start"],
                    s["end"],
                    names[s["label"]],
                    s["text"],
                    s["source"],
                    s["stance"],
                )
                for s in row["spans"]
            ] == [
                (
                    s.id,
                    s.start,
                    s.end,
                    s.label,
                    s.text,
                    s.attributes.get("source"),
                    s.attributes.get("stance"),
                )
                for s in annotation.spans
            ]
            for s in row["spans"]:
                assert row["text"][s["start"] : s["end"]] == s["text"]
            assert row["relations"] == [
                {"source": r.source, "target": r.target, "type": r.type}
                for r in annotation.relations
            ]
            assert row["stances"] == [
                {"target": s.target, "value": s.value} for s in annotation.stances
            ]


def test_parquet_can_be_loaded_directly_and_restores_the_class_label(tmp_path: Path) -> None:
    data, _ = write(corpus(), "hf", splits=SPLITS)
    folder = unpack(data, tmp_path / "export")
    loaded = datasets.load_dataset(
        "parquet",
        data_files={"train": str(folder / "data/train-00000-of-00001.parquet")},
        cache_dir=str(tmp_path / "cache"),
    )
    assert loaded["train"].features == declared(splits=SPLITS)


def test_relations_and_stances_left_out_are_not_columns(tmp_path: Path) -> None:
    data, _ = write(corpus(), "hf", splits=SPLITS, relations=False, stances=False)
    loaded = load(unpack(data, tmp_path / "export"), tmp_path / "cache")
    assert "relations" not in loaded["train"].column_names
    assert "stances" not in loaded["train"].column_names
    assert loaded["train"].features == declared(relations=False, stances=False)


def test_the_card_front_matter_is_yaml_that_datasets_reads_back() -> None:
    data, _ = write(corpus(), "hf", splits=SPLITS, agreement={"span_alpha": 0.61, "n": 2})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        card = archive.read("README.md").decode("utf-8")
    _, front, body = card.split("---\n", 2)
    meta = yaml.safe_load(front)
    assert meta["configs"] == [
        {
            "config_name": "default",
            "data_files": [
                {"split": "train", "path": "data/train-00000-of-00001.parquet"},
                {"split": "test", "path": "data/test-00000-of-00001.parquet"},
            ],
        }
    ]
    info = datasets.DatasetInfo._from_yaml_dict(meta["dataset_info"])
    assert info.features == declared(splits=SPLITS)
    assert {name: split.num_examples for name, split in info.splits.items()} == {
        "train": 2,
        "test": 2,
    }
    assert "| validation | 0 | 0 | 0 | 0 | 0 |" in body
    assert '"span_alpha": 0.61' in body
    assert "- 0: Claim" in body


def test_yaml_strings_survive_line_separators_quotes_and_emoji() -> None:
    hostile = 'a "quoted"\\ label\u2028with\x85breaks\ttab 🙂 é'
    assert yaml.safe_load(f"key: {hf._yaml_string(hostile)}") == {"key": hostile}


def test_rows_are_written_in_row_groups_as_they_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hf, "ROW_GROUP_ROWS", 2)
    documents = [replace(unicode_document("train"), external_id=f"doc-{n}") for n in range(5)]
    data, _ = write(documents, "hf")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parquet = pq.ParquetFile(io.BytesIO(archive.read("data/train-00000-of-00001.parquet")))
    assert parquet.metadata.num_rows == 10
    assert parquet.metadata.num_row_groups == 5
    assert b"huggingface" in parquet.schema_arrow.metadata


def test_a_label_outside_the_scheme_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match="label 'Justification', which is not among"):
        write(corpus(), "hf", splits=SPLITS, scheme=replace(SCHEME, labels=("Claim", "Rumour")))


def test_an_empty_export_has_a_card_whose_front_matter_still_parses() -> None:
    data, summary = write([], "hf")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert not [n for n in archive.namelist() if n.endswith(".parquet")]
        front = archive.read("README.md").decode("utf-8").split("---\n", 2)[1]
    meta = yaml.safe_load(front)
    assert meta["configs"][0]["data_files"] == []
    assert meta["dataset_info"]["splits"] == []
    assert summary.counts["documents"] == 0
