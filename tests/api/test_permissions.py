"""The permission matrix: every endpoint × every persona. A new endpoint without a row here
fails ``test_every_api_route_is_in_the_matrix``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.urls import get_resolver

from projects.models import Assignment, Membership, StanceTarget
from projects.permissions import project_access
from projects.services import annotations as annotation_services

from ..conftest import World, client_for

PERSONAS = ["anonymous", "outsider", "consumer", "annotator", "reviewer", "lead"]


@dataclass
class Row:
    method: str
    route: str  # a format string over {p} {d} {m} {a} {t} {s} {r}
    allowed: dict[str, int]  # persona -> expected status for those allowed
    body: dict[str, Any] | None = None
    denied: int = 403  # what members without the role get
    needs_span: bool = False
    files: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


MEMBERS_200 = {"consumer": 200, "annotator": 200, "reviewer": 200, "lead": 200}
READERS_200 = {"annotator": 200, "reviewer": 200, "lead": 200}
REVIEWERS_200 = {"reviewer": 200, "lead": 200}
ANNOTATORS = {"annotator": 200, "lead": 200}
EXPORTERS_200 = {"consumer": 200, "reviewer": 200, "lead": 200}

MATRIX = [
    Row("get", "projects/{p}/", MEMBERS_200),
    Row("patch", "projects/{p}/", {"lead": 200}, {"description": "new"}),
    Row("get", "projects/{p}/members/", REVIEWERS_200),
    Row(
        "post",
        "projects/{p}/members/",
        {"lead": 201},
        {"username": "outsider2", "role": "annotator"},
    ),
    Row("get", "projects/{p}/members/{m}/", REVIEWERS_200),
    Row("patch", "projects/{p}/members/{m}/", {"lead": 200}, {"role": "reviewer"}),
    Row("delete", "projects/{p}/members/{m}/", {"lead": 204}),
    Row("get", "projects/{p}/scheme/", MEMBERS_200),
    Row("put", "projects/{p}/scheme/", {"lead": 200}, "SCHEME"),  # type: ignore[arg-type]
    Row("get", "projects/{p}/documents/", READERS_200),
    Row("post", "projects/{p}/documents/import/", {"lead": 201}, files=True),
    Row("get", "projects/{p}/documents/{d}/", READERS_200),
    # deleting and restoring: leads only ({d} holds ann2's annotation, so confirm is needed)
    Row("delete", "projects/{p}/documents/{d}/", {"lead": 200}, {"confirm": "{ext}"}),
    Row("post", "projects/{p}/documents/{d}/restore/", {"lead": 200}, {}),
    Row("get", "projects/{p}/documents/deleted/", {"lead": 200}),
    Row("delete", "projects/{p}/documents/{d}/annotations/{a}/", {"lead": 200}),
    Row("post", "projects/{p}/documents/{d}/annotations/{a}/restore/", {"lead": 200}, {}),
    Row("get", "projects/{p}/annotations/deleted/", {"lead": 200}),
    Row("delete", "projects/{p}/", {"lead": 200}, {"confirm": "{slug}"}),
    Row("get", "projects/{p}/documents/{d}/history/", REVIEWERS_200),
    Row("get", "projects/{p}/assignments/", REVIEWERS_200),
    Row(
        "post",
        "projects/{p}/assignments/",
        {"lead": 201},
        {"document": "{d3}", "annotator": "ann1"},
    ),
    Row("post", "projects/{p}/assignments/auto/", {"lead": 200}, {}),
    Row("delete", "projects/{p}/assignments/{asg}/", {"lead": 204}),
    Row("get", "projects/{p}/queue/", MEMBERS_200),
    Row("get", "projects/{p}/progress/", REVIEWERS_200),
    Row("get", "projects/{p}/documents/{d}/annotations/", READERS_200),
    Row(
        "get",
        "projects/{p}/documents/{d}/annotations/{a}/",
        {"reviewer": 200, "lead": 200},
        denied=404,
        extra={"annotator_status": 404},
    ),
    Row("get", "projects/{p}/documents/{d}/annotation/", ANNOTATORS),
    Row(
        "post",
        "projects/{p}/documents/{d}/annotation/spans/",
        {"annotator": 201, "lead": 201},
        {"start": 0, "end": 9, "label": "Claim"},
    ),
    Row(
        "patch",
        "projects/{p}/documents/{d}/annotation/spans/mine/",
        ANNOTATORS,
        {"label": "Critique"},
        needs_span=True,
    ),
    Row("delete", "projects/{p}/documents/{d}/annotation/spans/mine/", ANNOTATORS, needs_span=True),
    Row(
        "post",
        "projects/{p}/documents/{d}/annotation/relations/",
        {"annotator": 201, "lead": 201},
        {"from": "mine2", "to": "mine", "type": "attacks"},
        needs_span=True,
    ),
    Row(
        "delete", "projects/{p}/documents/{d}/annotation/relations/r1/", ANNOTATORS, needs_span=True
    ),
    Row(
        "put", "projects/{p}/documents/{d}/annotation/stances/{t}/", ANNOTATORS, {"value": "favor"}
    ),
    Row(
        "delete", "projects/{p}/documents/{d}/annotation/stances/{t}/", ANNOTATORS, needs_span=True
    ),
    Row("post", "projects/{p}/documents/{d}/annotation/submit/", ANNOTATORS, {}),
    Row("post", "projects/{p}/documents/{d}/annotation/skip/", ANNOTATORS, {"reason": "off topic"}),
    Row("get", "projects/{p}/agreement/", REVIEWERS_200),
    Row("get", "projects/{p}/adjudication/", REVIEWERS_200),
    Row("get", "projects/{p}/documents/{d}/gold/", REVIEWERS_200),
    # no submitted work in the matrix's world: the merge is refused (409) for those allowed
    Row("post", "projects/{p}/documents/{d}/gold/merge/", {"reviewer": 409, "lead": 409}, {}),
    Row("post", "projects/{p}/documents/{d}/gold/submit/", {"reviewer": 409, "lead": 409}, {}),
    Row(
        "post",
        "projects/{p}/documents/{d}/gold/decide/",
        {"reviewer": 404, "lead": 404},
        {"start": 0, "end": 9, "label": "Claim", "decision": "accept"},
    ),
    # no gold in the matrix's world: nothing to undo (409) for those allowed
    Row("post", "projects/{p}/documents/{d}/gold/undo/", {"reviewer": 409, "lead": 409}, {}),
    # exports: everyone but annotators; {e} is a finished export requested by the lead
    Row("get", "projects/{p}/exports/", EXPORTERS_200),
    Row(
        "post",
        "projects/{p}/exports/",
        {"consumer": 202, "reviewer": 202, "lead": 202},
        {"format": "jsonl"},
    ),
    Row("get", "projects/{p}/exports/{e}/", EXPORTERS_200),
    Row("get", "projects/{p}/exports/{e}/download/", EXPORTERS_200),
    Row("get", "projects/{p}/exports/{e}/manifest/", EXPORTERS_200),
    # others may delete only what they requested themselves: 403 on the lead's
    Row("delete", "projects/{p}/exports/{e}/", {"lead": 204}),
]

GLOBAL = [
    Row("get", "projects/", {p: 200 for p in PERSONAS if p != "anonymous"}),
    Row("post", "projects/", {p: 201 for p in PERSONAS if p != "anonymous"}, {"name": "Mine"}),
    Row("get", "auth/tokens/", {p: 200 for p in PERSONAS if p != "anonymous"}),
    Row("get", "me/", {p: 200 for p in PERSONAS if p != "anonymous"}),
]


def _ids(world: World, project: Any, docs: list[Any]) -> dict[str, Any]:
    if project == world.project:
        membership = Membership.objects.get(project=project, user=world.annotator2)
    else:
        membership = Membership.objects.filter(project=project).first()
    target = StanceTarget.objects.filter(project=project).first()
    assignment = Assignment.objects.filter(project=project).first()
    return {
        "p": project.pk,
        "slug": project.slug,
        "d": docs[0].pk,
        "ext": docs[0].external_id,
        "d3": docs[-1].pk,
        "m": membership.pk,
        "t": target.pk if target else 0,
        "asg": assignment.pk if assignment else 0,
        "e": _finished_export(project),
    }


def _finished_export(project: Any) -> int:
    """A real export of ``project``, built in this process (requested by its creator)."""
    from projects.models import Export
    from projects.services import exports

    export = Export.objects.create(
        project=project, format="jsonl", requested_by_id=project.created_by_id
    )
    exports.export_run(export_id=export.pk, worker="matrix")
    return export.pk


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Any) -> None:
    """Export files of the matrix go to a temporary folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _seed_own_work(world: World, user: Any) -> None:
    """Give ``user`` two spans, a relation and a stance on the first document."""
    access = project_access(user, world.project.pk)
    doc = world.documents[0]
    annotation_services.span_create(
        access=access, document=doc, start=0, end=9, label="Claim", client_id="mine"
    )
    annotation_services.span_create(
        access=access, document=doc, start=10, end=14, label="Justification", client_id="mine2"
    )
    annotation_services.relation_create(
        access=access, document=doc, source="mine2", target="mine", type="supports", client_id="r1"
    )
    target = StanceTarget.objects.filter(project=world.project).first()
    annotation_services.stance_set(access=access, document=doc, target_id=target.pk, value="favor")


