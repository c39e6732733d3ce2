from __future__ import annotations

from typing import Any

from projects.models import Assignment, Membership, Role
from tests.factories import make_user


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_a_lead_can_add_a_member_by_username(client: Any, world: Any) -> None:
    newcomer = make_user("newcomer")
    client.force_login(world.lead)
    response = client.post(
        f"/p/{world.project.slug}/members/",
        {"username": "newcomer", "role": "reviewer"},
        follow=True,
    )
    assert Membership.objects.get(project=world.project, user=newcomer).role == Role.REVIEWER
    assert "newcomer is now reviewer." in _messages(response)


def test_adding_an_unknown_user_shows_the_reason(client: Any, world: Any) -> None:
    client.force_login(world.lead)
    response = client.post(
        f"/p/{world.project.slug}/members/",
        {"username": "nobody", "role": "annotator"},
        follow=True,
    )
    assert "No user named 'nobody'." in _messages(response)


def test_a_lead_can_change_a_role(client: Any, world: Any) -> None:
    membership = Membership.objects.get(project=world.project, user=world.annotator)
    client.force_login(world.lead)
    client.post(f"/p/{world.project.slug}/members/{membership.pk}/role/", {"role": "reviewer"})
    membership.refresh_from_db()
    assert membership.role == Role.REVIEWER


def test_the_last_lead_cannot_step_down(client: Any, world: Any) -> None:
    membership = Membership.objects.get(project=world.project, user=world.lead)
    client.force_login(world.lead)
    response = client.post(
        f"/p/{world.project.slug}/members/{membership.pk}/role/",
        {"role": "annotator"},
        follow=True,
    )
    membership.refresh_from_db()
    assert membership.role == Role.LEAD
    assert any("at least one lead" in m for m in _messages(response))


def test_a_lead_can_remove_a_member(client: Any, world: Any) -> None:
    membership = Membership.objects.get(project=world.project, user=world.consumer)
    client.force_login(world.lead)
    client.post(f"/p/{world.project.slug}/members/{membership.pk}/remove/")
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_a_membership_of_another_project_cannot_be_removed_through_this_one(
    client: Any, world: Any
) -> None:
    other = Membership.objects.get(project=world.other_project, user=world.other_lead)
    client.force_login(world.lead)
    response = client.post(f"/p/{world.project.slug}/members/{other.pk}/remove/")
    assert response.status_code == 404
    assert Membership.objects.filter(pk=other.pk).exists()


def test_a_lead_can_auto_assign(client: Any, world: Any) -> None:
    client.force_login(world.lead)
    response = client.post(f"/p/{world.project.slug}/assign/", follow=True)
    assert Assignment.objects.filter(document=world.documents[2]).count() == 2
    assert "Created 2 assignments among 2 annotators (k = 2)." in _messages(response)


def test_auto_assign_without_annotators_says_why(client: Any, world: Any) -> None:
    client.force_login(world.other_lead)
    response = client.post(f"/p/{world.other_project.slug}/assign/", follow=True)
    assert any("no annotators" in m for m in _messages(response))


def test_a_lead_can_change_the_settings(client: Any, world: Any) -> None:
    client.force_login(world.lead)
    response = client.post(
        f"/p/{world.project.slug}/settings/",
        {
            "name": "Alpha 2",
            "description": "News",
            "guidelines": "# Read me",
            "annotators_per_document": 3,
            "snap_to_words": "on",
        },
        follow=True,
    )
    world.project.refresh_from_db()
    assert world.project.name == "Alpha 2"
    assert world.project.annotators_per_document == 3
    assert not world.project.blind and world.project.snap_to_words
    assert not world.project.allow_overlap
    assert "Settings saved." in _messages(response)


def test_invalid_settings_are_shown_in_the_form_and_not_saved(client: Any, world: Any) -> None:
    client.force_login(world.lead)
    response = client.post(
        f"/p/{world.project.slug}/settings/", {"name": "", "annotators_per_document": 99}
    )
    assert response.status_code == 400
    world.project.refresh_from_db()
    assert world.project.name == "Alpha"
    assert response.context["settings_form"].errors.keys() == {"name", "annotators_per_document"}


def test_a_lead_assigns_and_unassigns_a_document_by_hand(client: Any, world: Any) -> None:
    from projects.models import Assignment

    doc = world.documents[2]
    client.force_login(world.lead)
    page = client.get(f"/p/{world.project.slug}/d/{doc.pk}/")
    assert b"Assign to" in page.content
    response = client.post(
        f"/p/{world.project.slug}/d/{doc.pk}/assign/", {"annotator": world.annotator.pk}
    )
    assert response.status_code == 302
    assignment = Assignment.objects.get(document=doc, annotator=world.annotator)
    page = client.get(f"/p/{world.project.slug}/d/{doc.pk}/")
    assert b"Unassign" in page.content and b"ann1" in page.content
    client.post(f"/p/{world.project.slug}/d/{doc.pk}/assign/{assignment.pk}/remove/")
    assert not Assignment.objects.filter(document=doc, annotator=world.annotator).exists()


def test_assigning_a_consumer_is_refused_with_a_message(client: Any, world: Any) -> None:
    from projects.models import Assignment

    doc = world.documents[2]
    client.force_login(world.lead)
    response = client.post(
        f"/p/{world.project.slug}/d/{doc.pk}/assign/",
        {"annotator": world.consumer.pk},
        follow=True,
    )
    assert b"annotator" in response.content
    assert not Assignment.objects.filter(document=doc, annotator=world.consumer).exists()


def test_a_lead_sets_the_adjudication_threshold_within_0_and_1(client: Any, world: Any) -> None:
    client.force_login(world.lead)
    base = {"name": "Alpha", "annotators_per_document": 2, "blind": "on"}
    client.post(f"/p/{world.project.slug}/settings/", {**base, "adjudication_threshold": "0.7"})
    world.project.refresh_from_db()
    assert world.project.adjudication_threshold == 0.7
    response = client.post(
        f"/p/{world.project.slug}/settings/", {**base, "adjudication_threshold": "1.5"}
    )
    assert response.status_code == 400
    world.project.refresh_from_db()
    assert world.project.adjudication_threshold == 0.7
