"""The Django admin covers every model; the session API keeps CSRF on."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from rest_framework.test import APIClient

from .conftest import World


def test_every_model_of_the_app_is_in_the_admin() -> None:
    models = set(apps.get_app_config("projects").get_models())
    assert models - set(admin.site._registry) == set()


@pytest.mark.django_db
def test_every_admin_changelist_and_change_page_renders(world: World, client: Any) -> None:
    from projects.permissions import project_access
    from projects.services import annotations as annotation_services

    access = project_access(world.annotator, world.project.pk)
    annotation_services.span_create(
        access=access, document=world.documents[0], start=0, end=9, label="Claim", client_id="c"
    )
    annotation_services.span_create(
        access=access,
        document=world.documents[0],
        start=10,
        end=14,
        label="Justification",
        client_id="j",
    )
    annotation_services.relation_create(
        access=access, document=world.documents[0], source="j", target="c", type="supports"
    )
    world.lead.is_staff = world.lead.is_superuser = True
    world.lead.save()
    client.force_login(world.lead)
    for model in apps.get_app_config("projects").get_models():
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert client.get(changelist).status_code == 200, changelist
        obj = model.objects.first()
        if obj is not None:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
            assert client.get(change).status_code == 200, change


@pytest.mark.django_db
def test_a_session_api_write_without_a_csrf_token_is_refused(world: World) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.annotator)
    url = f"/api/v1/projects/{world.project.pk}/documents/{world.documents[0].pk}/annotation/spans/"
    r = client.post(url, {"start": 0, "end": 9, "label": "Claim"}, format="json")
    assert r.status_code == 403
    assert "CSRF" in r.json()["error"]["message"]
    client.get("/")  # the page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    r = client.post(
        url, {"start": 0, "end": 9, "label": "Claim"}, format="json", HTTP_X_CSRFTOKEN=token
    )
    assert r.status_code == 201
