"""spaCy: a ``DocBin`` (``.spacy``) with one ``Doc`` per (document, annotation).

* Tokens come from :mod:`projects.domain.exports.tokenize` (cut at every span boundary) and are
  given to ``Doc(words=..., spaces=...)``, so ``doc.text`` is exactly the document text and every
  span is token-aligned: ``span.start_char``/``end_char`` are our offsets. A single space after a
  token becomes that token's trailing space (spaCy's convention); other whitespace is a token of
  its own, as spaCy's own tokenizer makes it, and so is a space that a span begins or ends on.
* ``doc.spans["sc"]``: every span, labelled, with ``span.id_`` the span's id in the tool.
* ``doc.ents``: the spans that do not overlap, chosen as the CoNLL export's first tag column
  (longest first; ties: earlier start, label, id), so the two formats agree.
* ``doc.user_data`` (stored: the DocBin is written with ``store_user_data=True``) has ``id``,
  ``title``, ``meta``, ``split``, ``annotator`` (None for the gold), ``gold``, ``status``,
  ``span_attributes`` (span id -> {attribute: value}), and, unless the options leave them out,
  ``relations`` (list of {source, target, type}, by span id) and ``stances`` (list of {target,
  value}).

A ``DocBin`` is one serialised object that spaCy builds in memory: every Doc's arrays, then a
stacked copy, then the msgpack bytes, then the compressed bytes (about 1.1 GB for 10,000
documents x 2 annotators). So this module writes the same bytes *as a stream* instead
(:class:`DocBinStream`): each Doc's token arrays and span groups go to temporary files as it is
added, and at the end the msgpack message is emitted piece by piece through a zlib compressor.
Memory holds only the distinct strings (token texts and labels) and their vocabulary entries.
The output is byte-identical to ``DocBin(attrs=..., store_user_data=True).to_bytes()`` (a test
checks this), so any spaCy reads it with ``DocBin().from_bytes``, and that test fails first if
a spaCy upgrade changes the format.
Only the token attributes a Doc built here has are stored (text, spaces, entity tags).
"""

from __future__ import annotations

import struct
import tempfile
import zlib
from collections.abc import Iterable
from typing import IO, BinaryIO

import numpy
import srsly.msgpack as msgpack
from spacy.attrs import SPACY
from spacy.tokens import Doc, DocBin, Span
from spacy.vocab import Vocab

from projects.domain.exports.base import ExportContext, Tally, plain_json
from projects.domain.exports.conll import layer_spans
from projects.domain.exports.records import ExportAnnotation, ExportDocument, ExportOptions
from projects.domain.exports.tokenize import pieces

__all__ = ["ATTRS", "SPAN_KEY", "DocBinStream", "build_doc", "words_and_spaces", "write_spacy"]

#: The span group spaCy's SpanCategorizer reads by default.
SPAN_KEY = "sc"
#: The token attributes stored: text (ORTH), and the entity tags that ``doc.ents`` needs.
ATTRS = ("ORTH", "ENT_IOB", "ENT_TYPE")
_CHUNK = 1024 * 1024


def words_and_spaces(
    text: str, starts: Iterable[int], ends: Iterable[int]
) -> tuple[list[str], list[bool]]:
    """Words and trailing-space flags that rebuild ``text`` exactly, with a token edge at every
    span start and end."""
    start_set, end_set = set(starts), set(ends)
    words: list[str] = []
    spaces: list[bool] = []
    for start, end in pieces(text, start_set | end_set):
        if (
            text[start] == " "
            and words
            and not spaces[-1]
            and not words[-1].isspace()
            and start not in start_set
            and start + 1 not in end_set
        ):
            # Fold one space into the previous token, unless a span starts on it or ends right
            # after it: then the space must be a token for the span to have an edge there.
            spaces[-1] = True
            start += 1
            if start == end:
                continue
        words.append(text[start:end])
        spaces.append(False)
    return words, spaces


def build_doc(
    vocab: Vocab, document: ExportDocument, annotation: ExportAnnotation, options: ExportOptions
) -> Doc:
    text = document.text
    words, spaces = words_and_spaces(
        text,
        (span.start for span in annotation.spans),
        (span.end for span in annotation.spans),
    )
    doc = Doc(vocab, words=words, spaces=spaces)
    by_id: dict[tuple[int, int, str, str], Span] = {}
    group: list[Span] = []
    for span in annotation.spans:
        made = doc.char_span(span.start, span.end, label=span.label, span_id=span.id)
        if made is None:  # the tokeniser cuts at every boundary: this would be a bug
            raise ValueError(
                f"span {span.id!r} [{span.start}, {span.end}) of {document.external_id!r} "
                "is not token-aligned"
            )
        group.append(made)
        by_id[(span.start, span.end, span.label, span.id)] = made
    doc.spans[SPAN_KEY] = group
    if annotation.spans:
        first_layer = layer_spans(annotation.spans)[0]
        doc.ents = sorted(
            (by_id[(s.start, s.end, s.label, s.id)] for s in first_layer),
            key=lambda made: made.start,
        )
    doc.user_data.update(_user_data(document, annotation, options))
    return doc


def _user_data(
    document: ExportDocument, annotation: ExportAnnotation, options: ExportOptions
) -> dict[str, object]:
    data: dict[str, object] = {
        "id": document.external_id,
        "title": document.title,
        "meta": plain_json(document.meta),
        "split": document.split,
        "annotator": None if annotation.gold else annotation.annotator,
        "gold": annotation.gold,
        "status": annotation.status,
        "span_attributes": {
            span.id: dict(sorted(span.attributes.items())) for span in annotation.spans
        },
    }
    if options.relations:
        data["relations"] = [
            {"source": r.source, "target": r.target, "type": r.type} for r in annotation.relations
        ]
    if options.stances:
        data["stances"] = [{"target": s.target, "value": s.value} for s in annotation.stances]
    return data


