"""Hostile content: a list of XSS (and CSV- and template-injection) payloads, a project whose
every user-supplied string is one of them, and a scanner that proves a page shows them only
as text.

Every payload names the field it was put into (``alert('title')``), so a failure, or a dialog
that opens in the browser test, says at once which input leaked. The project is made the way
users make one: through the services and the API (a scheme, an import with two annotators'
submitted work, a skip with a reason, a token, a failed export).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from django.contrib.auth import get_user_model

from projects.models import (
    AuditEvent,
    Document,
    Export,
    ExportStatus,
    Project,
    Role,
)
from projects.services import documents as document_services
from projects.services import projects as project_services
from projects.services import tokens as token_services
from tests.factories import PASSWORD, add_member, assign

# ``{w}`` is the field the payload goes into. Each one attacks a different context: element
# content, a double- or single-quoted attribute, the end of a <script> data block, a JavaScript
# string or template literal, a URL, a template engine, a spreadsheet formula, an HTML comment,
# text that is already escaped once (shown verbatim, never unescaped twice), and U+2028/U+2029
# (line terminators in old JavaScript, line breaks to some parsers).
TEMPLATES: tuple[str, ...] = (
    "<script>alert('{w}')</script>",
    "\"><img src=x onerror=alert('{w}')>",
    "</script><script>alert('{w}')</script>",
    "<svg onload=alert('{w}')>",
    "'-alert('{w}')-'",
    "' onfocus='alert(`{w}`)' autofocus='",
    "${{alert('{w}')}}",
    "javascript:alert('{w}')",
    "{{{{7*7}}}} {{% debug %}} {w}",
    "{w} \u2028 and \u2029 separators",
    "=cmd|' /C calc'!A0 {w}",
    "<!-- {w}",
    "&lt;b&gt;{w}&lt;/b&gt;",
    "<iframe srcdoc=\"<script>alert('{w}')</script>\"></iframe>",
    "<style>*{{display:none}}</style>{w}",
)


def payloads(where: str) -> list[str]:
    """Every payload, naming ``where`` (a field)."""
    return [template.format(w=where) for template in TEMPLATES]


def name_payloads(where: str) -> list[str]:
    """The payloads that fit a user's first or last name together (150 characters, which
    PostgreSQL enforces and SQLite does not): the shortest ones first."""
    chosen: list[str] = []
    for payload in sorted(payloads(where), key=len):
        if len("\n".join([*chosen, payload])) > 150:
            break
        chosen.append(payload)
    return chosen


def joined(where: str) -> str:
    """All of a field's payloads in one value, for fields that hold one string."""
    return "\n".join(payloads(where))


# Markdown is rendered, so its payloads are the ones Markdown itself could turn into markup:
# raw HTML, and links and images whose target is a script (plain, upper-case, entity-encoded,
# as an autolink, by reference).
GUIDELINES = "\n\n".join(
    [
        "# Rules <script>alert('guidelines')</script>",
        "<img src=x onerror=alert('guidelines')>",
        "<svg onload=alert('guidelines')>",
        "[plain](javascript:alert('guidelines')) [upper](JaVaScRiPt:alert('guidelines'))",
        "[entity](&#106;avascript:alert('guidelines')) [spaced]( javascript:alert(1) )",
        "![image](javascript:alert('guidelines')) <javascript:alert('guidelines')>",
        "[vb](vbscript:msgbox(1))",
        "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[ref][evil]\n\n[evil]: javascript:alert('guidelines')",
        "<a href=\"javascript:alert('guidelines')\">raw link</a>",
        "`</script><script>alert('guidelines')</script>` and {{7*7}}",
        "[fine](https://example.org/guide)",
    ]
)

SCHEME_NAME = "<script>alert('scheme-name')</script>"
CHOICE_ATTRIBUTE = "<img src=x onerror=alert('attribute-name')>"
USER_A = "<script>alert('username')</script>"
USER_B = "\"><img src=x onerror=alert('username')>"


def text_of(where: str = "text") -> str:
    lines = [f"Line {n}: {payload}" for n, payload in enumerate(payloads(where))]
    return "A hostile article.\n" + "\n".join(lines) + "\nThe end."


HOTKEYS = {0: "1", 1: "2"}


def scheme() -> dict[str, Any]:
    label_descriptions = payloads("label-description")
    relation_descriptions = payloads("relation-description")
    return {
        "name": SCHEME_NAME,
        # two labels and a relation type with keys, so the help overlays name them too
        "span_labels": [
            {"name": name, "description": label_descriptions[n], "hotkey": HOTKEYS.get(n)}
            for n, name in enumerate(payloads("label"))
        ],
        "relation_types": [
            {
                "name": name,
                "directed": True,
                "description": relation_descriptions[n],
                "hotkey": "+" if n == 0 else None,
            }
            for n, name in enumerate(payloads("relation"))
        ],
        "span_attributes": [
            {
                "name": "source",
                "kind": "entity",
                "description": joined("attribute-description"),
                "suggestions": payloads("suggestion"),
            },
            {
                "name": CHOICE_ATTRIBUTE,
                "kind": "choice",
                "description": "",
                "values": payloads("choice"),
            },
        ],
        "stance_targets": payloads("target"),
        "stance_values": payloads("stance"),
    }


