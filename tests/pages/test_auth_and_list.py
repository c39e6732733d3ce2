from __future__ import annotations

from typing import Any

from django.urls import reverse

from projects.models import Membership, Project, Role
from tests.factories import PASSWORD


def test_login_page_renders(client: Any, db: Any) -> None:
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b"Log in" in response.content
    assert b"csrfmiddlewaretoken" in response.content


def test_logging_in_redirects_to_the_project_list(client: Any, world: Any) -> None:
    response = client.post(reverse("login"), {"username": "lead", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("projects:list") == "/"


def test_anonymous_visitors_are_sent_to_the_login_page(client: Any, world: Any) -> None:
    for url in ("/", "/projects/new/", "/p/alpha/", "/p/alpha/scheme/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_logout_is_a_post_form_with_csrf(client: Any, world: Any) -> None:
    client.force_login(world.lead)
    html = client.get("/").content.decode()
    assert 'action="/accounts/logout/"' in html
    assert 'method="post"' in html
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_the_list_shows_only_the_users_projects_with_role_and_counts(
    client: Any, world: Any
) -> None:
    client.force_login(world.annotator)
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Alpha" in html
    assert "Beta" not in html
    assert "Annotator" in html
    memberships = list(response.context["memberships"])
    assert [m.project.name for m in memberships] == ["Alpha"]
    assert memberships[0].document_count == 3


def test_staff_see_the_admin_link_and_others_do_not(client: Any, world: Any) -> None:
    client.force_login(world.lead)
    assert b"/admin/" not in client.get("/").content
    world.lead.is_staff = True
    world.lead.save()
    assert b"/admin/" in client.get("/").content


def test_a_user_creates_a_project_from_the_demo_scheme_and_becomes_its_lead(
    client: Any, world: Any
) -> None:
    client.force_login(world.outsider)
    response = client.post(
        reverse("projects:create"),
        {
            "name": "Gamma",
            "slug": "",
            "annotators_per_document": 3,
            "blind": "on",
            "scheme": "demo",
        },
    )
    project = Project.objects.get(name="Gamma")
    assert response.status_code == 302
    assert response["Location"] == reverse("projects:overview", args=[project.slug])
    assert project.annotators_per_document == 3 and project.blind
    assert Membership.objects.get(project=project, user=world.outsider).role == Role.LEAD
    assert {lab.name for lab in project.labels.all()} == {"Claim", "Justification", "Critique"}


def test_a_project_can_start_with_an_empty_scheme(client: Any, world: Any) -> None:
    client.force_login(world.outsider)
    client.post(
        reverse("projects:create"),
        {"name": "Delta", "slug": "delta-x", "annotators_per_document": 1, "scheme": "empty"},
    )
    project = Project.objects.get(slug="delta-x")
    assert not project.blind
    assert list(project.labels.all()) == []


def test_a_taken_slug_is_refused_with_a_message(client: Any, world: Any) -> None:
    client.force_login(world.outsider)
    response = client.post(
        reverse("projects:create"),
        {"name": "Again", "slug": "alpha", "annotators_per_document": 2, "scheme": "demo"},
    )
    assert response.status_code == 200
    assert "taken" in response.content.decode()
    assert not Project.objects.filter(name="Again").exists()


def test_an_all_digit_name_gets_a_slug_that_still_resolves(client: Any, world: Any) -> None:
    client.force_login(world.outsider)
    response = client.post(
        reverse("projects:create"),
        {"name": "2024", "annotators_per_document": 2, "scheme": "demo"},
    )
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200


def test_with_project_creators_staff_only_staff_create_projects(
    client: Any, world: Any, settings: Any
) -> None:
    """PROJECT_CREATORS=staff: the button is gone, the page and the API refuse with a reason,
    nothing is created; staff still create."""
    settings.PROJECT_CREATORS = "staff"
    form = {"name": "Gamma", "slug": "", "annotators_per_document": 2, "scheme": "demo"}
    client.force_login(world.outsider)
    assert reverse("projects:create").encode() not in client.get("/").content
    assert client.get(reverse("projects:create")).status_code == 403
    refused = client.post(reverse("projects:create"), form)
    assert refused.status_code == 403
    assert b"Only staff can create projects" in refused.content
    api = client.post("/api/v1/projects/", {"name": "Gamma"}, content_type="application/json")
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "project_creation_forbidden"
    assert not Project.objects.filter(name="Gamma").exists()

    world.outsider.is_staff = True
    world.outsider.save()
    assert reverse("projects:create").encode() in client.get("/").content
    assert client.post(reverse("projects:create"), form).status_code == 302
    api = client.post("/api/v1/projects/", {"name": "Delta"}, content_type="application/json")
    assert api.status_code == 201, api.content
    assert Project.objects.filter(name__in=["Gamma", "Delta"]).count() == 2


def test_by_default_everyone_signed_in_may_create_projects(client: Any, world: Any) -> None:
    client.force_login(world.outsider)
    assert reverse("projects:create").encode() in client.get("/").content
    assert client.get(reverse("projects:create")).status_code == 200
