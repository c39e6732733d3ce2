from __future__ import annotations

import json
from typing import Any

from projects import selectors
from projects.models import Label


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_everyone_in_the_project_can_view_the_scheme(client: Any, world: Any) -> None:
    for persona in ("lead", "reviewer", "annotator", "consumer"):
        client.force_login(world.persona(persona))
        response = client.get(f"/p/{world.project.slug}/scheme/")
        html = response.content.decode()
        assert response.status_code == 200
        assert "Justification" in html and "supports" in html and "Amnesty" in html
        assert ('name="definition"' in html) == (persona == "lead")


def test_the_edit_box_is_prefilled_with_ids(client: Any, world: Any) -> None:
    client.force_login(world.lead)
    form = client.get(f"/p/{world.project.slug}/scheme/").context["form"]
    data = json.loads(form.initial["definition"])
    claim = Label.objects.get(project=world.project, name="Claim")
    assert {"id": claim.pk, "name": "Claim"}.items() <= data["span_labels"][0].items()


def test_saving_a_rename_keeps_the_label_row(
    client: Any, world: Any, annotated_document: Any
) -> None:
    claim = Label.objects.get(project=world.project, name="Claim")
    payload = selectors.scheme_payload(world.project)
    payload["span_labels"][0]["name"] = "Thesis"
    client.force_login(world.lead)
    response = client.post(
        f"/p/{world.project.slug}/scheme/", {"definition": json.dumps(payload)}, follow=True
    )
    claim.refresh_from_db()
    assert claim.name == "Thesis"
    assert claim.spans.count() == 1
    assert "Scheme saved (version 2)." in _messages(response)


def test_deleting_a_used_label_is_refused_with_a_message_naming_it(
    client: Any, world: Any, annotated_document: Any
) -> None:
    payload = selectors.scheme_payload(world.project)
    payload["span_labels"] = [lab for lab in payload["span_labels"] if lab["name"] != "Claim"]
    text = json.dumps(payload, indent=2)
    client.force_login(world.lead)
    response = client.post(f"/p/{world.project.slug}/scheme/", {"definition": text})
    assert response.status_code == 400
    html = response.content.decode()
    assert any("'Claim'" in m and "in use" in m for m in _messages(response))
    assert "Claim is used 1 times" in html
    # the user's text is kept, not replaced by the saved scheme
    assert response.context["form"]["definition"].value() == text
    assert Label.objects.filter(project=world.project, name="Claim").exists()


def test_invalid_json_names_the_line_and_column(client: Any, world: Any) -> None:
    client.force_login(world.lead)
    text = '{\n  "name": "x",\n  "span_labels": [,]\n}'
    response = client.post(f"/p/{world.project.slug}/scheme/", {"definition": text})
    assert response.status_code == 400
    assert any("line 3, column" in m for m in _messages(response))
    assert response.context["form"]["definition"].value() == text


def test_an_invalid_scheme_lists_each_problem_with_its_field(client: Any, world: Any) -> None:
    payload = selectors.scheme_payload(world.project)
    payload["span_labels"][1]["color"] = "green"
    client.force_login(world.lead)
    response = client.post(f"/p/{world.project.slug}/scheme/", {"definition": json.dumps(payload)})
    assert response.status_code == 400
    assert "span_labels[1].color" in response.content.decode()
    world.project.refresh_from_db()
    assert world.project.scheme_version == 1


def test_relation_type_descriptions_survive_an_unchanged_save(client: Any, world: Any) -> None:
    from projects.services.projects import scheme_update

    definition = dict(world.project.scheme)
    definition["relation_types"] = [
        {**rt, "description": "X backs Y"} if rt["name"] == "supports" else rt
        for rt in definition["relation_types"]
    ]
    scheme_update(project=world.project, definition=definition, actor_id=world.lead.pk)
    client.force_login(world.lead)
    text = client.get(f"/p/{world.project.slug}/scheme/").context["form"].initial["definition"]
    client.post(f"/p/{world.project.slug}/scheme/", {"definition": text})
    world.project.refresh_from_db()
    supports = next(rt for rt in world.project.scheme["relation_types"] if rt["name"] == "supports")
    assert supports["description"] == "X backs Y"
