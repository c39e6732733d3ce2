"""Projects, members and the label scheme."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils.text import slugify

from projects.domain.problems import ImportFailed, Problem
from projects.domain.scheme import SchemeSpec, parse_scheme
from projects.models import (
    Label,
    Membership,
    Project,
    RelationType,
    Role,
    SchemeVersion,
    Stance,
    StanceTarget,
)
from projects.models.query import only_row

from .audit import audit_record
from .errors import Conflict, Forbidden, NotFound, ValidationFailed

EMPTY_SCHEME: dict[str, Any] = {
    "name": "Scheme",
    "span_labels": [],
    "relation_types": [],
    "span_attributes": [],
    "stance_targets": [],
    "stance_values": [],
}

PROJECT_SETTINGS = (
    "name",
    "description",
    "guidelines",
    "annotators_per_document",
    "blind",
    "snap_to_words",
    "allow_overlap",
    "adjudication_threshold",
)


def _unique_slug(name: str, wanted: str | None) -> str:
    """Slugs always hold a letter: an all-digit slug would read as a project id in URLs."""
    if wanted and wanted.isdigit():
        raise ValidationFailed(
            "A slug needs at least one letter (an all-digit slug would read as a project id).",
            problems=[Problem("all digits", field="slug")],
        )
    # all_objects: a deleted project keeps its slug (staff can restore it)
    if wanted:
        taken = only_row(Project.all_objects.filter(slug=wanted).values_list("deleted_at"))
        if taken is not None:
            whose = " by a deleted project (staff can restore it)" if taken[0] else ""
            raise Conflict(
                f"The slug '{wanted}' is taken{whose}; choose another.", code="duplicate"
            )
        return wanted
    base = slugify(name)[:70] or "project"
    if base.isdigit():
        base = f"project-{base}"
    slug, n = base, 1
    while Project.all_objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def may_create_projects(user: Any) -> bool:
    """Whether this signed-in user may create a project (``PROJECT_CREATORS``). Only the API
    and the pages ask: commands and the demo act for the operator."""
    return settings.PROJECT_CREATORS == "everyone" or bool(user.is_staff or user.is_superuser)


def ensure_may_create_projects(user: Any) -> None:
    if not may_create_projects(user):
        raise Forbidden(
            "Only staff can create projects on this server (PROJECT_CREATORS=staff); ask an "
            "administrator to create it and add you as its lead.",
            code="project_creation_forbidden",
        )


def project_create(
    *,
    name: str,
    created_by_id: int,
    slug: str | None = None,
    scheme: dict[str, Any] | None = None,
    **options: Any,
) -> Project:
    """Create a project whose creator is its first lead."""
    unknown = set(options) - set(PROJECT_SETTINGS)
    if unknown:
        raise ValidationFailed(f"Unknown project settings: {', '.join(sorted(unknown))}.")
    if not name.strip():
        raise ValidationFailed(
            "A project needs a name.", problems=[Problem("required", field="name")]
        )
    project = Project.objects.create(
        name=name.strip(), slug=_unique_slug(name, slug), created_by_id=created_by_id, **options
    )
    Membership.objects.create(project=project, user_id=created_by_id, role=Role.LEAD)
    project = scheme_update(
        project=project, definition=scheme or EMPTY_SCHEME, actor_id=created_by_id, first=True
    )
    audit_record(
        actor_id=created_by_id,
        action="project.create",
        project=project,
        object_type="project",
        object_id=project.pk,
    )
    return project


@transaction.atomic
def project_update(*, project: Project, actor_id: int, **changes: Any) -> Project:
    unknown = set(changes) - set(PROJECT_SETTINGS)
    if unknown:
        raise ValidationFailed(f"Unknown project settings: {', '.join(sorted(unknown))}.")
    for key, value in changes.items():
        setattr(project, key, value)
    project.save(update_fields=[*changes.keys()])
    audit_record(
        actor_id=actor_id,
        action="project.update",
        project=project,
        object_type="project",
        object_id=project.pk,
        data={k: v for k, v in changes.items() if k != "guidelines"},
    )
    return project


# --- members ------------------------------------------------------------------------------


@transaction.atomic
def membership_set(*, project: Project, username: str, role: str, actor_id: int) -> Membership:
    """Add a user to the project or change their role."""
    if role not in Role.values:
        raise ValidationFailed(
            f"Unknown role '{role}'; use one of: {', '.join(Role.values)}.",
            problems=[Problem(f"unknown role '{role}'", field="role")],
        )
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise NotFound(
            f"No user named '{username}'.", problems=[Problem("unknown", field="username")]
        )
    membership, created = Membership.objects.select_for_update().get_or_create(
        project=project, user=user, defaults={"role": role}
    )
    if not created and membership.role != role:
        _keep_one_lead(project, membership, new_role=role)
        membership.role = role
        membership.save(update_fields=["role"])
    audit_record(
        actor_id=actor_id,
        action="member.set",
        project=project,
        object_type="membership",
        object_id=membership.pk,
        data={"username": username, "role": role},
    )
    return membership


def _keep_one_lead(project: Project, membership: Membership, *, new_role: str | None) -> None:
    if membership.role == Role.LEAD and new_role != Role.LEAD:
        leads = Membership.objects.filter(project=project, role=Role.LEAD).count()
        if leads <= 1:
            raise Conflict("A project needs at least one lead; make someone else lead first.")


@transaction.atomic
def membership_remove(*, membership: Membership, actor_id: int) -> None:
    _keep_one_lead(membership.project, membership, new_role=None)
    audit_record(
        actor_id=actor_id,
        action="member.remove",
        project=membership.project,
        object_type="membership",
        object_id=membership.pk,
        data={"user_id": membership.user_id, "role": membership.role},
    )
    # Their annotations stay: they are the project's data, not the membership's.
    membership.delete()


# --- scheme -------------------------------------------------------------------------------


def _split_ids(entries: Iterable[Any]) -> tuple[list[Any], dict[str, int]]:
    """Scheme entries may carry the ``id`` of an existing row: that is how a rename is told
    apart from a delete plus an add. The pure parser never sees database ids."""
    clean: list[Any] = []
    ids: dict[str, int] = {}
    for entry in entries:
        if isinstance(entry, dict) and "id" in entry:
            entry = dict(entry)
            row_id = entry.pop("id")
            if isinstance(row_id, int) and isinstance(entry.get("name"), str):
                ids[entry["name"]] = row_id
        clean.append(entry)
    return clean, ids


def _parse(definition: dict[str, Any]) -> tuple[SchemeSpec, dict[str, dict[str, int]]]:
    if not isinstance(definition, dict):
        raise ValidationFailed("The scheme must be a JSON object.")
    stripped = {k: v for k, v in definition.items() if k != "version"}
    ids: dict[str, dict[str, int]] = {}
    for key in ("span_labels", "relation_types"):
        if isinstance(stripped.get(key), list):
            stripped[key], ids[key] = _split_ids(stripped[key])
    targets = stripped.get("stance_targets")
    if isinstance(targets, list):
        names, target_ids = [], {}
        for t in targets:
            if isinstance(t, dict):
                name = t.get("name")
                if isinstance(t.get("id"), int) and isinstance(name, str):
                    target_ids[name] = t["id"]
                names.append(name)
            else:
                names.append(t)
        stripped["stance_targets"] = names
        ids["stance_targets"] = target_ids
    try:
        spec = parse_scheme(stripped)
    except ImportFailed as exc:
        raise ValidationFailed(
            "The scheme is not valid: " + "; ".join(str(p) for p in exc.problems[:5]),
            problems=exc.problems,
        ) from None
    return spec, ids


def _sync_rows(
    *,
    model: type[Label] | type[RelationType] | type[StanceTarget],
    project: Project,
    wanted: list[tuple[str, dict[str, Any]]],
    ids: dict[str, int],
    usage_relation: str,
    what: str,
) -> None:
    """Bring one table of scheme rows in line with the parsed scheme: update renamed rows
    (matched by id), keep rows matched by name, create new ones, and delete only rows that
    nothing uses. Used rows that disappear are a conflict: retire or rename them instead."""
    existing = {row.pk: row for row in model.objects.filter(project=project)}
    by_name = {row.name: row for row in existing.values()}
    keep: dict[int, tuple[str, dict[str, Any]]] = {}
    new: list[tuple[str, dict[str, Any]]] = []
    for name, fields in wanted:
        row_id = ids.get(name)
        if row_id is not None and row_id not in existing:
            raise ValidationFailed(f"{what} id {row_id} does not belong to this project.")
        row = existing.get(row_id) if row_id is not None else by_name.get(name)
        if row is None:
            new.append((name, fields))
        else:
            keep[row.pk] = (name, fields)
    gone = [row for pk, row in existing.items() if pk not in keep]
    if gone:
        used = (
            model.objects.filter(pk__in=[r.pk for r in gone])
            .annotate(n=Count(usage_relation))
            .filter(n__gt=0)
        )
        in_use = [(row.name, row.n) for row in used]
        if in_use:
            listed = ", ".join(f"'{name}' ({n} uses)" for name, n in in_use)
            raise Conflict(
                f"Cannot delete {what.lower()}s still in use: {listed}. "
                'Retire them ("retired": true) or rename them instead.',
                code="in_use",
                problems=[
                    Problem(f"{name} is used {n} times", field=name, code="in_use")
                    for name, n in in_use
                ],
            )
        model.objects.filter(pk__in=[r.pk for r in gone]).delete()
    # Two passes so that swapping two names never trips the unique constraint.
    for pk in keep:
        model.objects.filter(pk=pk).update(name=f"~renaming~{pk}")
    for pk, (name, fields) in keep.items():
        model.objects.filter(pk=pk).update(name=name, **fields)
    model.objects.bulk_create([model(project=project, name=name, **fields) for name, fields in new])


@transaction.atomic
def scheme_update(
    *, project: Project, definition: dict[str, Any], actor_id: int | None, first: bool = False
) -> Project:
    """Replace the project's scheme, keeping every span, relation and stance valid."""
    spec, ids = _parse(definition)
    project = Project.objects.select_for_update().get(pk=project.pk)
    in_use_values = set(
        Stance.objects.filter(annotation__project=project)
        .values_list("value", flat=True)
        .distinct()
    ) - set(spec.stance_values)
    if in_use_values:
        raise Conflict(
            "Cannot remove stance values still in use: " + ", ".join(sorted(in_use_values)) + ".",
            code="in_use",
        )
    _sync_rows(
        model=Label,
        project=project,
        ids=ids.get("span_labels", {}),
        usage_relation="spans",
        what="Label",
        wanted=[
            (
                lab.name,
                {
                    "color": lab.color,
                    "hotkey": lab.hotkey or "",
                    "description": lab.description,
                    "retired": lab.retired,
                    "position": i,
                },
            )
            for i, lab in enumerate(spec.span_labels)
        ],
    )
    _sync_rows(
        model=RelationType,
        project=project,
        ids=ids.get("relation_types", {}),
        usage_relation="relations",
        what="Relation type",
        wanted=[
            (
                rt.name,
                {
                    "hotkey": rt.hotkey or "",
                    "directed": rt.directed,
                    "from_labels": list(rt.from_labels),
                    "to_labels": list(rt.to_labels),
                    "position": i,
                },
            )
            for i, rt in enumerate(spec.relation_types)
        ],
    )
    _sync_rows(
        model=StanceTarget,
        project=project,
        ids=ids.get("stance_targets", {}),
        usage_relation="stances",
        what="Stance target",
        wanted=[(t, {"position": i}) for i, t in enumerate(spec.stance_targets)],
    )
    canonical = spec.to_dict()
    if not first and canonical == project.scheme:
        return project
    project.scheme = canonical
    if not first:
        project.scheme_version += 1
    try:
        project.save(update_fields=["scheme", "scheme_version"])
        SchemeVersion.objects.create(
            project=project,
            version=project.scheme_version,
            definition=canonical,
            created_by_id=actor_id,
        )
    except IntegrityError as exc:  # pragma: no cover - guarded by the row lock above
        raise Conflict("The scheme was changed at the same time; reload and retry.") from exc
    audit_record(
        actor_id=actor_id,
        action="scheme.update",
        project=project,
        object_type="scheme",
        object_id=project.scheme_version,
    )
    return project


def scheme_spec(project: Project) -> SchemeSpec:
    """The project's scheme as the pure core sees it (parsed from the stored canonical JSON;
    about 35 µs for the demo scheme, so it is not cached)."""
    return parse_scheme(project.scheme or EMPTY_SCHEME)


_LABEL_ROWS: dict[tuple[int, int, str], dict[str, Label]] = {}


def label_rows(project: Project) -> dict[str, Label]:
    """The project's label rows by name, read once per process and scheme version.

    Every span write needs its label's row; the rows change only through ``scheme_update``,
    which bumps ``scheme_version``, so the version is a safe cache key. ``created_at`` is in
    the key too, so a reused primary key (a test database rolled back) can never hit a stale
    entry. Callers must not modify the returned rows.
    """
    key = (project.pk, project.scheme_version, project.created_at.isoformat())
    rows = _LABEL_ROWS.get(key)
    if rows is None:
        rows = {label.name: label for label in Label.objects.filter(project_id=project.pk)}
        if len(_LABEL_ROWS) > 500:
            _LABEL_ROWS.clear()
        _LABEL_ROWS[key] = rows
    return rows
