"""Review: agreement reports (computed in the request for small projects, by a worker for large
ones) and adjudication of a document's gold annotation."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from projects import selectors
from projects.domain import adjudication
from projects.domain.problems import Problem
from projects.domain.spans import SpanIn, validate_span
from projects.models import (
    Annotation,
    AnnotationKind,
    AnnotationStatus,
    Document,
    Project,
    Relation,
    RelationType,
    Span,
    Stance,
    StanceTarget,
)
from projects.models.query import only_row
from projects.permissions import ProjectAccess

from .annotations import clean_attributes, locked_annotation
from .audit import audit_record
from .errors import Conflict, NotFound, Unavailable, ValidationFailed
from .projects import label_rows, scheme_spec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AgreementAnswer:
    report: Any | None  # None while a worker computes it
    progress: dict[str, int] | None = None

    @property
    def computing(self) -> bool:
        return self.report is None


def agreement_get(*, project: Project, filters: selectors.AgreementFilters) -> AgreementAnswer:
    """The cached report, or a fresh one (small projects), or a worker asked to make it.

    A lock in the shared cache makes sure one worker, not one per reload, computes a report;
    the worker removes it when done (or it expires after an hour).
    """
    key = selectors.agreement_key(project, filters)
    cached = selectors.cached_agreement(key)
    if cached is not None:
        return AgreementAnswer(cached)
    if not selectors.agreement_is_large(project):
        return AgreementAnswer(selectors.agreement_for(project, filters, key=key))
    if cache.add(f"{key}:lock", 1, timeout=3600):
        from projects.tasks import agreement_compute

        try:
            agreement_compute.apply_async(
                args=[project.pk, filters.to_json(), key],
                queue=settings.CELERY_TASK_DEFAULT_QUEUE,
                retry=True,  # once, on a new connection (CELERY_TASK_PUBLISH_RETRY_POLICY)
            )
        except Exception as exc:  # kombu raises several kinds; all mean "not queued"
            cache.delete(f"{key}:lock")
            log.warning("agreement task not queued: %s", exc)
            raise Unavailable(
                "The agreement report of this large project is computed by a worker, and the "
                "task queue cannot be reached right now. Try again in a minute."
            ) from exc
    total = selectors.agreement_total(project, filters)
    return AgreementAnswer(None, selectors.agreement_progress(key) or {"done": 0, "total": total})


# --- adjudication -------------------------------------------------------------------------


def _touch(gold: Annotation, *, actor_id: int, action: str, data: dict[str, Any]) -> None:
    Annotation.objects.filter(pk=gold.pk).update(
        version=F("version") + 1, adjudication=gold.adjudication
    )
    gold.version += 1
    audit_record(
        actor_id=actor_id,
        action=action,
        project_id=gold.project_id,
        document_id=gold.document_id,
        object_type="gold",
        object_id=gold.pk,
        data=data,
    )


@transaction.atomic
def gold_merge(
    *, access: ProjectAccess, document: Document, policy: str = "majority"
) -> Annotation:
    """Start the gold annotation from the automatic merge: the span candidates the policy
    accepts (all annotators agree, or a majority), the relations between them that as many
    agree on, and each stance target's majority value. Provenance goes on every span."""
    if policy not in ("unanimous", "majority"):
        raise ValidationFailed("policy must be 'unanimous' or 'majority'.")
    work, stances = selectors.submitted_work(access.project, document)
    if work is None or len(work.annotators) < 2:
        raise Conflict("Adjudication needs the submitted work of at least two annotators.")
    gold = locked_annotation(document, kind=AnnotationKind.GOLD)
    if gold.spans.exists():
        raise Conflict(
            "This document's gold annotation has begun already; decide the remaining "
            "candidates one by one.",
            code="gold_exists",
        )
    accepted, _remaining = adjudication.auto_accept(adjudication.merge_spans(work), policy=policy)
    labels = label_rows(access.project)
    spans = Span.objects.bulk_create(
        [
            Span(
                annotation=gold,
                client_id=f"g{n}",
                start=c.start,
                end=c.end,
                label=labels[c.label],
                attributes=dict(c.attributes),
                provenance={
                    "proposed_by": list(c.proposed_by),
                    "kind": c.kind,
                    "decided_by": None,
                    "merge": policy,
                },
            )
            for n, c in enumerate(accepted, start=1)
            if c.label in labels
        ]
    )
    by_extent = {(s.start, s.end): s for s in spans}
    wanted = {"unanimous"} if policy == "unanimous" else {"unanimous", "majority"}
    rtypes = {rt.name: rt for rt in RelationType.objects.filter(project=access.project)}
    Relation.objects.bulk_create(
        [
            Relation(
                annotation=gold,
                client_id=f"gr{n}",
                source=by_extent[r.source],
                target=by_extent[r.target],
                type=rtypes[r.type],
            )
            for n, r in enumerate(adjudication.merge_relations(work, list(by_extent)), start=1)
            if r.kind in wanted
            and r.type in rtypes
            and r.source in by_extent
            and r.target in by_extent
            and r.source != r.target
        ],
        ignore_conflicts=True,
    )
    targets = {t.name: t for t in StanceTarget.objects.filter(project=access.project)}
    Stance.objects.bulk_create(
        [
            Stance(annotation=gold, target=targets[name], value=c.value)
            for name, c in adjudication.merge_stances(stances, work.annotators).items()
            if c.value is not None and c.kind in wanted and name in targets
        ]
    )
    gold.adjudication = {**gold.adjudication, "merge": policy, "rejected": []}
    _touch(
        gold,
        actor_id=access.user_id,
        action="gold.merge",
        data={"policy": policy, "spans": len(spans)},
    )
    return gold


