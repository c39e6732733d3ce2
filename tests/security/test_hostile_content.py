"""Hostile content through every input, out through every page, data block and export.

The project of ``hostile.py`` has an XSS payload in every string a user can supply: article
text, titles, ids and metadata (imported), labels, relation types, stance targets and values,
attribute names, values and suggestions (the scheme), sources on spans, guidelines (Markdown),
skip reasons, usernames and full names, the project's name and description, token names, an
export's failure reason and audit events; error pages add import problems, scheme problems,
form errors and query parameters that quote what was sent.

Each page must (1) contain no markup made of content (no event-handler attribute, script URL,
foreign element, or script other than our own files and JSON data blocks, parsed the way a
browser tokenises), (2) still show every payload, exactly, as text (so the page escaped
rather than dropped it, and escaped it once), and (3) carry JSON data blocks that parse back
to the exact strings. CSV and brat exports are read back and checked for formula and
line injection.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from typing import Any
from urllib.parse import quote, unquote

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from projects.models import (
    Annotation,
    ApiToken,
    Assignment,
    Export,
    Label,
    Membership,
    Relation,
    RelationType,
    SchemeVersion,
    Span,
    Stance,
    StanceTarget,
)
from projects.services import exports as export_services
from projects.views.common import render_markdown
from tests.conftest import client_for
from tests.factories import make_project, make_user

from .hostile import (
    CHOICE_ATTRIBUTE,
    GUIDELINES,
    SCHEME_NAME,
    TEMPLATES,
    USER_A,
    USER_B,
    Hostile,
    joined,
    json_strings,
    name_payloads,
    payloads,
    scan,
    text_of,
)

PROJECT_NAME = "<script>alert('project-name')</script>"
# The literal markup a payload would become if it were not escaped; none may appear raw.
# (A payload's "<!--" would be a comment without an end: the scanner reports comments made of
# content, and everything after one would go missing from what the page shows.)
RAW_MARKUP = ("<script>alert", "<img src=x", "<svg onload", "<iframe", "<style>")


def assert_inert(html: str, where: str) -> Any:
    """No markup made of content, no raw payload markup; returns the scan for more checks."""
    found = scan(html)
    assert not found.problems, f"{where}: {found.problems}"
    for raw in RAW_MARKUP:
        assert raw not in html, f"{where}: raw {raw!r} in the page"
    return found


def assert_shown(found: Any, expected: list[str], where: str) -> None:
    missing = [value for value in expected if not found.shows(value)]
    assert not missing, f"{where} does not show, as text: {missing}"


def get_page(client: Any, user: Any, url: str, status: int = 200) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    assert response["Content-Type"].startswith("text/html"), url
    return response.content.decode()


# --- the payloads reach the database unchanged -----------------------------------------------


def test_every_payload_is_stored_exactly_as_given(hostile: Hostile) -> None:
    """Nothing is stripped or escaped on the way in (escaping is the output's job): otherwise
    the page checks below would pass for the wrong reason."""
    project = hostile.project
    assert project.name == PROJECT_NAME and project.guidelines == GUIDELINES
    assert list(Label.objects.filter(project=project).values_list("name", flat=True)) == payloads(
        "label"
    )
    assert [d.title for d in hostile.documents] == payloads("title")
    assert [d.external_id for d in hostile.documents] == payloads("external-id")
    assert hostile.annotated.text == text_of()
    assert hostile.skipped.assignments.get(annotator=hostile.annotator).skip_reason == joined(
        "skip-reason"
    )
    spans = Span.objects.filter(annotation__annotator=hostile.annotator2).order_by("start")
    assert [s.attributes["source"] for s in spans] == payloads("source2")
    assert [s.attributes[CHOICE_ATTRIBUTE] for s in spans] == payloads("choice")
    assert len(TEMPLATES) == 15


# --- pages ------------------------------------------------------------------------------------


def _everything_of_the_document(h: Hostile) -> list[str]:
    return [
        *payloads("text"),
        h.annotated.title,
        h.annotated.external_id,
        *h.annotated.meta.keys(),
        *payloads("meta-value"),
    ]


def _scheme_strings() -> list[str]:
    return [
        *payloads("label"),
        *payloads("label-description"),
        *payloads("relation"),
        *payloads("suggestion"),
        *payloads("choice"),
        *payloads("target"),
        *payloads("stance"),
        *payloads("attribute-description"),
        CHOICE_ATTRIBUTE,
        SCHEME_NAME,
    ]


def _people() -> list[str]:
    return [USER_A, USER_B, *name_payloads("first"), *name_payloads("last")]


# (id, persona, url, what the page must show)
PAGES: list[tuple[str, str, Any, Any]] = [
    ("project list", "lead", lambda h: "/", lambda h: [PROJECT_NAME]),
    (
        "overview (lead)",
        "lead",
        lambda h: f"/p/{h.project.slug}/",
        lambda h: [
            PROJECT_NAME,
            *payloads("description"),
            *payloads("title"),
            *payloads("external-id"),
            *_people(),
            "<script>alert('full-name')</script>",
            "<script>alert('guidelines')</script>",
        ],
    ),
    (
        "overview (annotator)",
        "annotator",
        lambda h: f"/p/{h.project.slug}/",
        lambda h: [
            *payloads("title"),
            *name_payloads("first"),
            "<script>alert('guidelines')</script>",
        ],
    ),
    (
        "scheme",
        "lead",
        lambda h: f"/p/{h.project.slug}/scheme/",
        lambda h: [*_scheme_strings(), *payloads("description")],
    ),
    ("import", "lead", lambda h: f"/p/{h.project.slug}/import/", lambda h: [PROJECT_NAME]),
    (
        "document",
        "lead",
        lambda h: f"/p/{h.project.slug}/d/{h.annotated.pk}/",
        lambda h: [
            *_everything_of_the_document(h),
            *payloads("label"),
            *payloads("source"),
            *payloads("source2"),
            *payloads("choice"),
            *payloads("target"),
            *payloads("stance"),
            USER_A,
            USER_B,
        ],
    ),
    (
        "document with a skip reason",
        "lead",
        lambda h: f"/p/{h.project.slug}/d/{h.skipped.pk}/",
        lambda h: [*payloads("skip-reason"), h.skipped.title, USER_A],
    ),
    (
        "workspace (own work)",
        "annotator",
        lambda h: f"/p/{h.project.slug}/d/{h.annotated.pk}/annotate/",
        lambda h: [
            *_everything_of_the_document(h),
            *_scheme_strings(),
            *payloads("relation-description"),
            *payloads("source"),
            "<script>alert('guidelines')</script>",
        ],
    ),
    (
        "workspace (read-only, another annotator)",
        "lead",
        lambda h: f"/p/{h.project.slug}/d/{h.annotated.pk}/annotate/?annotator={quote(USER_B)}",
        lambda h: [*_everything_of_the_document(h), *payloads("source2"), USER_A, USER_B],
    ),
    (
        "my work",
        "annotator",
        lambda h: f"/p/{h.project.slug}/work/",
        lambda h: [*payloads("title"), *payloads("skip-reason")],
    ),
    (
        "agreement",
        "lead",
        lambda h: f"/p/{h.project.slug}/agreement/",
        lambda h: [*payloads("label"), *payloads("target"), h.annotated.title, USER_A, USER_B],
    ),
    (
        "agreement with hostile filters",
        "lead",
        lambda h: (
            f"/p/{h.project.slug}/agreement/?label={quote(payloads('filter')[0])}"
            f"&annotator={quote(payloads('filter')[1])}&from={quote(payloads('filter')[3])}"
            f"&until={quote(payloads('filter')[5])}"
        ),
        lambda h: [*payloads("label")],
    ),
    (
        "compare",
        "lead",
        lambda h: f"/p/{h.project.slug}/d/{h.annotated.pk}/compare/",
        lambda h: [
            *payloads("text"),
            *payloads("label"),
            *payloads("relation"),
            *payloads("target"),
            *payloads("stance"),
            USER_A,
            USER_B,
        ],
    ),
    (
        "adjudication queue",
        "reviewer",
        lambda h: f"/p/{h.project.slug}/adjudication/",
        lambda h: [h.annotated.title, USER_A, USER_B],
    ),
    (
        "adjudicate a document",
        "reviewer",
        lambda h: f"/p/{h.project.slug}/d/{h.annotated.pk}/adjudicate/",
        lambda h: [
            *payloads("text"),
            *payloads("label"),
            *payloads("source"),
            *payloads("source2"),
            *payloads("choice"),
            *payloads("suggestion"),
            USER_A,
            USER_B,
        ],
    ),
    (
        "exports",
        "lead",
        lambda h: f"/p/{h.project.slug}/exports/?delete={quote(payloads('delete')[0])}",
        lambda h: [*payloads("export-error")],
    ),
    (
        "document history",
        "lead",
        lambda h: reverse("projects:document_history", args=[h.project.slug, h.annotated.pk]),
        lambda h: ["<script>alert('audit-action')</script>", h.annotated.title],
    ),
    (
        "document history with a skip reason",
        "lead",
        lambda h: reverse("projects:document_history", args=[h.project.slug, h.skipped.pk]),
        # the audit event keeps the reason's first 200 characters
        lambda h: [*payloads("skip-reason")[:3], USER_A],
    ),
    ("deleted", "lead", lambda h: reverse("projects:deleted", args=[h.project.slug]), lambda h: []),
    (
        "tokens",
        "lead",
        lambda h: "/account/tokens/",
        lambda h: ["<script>alert('token-name')</script>", "<script>alert('full-name')</script>"],
    ),
]


@pytest.mark.parametrize(
    ("persona", "url", "expected"), [p[1:] for p in PAGES], ids=[p[0] for p in PAGES]
)
def test_every_page_shows_hostile_content_as_text_only(
    client: Any, hostile: Hostile, persona: str, url: Any, expected: Any
) -> None:
    address = url(hostile)
    found = assert_inert(get_page(client, getattr(hostile, persona), address), address)
    assert_shown(found, expected(hostile), address)


def test_the_workspace_data_block_parses_back_to_the_exact_strings(
    client: Any, hostile: Hostile
) -> None:
    """json_script escapes <, > and & as \\u003C…: "</script>" in a title cannot end the block,
    and JSON.parse (here json.loads) gives the title back unchanged, U+2028 and all."""
    html = get_page(
        client, hostile.annotator, f"/p/{hostile.project.slug}/d/{hostile.annotated.pk}/annotate/"
    )
    block = re.search(r'<script id="ws-data" type="application/json">(.*?)</script>', html, re.S)
    assert block is not None
    body = block.group(1)
    assert "<" not in body and ">" not in body and "&" not in body.replace("\\u0026", "")
    data = json.loads(body)
    assert assert_inert(html, "workspace").data_blocks["ws-data"] == data
    assert data["document"]["title"] == hostile.annotated.title
    assert data["user"]["username"] == USER_A and data["annotator"] == USER_A
    scheme = data["scheme"]
    assert scheme["name"] == SCHEME_NAME
    assert [label["name"] for label in scheme["span_labels"]] == payloads("label")
    assert [label["description"] for label in scheme["span_labels"]] == payloads(
        "label-description"
    )
    assert [r["name"] for r in scheme["relation_types"]] == payloads("relation")
    assert [t["name"] if isinstance(t, dict) else t for t in scheme["stance_targets"]] == payloads(
        "target"
    )
    assert scheme["stance_values"] == payloads("stance")
    assert [a["name"] for a in scheme["span_attributes"]] == ["source", CHOICE_ATTRIBUTE]
    # suggestions: the scheme's, then the values already in use
    assert data["suggestions"]["source"][: len(TEMPLATES)] == payloads("suggestion")
    assert set(payloads("source")) <= set(data["suggestions"]["source"])
    spans = sorted(data["annotation"]["spans"], key=lambda s: s["start"])
    assert [s["attributes"]["source"] for s in spans] == payloads("source")
    assert [s["attributes"][CHOICE_ATTRIBUTE] for s in spans] == payloads("choice")
    assert set(payloads("relation")) <= set(json_strings(data["annotation"]["relations"]))
    text = re.search(r'<div id="ws-text"[^>]*>(.*?)</div>', html, re.S)
    assert text is not None and scan(text.group(1)).text() == hostile.annotated.text


def test_the_scheme_editor_box_holds_the_exact_scheme_as_json(
    client: Any, hostile: Hostile
) -> None:
    html = get_page(client, hostile.lead, f"/p/{hostile.project.slug}/scheme/")
    box = re.search(r"<textarea[^>]*>(.*?)</textarea>", html, re.S)
    assert box is not None
    definition = json.loads(scan(box.group(1)).text())
    assert [r["description"] for r in definition["relation_types"]] == payloads(
        "relation-description"
    )
    assert [a["suggestions"] for a in definition["span_attributes"] if a["name"] == "source"] == [
        payloads("suggestion")
    ]


def test_guidelines_markdown_never_makes_markup_or_script_links() -> None:
    html = render_markdown(GUIDELINES)
    found = assert_inert(f"<div>{html}</div>", "guidelines")
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs == ["https://example.org/guide"], hrefs
    assert "<img" not in html  # the javascript: image is dropped, not made
    assert found.shows("<script>alert('guidelines')</script>")
    assert found.shows("</script><script>alert('guidelines')</script>")  # code span, as text
    assert found.shows("{{7*7}}")


# --- error messages that quote what was sent ---------------------------------------------------


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


BAD_LABEL = "<script>alert('import-error')</script>"
# a label of the scheme as a hand-made brat file names it (one word: brat splits on spaces)
LABEL_IN_BRAT = payloads("label")[7]
BAD_ANNOTATOR = "<svg onload=alert('import-error')>"


def _jsonl_with_span(annotator: str, label: str, text: str = "Some") -> bytes:
    span = {"id": "a", "start": 0, "end": 4, "label": label, "text": text}
    line = {
        "id": "x1",
        "text": "Some text here.",
        "annotations": [{"annotator": annotator, "spans": [span]}],
    }
    return json.dumps(line).encode()


BAD_IMPORTS = [
    (
        "jsonl: an unknown label, in a file with a hostile name",
        "<img src=x onerror=alert('file')>.jsonl",
        _jsonl_with_span(USER_A, BAD_LABEL),
        [BAD_LABEL, "<img src=x onerror=alert('file')>.jsonl"],
    ),
    (
        "jsonl: an annotator who is not a member",
        "members.jsonl",
        _jsonl_with_span(BAD_ANNOTATOR, payloads("label")[0]),
        [BAD_ANNOTATOR],
    ),
    (
        "jsonl: a span whose text does not match",
        "spans.jsonl",
        _jsonl_with_span("reviewer", payloads("label")[0], text=BAD_LABEL),
        [BAD_LABEL],
    ),
    (
        "brat: an unknown type and a text that does not match",
        "brat.zip",
        _zip(
            {
                "ann1/d.txt": "Trams are quiet.",
                "ann1/d.ann": f"T1\t{quote(BAD_LABEL)} 0 5\t{BAD_LABEL}\n",
            }
        ),
        [BAD_LABEL],
    ),
]


@pytest.mark.parametrize(
    ("filename", "content", "quoted"), [b[1:] for b in BAD_IMPORTS], ids=[b[0] for b in BAD_IMPORTS]
)
def test_import_problems_that_quote_the_file_are_shown_as_text(
    client: Any, hostile: Hostile, filename: str, content: bytes, quoted: list[str]
) -> None:
    client.force_login(hostile.lead)
    response = client.post(
        f"/p/{hostile.project.slug}/import/",
        {"file": _upload(filename, content), "on_duplicate": "fail"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    found = assert_inert(html, filename)
    assert "Nothing was imported" in html
    missing = [value for value in quoted if value not in found.text()]
    assert not missing, missing


def test_an_unknown_import_annotator_name_is_quoted_as_text(client: Any, hostile: Hostile) -> None:
    client.force_login(hostile.lead)
    name = "<script>alert('import-annotator')</script>"
    response = client.post(
        f"/p/{hostile.project.slug}/import/",
        {
            "file": _upload(
                "brat.zip",
                _zip({"d.txt": "Trams are quiet.", "d.ann": f"T1\t{LABEL_IN_BRAT} 0 5\tTrams\n"}),
            ),
            "on_duplicate": "fail",
            "annotator": name,
        },
    )
    html = response.content.decode()
    found = assert_inert(html, "import with an annotator")
    assert response.status_code == 400
    assert name in found.text()


def test_scheme_problems_that_quote_names_are_shown_as_text(client: Any, hostile: Hostile) -> None:
    broken = {
        "name": "x",
        "span_labels": [
            {"name": BAD_LABEL, "color": "<script>alert('colour')</script>"},
            {"name": BAD_LABEL},
        ],
        "relation_types": [{"name": "r", "from_labels": ["<svg onload=alert('from')>"]}],
        "span_attributes": [{"name": "a", "kind": "<img src=x onerror=alert('kind')>"}],
    }
    client.force_login(hostile.lead)
    response = client.post(f"/p/{hostile.project.slug}/scheme/", {"definition": json.dumps(broken)})
    assert response.status_code == 400
    found = assert_inert(response.content.decode(), "scheme problems")
    for quoted in (
        BAD_LABEL,
        "<script>alert('colour')</script>",
        "<svg onload=alert('from')>",
        "<img src=x onerror=alert('kind')>",
    ):
        assert quoted in found.text(), quoted
    # the box gives back exactly what was sent
    box = re.search(r"<textarea[^>]*>(.*?)</textarea>", response.content.decode(), re.S)
    assert box is not None and json.loads(scan(box.group(1)).text()) == broken


def test_export_option_errors_quote_the_options_as_text(client: Any, hostile: Hostile) -> None:
    client.force_login(hostile.lead)
    sent = {
        "format": "<script>alert('export-format')</script>",
        "annotations": "\"><img src=x onerror=alert('export-annotations')>",
        "train": "<svg onload=alert('export-train')>",
        "validation": "0",
        "test": "0",
        "seed": "'-alert('export-seed')-'",
    }
    response = client.post(f"/p/{hostile.project.slug}/exports/", sent)
    assert response.status_code == 400
    found = assert_inert(response.content.decode(), "export options")
    assert sent["format"] in found.text() and sent["annotations"] in found.text()
    assert not Export.objects.filter(format=sent["format"]).exists()


def test_export_option_errors_from_the_api_are_json_never_html(hostile: Hostile) -> None:
    response = client_for(hostile.lead).post(
        f"/api/v1/projects/{hostile.project.pk}/exports/",
        {"format": "<script>alert('api-format')</script>", "splits": [["<svg onload=x>", 1]]},
        format="json",
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "error" in response.json()


@pytest.mark.parametrize(
    ("form", "quoted"),
    [
        ({"username": USER_A + "-nobody", "role": "annotator"}, USER_A + "-nobody"),
        ({"username": "someone", "role": "<script>alert('role')</script>"}, None),
        ({"username": USER_A, "role": "reviewer"}, f"{USER_A} is now reviewer."),
    ],
)
def test_member_form_errors_quote_as_text(
    client: Any, hostile: Hostile, form: dict[str, str], quoted: str | None
) -> None:
    client.force_login(hostile.lead)
    response = client.post(f"/p/{hostile.project.slug}/members/", form, follow=True)
    found = assert_inert(response.content.decode(), "members")
    if quoted:
        assert quoted in found.text()


def test_a_new_project_form_with_a_hostile_slug_shows_it_as_text(
    client: Any, hostile: Hostile
) -> None:
    client.force_login(hostile.lead)
    slug = "\"><img src=x onerror=alert('slug')>"
    response = client.post("/projects/new/", {"name": PROJECT_NAME, "slug": slug})
    found = assert_inert(response.content.decode(), "new project")
    assert response.status_code == 200
    assert found.shows(slug)
    # made without the slug: the message that names it, and the new project's pages
    created = client.post(
        "/projects/new/",
        {"name": PROJECT_NAME, "annotators_per_document": 2, "scheme": "demo"},
        follow=True,
    )
    found = assert_inert(created.content.decode(), "new project created")
    assert f"Created the project “{PROJECT_NAME}”. You are its lead." in found.text()


def test_a_failed_log_in_with_a_hostile_username_shows_it_as_text(
    client: Any, hostile: Hostile
) -> None:
    response = client.post("/accounts/login/", {"username": USER_B, "password": "wrong"})
    found = assert_inert(response.content.decode(), "login")
    assert response.status_code == 200 and found.shows(USER_B)


def test_a_new_token_named_with_a_payload_is_shown_once_as_text(
    client: Any, hostile: Hostile
) -> None:
    client.force_login(hostile.lead)
    name = "\"><img src=x onerror=alert('new-token')>"
    response = client.post("/account/tokens/", {"name": name, "days": "7"})
    found = assert_inert(response.content.decode(), "tokens")
    assert found.shows(name)
    assert ApiToken.objects.filter(name=name).exists()


def test_a_missing_page_does_not_reflect_its_address(client: Any, hostile: Hostile) -> None:
    path = f"/p/{hostile.project.slug}/nowhere{quote(BAD_LABEL)}/"
    assert_inert(get_page(client, hostile.lead, path, status=404), path)
    wanted = quote("<script>alert('annotator-param')</script>")
    path = f"/p/{hostile.project.slug}/d/{hostile.annotated.pk}/annotate/?annotator={wanted}"
    assert_inert(get_page(client, hostile.lead, path, status=404), path)


def test_the_api_docs_have_no_inline_style_or_script(client: Any, hostile: Hostile) -> None:
    """drf-spectacular's own page has an inline <style>, which the policy blocks (the browser
    reports a violation on every visit); ours moves it to a stylesheet."""
    found = assert_inert(get_page(client, hostile.lead, "/api/docs/"), "/api/docs/")
    assert len(found.scripts) == 3 and all(src.startswith("/") for src in found.scripts)
    from django.contrib.staticfiles import finders

    assert finders.find("site/api-docs.css")


# --- the admin --------------------------------------------------------------------------------


def _admin_objects(h: Hostile) -> list[tuple[str, Any, list[str], list[str]]]:
    """(model, object, what its change list shows, what its change page shows)."""
    annotation = Annotation.objects.get(document=h.annotated, annotator=h.annotator)
    span = Span.objects.filter(annotation=annotation).order_by("start").first()
    skipped = Assignment.objects.get(document=h.skipped, annotator=h.annotator)
    skip_event = h.project.audit_events.get(action="annotation.skip")
    return [
        (
            "document",
            h.annotated,
            [*payloads("title"), *payloads("external-id")],
            [*payloads("text"), h.annotated.title, *h.annotated.meta.keys()],
        ),
        (
            "label",
            Label.objects.filter(project=h.project).first(),
            payloads("label"),
            [payloads("label")[0], payloads("label-description")[0]],
        ),
        ("annotation", annotation, [USER_A, USER_B], [*payloads("label")[:1], USER_A]),
        ("span", span, payloads("label"), [payloads("label")[0], CHOICE_ATTRIBUTE]),
        (
            "auditevent",
            h.events[0],
            ["<script>alert('audit-action')</script>", "=cmd|' /C calc'!A0 audit"],
            ["<script>alert('audit-action')</script>", "\"><img src=x onerror=alert('audit')>"],
        ),
        ("auditevent", skip_event, [USER_A], [payloads("skip-reason")[0]]),
        ("project", h.project, [PROJECT_NAME], [*payloads("description"), GUIDELINES[:20]]),
        (
            "relationtype",
            RelationType.objects.filter(project=h.project).first(),
            payloads("relation"),
            [],
        ),
        (
            "stancetarget",
            StanceTarget.objects.filter(project=h.project).first(),
            payloads("target"),
            [],
        ),
        ("assignment", skipped, payloads("title"), payloads("skip-reason")),
        ("membership", Membership.objects.get(user=h.annotator2), [USER_B], [USER_B]),
        (
            "apitoken",
            ApiToken.objects.get(user=h.lead),
            ["<script>alert('token-name')</script>"],
            [],
        ),
        ("export", h.export, [PROJECT_NAME], payloads("export-error")),
        (
            "relation",
            Relation.objects.filter(annotation=annotation).first(),
            payloads("relation"),
            [],
        ),
        ("stance", Stance.objects.filter(annotation=annotation).first(), payloads("stance"), []),
        (
            "schemeversion",
            SchemeVersion.objects.filter(project=h.project).first(),
            [PROJECT_NAME],
            [],
        ),
    ]


def test_the_admin_shows_hostile_content_as_text_only(client: Any, hostile: Hostile) -> None:
    client.force_login(hostile.admin)
    for model, obj, listed, detailed in _admin_objects(hostile):
        changelist = f"/admin/projects/{model}/"
        found = assert_inert(get_page(client, hostile.admin, changelist), changelist)
        assert_shown(found, listed, changelist)
        change = f"/admin/projects/{model}/{obj.pk}/change/"
        found = assert_inert(get_page(client, hostile.admin, change), change)
        assert_shown(found, detailed, change)
    for url, shown in (
        ("/admin/", []),
        ("/admin/auth/user/", [USER_A, USER_B, *name_payloads("first")]),
        (f"/admin/auth/user/{hostile.annotator.pk}/change/", [USER_A, *name_payloads("first")]),
        (f"/admin/projects/document/?q={quote(BAD_LABEL)}", [BAD_LABEL]),
    ):
        found = assert_inert(get_page(client, hostile.admin, url), url)
        assert_shown(found, shown, url)


def test_the_admin_json_fields_hold_the_exact_strings(client: Any, hostile: Hostile) -> None:
    """The span's attributes are edited as JSON in a textarea: it must parse back exactly."""
    annotation = Annotation.objects.get(document=hostile.annotated, annotator=hostile.annotator2)
    html = get_page(client, hostile.admin, f"/admin/projects/annotation/{annotation.pk}/change/")
    boxes = [
        json.loads(scan(body).text())
        for body in re.findall(
            r'<textarea[^>]*name="spans-\d+-attributes"[^>]*>(.*?)</textarea>', html, re.S
        )
    ]
    assert sorted(box["source"] for box in boxes) == sorted(payloads("source2"))


