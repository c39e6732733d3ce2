"""Balanced automatic assignment, as a pure function so it can be tested exhaustively."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass


@dataclass(frozen=True)
class AssignmentPlan:
    pairs: tuple[tuple[int, int], ...]  # (document id, annotator id) to create
    short: tuple[int, ...]  # documents that could not reach k (too few annotators)


def plan_assignments(
    *,
    document_ids: Sequence[int],
    annotator_ids: Sequence[int],
    existing: Mapping[int, Set[int]],
    k: int,
) -> AssignmentPlan:
    """Give every document ``k`` distinct annotators, keeping loads as even as possible.

    Greedy in document order: each document takes the least-loaded annotators it does not have
    yet (ties broken by annotator id), so the result is deterministic and the loads never
    differ by more than one among annotators who started equal. Existing assignments count
    towards both ``k`` and the loads and are never removed.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    load: dict[int, int] = dict.fromkeys(annotator_ids, 0)
    for assigned in existing.values():
        for annotator in assigned:
            if annotator in load:
                load[annotator] += 1
    pairs: list[tuple[int, int]] = []
    short: list[int] = []
    for doc in document_ids:
        have = set(existing.get(doc, ()))
        need = k - len(have)
        if need <= 0:
            continue
        candidates = sorted((load[a], a) for a in annotator_ids if a not in have)
        chosen = [a for _, a in candidates[:need]]
        for annotator in chosen:
            load[annotator] += 1
            pairs.append((doc, annotator))
        if len(chosen) < need:
            short.append(doc)
    return AssignmentPlan(pairs=tuple(pairs), short=tuple(short))
