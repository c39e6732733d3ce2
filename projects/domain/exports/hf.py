"""Hugging Face ``datasets``: a zip of Parquet files, one per split, and a dataset card.

Layout (the Hub's convention, so ``load_dataset("<unzipped folder>")`` finds everything)::

    README.md                              dataset card: YAML front matter + prose
    data/train-00000-of-00001.parquet      one file per split the options declare, except
    data/validation-00000-of-00001.parquet  splits with no rows: ``datasets`` refuses to load an
    data/test-00000-of-00001.parquet        empty split, so the card declares only the others
    manifest.json

One row per (document, annotation). Columns, in order: ``id``, ``title``, ``text``, ``meta`` (the
document's metadata as a JSON string: free-form JSON has no fixed Arrow type), ``annotator``
(null for the gold), ``gold``, ``status``, ``spans`` (a list of {``id``, ``start``, ``end``,
``label`` (a ``ClassLabel`` over the scheme's labels, in scheme order), ``text``, then one string
per scheme attribute, null when unset}), and, unless the options leave them out, ``relations``
(list of {``source``, ``target``, ``type``}, endpoints by span id) and ``stances`` (list of
{``target``, ``value``}). Offsets are code points of ``text``.

Each Parquet file carries the ``huggingface`` schema metadata ``{"info": {"features": …}}``
that ``datasets`` writes itself, so loading restores the ``ClassLabel`` (label names, not just
integers). Files are written as the documents stream, in row groups of :data:`ROW_GROUP_ROWS`
rows, to temporary files (one per split, since splits interleave in id order), then copied into
the archive: memory holds one row group per split, never the dataset.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterable, Mapping
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from projects.domain.exports.base import ExportContext, Tally, ZipSink, plain_json
from projects.domain.exports.records import ExportAnnotation, ExportDocument, ExportScheme

__all__ = ["ROW_GROUP_ROWS", "data_file", "features", "write_hf"]

#: Rows per Parquet row group: big enough to compress well, small enough that one group per split
#: stays a few megabytes.
ROW_GROUP_ROWS = 1000
#: ... or fewer, when the texts are long: a row group is flushed once its texts reach this size.
ROW_GROUP_CHARS = 16 * 1024 * 1024
_SPAN_FIXED = ("id", "start", "end", "label", "text")


def data_file(split: str) -> str:
    return f"data/{split}-00000-of-00001.parquet"


def _attribute_fields(scheme: ExportScheme) -> list[tuple[str, str]]:
    """(column name, attribute name): a clash with a fixed span field gets ``attribute_``."""
    return [
        (f"attribute_{name}" if name in _SPAN_FIXED else name, name) for name in scheme.attributes
    ]


def _string() -> dict[str, object]:
    return {"dtype": "string", "_type": "Value"}


def features(context: ExportContext) -> dict[str, object]:
    """The ``datasets`` features, as ``Features.to_dict()`` writes them."""
    scheme = context.scheme
    span: dict[str, object] = {
        "id": _string(),
        "start": {"dtype": "int32", "_type": "Value"},
        "end": {"dtype": "int32", "_type": "Value"},
        "label": {"names": list(scheme.labels), "_type": "ClassLabel"},
        "text": _string(),
    }
    for column, _name in _attribute_fields(scheme):
        span[column] = _string()
    result: dict[str, object] = {
        "id": _string(),
        "title": _string(),
        "text": _string(),
        "meta": _string(),
        "annotator": _string(),
        "gold": {"dtype": "bool", "_type": "Value"},
        "status": _string(),
        "spans": {"feature": span, "_type": "List"},
    }
    if context.options.relations:
        result["relations"] = {
            "feature": {"source": _string(), "target": _string(), "type": _string()},
            "_type": "List",
        }
    if context.options.stances:
        result["stances"] = {
            "feature": {"target": _string(), "value": _string()},
            "_type": "List",
        }
    return result


_ARROW_TYPES = {"string": pa.string(), "int32": pa.int32(), "bool": pa.bool_()}


def _arrow_type(feature: Mapping[str, Any]) -> pa.DataType:
    kind = feature["_type"]
    if kind == "Value":
        return _ARROW_TYPES[feature["dtype"]]
    if kind == "ClassLabel":
        return pa.int64()
    if kind == "List":
        inner = feature["feature"]
        return pa.list_(
            pa.struct([pa.field(name, _arrow_type(sub)) for name, sub in inner.items()])
        )
    raise ValueError(f"no Arrow type for feature {feature!r}")


def _schema(feature_dict: Mapping[str, Any]) -> pa.Schema:
    fields = [pa.field(name, _arrow_type(feature)) for name, feature in feature_dict.items()]
    metadata = {"huggingface": json.dumps({"info": {"features": feature_dict}})}
    return pa.schema(fields, metadata=metadata)


class _SplitFile:
    """One split's Parquet file, written row group by row group to a temporary file."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self.file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self.writer = pq.ParquetWriter(self.file, schema, compression="zstd")
        self.rows: list[dict[str, object]] = []
        self.chars = 0
        self.count = 0
        #: Arrow bytes of the rows written: the card's ``num_bytes``, as ``datasets`` counts it.
        self.nbytes = 0

    def add(self, row: dict[str, object], chars: int) -> None:
        self.rows.append(row)
        self.chars += chars
        self.count += 1
        if len(self.rows) >= ROW_GROUP_ROWS or self.chars >= ROW_GROUP_CHARS:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            table = pa.Table.from_pylist(self.rows, schema=self.schema)
            self.writer.write_table(table)
            self.nbytes += table.nbytes
            self.rows = []
            self.chars = 0

    def finish(self) -> int:
        """Close the Parquet writer; the size of the finished file."""
        self.flush()
        self.writer.close()
        self.file.flush()
        return self.file.seek(0, 2)

    def close(self) -> None:
        if self.writer.is_open:  # only after a failure: finish() closes it otherwise
            with contextlib.suppress(Exception):
                self.writer.close()
        self.file.close()