def _check_gold_version(gold: Annotation, version: int | None) -> None:
    if version is not None and version != gold.version:
        raise Conflict(
            f"The gold annotation changed (you have version {version}, the server has "
            f"{gold.version}); reload.",
            code="stale_version",
            extra={"version": gold.version},
        )


def _edited_span(
    access: ProjectAccess, document: Document, candidate: dict[str, Any], edit: Mapping[str, Any]
) -> SpanIn:
    """The candidate as the adjudicator corrected it: any of start, end, label and attributes
    replaced, checked against the text and the scheme like an annotator's span."""
    unknown = sorted(set(edit) - {"start", "end", "label", "attributes"})
    if unknown:
        raise ValidationFailed(
            f"An edit may change start, end, label and attributes, not {', '.join(unknown)}.",
            problems=[Problem("unknown field", field=f"edit.{name}") for name in unknown],
        )
    span = SpanIn(
        start=edit.get("start", candidate["start"]),
        end=edit.get("end", candidate["end"]),
        label=edit.get("label", candidate["label"]),
        attributes=clean_attributes(edit.get("attributes", candidate["attributes"])),
    )
    problems = validate_span(document.text, span, scheme_spec(access.project), field="edit")
    if problems:
        raise ValidationFailed(
            "The edited span is not valid: " + "; ".join(str(p) for p in problems[:5]),
            problems=problems,
        )
    return span