class DocBinStream:
    """Writes what ``DocBin(attrs=ATTRS, store_user_data=True)`` would, without holding the Docs.

    It mirrors ``DocBin.add`` and ``DocBin.to_bytes`` (spaCy 3.8, DocBin version "0.1"): the
    message is a msgpack map of ``version``, ``attrs``, ``tokens`` (every Doc's attribute array,
    uint64, row-major, concatenated), ``spaces``, ``lengths``, ``strings`` (sorted), ``cats``,
    ``flags``, ``span_groups`` and ``user_data``, zlib-compressed. One msgpack packer is reused:
    spaCy makes a new one per call, and each looks up its plug-in encoders through package entry
    points, which was a third of the time per Doc.
    """

    def __init__(self) -> None:
        self.attrs: list[int] = DocBin(attrs=list(ATTRS)).attrs
        self._packer = msgpack.Packer(use_bin_type=True)
        self._tokens: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._spaces: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self._span_groups: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self._user_data: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self._length_list: list[int] = []
        self._strings: set[str] = set()
        self._seen: set[int] = set()
        self._count = 0

    def add(self, doc: Doc) -> None:
        tokens = doc.to_array(self.attrs)
        if len(tokens.shape) == 1:
            tokens = tokens.reshape((tokens.shape[0], 1))
        self._tokens.write(tokens.tobytes("C"))
        self._spaces.write(numpy.asarray(doc.to_array(SPACY), dtype=bool).tobytes("C"))
        self._length_list.append(len(doc))
        # DocBin.add adds each token's text, tag, lemma, norm, morph, dep, entity type, KB id
        # and entity id; a Doc built here has only texts, norms and entity types (the rest are
        # the empty string).
        strings = self._strings
        for orth in set(tokens[:, 0].tolist()) - self._seen:  # ORTH is always attrs[0]
            text = doc.vocab.strings[orth]
            strings.add(text)
            strings.add(doc.vocab[text].norm_)
            self._seen.add(orth)
        if len(doc):
            strings.add("")
        strings.update(ent.label_ for ent in doc.ents)
        groups: dict[bytes, list[str]] = {}
        for key, group in doc.spans.items():
            packed_spans = []
            for span in group:
                strings.add(span.label_)
                if span.kb_id in doc.vocab.strings:
                    strings.add(span.kb_id_)
                if span.id in doc.vocab.strings:
                    strings.add(span.id_)
                packed_spans.append(
                    struct.pack(
                        ">QQQllll",
                        span.id,
                        span.kb_id,
                        span.label,
                        span.start,
                        span.end,
                        span.start_char,
                        span.end_char,
                    )
                )
            group_bytes = self._packer.pack(
                {"name": group.name, "attrs": group.attrs, "spans": packed_spans}
            )
            groups.setdefault(group_bytes, []).append(key)
        span_groups = self._packer.pack(groups if groups else [])
        self._span_groups.write(self._packer.pack(span_groups))
        self._user_data.write(self._packer.pack(self._packer.pack(doc.user_data)))
        self._count += 1

    def write(self, out: BinaryIO) -> None:
        compressor = zlib.compressobj()
        pack = self._packer.pack

        def emit(data: bytes) -> None:
            out.write(compressor.compress(data))

        def emit_file(source: IO[bytes]) -> None:
            source.flush()
            source.seek(0)
            while chunk := source.read(_CHUNK):
                emit(chunk)

        def emit_bin(source: IO[bytes]) -> None:
            emit(_bin_header(source.seek(0, 2)))
            emit_file(source)

        lengths = numpy.asarray(self._length_list, dtype="int32")
        emit(self._packer.pack_map_header(10))
        emit(pack("version") + pack("0.1"))
        emit(pack("attrs") + pack(self.attrs))
        emit(pack("tokens"))
        emit_bin(self._tokens)
        emit(pack("spaces"))
        emit_bin(self._spaces)
        emit(pack("lengths") + pack(lengths.tobytes("C")))
        emit(pack("strings") + pack(sorted(self._strings)))
        emit(pack("cats") + self._packer.pack_array_header(self._count))
        empty = pack({})
        for _ in range(self._count):
            emit(empty)
        emit(pack("flags") + self._packer.pack_array_header(self._count))
        flags = pack({"has_unknown_spaces": False})
        for _ in range(self._count):
            emit(flags)
        emit(pack("span_groups") + self._packer.pack_array_header(self._count))
        emit_file(self._span_groups)
        emit(pack("user_data") + self._packer.pack_array_header(self._count))
        emit_file(self._user_data)
        out.write(compressor.flush())

    def close(self) -> None:
        for file in (self._tokens, self._spaces, self._span_groups, self._user_data):
            file.close()


def _bin_header(size: int) -> bytes:
    """msgpack's header for a byte string of ``size`` bytes (bin 8, 16 or 32)."""
    if size < 2**8:
        return b"\xc4" + size.to_bytes(1, "big")
    if size < 2**16:
        return b"\xc5" + size.to_bytes(2, "big")
    return b"\xc6" + size.to_bytes(4, "big")


def write_spacy(
    documents: Iterable[ExportDocument], out: BinaryIO, context: ExportContext, tally: Tally
) -> None:
    vocab = Vocab()
    stream = DocBinStream()
    try:
        for document in documents:
            for annotation in document.annotations:
                stream.add(build_doc(vocab, document, annotation, context.options))
        stream.write(out)
    finally:
        stream.close()
