from __future__ import annotations

from typing import Any

from projects.services import projects as project_services

from .conftest import ANN1_SPAN, ANN2_SPAN


def test_an_annotator_sees_the_text_and_their_own_spans(
    client: Any, world: Any, annotated_document: Any
) -> None:
    client.force_login(world.annotator)
    response = client.get(f"/p/{world.project.slug}/d/{annotated_document.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Officials said the plan was final. Critics called it a grave mistake." in html
    assert f'<td class="span-text">{ANN1_SPAN}</td>' in html


def test_blind_mode_hides_another_annotators_spans(
    client: Any, world: Any, annotated_document: Any
) -> None:
    client.force_login(world.annotator)
    html = client.get(f"/p/{world.project.slug}/d/{annotated_document.pk}/").content.decode()
    assert ANN2_SPAN not in html.replace(
        "Officials said the plan was final. Critics called it a grave mistake.", ""
    )
    assert "ann2" not in html


def test_without_blind_mode_annotators_see_each_other(
    client: Any, world: Any, annotated_document: Any
) -> None:
    project_services.project_update(project=world.project, actor_id=world.lead.pk, blind=False)
    client.force_login(world.annotator)
    html = client.get(f"/p/{world.project.slug}/d/{annotated_document.pk}/").content.decode()
    assert f'<td class="span-text">{ANN2_SPAN}</td>' in html


def test_a_reviewer_sees_every_annotators_spans(
    client: Any, world: Any, annotated_document: Any
) -> None:
    client.force_login(world.reviewer)
    html = client.get(f"/p/{world.project.slug}/d/{annotated_document.pk}/").content.decode()
    assert f'<td class="span-text">{ANN1_SPAN}</td>' in html
    assert f'<td class="span-text">{ANN2_SPAN}</td>' in html


def test_document_text_and_meta_are_escaped(client: Any, world: Any) -> None:
    import json

    from projects.services.documents import documents_import

    line = {
        "id": "x",
        "title": "<i>t</i>",
        "text": "<script>alert(1)</script>",
        "meta": {"<b>k</b>": "<img src=x>"},
    }
    result = documents_import(
        project=world.project,
        filename="x.jsonl",
        data=json.dumps(line).encode(),
        actor_id=world.lead.pk,
    )
    client.force_login(world.lead)
    html = client.get(f"/p/{world.project.slug}/d/{result.document_ids[0]}/").content.decode()
    assert "<script>alert" not in html and "<img src=x>" not in html and "<i>t</i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