@transaction.atomic
def gold_decide(
    *,
    access: ProjectAccess,
    document: Document,
    start: int,
    end: int,
    label: str,
    decision: str,
    version: int | None = None,
    edit: Mapping[str, Any] | None = None,
) -> Annotation:
    """Accept a candidate into the gold (as proposed, or corrected by ``edit``), with who
    proposed it and who decided, or reject it (it is no longer offered). Every decision goes
    on the gold's decision log, which is what :func:`gold_undo` walks back."""
    if decision not in ("accept", "reject"):
        raise ValidationFailed("decision must be 'accept' or 'reject'.")
    if edit and decision != "accept":
        raise ValidationFailed("Only an accepted candidate can be edited.")
    candidates = {
        (c["start"], c["end"], c["label"]): c
        for c in selectors.adjudication_candidates(access.project, document)
    }
    candidate = candidates.get((start, end, label))
    if candidate is None:
        raise NotFound(f"No open candidate [{start}, {end}) {label} for this document.")
    gold = locked_annotation(document, kind=AnnotationKind.GOLD)
    _check_gold_version(gold, version)
    user = access.user_id
    entry: dict[str, Any] = {"decision": decision, "candidate": [start, end, label], "by": user}
    if decision == "accept":
        span = _edited_span(access, document, candidate, edit or {})
        label_row = label_rows(access.project).get(span.label)
        if label_row is None or label_row.retired:
            raise ValidationFailed(f"'{span.label}' is not an active label of the scheme.")
        client_id = f"g-{span.start}-{span.end}-{label_row.pk}"
        if gold.spans.filter(client_id=client_id).exists():
            raise Conflict(
                f"The gold already holds [{span.start}, {span.end}) {span.label}.",
                code="duplicate_span",
            )
        edited = (span.start, span.end, span.label, dict(span.attributes)) != (
            start,
            end,
            label,
            candidate["attributes"],
        )
        Span.objects.create(
            annotation=gold,
            client_id=client_id,
            start=span.start,
            end=span.end,
            label=label_row,
            attributes=dict(span.attributes),
            provenance={
                "proposed_by": candidate["proposed_by"],
                "kind": candidate["kind"],
                "decided_by": user,
                "candidate": [start, end, label],
                "edited": edited,
            },
        )
        entry.update(span=client_id, edited=edited)
    else:
        rejected = [*gold.adjudication.get("rejected", []), [start, end, label]]
        gold.adjudication = {**gold.adjudication, "rejected": rejected}
    gold.adjudication = {
        **gold.adjudication,
        "decisions": [*gold.adjudication.get("decisions", []), entry],
    }
    _touch(gold, actor_id=user, action=f"gold.{decision}", data={k: v for k, v in entry.items()})
    return gold


@transaction.atomic
def gold_undo(
    *,
    access: ProjectAccess,
    document: Document,
    version: int | None = None,
    candidate: tuple[int, int, str] | None = None,
) -> dict[str, Any]:
    """Take back a decision: the last one, or the one about ``candidate``. An accepted span
    leaves the gold (with the gold relations that used it) and a rejected candidate is offered
    again; either way the candidate reappears among the open ones. Returns the undone entry."""
    gold = only_row(
        Annotation.objects.select_for_update().filter(document=document, kind=AnnotationKind.GOLD)
    )
    if gold is None:
        raise Conflict("This document has no gold annotation, so there is nothing to undo.")
    _check_gold_version(gold, version)
    decisions = list(gold.adjudication.get("decisions", []))
    index = None
    for i in range(len(decisions) - 1, -1, -1):
        if candidate is None or tuple(decisions[i]["candidate"]) == tuple(candidate):
            index = i
            break
    if index is None:
        if candidate is None:
            raise Conflict("No decision on this document's gold is left to undo.")
        start, end, label = candidate
        raise NotFound(f"No decision about [{start}, {end}) {label} to undo.")
    entry = decisions.pop(index)
    if entry["decision"] == "accept":
        Span.objects.filter(annotation=gold, client_id=entry["span"]).delete()
    else:
        rejected = list(gold.adjudication.get("rejected", []))
        if entry["candidate"] in rejected:
            rejected.remove(entry["candidate"])
        gold.adjudication = {**gold.adjudication, "rejected": rejected}
    gold.adjudication = {**gold.adjudication, "decisions": decisions}
    _touch(gold, actor_id=access.user_id, action="gold.undo", data=entry)
    return {**entry, "version": gold.version}


@transaction.atomic
def gold_submit(*, access: ProjectAccess, document: Document) -> Annotation:
    """Mark the document's gold as finished: it leaves the head of the queue and is what
    exports use."""
    gold = only_row(
        Annotation.objects.select_for_update().filter(document=document, kind=AnnotationKind.GOLD)
    )
    if gold is None:
        raise Conflict("Start the gold annotation (the merge) before submitting it.")
    if gold.status != AnnotationStatus.SUBMITTED:
        gold.status = AnnotationStatus.SUBMITTED
        gold.submitted_at = timezone.now()
        gold.save(update_fields=["status", "submitted_at", "updated_at"])
        _touch(gold, actor_id=access.user_id, action="gold.submit", data={})
    return gold