def _row(
    document: ExportDocument,
    annotation: ExportAnnotation,
    context: ExportContext,
    label_ids: Mapping[str, int],
    attribute_fields: list[tuple[str, str]],
) -> dict[str, object]:
    spans = []
    for span in annotation.spans:
        label = label_ids.get(span.label)
        if label is None:
            raise ValueError(
                f"span {span.id!r} of {document.external_id!r} has label {span.label!r}, which "
                f"is not among the scheme's labels ({', '.join(label_ids)}): the ClassLabel "
                "feature needs every label, retired ones included"
            )
        record: dict[str, object] = {
            "id": span.id,
            "start": span.start,
            "end": span.end,
            "label": label,
            "text": span.text,
        }
        for column, name in attribute_fields:
            record[column] = span.attributes.get(name)
        spans.append(record)
    row: dict[str, object] = {
        "id": document.external_id,
        "title": document.title,
        "text": document.text,
        "meta": json.dumps(plain_json(document.meta), ensure_ascii=False, sort_keys=True),
        "annotator": None if annotation.gold else annotation.annotator,
        "gold": annotation.gold,
        "status": annotation.status,
        "spans": spans,
    }
    if context.options.relations:
        row["relations"] = [
            {"source": r.source, "target": r.target, "type": r.type} for r in annotation.relations
        ]
    if context.options.stances:
        row["stances"] = [{"target": s.target, "value": s.value} for s in annotation.stances]
    return row


def write_hf(
    documents: Iterable[ExportDocument], sink: ZipSink, context: ExportContext, tally: Tally
) -> None:
    feature_dict = features(context)
    schema = _schema(feature_dict)
    label_ids = {label: index for index, label in enumerate(context.scheme.labels)}
    attribute_fields = _attribute_fields(context.scheme)
    splits = [name for name, _ratio in context.options.splits]
    files: dict[str, _SplitFile] = {}
    try:
        for name in splits:
            files[name] = _SplitFile(schema)
        for document in documents:
            target = files[document.split]
            for annotation in document.annotations:
                row = _row(document, annotation, context, label_ids, attribute_fields)
                target.add(row, len(document.text))
        sizes: dict[str, tuple[int, int]] = {}
        for name in splits:
            split_file = files[name]
            size = split_file.finish()
            if split_file.count:
                sink.add_file(data_file(name), split_file.file, size)
                sizes[name] = (split_file.count, split_file.nbytes)
    finally:
        for split_file in files.values():
            split_file.close()
    card = dataset_card(context, feature_dict, tally.as_dict(), sizes)
    sink.add_bytes("README.md", card.encode("utf-8"))


# --- the dataset card ----------------------------------------------------------------------------


def _yaml_string(value: str) -> str:
    """A YAML double-quoted scalar: JSON's escapes are YAML's too, and every character YAML
    would read as a line break or refuse as unprintable is escaped."""
    out = ['"']
    for char in value:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif code > 0x7F and char.isprintable() and char not in "\u2028\u2029\ufeff":
            out.append(char)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _yaml_features(feature_dict: Mapping[str, Any], indent: str) -> list[str]:
    """``dataset_info.features`` in the card's list form (what ``Features._to_yaml_list`` gives)."""
    lines: list[str] = []
    for name, feature in feature_dict.items():
        lines.append(f"{indent}- name: {_yaml_string(name)}")
        kind = feature["_type"]
        if kind == "Value":
            lines.append(f"{indent}  dtype: {feature['dtype']}")
        elif kind == "ClassLabel":
            lines.append(f"{indent}  dtype:")
            lines.append(f"{indent}    class_label:")
            if feature["names"]:
                lines.append(f"{indent}      names:")
                for number, label in enumerate(feature["names"]):
                    lines.append(
                        f"{indent}        {_yaml_string(str(number))}: {_yaml_string(label)}"
                    )
            else:
                lines.append(f"{indent}      names: {{}}")
        elif kind == "List":
            lines.append(f"{indent}  list:")
            lines.extend(_yaml_features(feature["feature"], indent + "  "))
        else:
            raise ValueError(f"no YAML form for feature {feature!r}")
    return lines


