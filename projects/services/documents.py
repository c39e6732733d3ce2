"""Importing documents (with their pre-annotations) and assigning them to annotators."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from projects.domain.assignment import plan_assignments
from projects.domain.importers import DocumentIn, ImportLimits, ImportOptions, parse_upload
from projects.domain.interchange import parse_annotator_map
from projects.domain.problems import ImportFailed, Problem
from projects.domain.text import sha256_text
from projects.models import (
    Annotation,
    AnnotationKind,
    AnnotationStatus,
    Assignment,
    AssignmentStatus,
    Document,
    Label,
    Membership,
    Project,
    Relation,
    RelationType,
    Role,
    Span,
    Stance,
    StanceTarget,
)
from projects.models.prepared import insert_many
from projects.models.query import only_row

from .audit import audit_record
from .errors import Conflict, ValidationFailed
from .projects import scheme_spec

OnDuplicate = Literal["fail", "skip"]


@dataclass
class ImportResult:
    created: int = 0
    skipped: list[str] = field(default_factory=list)
    annotations: int = 0
    spans: int = 0
    document_ids: list[int] = field(default_factory=list)
    #: What the file held but the import left out on purpose (cancelled Label Studio
    #: annotations, brat events): the import succeeded; these say what it did not bring over.
    notes: list[Problem] = field(default_factory=list)


def import_limits() -> ImportLimits:
    return ImportLimits(
        max_file_bytes=settings.IMPORT_MAX_FILE_BYTES,
        max_documents=settings.IMPORT_MAX_DOCUMENTS,
        max_document_chars=settings.IMPORT_MAX_DOCUMENT_CHARS,
        max_zip_entries=settings.IMPORT_MAX_ZIP_ENTRIES,
        max_uncompressed_bytes=settings.IMPORT_MAX_UNCOMPRESSED_BYTES,
    )


def _import_failed(problems: list[Problem] | tuple[Problem, ...]) -> ValidationFailed:
    head = "; ".join(str(p) for p in problems[:3])
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return ValidationFailed(
        f"Nothing was imported: {head}{more}", problems=problems, code="import_failed"
    )


def annotator_map_from_text(text: str) -> dict[str, str]:
    """The ``annotator_map`` option as a form field or command line gives it: a JSON object or
    ``name=username`` pairs separated by commas or new lines."""
    mapping, problems = parse_annotator_map(text)
    if problems:
        raise ValidationFailed(
            f"annotator_map: {problems[0].message}", problems=problems, code="invalid"
        )
    return mapping


@transaction.atomic
def documents_import(
    *,
    project: Project,
    filename: str,
    data: bytes,
    actor_id: int | None,
    on_duplicate: OnDuplicate = "fail",
    format: str = "auto",
    annotator: str | None = None,
    annotator_map: Mapping[str, str] | None = None,
) -> ImportResult:
    """Import one uploaded file: all of its documents and pre-annotations, or nothing.

    Parsing and validation happen in the pure core; here we check what only the database
    knows (ids already in the project, annotators who are members) and write in bulk.
    ``format`` forces a reading (``auto`` tells native, brat, doccano and Label Studio files
    apart); ``annotator`` is the member who made annotations the file does not attribute, and
    ``annotator_map`` renames the annotators a file names to this project's usernames.
    """
    if on_duplicate not in ("fail", "skip"):
        raise ValidationFailed("on_duplicate must be 'fail' or 'skip'.")
    options = ImportOptions(
        format=format, annotator=annotator or None, annotator_map=dict(annotator_map or {})
    )
    notes: list[Problem] = []
    try:
        docs = parse_upload(
            filename,
            data,
            limits=import_limits(),
            scheme=scheme_spec(project),
            options=options,
            notes=notes,
        )
    except ImportFailed as exc:
        # Add what only the database can tell about the documents that could be read, so one
        # attempt lists every problem instead of revealing them a stage at a time.
        problems = list(exc.problems)
        if exc.documents and not exc.truncated:
            problems += _database_checks(project, list(exc.documents), on_duplicate)[2]
        raise _import_failed(ImportFailed(problems).problems) from None

    existing, members, problems = _database_checks(project, docs, on_duplicate)
    if problems:
        raise _import_failed(ImportFailed(problems).problems)
    result = ImportResult(notes=notes)
    result.skipped = [d.external_id for d in docs if d.external_id in existing]
    docs = [d for d in docs if d.external_id not in existing]

    created = [
        Document(
            project=project,
            external_id=d.external_id,
            title=d.title,
            text=d.text,
            length=len(d.text),
            sha256=sha256_text(d.text),
            meta=dict(d.meta),
        )
        for d in docs
    ]
    insert_many(created)  # bulk_create's rows without the ORM's per-row compiling
    _import_annotations(project, docs, created, members, result)
    result.created = len(created)
    result.document_ids = [d.pk for d in created]
    audit_record(
        actor_id=actor_id,
        action="documents.import",
        project=project,
        object_type="import",
        object_id=filename[:64],
        data={
            "file": filename,
            "format": format,
            "created": result.created,
            "skipped": len(result.skipped),
            "annotations": result.annotations,
        },
    )
    return result


def _database_checks(
    project: Project, docs: list[DocumentIn], on_duplicate: OnDuplicate
) -> tuple[set[str], dict[str, int], list[Problem]]:
    """What the pure core cannot know: ids already in the project (an error, or skipped) and
    whether the annotators the file names are members. Returns the ids already there, the
    members by name and the problems."""
    existing = set(
        Document.objects.filter(
            project=project, external_id__in=[d.external_id for d in docs]
        ).values_list("external_id", flat=True)
    )
    problems = [
        Problem(
            f"a document with id '{d.external_id}' already exists in this project",
            file=d.file,
            line=d.line,
            field="id",
            code="duplicate",
        )
        for d in docs
        if d.external_id in existing and on_duplicate == "fail"
    ]
    members, unknown = _annotators_by_name(
        project, [d for d in docs if d.external_id not in existing]
    )
    return existing, members, problems + unknown


def _annotators_by_name(
    project: Project, docs: list[DocumentIn]
) -> tuple[dict[str, int], list[Problem]]:
    """Map the annotator names a file gives to members' user ids, and name the unknown ones.

    A name is a username; a name with an ``@`` that no username matches is an email (how Label
    Studio names its users), matched ignoring case. An unknown name is one problem however many
    documents it annotated, located at its first.
    """
    names = {a.annotator for d in docs for a in d.annotations if a.annotator}
    if not names:
        return {}, []
    members = list(
        Membership.objects.filter(project=project).values_list(
            "user__username", "user__email", "user_id"
        )
    )
    by_username = {username: user_id for username, _, user_id in members}
    by_email: dict[str, list[int]] = defaultdict(list)
    for _, email, user_id in members:
        if email:
            by_email[email.casefold()].append(user_id)
    found: dict[str, int] = {}
    for name in names:
        if name in by_username:
            found[name] = by_username[name]
        elif "@" in name and len(by_email.get(name.casefold(), [])) == 1:
            found[name] = by_email[name.casefold()][0]
    unknown: dict[str, tuple[Problem, int]] = {}
    for d in docs:
        for i, a in enumerate(d.annotations):
            if not a.annotator or a.annotator in found:
                continue
            if a.annotator in unknown:
                first, count = unknown[a.annotator]
                unknown[a.annotator] = (first, count + 1)
                continue
            first = Problem(
                "",
                file=a.origin or d.file,
                line=d.line,
                field=None if a.origin else f"annotations[{i}].annotator",
                code="unknown_user",
            )
            unknown[a.annotator] = (first, 1)
    if unknown:
        problems = []
        for name, (first, count) in unknown.items():
            where = f" (it annotated {count} documents)" if count > 1 else ""
            hint = (
                " (a Label Studio user id: map it to a username with annotator_map)"
                if name.isdigit()
                else ""
            )
            message = (
                f"annotator '{name}'{hint} is not a member of this project{where}; add them "
                "first, or map the name to a member with annotator_map"
            )
            problems.append(replace(first, message=message))
        return found, problems
    return found, []


def _import_annotations(
    project: Project,
    docs: list[DocumentIn],
    created: list[Document],
    members: dict[str, int],
    result: ImportResult,
) -> None:
    if not any(d.annotations for d in docs):
        return
    labels = dict(Label.objects.filter(project=project).values_list("name", "pk"))
    rtypes = dict(RelationType.objects.filter(project=project).values_list("name", "pk"))
    targets = dict(StanceTarget.objects.filter(project=project).values_list("name", "pk"))
    now = timezone.now()
    annotations: list[Annotation] = []
    sources: list[tuple[DocumentIn, int]] = []
    assignments: list[Assignment] = []
    for doc_in, doc in zip(docs, created, strict=True):
        for index, ann in enumerate(doc_in.annotations):
            status = ann.status if ann.status in AnnotationStatus.values else "submitted"
            annotations.append(
                Annotation(
                    project=project,
                    document=doc,
                    annotator_id=None if ann.gold else members[ann.annotator or ""],
                    kind=AnnotationKind.GOLD if ann.gold else AnnotationKind.ANNOTATOR,
                    status=status,
                    version=1,
                    submitted_at=now if status == AnnotationStatus.SUBMITTED else None,
                )
            )
            sources.append((doc_in, index))
            if not ann.gold:
                assignments.append(
                    Assignment(
                        project=project,
                        document=doc,
                        annotator_id=members[ann.annotator or ""],
                        status=status if status != "skipped" else AssignmentStatus.IN_PROGRESS,
                    )
                )
    Annotation.objects.bulk_create(annotations, batch_size=500)
    Assignment.objects.bulk_create(assignments, batch_size=500)
    spans: list[Span] = []
    for annotation, (doc_in, index) in zip(annotations, sources, strict=True):
        for span in doc_in.annotations[index].spans:
            spans.append(
                Span(
                    annotation=annotation,
                    client_id=span.id or "",
                    start=span.start,
                    end=span.end,
                    label_id=labels[span.label],
                    attributes=dict(span.attributes),
                )
            )
    Span.objects.bulk_create(spans, batch_size=1000)
    span_pk = {(s.annotation_id, s.client_id): s.pk for s in spans}
    relations: list[Relation] = []
    stances: list[Stance] = []
    for annotation, (doc_in, index) in zip(annotations, sources, strict=True):
        ann_in = doc_in.annotations[index]
        for n, rel in enumerate(ann_in.relations, start=1):
            relations.append(
                Relation(
                    annotation=annotation,
                    client_id=f"r{n}",
                    source_id=span_pk[(annotation.pk, rel.source)],
                    target_id=span_pk[(annotation.pk, rel.target)],
                    type_id=rtypes[rel.type],
                )
            )
        for st in ann_in.stances:
            stances.append(
                Stance(annotation=annotation, target_id=targets[st.target], value=st.value)
            )
    Relation.objects.bulk_create(relations, batch_size=1000)
    Stance.objects.bulk_create(stances, batch_size=1000)
    result.annotations = len(annotations)
    result.spans = len(spans)


# --- assignment ---------------------------------------------------------------------------


@dataclass
class AutoAssignResult:
    created: int
    short_documents: int
    annotators: int


@transaction.atomic
def assignments_auto(*, project: Project, actor_id: int, k: int | None = None) -> AutoAssignResult:
    """Top every document up to ``k`` annotators (the project's overlap by default)."""
    k = k or project.annotators_per_document
    if k < 1:
        raise ValidationFailed("k must be at least 1.")
    Project.objects.select_for_update().filter(pk=project.pk).first()  # one auto-assign at a time
    annotator_ids = list(
        Membership.objects.filter(project=project, role=Role.ANNOTATOR)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )
    if not annotator_ids:
        raise Conflict("The project has no annotators yet; add members with the annotator role.")
    existing: dict[int, set[int]] = defaultdict(set)
    for doc_id, user_id in Assignment.objects.filter(
        project=project, document__deleted_at__isnull=True
    ).values_list("document_id", "annotator_id"):
        existing[doc_id].add(user_id)
    doc_ids = list(
        Document.objects.filter(project=project).order_by("pk").values_list("pk", flat=True)
    )
    plan = plan_assignments(
        document_ids=doc_ids, annotator_ids=annotator_ids, existing=existing, k=k
    )
    Assignment.objects.bulk_create(
        [Assignment(project=project, document_id=d, annotator_id=a) for d, a in plan.pairs],
        batch_size=1000,
    )
    audit_record(
        actor_id=actor_id,
        action="assignments.auto",
        project=project,
        data={"k": k, "created": len(plan.pairs), "short": len(plan.short)},
    )
    return AutoAssignResult(
        created=len(plan.pairs), short_documents=len(plan.short), annotators=len(annotator_ids)
    )


@transaction.atomic
def assignment_create(
    *, project: Project, document_id: int, annotator_id: int, actor_id: int
) -> Assignment:
    if not Document.objects.filter(project=project, pk=document_id).exists():
        raise ValidationFailed(
            f"Document {document_id} is not in this project.",
            problems=[Problem("unknown document", field="document")],
        )
    if not Membership.objects.filter(
        project=project, user_id=annotator_id, role__in=[Role.ANNOTATOR, Role.LEAD]
    ).exists():
        raise ValidationFailed(
            "Only members with the annotator (or lead) role can be assigned documents.",
            problems=[Problem("not an annotator of this project", field="annotator")],
        )
    # Work already begun (a lead's own annotation, say) shows in the new assignment's status.
    started = only_row(
        Annotation.objects.filter(
            document_id=document_id, annotator_id=annotator_id, kind=AnnotationKind.ANNOTATOR
        ).exclude(version=0, status=AnnotationStatus.IN_PROGRESS)
    )
    status = AssignmentStatus.ASSIGNED
    if started is not None:
        status = {
            AnnotationStatus.SUBMITTED: AssignmentStatus.SUBMITTED,
            AnnotationStatus.SKIPPED: AssignmentStatus.SKIPPED,
        }.get(started.status, AssignmentStatus.IN_PROGRESS)
    assignment, created = Assignment.objects.get_or_create(
        project=project,
        document_id=document_id,
        annotator_id=annotator_id,
        defaults={
            "status": status,
            "skip_reason": started.skip_reason if status == AssignmentStatus.SKIPPED else "",
        },
    )
    if created:
        audit_record(
            actor_id=actor_id,
            action="assignment.create",
            project=project,
            document_id=document_id,
            object_type="assignment",
            object_id=assignment.pk,
            data={"annotator_id": annotator_id},
        )
    return assignment


@transaction.atomic
def assignment_delete(*, assignment: Assignment, actor_id: int) -> None:
    """Unassign. The annotator's annotation, if any, is kept: it is data, not a to-do item."""
    audit_record(
        actor_id=actor_id,
        action="assignment.delete",
        project=assignment.project,
        document_id=assignment.document_id,
        object_type="assignment",
        object_id=assignment.pk,
        data={"annotator_id": assignment.annotator_id},
    )
    assignment.delete()


def user_ids_by_name(names: list[str]) -> dict[str, int]:
    return dict(get_user_model().objects.filter(username__in=names).values_list("username", "pk"))
