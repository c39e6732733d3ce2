"""Benchmark: the annotation workspace in real Chromium, measured from the page's side.

1. Labels the demo article's nine spans of annotator1 (projects/demo_data/seed-annotated.jsonl)
   with their sources and stances, the seven relations and the document stance, the way an
   annotator would (mouse selection, then keys), and counts the key presses and clicks used.
   The result is checked against the seed: same offsets, labels, attributes and relations.
2. Loads a generated 20,000-character article with 300 spans and 150 relations and reports
   when the page became interactive (Performance API marks set by main.js), cold (each load
   in a new browser context: empty cache, new connections), warm (modules cached, a new tab)
   and moving on (in the tab that showed another document, as Submit & next does), the cost
   of one labelling action, and of redrawing the arcs.

Targets (issue 3): at most 2 input events per span after the selection, 3 per relation;
interactive within 300 ms. Run by hand; it prints figures and is not part of the test run:

    .venv/bin/python bench/workspace.py [--server gunicorn]

It uses its own SQLite database in a temporary directory and its own server in a separate
process (``runserver`` with DEBUG on, or gunicorn with production settings), so it never touches
var/db.sqlite3.
Chromium: CHROMIUM_PATH or /usr/bin/chromium.
"""

from __future__ import annotations

import atexit
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="bench-workspace-"))
# Made at import (django.setup() below needs its database URL), so removed at any exit, not
# only at the end of main(): a failed setup or another script importing this module left it.
atexit.register(shutil.rmtree, TMP, ignore_errors=True)
os.environ["DATABASE_URL"] = f"sqlite:///{TMP / 'bench.sqlite3'}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")
os.environ.setdefault("DEBUG", "true")
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # ORM reads beside Playwright's loop

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from projects.models import Annotation, Document, Membership, Project, Role  # noqa: E402
from projects.permissions import project_access  # noqa: E402
from projects.services import annotations as annotation_services  # noqa: E402
from projects.services.documents import assignment_create, documents_import  # noqa: E402
from projects.services.projects import project_create  # noqa: E402
from tests.e2e.conftest import ARGS as CHROMIUM_ARGS  # noqa: E402 - the browser tests' browser
from tests.e2e.conftest import CHROMIUM  # noqa: E402

DEMO = ROOT / "projects" / "demo_data"
LOADS = 7
COLD_LOADS = 5


def setup() -> tuple[Project, Any, Document, Document, dict[str, Any]]:
    call_command("migrate", verbosity=0)
    users = get_user_model().objects
    lead = users.create_user("bench-lead", password="x")
    annotator = users.create_user("bench-annotator", password="x")
    project = project_create(
        name="Workspace bench",
        slug="bench",
        created_by_id=lead.pk,
        scheme=json.loads((DEMO / "scheme.json").read_text()),
    )
    Membership.objects.create(project=project, user=annotator, role=Role.ANNOTATOR)
    seed = json.loads((DEMO / "seed-annotated.jsonl").read_text().splitlines()[0])
    plain = {k: seed[k] for k in ("id", "title", "text", "meta")}
    documents_import(
        project=project,
        filename="seed.jsonl",
        data=json.dumps(plain).encode(),
        actor_id=lead.pk,
    )
    demo = Document.objects.get(project=project, external_id=seed["id"])
    big = big_document(project, lead)
    for doc in (demo, big):
        assignment_create(
            project=project, document_id=doc.pk, annotator_id=annotator.pk, actor_id=lead.pk
        )
    fill_big(project, annotator, big)
    wanted = next(a for a in seed["annotations"] if a["annotator"] == "annotator1")
    return project, annotator, demo, big, wanted


def big_document(project: Project, lead: Any) -> Document:
    """About 20,000 characters of news-like paragraphs (the demo article's sentences)."""
    seed = json.loads((DEMO / "seed.jsonl").read_text().splitlines()[0])
    sentences = [s.strip() + "." for s in seed["text"].replace("\n", " ").split(". ") if s.strip()]
    rng = random.Random(7)
    paragraphs: list[str] = []
    total = 0
    while total < 20000:
        paragraph = " ".join(rng.choice(sentences) for _ in range(rng.randint(2, 5)))
        paragraphs.append(paragraph)
        total += len(paragraph) + 2
    text = "\n\n".join(paragraphs)[:20000].rsplit(" ", 1)[0] + "."
    line = {"id": "bench-20k", "title": "A long article (20,000 characters)", "text": text}
    documents_import(
        project=project, filename="big.jsonl", data=json.dumps(line).encode(), actor_id=lead.pk
    )
    return Document.objects.get(project=project, external_id="bench-20k")


