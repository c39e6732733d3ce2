"""Loading the reference cases (``cases/*.json``) into the agreement records."""

from __future__ import annotations

import json
from collections.abc import Hashable
from pathlib import Path
from typing import Any

from projects.domain.agreement import AnnotatedDocument, Relation, Span

CASES_DIR = Path(__file__).resolve().parent / "cases"

Case = dict[str, Any]


def load_cases(family: str) -> list[Case]:
    data = json.loads((CASES_DIR / f"{family}.json").read_text(encoding="utf-8"))
    cases: list[Case] = data["cases"]
    return cases


def case(family: str, name: str) -> Case:
    [found] = [c for c in load_cases(family) if c["name"] == name]
    return found


def documents(case_input: dict[str, Any]) -> list[AnnotatedDocument]:
    """One record per document in ``text_length``; every listed annotator submitted every one."""
    annotators = tuple(case_input["annotators"])
    result = []
    for doc_id, length in case_input["text_length"].items():
        spans = tuple(
            Span(s["doc"], s["annotator"], s["start"], s["end"], s["label"])
            for s in case_input["spans"]
            if s["doc"] == doc_id
        )
        relations = tuple(
            Relation(
                r["doc"],
                r["annotator"],
                (r["source"]["start"], r["source"]["end"]),
                (r["target"]["start"], r["target"]["end"]),
                r["label"],
            )
            for r in case_input.get("relations", ())
            if r["doc"] == doc_id
        )
        result.append(AnnotatedDocument(doc_id, length, annotators, spans, relations))
    return result


def items(case_input: dict[str, Any]) -> list[dict[str, Hashable]]:
    """``doc_labels`` input as one ``annotator -> label`` mapping per item, in input order."""
    by_item: dict[str, dict[str, Hashable]] = {}
    for row in case_input["labels"]:
        by_item.setdefault(row["item"], {})[row["annotator"]] = row["label"]
    return list(by_item.values())
