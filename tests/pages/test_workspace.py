"""The "my work" page and the workspace page as the server renders them: progress, what the
page's payload holds (and, in blind mode, does not), read-only views, and the query count."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from projects.permissions import project_access
from projects.services import annotations as annotation_services
from projects.services import projects as project_services
from tests.factories import assign, make_documents

from .conftest import ANN1_SPAN, ANN2_SPAN


def payload(response: Any) -> dict[str, Any]:
    match = re.search(
        r'<script id="ws-data" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, "the workspace page carries its data in a json_script"
    return json.loads(match.group(1))


def workspace(world: Any, doc: Any, query: str = "") -> str:
    return f"/p/{world.project.slug}/d/{doc.pk}/annotate/{query}"


def submit(world: Any, user: Any, doc: Any) -> None:
    annotation_services.annotation_submit(
        access=project_access(user, world.project.pk), document=doc
    )


def test_my_work_says_start_and_links_the_first_document_before_anything_is_done(
    client: Any, world: Any
) -> None:
    client.force_login(world.annotator)
    response = client.get(f"/p/{world.project.slug}/work/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "0 of 2 submitted" in html
    assert re.search(r'id="work-next">Start<', html)
    assert f'href="{workspace(world, world.documents[0])}" id="work-next"' in html


def test_my_work_counts_submitted_and_continues_at_the_next_open_document(
    client: Any, world: Any
) -> None:
    submit(world, world.annotator, world.documents[0])
    client.force_login(world.annotator)
    html = client.get(f"/p/{world.project.slug}/work/").content.decode()
    assert "1 of 2 submitted" in html
    assert re.search(r'id="work-next">Continue<', html)
    assert f'href="{workspace(world, world.documents[1])}" id="work-next"' in html
    submit(world, world.annotator, world.documents[1])
    html = client.get(f"/p/{world.project.slug}/work/").content.decode()
    assert "2 of 2 submitted" in html and "work-next" not in html
    assert "Nothing left to do" in html


@pytest.mark.parametrize("persona", ["reviewer", "consumer"])
def test_only_annotators_and_leads_have_a_work_page(client: Any, world: Any, persona: str) -> None:
    client.force_login(world.persona(persona))
    assert client.get(f"/p/{world.project.slug}/work/").status_code == 403


def test_the_header_links_my_work_for_annotators_only(client: Any, world: Any) -> None:
    client.force_login(world.annotator)
    assert (
        f"/p/{world.project.slug}/work/" in client.get(f"/p/{world.project.slug}/").content.decode()
    )
    client.force_login(world.reviewer)
    assert (
        f"/p/{world.project.slug}/work/"
        not in client.get(f"/p/{world.project.slug}/").content.decode()
    )


def test_the_workspace_renders_the_text_once_and_its_data_as_json(client: Any, world: Any) -> None:
    doc = world.documents[0]
    client.force_login(world.annotator)
    response = client.get(workspace(world, doc))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'aria-label="Article text" aria-describedby="ws-text-help">{doc.text}</div>' in html
    data = payload(response)
    assert data["editable"] is True
    assert data["annotator"] == "ann1"
    assert data["document"] == {"id": doc.pk, "title": doc.title, "length": doc.length}
    assert data["annotation"]["version"] == 0 and data["annotation"]["spans"] == []
    assert [label["name"] for label in data["scheme"]["span_labels"]] == [
        "Claim",
        "Justification",
        "Critique",
    ]
    assert data["urls"]["api"] == (
        f"/api/v1/projects/{world.project.pk}/documents/{doc.pk}/annotation/"
    )
    assert data["navigation"]["position"] == 1 and data["navigation"]["total"] == 2
    assert data["navigation"]["next"]["id"] == world.documents[1].pk
    assert data["navigation"]["next_open"]["id"] == world.documents[1].pk
    # modules only, from files: nothing a strict CSP would block
    assert '<script type="module" src="/static/projects/annotate/main.js"></script>' in html
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\son[a-z]+\s*=", html)
    assert "style=" not in html


def test_text_that_looks_like_markup_stays_text_in_the_page_and_the_payload(
    client: Any, world: Any
) -> None:
    doc = make_documents(world.project, 1, text='Says <script>alert("x")</script> & </script> ok')[
        0
    ]
    assign(world.project, doc, world.annotator)
    client.force_login(world.annotator)
    html = client.get(workspace(world, doc)).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def span_texts(data: dict[str, Any], document: Any) -> list[str]:
    """The texts of the payload's spans, read from the document by their offsets (the payload
    carries no copy of them)."""
    return [document.text[s["start"] : s["end"]] for s in data["annotation"]["spans"]]


def test_the_payload_gives_spans_by_their_offsets_without_a_copy_of_their_text(
    client: Any, world: Any, annotated_document: Any
) -> None:
    # the page has the article; a copy of every span's text was a sixth of a long page
    client.force_login(world.annotator)
    response = client.get(workspace(world, annotated_document))
    spans = payload(response)["annotation"]["spans"]
    assert spans and all(set(s) == {"id", "start", "end", "label", "attributes"} for s in spans)
    assert response.content.decode().count(ANN1_SPAN) == 1  # in the article only
    world.project.blind = False
    world.project.save()
    other = payload(client.get(workspace(world, annotated_document, "?annotator=ann2")))
    assert all("text" not in s for s in other["annotation"]["spans"])


def test_in_blind_mode_the_page_holds_only_the_callers_own_work(
    client: Any, world: Any, annotated_document: Any
) -> None:
    client.force_login(world.annotator)
    response = client.get(workspace(world, annotated_document))
    html = response.content.decode()
    data = payload(response)
    assert span_texts(data, annotated_document) == [ANN1_SPAN]
    assert '"b1"' not in html
    # ann2's span text is in the article, but nowhere else
    assert html.count(ANN2_SPAN) == 1
    assert "ann2" not in json.dumps(data)


def test_an_annotator_may_not_open_another_annotators_work_in_blind_mode(
    client: Any, world: Any, annotated_document: Any
) -> None:
    client.force_login(world.annotator)
    response = client.get(workspace(world, annotated_document, "?annotator=ann2"))
    assert response.status_code == 403
    assert ANN2_SPAN not in response.content.decode()


def test_with_blind_mode_off_an_annotator_reads_another_annotators_work(
    client: Any, world: Any, annotated_document: Any
) -> None:
    world.project.blind = False
    world.project.save()
    client.force_login(world.annotator)
    data = payload(client.get(workspace(world, annotated_document, "?annotator=ann2")))
    assert data["editable"] is False
    assert span_texts(data, annotated_document) == [ANN2_SPAN]


def test_a_reviewer_reads_any_annotators_work_and_starts_with_the_first(
    client: Any, world: Any, annotated_document: Any
) -> None:
    client.force_login(world.reviewer)
    response = client.get(workspace(world, annotated_document))
    assert response.status_code == 302
    assert response["Location"].endswith("/annotate/?annotator=ann1")
    response = client.get(workspace(world, annotated_document, "?annotator=ann2"))
    data = payload(response)
    assert data["editable"] is False and data["annotator"] == "ann2"
    assert span_texts(data, annotated_document) == [ANN2_SPAN]
    assert data["suggestions"] == {}
    html = response.content.decode()
    assert 'id="ws-submit"' not in html and "Read-only" in html
    assert client.get(workspace(world, annotated_document, "?annotator=nobody")).status_code == 404


def test_a_lead_annotates_their_own_work_on_any_document(
    client: Any, world: Any, annotated_document: Any
) -> None:
    client.force_login(world.lead)
    data = payload(client.get(workspace(world, annotated_document)))
    assert data["editable"] is True and data["annotator"] == "lead"
    assert data["annotation"]["spans"] == []
    assert data["navigation"]["position"] is None  # not in the lead's queue


def test_an_unassigned_document_is_not_found_for_an_annotator(client: Any, world: Any) -> None:
    client.force_login(world.annotator)
    assert client.get(workspace(world, world.documents[2])).status_code == 404
    assert (
        client.get(f"/p/{world.project.slug}/d/{world.other_documents[0].pk}/annotate/").status_code
        == 404
    )


def test_sources_used_in_the_project_are_suggested_only_from_work_the_caller_may_see(
    client: Any, world: Any
) -> None:
    doc = world.documents[0]
    for user, source in [(world.annotator, "My own source"), (world.annotator2, "Their source")]:
        annotation_services.span_create(
            access=project_access(user, world.project.pk),
            document=doc,
            start=0,
            end=9,
            label="Claim",
            attributes={"source": source},
        )
    client.force_login(world.annotator)
    suggestions = payload(client.get(workspace(world, world.documents[1])))["suggestions"]
    assert "My own source" in suggestions["source"]
    assert "Their source" not in suggestions["source"]
    assert suggestions["source"][0] == "US State Department"  # the scheme's come first
    client.force_login(world.lead)
    suggestions = payload(client.get(workspace(world, doc)))["suggestions"]
    assert {"My own source", "Their source"} <= set(suggestions["source"])


def test_guidelines_show_beside_the_text_as_safe_html(client: Any, world: Any) -> None:
    project_services.project_update(
        project=world.project,
        actor_id=world.lead.pk,
        guidelines="Mark **claims**.\n\n<script>alert(1)</script>",
    )
    client.force_login(world.annotator)
    html = client.get(workspace(world, world.documents[0])).content.decode()
    assert "<strong>claims</strong>" in html
    assert "<script>alert(1)</script>" not in html


def test_the_workspace_needs_a_fixed_number_of_queries_however_much_work_it_shows(
    client: Any, world: Any, django_assert_max_num_queries: Any
) -> None:
    doc = world.documents[0]
    client.force_login(world.annotator)
    url = workspace(world, doc)
    access = project_access(world.annotator, world.project.pk)
    words = [(m.start(), m.end()) for m in re.finditer(r"\w+", doc.text)]
    first = annotation_services.span_create(
        access=access, document=doc, start=words[0][0], end=words[0][1], label="Claim"
    )
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    made = [first.obj.client_id]
    for i, (start, end) in enumerate(words[1:]):
        change = annotation_services.span_create(
            access=access,
            document=doc,
            start=start,
            end=end,
            label="Claim",
            attributes={"source": f"Source {i}"},
        )
        made.append(change.obj.client_id)
    for a, b in itertools.pairwise(made):
        annotation_services.relation_create(
            access=access, document=doc, source=a, target=b, type="supports"
        )
    for extra in make_documents(world.project, 30):
        assign(world.project, extra, world.annotator)
    with django_assert_max_num_queries(len(few)):
        response = client.get(url)
    assert len(payload(response)["annotation"]["spans"]) == len(words)


IMPORT = re.compile(r"""^\s*import\b[^;]*?\bfrom\s+["']([^"']+)["']""", re.M)


def module_graph(entry: str, read: Any) -> set[str]:
    """Every module URL ``entry`` imports, directly or not; ``read(url)`` gives a module's
    source. Specifiers are resolved the way a browser does, against the importing URL."""
    seen: set[str] = set()
    todo = [entry]
    while todo:
        url = todo.pop()
        for specifier in re.findall(
            r"""^\s*import\b[^;]*?\bfrom\s+["']([^"']+)["']""", read(url), re.M
        ):
            target = urljoin(url, specifier)
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def preloads_and_imports(client: Any, world: Any, read: Any) -> tuple[set[str], set[str]]:
    client.force_login(world.annotator)
    html = client.get(workspace(world, world.documents[0])).content.decode()
    (main,) = re.findall(r'<script type="module" src="([^"]+)"></script>', html)
    preloads = re.findall(r'<link rel="modulepreload" href="([^"]+)">', html)
    assert len(preloads) == len(set(preloads)), "each module preloaded once"
    assert html.index('rel="modulepreload"') < html.index("</head>")
    return set(preloads), module_graph(main, read)


def test_the_workspace_preloads_exactly_the_modules_it_imports(client: Any, world: Any) -> None:
    def read(url: str) -> str:
        return Path(finders.find(url.removeprefix(settings.STATIC_URL))).read_text()

    preloads, imports = preloads_and_imports(client, world, read)
    assert preloads == imports
    assert "/static/projects/annotate/state.js" in imports


def test_under_hashed_names_the_preloads_are_the_urls_the_modules_import(
    client: Any, world: Any, tmp_path: Path
) -> None:
    """Production: collectstatic rewrites the imports to hashed names (annotator/storage.py);
    a preload under any other URL would make the browser fetch that module twice."""
    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": "annotator.storage.StaticStorage"}}
    with override_settings(STORAGES=storages, STATIC_ROOT=tmp_path):
        call_command("collectstatic", "--noinput", verbosity=0)

        def read(url: str) -> str:
            return (tmp_path / url.removeprefix(settings.STATIC_URL)).read_text()

        preloads, imports = preloads_and_imports(client, world, read)
    assert preloads == imports
    for url in imports:
        assert re.fullmatch(r"/static/[\w/-]+\.[0-9a-f]{12}\.js", url), url