def fill_big(project: Project, annotator: Any, doc: Document) -> None:
    """300 spans (some nested) and 150 relations, written through the services."""
    import re

    access = project_access(annotator, project.pk)
    words = [(m.start(), m.end()) for m in re.finditer(r"\w+(?:\W+\w+){2,6}", doc.text)]
    rng = random.Random(11)
    chosen = sorted(rng.sample(words, 300))
    labels = ["Claim", "Justification", "Critique"]
    ids = []
    for i, (start, end) in enumerate(chosen):
        change = annotation_services.span_create(
            access=access,
            document=doc,
            start=start,
            end=end,
            label=labels[i % 3],
            attributes={"source": "US officials", "stance": "favor"},
        )
        ids.append(change.obj.client_id)
    made = 0
    for i in range(1, len(ids), 2):
        annotation_services.relation_create(
            access=access,
            document=doc,
            source=ids[i],
            target=ids[i - 1],
            type="supports" if i % 4 == 1 else "attacks",
        )
        made += 1
    assert made == 150


def shortest_prefix(value: str, options: list[str]) -> str:
    """The fewest characters to type so that the workspace's autocomplete puts ``value``
    first (matches at the start first, then anywhere; the same rule as panel.js)."""
    for n in range(1, len(value) + 1):
        typed = value[:n].lower()
        starts = [o for o in options if o.lower().startswith(typed)]
        contains = [o for o in options if typed in o.lower() and o not in starts]
        if (starts + contains)[:1] == [value]:
            return value[:n]
    return value