def _spans(text: str, shift: int, source: str) -> list[dict[str, Any]]:
    """A span over each payload line of the text; ``shift`` rotates the labels, so two
    annotators with different shifts disagree on every span."""
    labels, choices, sources = payloads("label"), payloads("choice"), payloads(source)
    spans = []
    for n, fragment in enumerate(payloads("text")):
        start = text.index(fragment)
        spans.append(
            {
                "id": f"s{n}",
                "start": start,
                "end": start + len(fragment),
                "label": labels[(n + shift) % len(labels)],
                "text": fragment,
                "attributes": {"source": sources[n], CHOICE_ATTRIBUTE: choices[n]},
            }
        )
    return spans


def _annotation(annotator: str, text: str, shift: int, source: str) -> dict[str, Any]:
    relations, targets, values = payloads("relation"), payloads("target"), payloads("stance")
    count = len(TEMPLATES)
    return {
        "annotator": annotator,
        "status": "submitted",
        "spans": _spans(text, shift, source),
        "relations": [
            {"from": f"s{n}", "to": f"s{(n + 1) % count}", "type": relations[n]}
            for n in range(count)
        ],
        "stances": [{"target": target, "value": values[n]} for n, target in enumerate(targets)],
    }


@dataclass
class Hostile:
    project: Project
    lead: Any
    reviewer: Any
    annotator: Any
    annotator2: Any
    admin: Any
    documents: list[Document]
    annotated: Document  # both annotators submitted, disagreeing on every label
    skipped: Document  # annotator skipped it with a hostile reason
    export: Export  # a failed export whose reason quotes hostile text
    events: list[AuditEvent] = field(default_factory=list)


def make_hostile_project() -> Hostile:
    User = get_user_model()
    lead = User.objects.create_user(
        "lead",
        password=PASSWORD,
        first_name="<script>alert('full-name')</script>",
        last_name="\"><img src=x onerror=alert('full-name')>",
    )
    # usernames the login form would refuse, as an SSO or LDAP backend may still create them
    annotator = User.objects.create_user(
        USER_A, password=PASSWORD, first_name="\n".join(name_payloads("first"))
    )
    annotator2 = User.objects.create_user(
        USER_B, password=PASSWORD, last_name="\n".join(name_payloads("last"))
    )
    reviewer = User.objects.create_user("reviewer", password=PASSWORD)
    admin = User.objects.create_superuser("admin", password=PASSWORD)
    project = project_services.project_create(
        name="<script>alert('project-name')</script>",
        created_by_id=lead.pk,
        scheme=scheme(),
        description=joined("description"),
        guidelines=GUIDELINES,
    )
    add_member(project, annotator, Role.ANNOTATOR)
    add_member(project, annotator2, Role.ANNOTATOR)
    add_member(project, reviewer, Role.REVIEWER)
    add_member(project, admin, Role.LEAD)

    ids, titles = payloads("external-id"), payloads("title")
    keys, values = payloads("meta-key"), payloads("meta-value")
    lines = []
    for n in range(len(TEMPLATES)):
        text = text_of()
        line: dict[str, Any] = {
            "id": ids[n],
            "title": titles[n],
            "text": text,
            "meta": {keys[n]: values[n], "all": joined("meta-value")},
        }
        if n == 0:
            line["annotations"] = [
                _annotation(USER_A, text, 0, "source"),
                _annotation(USER_B, text, 1, "source2"),
            ]
        lines.append(json.dumps(line))
    result = document_services.documents_import(
        project=project,
        filename="<script>alert('filename')</script>.jsonl",
        data="\n".join(lines).encode(),
        actor_id=lead.pk,
    )
    by_id = {d.external_id: d for d in Document.objects.filter(pk__in=result.document_ids)}
    documents = [by_id[external_id] for external_id in ids]
    for document in documents[1:]:
        assign(project, document, annotator)
        assign(project, document, annotator2)

    from tests.conftest import client_for

    skipped = documents[1]
    url = f"/api/v1/projects/{project.pk}/documents/{skipped.pk}/annotation/skip/"
    response = client_for(annotator).post(url, {"reason": joined("skip-reason")}, format="json")
    assert response.status_code == 200, response.content

    token_services.token_create(user_id=lead.pk, name="<script>alert('token-name')</script>")
    export = Export.objects.create(
        project=project,
        requested_by=lead,
        format="csv",
        options={"format": "csv"},
        status=ExportStatus.FAILED,
        error="The export failed on a label: " + joined("export-error"),
    )
    event = AuditEvent.objects.create(
        project=project,
        document=documents[0],
        actor=lead,
        action="<script>alert('audit-action')</script>",
        object_type="=cmd|' /C calc'!A0 audit",
        object_id="\"><img src=x onerror=alert('audit')>",
        data={"note": joined("audit-data")},
    )
    return Hostile(
        project=project,
        lead=lead,
        reviewer=reviewer,
        annotator=annotator,
        annotator2=annotator2,
        admin=admin,
        documents=documents,
        annotated=documents[0],
        skipped=skipped,
        export=export,
        events=[event],
    )