# --- exports: CSV and brat --------------------------------------------------------------------


def _build(h: Hostile, fmt: str, **options: Any) -> bytes:
    export = Export.objects.create(
        project=h.project,
        format=fmt,
        options={"format": fmt, "include_unfinished": True, **options},
    )
    result = export_services.export_run(export_id=export.pk, worker="test@here")
    assert result is not None and result.status == "done", result and result.error
    with default_storage.open(result.file.name) as f:
        return f.read()


DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")


def _neutralised_cells(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(DANGEROUS_FIRST), f"formula cell {cell!r} in {row}"


def test_the_csv_export_neutralises_formulas_and_reads_back_exactly(hostile: Hostile) -> None:
    data = _build(hostile, "csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    header, body = rows[0], rows[1:]
    _neutralised_cells(rows)
    assert header[-1] == CHOICE_ATTRIBUTE  # not a formula: kept as is
    assert len(body) == 2 * len(TEMPLATES)

    def original(cell: str) -> str:
        return cell[1:] if cell.startswith("'") else cell

    column = {name: header.index(name) for name in ("label", "text", "source", "document_id")}
    by_annotator: dict[str, list[list[str]]] = {}
    for row in body:
        by_annotator.setdefault(original(row[header.index("annotator")]), []).append(row)
    assert set(by_annotator) == {USER_A, USER_B}
    mine = sorted(by_annotator[USER_A], key=lambda r: int(r[header.index("start")]))
    assert [original(r[column["label"]]) for r in mine] == payloads("label")
    assert [original(r[column["text"]]) for r in mine] == payloads("text")
    assert [original(r[column["source"]]) for r in mine] == payloads("source")
    assert {original(r[column["document_id"]]) for r in mine} == {hostile.annotated.external_id}
    formula = next(r for r in mine if "calc" in r[column["label"]])
    assert formula[column["label"]] == "'=cmd|' /C calc'!A0 label"
    assert formula[column["text"]] == "'=cmd|' /C calc'!A0 text"


def test_the_agreement_csv_downloads_neutralise_formulas(client: Any, hostile: Hostile) -> None:
    client.force_login(hostile.lead)
    for table in ("labels", "pairs", "documents", "confusion"):
        response = client.get(
            f"/p/{hostile.project.slug}/agreement/", {"format": "csv", "table": table}
        )
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.content.decode(), newline="")))
        text_rows = [
            [c for c in row if not re.fullmatch(r"-?\d+(\.\d+)?(e-?\d+)?", c)] for row in rows
        ]
        _neutralised_cells(text_rows)
        cells = {c for row in rows for c in row}
        expect = {
            "labels": "'=cmd|' /C calc'!A0 label",
            "pairs": USER_A,
            "documents": hostile.annotated.title,
            "confusion": "'=cmd|' /C calc'!A0 label",
        }[table]
        assert expect in cells, (table, sorted(cells)[:20])


