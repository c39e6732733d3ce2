"""spaCy: the DocBin loads, and every span has its label, characters and offsets."""

from __future__ import annotations

import itertools

import spacy
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

from projects.domain.exports.records import (
    ExportAnnotation,
    ExportDocument,
    ExportOptions,
    ExportSpan,
)
from projects.domain.exports.spacy import ATTRS, SPAN_KEY, build_doc, words_and_spaces

from .conftest import unicode_document, write


def load(data: bytes) -> list[Doc]:
    nlp = spacy.blank("xx")
    return list(DocBin().from_bytes(data).get_docs(nlp.vocab))


def test_every_span_has_its_label_characters_and_offsets_on_unicode_text() -> None:
    document = unicode_document()
    data, _ = write([document], "spacy")
    docs = load(data)
    assert len(docs) == len(document.annotations)
    for doc, annotation in zip(docs, document.annotations, strict=True):
        assert doc.text == document.text
        group = doc.spans[SPAN_KEY]
        assert len(group) == len(annotation.spans)
        for made, span in zip(group, annotation.spans, strict=True):
            assert made.label_ == span.label
            assert made.id_ == span.id
            assert (made.start_char, made.end_char) == (span.start, span.end)
            assert made.text == document.text[span.start : span.end] == span.text


def test_the_unicode_cases_are_really_there() -> None:
    texts = {span.text for span in unicode_document().annotations[0].spans}
    assert "🙂" in texts
    assert any("👨\u200d👩\u200d👧" in text for text in texts)
    assert "人民" in texts and "q\u0307uiet" in texts and "talks  " in texts


def test_ents_are_the_spans_that_do_not_overlap_longest_first() -> None:
    document = unicode_document()
    data, _ = write([document], "spacy")
    first, gold = load(data)
    # Gold: g1 "Café owners 🙂 said" contains g2 and overlaps g3; the longest wins.
    assert [(e.text, e.label_) for e in gold.ents] == [("Café owners 🙂 said", "Claim")]
    ents = [(e.start_char, e.end_char) for e in first.ents]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(ents))
    # e3 crosses a line and contains e4 "人民": the longer e3 is the entity, e4 is not.
    assert ("👨\u200d👩\u200d👧 agrees.\n中国人民", "Critique") in [
        (e.text, e.label_) for e in first.ents
    ]
    assert ("人民", "Claim") not in [(e.text, e.label_) for e in first.ents]


def test_user_data_carries_ids_annotator_split_attributes_relations_and_stances() -> None:
    document = unicode_document()
    data, _ = write([document], "spacy")
    first, gold = load(data)
    assert first.user_data["id"] == document.external_id
    assert first.user_data["annotator"] == "annotator1" and first.user_data["gold"] is False
    assert gold.user_data["annotator"] is None and gold.user_data["gold"] is True
    assert first.user_data["split"] == "train" and first.user_data["status"] == "submitted"
    # spaCy's msgpack reads JSON arrays back as tuples.
    assert first.user_data["meta"] == {"a": {"nested": ("x", "ÿ")}, "z": 1}
    assert first.user_data["span_attributes"]["e1"] == {"source": "café owners"}
    assert first.user_data["relations"] == (
        {"source": "e2", "target": "e1", "type": "supports"},
        {"source": "e8", "target": "e7", "type": "attacks"},
    )
    assert first.user_data["stances"] == (
        {
            "target": "The US decision not to sponsor a UN resolution critical of China",
            "value": "neutral",
        },
    )


def test_relations_and_stances_left_out_are_absent_from_user_data() -> None:
    data, _ = write([unicode_document()], "spacy", relations=False, stances=False)
    for doc in load(data):
        assert "relations" not in doc.user_data and "stances" not in doc.user_data


def test_a_span_that_begins_or_ends_on_a_space_gets_a_space_token() -> None:
    text = "one two  three four"
    starts, ends = [3, 8, 14], [8, 13, 15]  # " two ", " thre", " "
    words, spaces = words_and_spaces(text, starts, ends)
    assert "".join(w + (" " if s else "") for w, s in zip(words, spaces, strict=True)) == text
    document = ExportDocument(
        external_id="d",
        title="t",
        text=text,
        annotations=(
            ExportAnnotation(
                "a",
                False,
                "submitted",
                (
                    ExportSpan("a", 3, 8, "Claim", text[3:8]),
                    ExportSpan("b", 8, 13, "Critique", text[8:13]),
                    ExportSpan("c", 14, 15, "Claim", " "),
                ),
            ),
        ),
    )
    data, _ = write([document], "spacy")
    [doc] = load(data)
    assert [(s.start_char, s.end_char, s.text) for s in doc.spans[SPAN_KEY]] == [
        (3, 8, " two "),
        (8, 13, " thre"),
        (14, 15, " "),
    ]


def test_plain_single_spaces_become_trailing_spaces_like_spacys_own_tokenizer() -> None:
    words, spaces = words_and_spaces("Hello, big world.\n\nNext", [], [])
    assert words == ["Hello", ",", "big", "world", ".", "\n\n", "Next"]
    assert spaces == [False, True, True, False, False, False, False]


def test_the_streamed_docbin_is_byte_identical_to_spacys_own(
    demo_documents: list[ExportDocument],
) -> None:
    documents = [unicode_document(), *demo_documents]
    options = ExportOptions(format="spacy")
    vocab = Vocab()
    docbin = DocBin(attrs=list(ATTRS), store_user_data=True)
    for document in documents:
        for annotation in document.annotations:
            docbin.add(build_doc(vocab, document, annotation, options))
    data, _ = write(documents, "spacy")
    assert data == docbin.to_bytes()


def test_an_empty_streamed_docbin_is_byte_identical_to_spacys_own() -> None:
    data, _ = write([], "spacy")
    assert data == DocBin(attrs=list(ATTRS), store_user_data=True).to_bytes()
    assert load(data) == []
