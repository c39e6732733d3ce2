from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from projects.services import projects as project_services
from projects.views.common import render_markdown

TEMPLATE_DIRS = [
    Path(__file__).resolve().parents[2] / "annotator" / "templates",
    Path(__file__).resolve().parents[2] / "projects" / "templates",
]


def test_guidelines_with_script_and_javascript_links_render_as_text(
    client: Any, world: Any
) -> None:
    project_services.project_update(
        project=world.project,
        actor_id=world.lead.pk,
        guidelines="# Rules\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) "
        "[y](JaVaScRiPt:alert(2)) [ok](https://example.org/guide)",
    )
    client.force_login(world.annotator)
    html = client.get(f"/p/{world.project.slug}/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "javascript:" not in html.lower().replace("[x](javascript:alert(1))", "").replace(
        "[y](javascript:alert(2))", ""
    )
    assert not re.search(r'href="\s*javascript:', html, re.IGNORECASE)
    assert '<a href="https://example.org/guide">ok</a>' in html
    assert "<h1>Rules</h1>" in html


def test_markdown_drops_other_dangerous_link_schemes() -> None:
    html = render_markdown("[a](vbscript:x) [b](data:text/html,x) <javascript:alert(1)>")
    assert "href" not in html


def test_no_template_has_inline_script_or_event_handlers_or_style_attributes() -> None:
    for directory in TEMPLATE_DIRS:
        for template in directory.rglob("*.html"):
            text = template.read_text()
            # scripts only as files (CSP script-src 'self'): a <script> with a src and no body
            for tag, body in re.findall(r"(<script\b[^>]*>)(.*?)</script>", text, re.S):
                assert "src=" in tag and not body.strip(), (template, tag)
            assert text.count("<script") == len(
                re.findall(r"<script\b[^>]*>.*?</script>", text, re.S)
            )
            assert not re.search(r"\son[a-z]+\s*=", text), template
            assert "style=" not in text, template


def test_the_site_stylesheet_is_found_by_staticfiles() -> None:
    from django.contrib.staticfiles import finders

    assert finders.find("site/site.css")