def _markdown_cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def dataset_card(
    context: ExportContext,
    feature_dict: Mapping[str, Any],
    counts: Mapping[str, Any],
    written: Mapping[str, tuple[int, int]],
) -> str:
    """The README.md; ``written`` maps each split that has a file to its (rows, Arrow bytes)."""
    options = context.options
    scheme = context.scheme
    splits = [name for name, _ratio in options.splits]
    front = [
        "---",
        "configs:",
        "- config_name: default",
        "  data_files:",
    ]
    if not written:
        front[-1] += " []"
    for name in written:
        front.append(f"  - split: {_yaml_string(name)}")
        front.append(f"    path: {_yaml_string(data_file(name))}")
    front.append("dataset_info:")
    front.append("  features:")
    front.extend(_yaml_features(feature_dict, "  "))
    front.append("  splits:" if written else "  splits: []")
    for name, (rows, nbytes) in written.items():
        front.append(f"  - name: {_yaml_string(name)}")
        front.append(f"    num_bytes: {nbytes}")
        front.append(f"    num_examples: {rows}")
    front.append("---")

    per_split: Mapping[str, Mapping[str, int]] = counts["splits"]
    body = [
        "",
        f"# {_markdown_cell(context.project)}",
        "",
        f"Exported by stance-annotator {_markdown_cell(context.tool_version)} from project "
        f"`{_markdown_cell(context.project)}` (scheme version {scheme.version}). One row per "
        "document and annotation; span offsets are `[start, end)` in Unicode code points of "
        "`text`, and every span carries its `text` so the offsets can be checked.",
        "",
        "## Options",
        "",
        f"- annotations: `{options.annotations}`"
        + {
            "gold": " (the adjudicated gold only)",
            "all": " (every annotator's, plus the gold where there is one)",
            "merged": " (a majority merge of the annotators' work, annotator `merged`)",
        }.get(options.annotations, ""),
        f"- unfinished work included: {'yes' if options.include_unfinished else 'no'}",
        "- splits: "
        + ", ".join(f"{name} {ratio:g}" for name, ratio in options.splits)
        + f" (seed {options.seed}; by a hash of the document id, so a document keeps its split)",
        f"- relations: {'yes' if options.relations else 'no'}; "
        f"stances: {'yes' if options.stances else 'no'}",
        "",
        "## Counts",
        "",
        "| split | documents | rows | spans | relations | stances |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in splits:
        c = per_split[name]
        body.append(
            f"| {name} | {c['documents']} | {c['annotations']} | {c['spans']} | "
            f"{c['relations']} | {c['stances']} |"
        )
    body.append(
        f"| **all** | {counts['documents']} | {counts['annotations']} | {counts['spans']} | "
        f"{counts['relations']} | {counts['stances']} |"
    )
    body += ["", "## Labels", "", "`spans.label` is a `ClassLabel`:", ""]
    body += [f"- {index}: {_markdown_cell(label)}" for index, label in enumerate(scheme.labels)]
    if scheme.relation_types:
        body += ["", "Relation types: " + ", ".join(f"`{t}`" for t in scheme.relation_types)]
    if scheme.stance_targets:
        body += ["", "Stance targets: " + ", ".join(f"`{t}`" for t in scheme.stance_targets)]
    if scheme.stance_values:
        body += ["", "Stance values: " + ", ".join(f"`{v}`" for v in scheme.stance_values)]
    body += [
        "",
        "## Fields",
        "",
        "| field | content |",
        "| --- | --- |",
        "| `id` | the document's id in the project |",
        "| `title`, `text` | the document; `text` is normalised (LF line ends, NFC) |",
        "| `meta` | the document's metadata, a JSON object as a string |",
        "| `annotator` | who annotated; null for the gold (adjudicated) annotation |",
        "| `gold` | true for the gold annotation |",
        "| `status` | `submitted` or `in_progress` |",
        "| `spans` | `id`, `start`, `end`, `label`, `text`, and one string per span attribute"
        + "".join(f", `{column}`" for column, _ in _attribute_fields(scheme))
        + " (null when unset) |",
    ]
    if options.relations:
        body.append("| `relations` | `source` → `target` (span ids), `type` |")
    if options.stances:
        body.append("| `stances` | document-level stance: `target`, `value` |")
    if context.agreement is not None:
        body += [
            "",
            "## Agreement",
            "",
            "Inter-annotator agreement of the project when it was exported:",
            "",
            "```json",
            json.dumps(plain_json(context.agreement), indent=2, sort_keys=True, ensure_ascii=False),
            "```",
        ]
    body += [
        "",
        "## Loading",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        'dataset = load_dataset("path/to/unzipped/folder")',
        'labels = dataset["'
        + next(iter(written), splits[0])
        + '"].features["spans"].feature["label"].names',
        "```",
        "",
    ]
    return "\n".join(front + body)