# --- the scanner --------------------------------------------------------------------------------

_URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "xlink:href", "poster", "background", "data", "srcset"}
)
_BAD_SCHEME = re.compile(r"^(javascript|vbscript|data:text/html|data:image/svg)", re.IGNORECASE)
# Elements no page of ours makes; a payload that became markup would make one.
_FORBIDDEN_ELEMENTS = frozenset(
    {"iframe", "frame", "frameset", "object", "embed", "applet", "style", "base", "img", "math"}
)
_ALLOWED_IMAGES = re.compile(r"^/static/")  # the admin's icons


class PageScan(HTMLParser):
    """Walks a page the way a browser tokenises it and records what would run: event-handler
    attributes, script URLs, elements no page of ours makes, and scripts that are neither one
    of our files nor a JSON data block (whose content must parse)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.texts: list[str] = []
        self.attribute_values: list[str] = []
        self.data_blocks: dict[str, Any] = {}
        self._script: dict[str, str | None] | None = None
        self._script_body: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag}> has an event handler {name}={value!r}")
            if name == "srcdoc":
                self.problems.append(f"<{tag}> has srcdoc={value!r}")
            if value is not None:
                self.attribute_values.append(value)
                squeezed = re.sub(r"[\x00-\x20]", "", value)
                if name in _URL_ATTRIBUTES and _BAD_SCHEME.match(squeezed):
                    self.problems.append(f"<{tag}> has a script URL {name}={value!r}")
        if tag in _FORBIDDEN_ELEMENTS and not (
            tag == "img" and _ALLOWED_IMAGES.match(named.get("src") or "")
        ):
            self.problems.append(f"a <{tag}> element {attrs!r}")
        if tag == "meta" and named.get("http-equiv") and named["http-equiv"].lower() != "refresh":
            self.problems.append(f"a <meta http-equiv> {attrs!r}")
        if tag == "script":
            self._script = named
            self._script_body = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script_body.append(data)
        else:
            self.texts.append(data)

    def handle_comment(self, data: str) -> None:
        # a payload must never open a real comment (it would hide the rest of the page)
        if "<!--" not in data and any(word in data for word in ("alert", "7*7")):
            self.problems.append(f"a comment made of content: {data[:80]!r}")

    def handle_endtag(self, tag: str) -> None:
        if tag != "script" or self._script is None:
            return
        attrs, body = self._script, "".join(self._script_body)
        self._script = None
        src = attrs.get("src")
        kind = (attrs.get("type") or "").lower()
        if src is not None:
            if body.strip():
                self.problems.append(f"a <script src> with a body: {body[:80]!r}")
            elif not src.startswith("/") or src.startswith("//"):
                self.problems.append(f"a script from elsewhere: {src!r}")
            else:
                self.scripts.append(src)
        elif kind == "application/json" and attrs.get("id"):
            try:
                self.data_blocks[str(attrs["id"])] = json.loads(body)
            except ValueError as exc:
                self.problems.append(f"data block #{attrs['id']} is not JSON ({exc}): {body!r}")
        else:
            self.problems.append(f"an inline script {attrs!r}: {body[:120]!r}")

    # -- what the page shows -----------------------------------------------------------------

    def text(self) -> str:
        return "".join(self.texts)

    def strings(self) -> list[str]:
        """Every string a user could see or a script could read: text, attribute values and
        the strings inside the JSON data blocks."""
        found = [self.text(), *self.attribute_values]
        for block in self.data_blocks.values():
            found.extend(_json_strings(block))
        return found

    def shows(self, value: str) -> bool:
        return any(value in string for string in self.strings())


def _json_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [*value.keys(), *(s for v in value.values() for s in _json_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _json_strings(v)]
    return []


def json_strings(value: Any) -> list[str]:
    return _json_strings(value)


def scan(html: str) -> PageScan:
    scanner = PageScan()
    scanner.feed(html)
    scanner.close()
    return scanner
