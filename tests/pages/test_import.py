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


# --- brat, doccano and Label Studio --------------------------------------------------------------


def _upload_bytes(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def test_the_import_page_explains_the_other_tools_and_offers_the_options(
    client: Any, world: Any
) -> None:
    client.force_login(world.lead)
    html = client.get(f"/p/{world.project.slug}/import/").content.decode()
    for needle in ("brat standoff", "doccano", "Label Studio", "JSON-MIN", 'name="format"'):
        assert needle in html
    assert 'name="annotator"' in html and 'name="annotator_map"' in html


def test_a_lead_imports_a_label_studio_export_renaming_its_user_id_and_sees_what_was_left_out(
    client: Any, world: Any
) -> None:
    from tests.domain.interchange.files import LS_JSON

    world.annotator.email = "alice@example.org"
    world.annotator.save()
    client.force_login(world.lead)
    response = client.post(
        f"/p/{world.project.slug}/import/",
        {
            "file": _upload_bytes(LS_JSON.name, LS_JSON.read_bytes()),
            "on_duplicate": "fail",
            "format": "labelstudio",
            "annotator_map": "7=ann2",
        },
        follow=True,
    )
    shown = _messages(response)
    assert "Imported 2 documents (3 annotations)." in shown
    assert any("cancelled" in m for m in shown) and any("prediction" in m for m in shown)
    assert Document.objects.filter(project=world.project, external_id="cars-1").exists()


def test_a_bad_brat_file_shows_the_ann_file_line_and_t_id(client: Any, world: Any) -> None:
    from tests.domain.interchange.files import zipped

    data = zipped({"ann1/d.txt": "Trams are quiet.", "ann1/d.ann": "T1\tClaim 0 5\tBuses\n"})
    client.force_login(world.lead)
    response = client.post(
        f"/p/{world.project.slug}/import/",
        {"file": _upload_bytes("brat.zip", data), "on_duplicate": "fail"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "brat.zip/ann1/d.ann" in html and "T1.text" in html and "line 1" in html
    assert not Document.objects.filter(project=world.project, external_id="d").exists()


def test_a_malformed_annotator_map_is_reported_on_the_page(client: Any, world: Any) -> None:
    client.force_login(world.lead)
    response = client.post(
        f"/p/{world.project.slug}/import/",
        {"file": _upload("docs.jsonl", GOOD), "on_duplicate": "fail", "annotator_map": "oops"},
    )
    assert response.status_code == 400
    assert "not name=username" in response.content.decode()