def _annotation_of_ann2(world: World) -> int:
    access = project_access(world.annotator2, world.project.pk)
    change = annotation_services.span_create(
        access=access, document=world.documents[0], start=0, end=9, label="Claim"
    )
    return change.annotation.pk


def _placeholder(value: Any, ids: dict[str, Any]) -> bool:
    return isinstance(value, str) and value[:1] + value[-1:] == "{}" and value[1:-1] in ids


def _call(client: Any, row: Row, url: str, world: World, ids: dict[str, Any]) -> Any:
    from ..factories import demo_scheme

    if row.files:
        import io

        f = io.BytesIO(b'{"id": "new-doc", "text": "A new text."}\n')
        f.name = "new.jsonl"
        return client.post(url, {"file": f}, format="multipart")
    body = row.body
    if body == "SCHEME":
        body = demo_scheme()
    elif isinstance(body, dict):
        # "{d3}", "{ext}", "{slug}": values of ``ids``
        body = {k: ids[v[1:-1]] if _placeholder(v, ids) else v for k, v in body.items()}
    return (
        getattr(client, row.method)(url, body, format="json")
        if body is not None
        else getattr(client, row.method)(url)
    )


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("row", MATRIX, ids=lambda r: f"{r.method} {r.route}")
def test_each_persona_gets_the_expected_status_on_each_project_endpoint(
    world: World, persona: str, row: Row
) -> None:
    from ..factories import make_user

    make_user("outsider2")
    user = world.persona(persona)
    if row.needs_span and persona in ("annotator", "lead"):
        _seed_own_work(world, user)
    ids = _ids(world, world.project, world.documents)
    ids["a"] = _annotation_of_ann2(world)
    url = "/api/v1/" + row.route.format(**ids)
    response = _call(client_for(user), row, url, world, ids)
    if persona == "anonymous":
        expected = 401
    elif persona == "outsider":
        expected = 404
    elif persona in row.allowed:
        expected = row.allowed[persona]
    elif persona == "annotator" and "annotator_status" in row.extra:
        expected = row.extra["annotator_status"]
    else:
        expected = 403
    assert response.status_code == expected, (persona, url, response.content[:300])
    if expected >= 400:
        assert set(response.json()) == {"error"}
        assert {"code", "message", "details"} <= set(response.json()["error"])


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("row", GLOBAL, ids=lambda r: f"{r.method} {r.route}")
def test_each_persona_gets_the_expected_status_on_global_endpoints(
    world: World, persona: str, row: Row
) -> None:
    response = _call(client_for(world.persona(persona)), row, "/api/v1/" + row.route, world, {})
    expected = 401 if persona == "anonymous" else row.allowed[persona]
    assert response.status_code == expected, response.content[:300]