class Counter:
    """Counts the input events the script sends (each key press or click is one)."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.n = 0

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.n += 1

    def type(self, text: str) -> None:
        for ch in text:
            self.press(ch)

    def click(self, selector: str) -> None:
        self.page.click(selector)
        self.n += 1


def drag(page: Any, start: int, end: int) -> None:
    box = page.evaluate(
        """([s, e]) => {
            const map = window.workspace.map;
            const first = map.range(s, s + 1).getClientRects()[0];
            const rects = map.range(e - 1, e).getClientRects();
            const last = rects[rects.length - 1];
            return [first.left, first.top, first.width, first.height,
                    last.right, last.top, last.width, last.height];
        }""",
        [start, end],
    )
    x1, y1 = box[0] + min(2, box[2] / 3), box[1] + box[3] / 2
    x2, y2 = box[4] - min(2, box[6] / 3), box[5] + box[7] / 2
    page.mouse.move(x1, y1)
    page.mouse.down()
    page.mouse.move(x2, y2, steps=4)
    page.mouse.up()


def scroll_to(page: Any, start: int, end: int) -> None:
    page.evaluate(
        """([s, e]) => { const w = window.workspace;
            w.ensureVisible({start: w.map.cp.unit(s), end: w.map.cp.unit(e)}); }""",
        [start, end],
    )


def settled(page: Any) -> None:
    page.wait_for_function(
        "() => window.workspace.sync.pending === 0"
        " && document.getElementById('ws-save').dataset.status === 'saved'",
        timeout=30000,
    )


def measures(page: Any, name: str) -> list[float]:
    return page.evaluate("(n) => performance.getEntriesByName(n).map((e) => e.duration)", name)


def label_demo(
    browser: Any, base: str, project: Project, user: Any, doc: Document, seed: Any
) -> None:
    page = signed_in(browser, base, user).new_page()
    page.goto(f"{base}/p/{project.slug}/d/{doc.pk}/annotate/")
    page.wait_for_selector('#ws[data-ready="true"]')
    suggestions = page.evaluate("() => window.workspace.data.suggestions.source")
    count = Counter(page)
    per_span: list[int] = []
    per_span_all: list[int] = []
    wall: list[float] = []
    ids: dict[str, str] = {}
    label_keys = {"Claim": "1", "Justification": "2", "Critique": "3"}
    stance_keys = {"favor": "1", "against": "2", "neutral": "3"}
    for span in sorted(seed["spans"], key=lambda s: s["start"]):
        scroll_to(page, span["start"], span["end"])
        started = time.perf_counter()
        drag(page, span["start"], span["end"])  # the selection (not counted)
        before = count.n
        count.press(label_keys[span["label"]])
        per_span.append(count.n - before)
        count.press("s")
        count.type(shortest_prefix(span["attributes"]["source"], suggestions))
        count.press("Enter")
        count.press("t")
        count.press(stance_keys[span["attributes"]["stance"]])
        per_span_all.append(count.n - before)
        wall.append(time.perf_counter() - started)
        ids[span["id"]] = page.evaluate("() => window.workspace.selected")
    per_relation: list[int] = []
    for relation in seed["relations"]:
        before = count.n
        count.click(f'#ws-span-list button[data-span="{ids[relation["from"]]}"]')
        count.press({"supports": "+", "attacks": "-"}[relation["type"]])
        hint = page.evaluate(
            "(id) => [...window.workspace.linking.hints].find(([, s]) => s === id)[0]",
            ids[relation["to"]],
        )
        count.press(hint)
        per_relation.append(count.n - before)
    count.press("d")
    count.press({"neutral": "3", "favor": "1", "against": "2"}[seed["stances"][0]["value"]])
    settled(page)
    label_ms = measures(page, "ws:label")
    label_js = measures(page, "ws:label:handler")
    link_ms = measures(page, "ws:link.done")
    choice_ms = measures(page, "ws:choice")

    # the stored work equals the seed's
    annotation = Annotation.objects.get(document=doc, annotator=user)
    stored = {
        (s.start, s.end, s.label.name, tuple(sorted(s.attributes.items())))
        for s in annotation.spans.select_related("label")
    }
    expected = {
        (s["start"], s["end"], s["label"], tuple(sorted(s["attributes"].items())))
        for s in seed["spans"]
    }
    by_id = {v: k for k, v in ids.items()}
    relations = {
        (by_id[r.source.client_id], by_id[r.target.client_id], r.type.name)
        for r in annotation.relations.select_related("source", "target", "type")
    }
    assert stored == expected, stored ^ expected
    assert relations == {(r["from"], r["to"], r["type"]) for r in seed["relations"]}
    assert list(annotation.stances.values_list("value", flat=True)) == [seed["stances"][0]["value"]]

    print("== The demo article: annotator1's 9 spans, 7 relations, the document stance")
    print("   stored result equals seed-annotated.jsonl: yes")
    print(f"   input events per span after the selection (label): {fmt_counts(per_span)}")
    print(
        "   ... with its source (autocomplete) and stance: "
        f"{fmt_counts(per_span_all)} (mean {statistics.mean(per_span_all):.1f})"
    )
    print(
        "   input events per relation (select the source, type key, target): "
        + fmt_counts(per_relation)
    )
    print("   document stance: 2 (d, then a number)")
    print(f"   total input events: {count.n} plus 9 mouse selections")
    print(f"   page time per label, the key's handler: {fmt_ms(label_js)}")
    print(f"   page time per label, key down -> the next frame: {fmt_ms(label_ms)}")
    print(f"   page time per relation (target key -> painted): {fmt_ms(link_ms)}")
    print(f"   page time per stance/value pick: {fmt_ms(choice_ms)}")
    print(
        "   wall time per span (drag, label, source, stance; script + browser): "
        f"median {statistics.median(wall) * 1000:.0f} ms"
    )


def fmt_counts(values: list[int]) -> str:
    return f"max {max(values)} ({', '.join(map(str, values))})"


def fmt_ms(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"median {statistics.median(values):.1f} ms, max {max(values):.1f} ms (n={len(values)})"


TIMINGS = """() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const start = performance.getEntriesByName('ws:start')[0].startTime;
    const ready = performance.getEntriesByName('ws:interactive')[0].startTime;
    return {ready, script: ready - start, response: nav.responseEnd - nav.requestStart,
            html: nav.responseEnd, parsed: nav.domInteractive, modules: start};
}"""


def load_once(context: Any, url: str, phases: dict[str, list[float]]) -> None:
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector('#ws[data-interactive="true"]')
    for name, value in page.evaluate(TIMINGS).items():
        phases.setdefault(name, []).append(value)
    page.close()


def print_loads(title: str, phases: dict[str, list[float]]) -> None:
    interactive = phases["ready"]
    med = {name: statistics.median(values) for name, values in phases.items()}
    print(
        f"   {title}: median {med['ready']:.0f} ms, max {max(interactive):.0f} ms "
        f"({', '.join(f'{v:.0f}' for v in interactive)})"
    )
    print(
        f"      medians, ms after navigation start: page received {med['html']:.0f} (the server's "
        f"answer {med['response']:.0f}), parsed {med['parsed']:.0f}, modules loaded and started "
        f"{med['modules']:.0f}, interactive {med['ready']:.0f} (start-up {med['script']:.0f})"
    )


def load_big(
    browser: Any, base: str, project: Project, user: Any, doc: Document, other: Document
) -> None:
    url = f"{base}/p/{project.slug}/d/{doc.pk}/annotate/"
    # Cold: each load in a new browser context (empty HTTP cache, new connections), like the
    # first visit after a deploy; the first of them is also this document's first request.
    # Warm: loads in one context, the modules cached (every later document of a session).
    cold: dict[str, list[float]] = {}
    for _ in range(COLD_LOADS):
        fresh = signed_in(browser, base, user)
        load_once(fresh, url, cold)
        fresh.close()
    context = signed_in(browser, base, user)
    warm: dict[str, list[float]] = {}
    load_once(context, url, {})  # fills this context's cache
    for _ in range(LOADS):
        load_once(context, url, warm)
    # Moving on: the page opened in the tab that showed another document (Submit & next), so
    # the browser's renderer is already up; a new tab pays for starting one.
    moving: dict[str, list[float]] = {}
    tab = context.new_page()
    for _ in range(LOADS):
        tab.goto(f"{base}/p/{project.slug}/d/{other.pk}/annotate/")
        tab.wait_for_selector('#ws[data-interactive="true"]')
        tab.goto(url)
        tab.wait_for_selector('#ws[data-interactive="true"]')
        for name, value in tab.evaluate(TIMINGS).items():
            moving.setdefault(name, []).append(value)
    tab.close()
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector('#ws[data-ready="true"]')
    spans, relations, length = page.evaluate(
        "() => [window.workspace.local.spans.size, window.workspace.local.relations.size,"
        " window.workspace.map.cp.points]"
    )
    # one labelling action on the long article, and the arcs redrawn after a scroll
    free = page.evaluate(
        """() => { const w = window.workspace; const t = w.tokens;
            let tok = t.nextToken(0);
            const taken = (tok) => [...w.local.spans.values()].some((s) =>
                w.map.cp.unit(s.start) < tok.end && tok.start < w.map.cp.unit(s.end));
            while (tok && taken(tok)) tok = t.nextToken(tok.end);
            return [w.map.cp.point(tok.start), w.map.cp.point(tok.end)]; }"""
    )
    for _ in range(5):
        scroll_to(page, *free)
        drag(page, *free)
        page.keyboard.press("1")
        page.keyboard.press("Control+z")
    label_ms = measures(page, "ws:label")
    label_js = measures(page, "ws:label:handler")
    arcs_ms = page.evaluate(
        """() => { const w = window.workspace; const out = [];
            for (let i = 0; i < 10; i++) {
                window.scrollTo(0, (i + 1) * 1500);
                const t0 = performance.now();
                w.arcs.draw(w.local, {selected: null});
                out.push(performance.now() - t0);
            }
            return out; }"""
    )
    print(f"== A long article: {length} characters, {spans} spans, {relations} relations")
    print("   interactive (navigation start -> ws:interactive):")
    print(f"   first load of this document: {cold['ready'][0]:.0f} ms")
    print_loads(f"cold, {COLD_LOADS} loads each in a new browser context (empty cache)", cold)
    print_loads(f"warm, {LOADS} loads in new tabs of one context (modules cached)", warm)
    print_loads(f"moving on, {LOADS} loads in the tab of another document (Submit & next)", moving)
    print(f"   one label on it, the key's handler: {fmt_ms(label_js)}")
    print(f"   one label on it, key down -> the next frame: {fmt_ms(label_ms)}")
    print(f"   arcs redrawn after a scroll: {fmt_ms(arcs_ms)}")


def signed_in(browser: Any, base: str, user: Any) -> Any:
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )
    return context


def serve(kind: str = "runserver") -> tuple[subprocess.Popen[bytes], str]:
    """A server in a process of its own (not a thread of this one, where it would share the
    interpreter with Playwright's driver), on the bench's database: the development server, or
    gunicorn with production settings (DEBUG off, hashed static files served by WhiteNoise)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    from django.conf import settings as django_settings

    env = os.environ.copy()
    if kind == "gunicorn":
        env.update(
            DEBUG="false",
            # the bench signs its session cookies in this process: the server must share the key
            SECRET_KEY=django_settings.SECRET_KEY,
            ALLOWED_HOSTS="127.0.0.1",
            SECURE_SSL_REDIRECT="false",
            SECURE_COOKIES="false",
            SECURE_HSTS_SECONDS="0",
            STATIC_ROOT=str(TMP / "static"),
        )
        subprocess.run(  # a fixed command: this repository's manage.py
            [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v0"],
            env=env,
            check=True,
        )
        command = [
            str(Path(sys.executable).with_name("gunicorn")),
            "annotator.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "8",
        ]
    else:
        command = [
            sys.executable,
            str(ROOT / "manage.py"),
            "runserver",
            "--noreload",
            f"127.0.0.1:{port}",
        ]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        server.kill()
        raise RuntimeError("the development server did not start")
    return server, f"http://127.0.0.1:{port}"


def main() -> None:
    import argparse

    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--server",
        choices=["runserver", "gunicorn"],
        default="runserver",
        help="gunicorn: production settings (DEBUG off, WhiteNoise, hashed static files)",
    )
    args = parser.parse_args()
    project, annotator, demo, big, seed = setup()
    server, base = serve(args.server)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            label_demo(browser, base, project, annotator, demo, seed)
            load_big(browser, base, project, annotator, big, demo)
            browser.close()
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