def test_the_document_history_csv_neutralises_formulas(client: Any, hostile: Hostile) -> None:
    client.force_login(hostile.lead)
    url = reverse("projects:document_history", args=[hostile.project.slug, hostile.annotated.pk])
    response = client.get(url, {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    data = b"".join(response.streaming_content).decode("utf-8")
    rows = list(csv.reader(io.StringIO(data, newline="")))
    _neutralised_cells(rows)
    cells = {cell for row in rows for cell in row}
    assert "'=cmd|' /C calc'!A0 audit" in cells
    assert "<script>alert('audit-action')</script>" in cells


_T_LINE = re.compile(r"T\d+\t[^\s]+ \d+ \d+(;\d+ \d+)*\t[^\n\r]*")
_A_LINE = re.compile(r"A\d+\t[^\s]+ T\d+ [^\s]+")
_R_LINE = re.compile(r"R\d+\t[^\s]+ Arg1:T\d+ Arg2:T\d+")


def _brat_decode(name: str) -> str:
    return unquote(name.replace("_", " "))


def _check_ann(text: str, ann: str) -> list[tuple[str, int, int, str]]:
    """Every line of an .ann file is one well-formed standoff line; returns the T lines."""
    spans = []
    assert ann == "" or ann.endswith("\n")
    assert ann.splitlines() == ann.split("\n")[:-1]
    for line in ann.split("\n")[:-1]:
        assert _T_LINE.fullmatch(line) or _A_LINE.fullmatch(line) or _R_LINE.fullmatch(line), line
        if line.startswith("T"):
            _tid, middle, shown = line.split("\t", 2)
            label, offsets = middle.split(" ", 1)
            pieces = [tuple(map(int, part.split())) for part in offsets.split(";")]
            assert shown == " ".join(text[a:b] for a, b in pieces)
            spans.append((_brat_decode(label), pieces[0][0], pieces[-1][1], shown))
    return spans


def _check_conf(conf: str) -> list[str]:
    """annotation.conf: sections, comments, and one name (no whitespace) per entity line."""
    entities: list[str] = []
    section = None
    assert conf.splitlines() == conf.split("\n")[:-1]
    for line in conf.split("\n"):
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            assert line in ("[entities]", "[relations]", "[events]", "[attributes]"), line
            section = line
            continue
        name = line.split("\t")[0]
        assert name and not re.search(r"\s", name) and not name.startswith(("[", "#")), line
        if section == "[entities]":
            assert "\t" not in line
            entities.append(_brat_decode(line))
        elif section == "[relations]":
            assert re.fullmatch(r"[^\s]+\tArg1:[^\t]+", line), line
        elif section == "[attributes]":
            assert re.fullmatch(r"[^\s]+\tArg:<ENTITY>, Value:[^\s]+", line), line
    return entities


def _check_visual(conf: str) -> None:
    """visual.conf: "name | display" lines under [labels], "name<TAB>style" under [drawing]."""
    assert conf.splitlines() == conf.split("\n")[:-1]
    section = None
    for line in conf.split("\n"):
        if not line:
            continue
        if line.startswith("["):
            assert line in ("[labels]", "[drawing]"), line
            section = line
        elif section == "[labels]":
            assert re.fullmatch(r"[^\s|]+ \| [^\t|]+", line), line
        else:
            assert re.fullmatch(r"[^\s]+\t[^\t]+", line), line


def test_the_brat_export_keeps_every_ann_and_conf_line_well_formed(hostile: Hostile) -> None:
    with zipfile.ZipFile(io.BytesIO(_build(hostile, "brat"))) as archive:
        names = archive.namelist()
        for name in names:
            assert not name.startswith("/") and ".." not in name.split("/"), name
        anns = [n for n in names if n.endswith(".ann")]
        assert len(anns) >= 2
        found_labels: set[str] = set()
        for ann_name in anns:
            text = archive.read(ann_name[:-4] + ".txt").decode("utf-8")
            for label, _start, _end, _shown in _check_ann(text, archive.read(ann_name).decode()):
                found_labels.add(label)
        assert found_labels == set(payloads("label"))
        entities = _check_conf(archive.read("annotation.conf").decode("utf-8"))
        assert entities == payloads("label")
        _check_visual(archive.read("visual.conf").decode("utf-8"))
        metadata = archive.read("metadata.jsonl").decode("utf-8").split("\n")
        records = [json.loads(line) for line in metadata if line]
        assert len(records) == len(anns)
        assert {r["title"] for r in records} == {hostile.annotated.title, hostile.skipped.title}


def test_brat_names_with_line_breaks_tabs_and_conf_syntax_cannot_break_the_files(db: Any) -> None:
    """Labels, relation types and attribute values may hold what brat's files use as syntax:
    line breaks, tabs, '|', '[section]', '#', '%' and '_'. Each is encoded, and decodes back."""
    odd_labels = [
        "two\nlines",
        "tab\there",
        "carriage\rreturn",
        "[entities]",
        "# comment",
        "pipe | bar",
        "100% _under_",
        "sep\u2028arator",
    ]
    scheme = {
        "name": "odd",
        "span_labels": [{"name": name} for name in odd_labels],
        "relation_types": [{"name": "rel\ttab\nline"}],
        "span_attributes": [{"name": "src\nname", "kind": "entity", "description": ""}],
    }
    lead = make_user("odd-lead")
    project = make_project(lead=lead, name="Odd", scheme=scheme)
    text = "Alpha beta gamma delta epsilon zeta eta theta iota kappa."
    words = text.split(" ")
    spans = []
    for n, label in enumerate(odd_labels):
        start = sum(len(word) + 1 for word in words[:n])
        spans.append(
            {
                "id": f"s{n}",
                "start": start,
                "end": start + len(words[n]),
                "label": label,
                "text": words[n],
                "attributes": {"src\nname": f"value\n{n}\t|[x]"},
            }
        )
    line = {
        "id": "odd",
        "text": text,
        "annotations": [
            {
                "annotator": "odd-lead",
                "status": "submitted",
                "spans": spans,
                "relations": [{"from": "s0", "to": "s1", "type": "rel\ttab\nline"}],
            }
        ],
    }
    from projects.services import documents as document_services

    document_services.documents_import(
        project=project, filename="odd.jsonl", data=json.dumps(line).encode(), actor_id=lead.pk
    )
    export = Export.objects.create(project=project, format="brat", options={"format": "brat"})
    result = export_services.export_run(export_id=export.pk, worker="test@here")
    assert result is not None and result.status == "done", result and result.error
    with default_storage.open(result.file.name) as f, zipfile.ZipFile(f) as archive:
        ann = archive.read("odd-lead/odd.ann").decode("utf-8")
        written = _check_ann(text, ann)
        assert [label for label, *_ in written] == odd_labels
        assert len(ann.split("\n")) == len(odd_labels) * 2 + 1 + 1  # T and A lines, R, final
        attributes = [line.split(" ") for line in ann.split("\n") if line.startswith("A")]
        assert {_brat_decode(parts[0].split("\t")[1]) for parts in attributes} == {"src\nname"}
        assert [_brat_decode(parts[2]) for parts in attributes] == [
            f"value\n{n}\t|[x]" for n in range(len(odd_labels))
        ]
        relation = next(line for line in ann.split("\n") if line.startswith("R"))
        assert _brat_decode(relation.split("\t")[1].split(" ")[0]) == "rel\ttab\nline"
        assert _check_conf(archive.read("annotation.conf").decode("utf-8")) == odd_labels
        _check_visual(archive.read("visual.conf").decode("utf-8"))