@pytest.mark.parametrize("row", MATRIX, ids=lambda r: f"{r.method} {r.route}")
def test_a_lead_of_project_a_can_read_or_change_nothing_of_project_b(
    world: World, row: Row
) -> None:
    """404, not 403: nothing reveals that project B exists."""
    ids = _ids(world, world.other_project, world.other_documents)
    ids["a"] = 1
    url = "/api/v1/" + row.route.format(**ids)
    response = _call(client_for(world.lead), row, url, world, ids)
    assert response.status_code == 404, (url, response.content[:300])


@pytest.mark.parametrize(
    "row", [r for r in MATRIX if "{d}" in r.route], ids=lambda r: f"{r.method} {r.route}"
)
def test_a_document_of_project_b_is_not_found_under_project_a(world: World, row: Row) -> None:
    ids = _ids(world, world.project, world.documents)
    ids["d"] = world.other_documents[0].pk
    ids["a"] = 1
    url = "/api/v1/" + row.route.format(**ids)
    response = _call(client_for(world.lead), row, url, world, ids)
    assert response.status_code == 404, (url, response.content[:300])


def test_every_api_route_is_in_the_matrix() -> None:
    """A new endpoint without a permission row fails here."""
    covered = {r.route.split("{")[0] for r in MATRIX + GLOBAL}
    routes = set()
    for pattern in get_resolver().url_patterns:
        if str(pattern.pattern) == "api/v1/":
            for sub in pattern.url_patterns:
                routes.add(str(sub.pattern))
    assert routes, "no API routes found"
    normalised = {
        r.replace("<id:", "<int:")
        .replace("<str:project_id>", "{p}")
        .replace("<int:document_id>", "{d}")
        .replace("<int:member_id>", "{m}")
        .replace("<int:annotation_id>", "{a}")
        .replace("<int:assignment_id>", "{asg}")
        .replace("<str:span_id>", "mine")
        .replace("<str:relation_id>", "r1")
        .replace("<int:target_id>", "{t}")
        .replace("<int:token_id>", "{tok}")
        .replace("<int:export_id>", "{e}")
        for r in routes
    }
    in_matrix = {r.route for r in MATRIX + GLOBAL} | {"auth/tokens/{tok}/"}
    assert normalised - in_matrix == set()
    assert covered


def test_every_operation_of_the_openapi_schema_has_a_row_for_its_method() -> None:
    """The schema is what clients are generated from: each documented operation (path and
    method) must be in the matrix, so no endpoint ships without a tested rule."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    names = {
        "{project_id}": "{p}",
        "{document_id}": "{d}",
        "{member_id}": "{m}",
        "{annotation_id}": "{a}",
        "{assignment_id}": "{asg}",
        "{span_id}": "mine",
        "{relation_id}": "r1",
        "{target_id}": "{t}",
        "{token_id}": "{tok}",
        "{export_id}": "{e}",
    }
    documented = set()
    for path, operations in schema["paths"].items():
        route = path.removeprefix("/api/v1/")
        for placeholder, name in names.items():
            route = route.replace(placeholder, name)
        for method in operations:
            if method in {"get", "post", "put", "patch", "delete"}:
                documented.add((method, route))
    assert documented, "the schema documents no operation"
    in_matrix = {(r.method, r.route) for r in MATRIX + GLOBAL}
    in_matrix |= {("delete", "auth/tokens/{tok}/"), ("post", "auth/tokens/")}
    assert documented - in_matrix == set()
