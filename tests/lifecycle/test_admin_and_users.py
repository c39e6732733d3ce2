"""The admin and users: a user with annotations cannot be deleted (deactivate them instead),
staff see deleted projects, documents and annotations and restore them, and the admin
hard-deletes none of them."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.test import APIClient

from projects.models import Annotation, AuditEvent, Document, Project
from projects.services import lifecycle
from projects.services.tokens import token_create

from ..conftest import World, client_for
from ..factories import PASSWORD, make_user


@pytest.fixture
def staff(world: World, client: Any) -> Any:
    admin = make_user("admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return admin


def _span_agreement(world: World) -> dict[str, Any]:
    report = client_for(world.lead).get(f"/api/v1/projects/{world.project.pk}/agreement/").json()
    return report["report"]["spans"]


def test_a_user_with_annotations_cannot_be_deleted_in_the_admin(
    annotated: World, client: Any, staff: Any
) -> None:
    world = annotated
    url = reverse("admin:auth_user_delete", args=[world.annotator.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["protected"], "the annotations are listed as protected"
    assert "Cannot delete user" in page.content.decode()
    client.post(url, {"post": "yes"})
    assert get_user_model().objects.filter(pk=world.annotator.pk).exists()
    assert Annotation.objects.filter(annotator=world.annotator).count() == 2


def test_soft_deleted_annotations_still_protect_their_annotator(
    annotated: World, client: Any, staff: Any
) -> None:
    world = annotated
    for annotation in Annotation.objects.filter(annotator=world.annotator2):
        lifecycle.annotation_delete(
            project=world.project,
            document=annotation.document,
            annotation_id=annotation.pk,
            actor_id=world.lead.pk,
        )
    url = reverse("admin:auth_user_delete", args=[world.annotator2.pk])
    client.post(url, {"post": "yes"})
    assert get_user_model().objects.filter(pk=world.annotator2.pk).exists()
    assert Annotation.all_objects.filter(annotator=world.annotator2).count() == 2


def test_a_user_without_annotations_can_still_be_deleted(
    world: World, client: Any, staff: Any
) -> None:
    url = reverse("admin:auth_user_delete", args=[world.consumer.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not get_user_model().objects.filter(pk=world.consumer.pk).exists()


def test_a_deactivated_user_cannot_sign_in_and_their_annotations_stay(
    annotated: World, client: Any, staff: Any
) -> None:
    world = annotated
    _token, key = token_create(user_id=world.annotator.pk, name="script")
    before = _span_agreement(world)
    assert before["exact_labelled"]["f1"]["n"] > 0
    login = {"username": "ann1", "password": PASSWORD}
    client.logout()
    assert client.post(reverse("login"), login).status_code == 302  # while active
    user = world.annotator
    user.is_active = False
    user.save(update_fields=["is_active"])
    client.logout()
    response = client.post(reverse("login"), login)
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/me/").status_code == 401
    assert _span_agreement(world) == before
    assert Annotation.objects.filter(annotator=user).count() == 2


def test_staff_see_deleted_rows_in_the_admin_and_restore_them(
    annotated: World, client: Any, staff: Any
) -> None:
    world = annotated
    doc = world.documents[0]
    lifecycle.document_delete(
        project=world.project, document=doc, actor_id=world.lead.pk, confirm=doc.external_id
    )
    lifecycle.project_delete(
        project=world.project, actor_id=world.lead.pk, confirm=world.project.slug
    )
    projects = client.get(reverse("admin:projects_project_changelist") + "?deleted_at__isempty=0")
    assert [p.pk for p in projects.context["cl"].result_list] == [world.project.pk]
    documents = client.get(reverse("admin:projects_document_changelist"))
    assert doc.pk in [d.pk for d in documents.context["cl"].result_list]
    annotations = client.get(reverse("admin:projects_annotation_changelist"))
    assert len(annotations.context["cl"].result_list) == 5
    change = reverse("admin:projects_project_change", args=[world.project.pk])
    assert client.get(change).status_code == 200
    response = client.post(
        reverse("admin:projects_project_changelist"),
        {"action": "restore", "_selected_action": [world.project.pk]},
    )
    assert response.status_code == 302
    assert Project.objects.filter(pk=world.project.pk).exists()
    client.post(
        reverse("admin:projects_document_changelist"),
        {"action": "restore", "_selected_action": [doc.pk]},
    )
    assert Document.objects.filter(pk=doc.pk).exists()
    assert Annotation.objects.filter(document=doc).count() == 3
    restored = AuditEvent.objects.filter(action__endswith=".restore").values_list("action", "actor")
    assert set(restored) == {("project.restore", staff.pk), ("document.restore", staff.pk)}


@pytest.mark.parametrize("model", ["project", "document", "annotation"])
def test_the_admin_deletes_no_project_document_or_annotation(
    annotated: World, client: Any, staff: Any, model: str
) -> None:
    world = annotated
    obj = {
        "project": world.project,
        "document": world.documents[2],
        "annotation": Annotation.objects.first(),
    }[model]
    response = client.post(
        reverse(f"admin:projects_{model}_delete", args=[obj.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    changelist = client.get(reverse(f"admin:projects_{model}_changelist"))
    assert "delete_selected" not in changelist.content.decode()
    assert type(obj).all_objects.filter(pk=obj.pk).exists()
