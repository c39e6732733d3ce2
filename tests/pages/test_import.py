from __future__ import annotations

import json
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from projects.models import Document

GOOD = "\n".join(
    json.dumps({"id": f"new-{i}", "title": f"New {i}", "text": f"Some text number {i}."})
    for i in range(3)
)


def _upload(name: str, content: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode(), content_type="application/octet-stream")


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_import_page_explains_the_formats(client: Any, world: Any) -> None:
    client.force_login(world.lead)
    response = client.get(f"/p/{world.project.slug}/import/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in html
    assert ".jsonl" in html and ".csv" in html and ".zip" in html
    assert "code points" in html


def test_a_lead_imports_a_small_jsonl_file(client: Any, world: Any) -> None:
    client.force_login(world.lead)
    response = client.post(
        f"/p/{world.project.slug}/import/",
        {"file": _upload("docs.jsonl", GOOD), "on_duplicate": "fail"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/p/{world.project.slug}/"
    assert "Imported 3 documents (0 annotations)." in _messages(response)
    assert (
        Document.objects.filter(project=world.project, external_id__startswith="new-").count() == 3
    )


def test_a_malformed_line_3_is_reported_and_nothing_is_imported(client: Any, world: Any) -> None:
    lines = GOOD.split("\n")
    lines[2] = '{"id": "new-2", "text": '
    client.force_login(world.lead)
    response = client.post(
        f"/p/{world.project.slug}/import/",
        {"file": _upload("docs.jsonl", "\n".join(lines)), "on_duplicate": "fail"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was imported" in html
    assert "line 3" in html
    assert "docs.jsonl" in html
    assert not Document.objects.filter(external_id__startswith="new-").exists()


def test_duplicates_fail_or_are_skipped_as_chosen(client: Any, world: Any) -> None:
    client.force_login(world.lead)
    url = f"/p/{world.project.slug}/import/"
    client.post(url, {"file": _upload("a.jsonl", GOOD), "on_duplicate": "fail"})
    failed = client.post(url, {"file": _upload("a.jsonl", GOOD), "on_duplicate": "fail"})
    assert failed.status_code == 400
    assert "already exists" in failed.content.decode()
    more = GOOD + "\n" + json.dumps({"id": "new-9", "text": "Ninth."})
    skipped = client.post(
        url, {"file": _upload("b.jsonl", more), "on_duplicate": "skip"}, follow=True
    )
    assert "Imported 1 document (0 annotations)." in _messages(skipped)
    assert "Skipped 3 documents whose id already exists." in _messages(skipped)


def test_problem_text_from_the_file_is_escaped(client: Any, world: Any) -> None:
    client.force_login(world.lead)
    response = client.post(
        f"/p/{world.project.slug}/import/",
        {"file": _upload("<b>x</b>.txt", ""), "on_duplicate": "fail"},
    )
    assert b"<b>x</b>" not in response.content
