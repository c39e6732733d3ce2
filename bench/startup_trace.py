"""Benchmark: where a workspace page's start-up goes in Chromium, page by page, from a trace.

For a 1 KB page (served by Playwright on the workspace's origin with the workspace's own
response headers, Cross-Origin-Opener-Policy included), the demo article's workspace and the
20,000-character article with 300 spans (bench/workspace.py's), each loaded cold (a new
browser context), warm (a new tab of a context that has loaded them) and moving on (the tab
that showed another workspace page):

1. untraced medians of the page's own marks: HTML received, parsed (domInteractive), modules
   started (ws:start), interactive (ws:interactive), first contentful paint; "gap" is parsed
   minus received, the window in which the browser commits the navigation and parses;
2. from Chrome traces (a few more loads), the renderer main thread's CPU time (thread time,
   not wall: a shared machine's load does not inflate it) by kind, from navigation start to
   parsed and to interactive: commit (the frame and the navigation's commit), parse (HTML),
   style, fonts (font look-ups in layout), layout, script, paint, other.

If the 1 KB page's gap is the long article's, that window is the browser's, not the page's.
Run by hand; it prints figures and is not part of the test run:

    .venv/bin/python bench/startup_trace.py [--server gunicorn] [--loads 7] [--traced 3]
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# bench/workspace.py sets up Django on a database of its own
from bench import workspace as bw

CATEGORIES = [
    "toplevel",
    "navigation",
    "loading",
    "blink.user_timing",
    "devtools.timeline",
    "disabled-by-default-devtools.timeline",
    "blink",
    "v8.execute",
    "fonts",
    "__metadata",
]
TRIVIAL = (
    "<!doctype html><html><head><meta charset=utf-8><title>t</title></head><body><p>"
    + "x" * 900
    + "</p></body></html>"
)
KINDS = {
    "commit": (
        "AgentSchedulingGroup::CreateFrame",
        "AgentSchedulingGroup::CreateWebView",
        "RenderFrameImpl::CommitNavigation",
    ),
    "parse": ("ParseHTML",),
    "style": ("UpdateLayoutTree",),
    "fonts": ("FontCache::GetFontPlatformData",),
    "layout": ("Layout",),
    "script": (
        "v8.evaluateModule",
        "v8.compileModule",
        "FunctionCall",
        "EvaluateScript",
        "v8.compile",
        "v8.run",
        "v8.callFunction",
        "TimerFire",
        "FireAnimationFrame",
    ),
    "paint": ("Paint", "PrePaint", "Commit", "Layerize"),
}
KIND_OF = {name: kind for kind, names in KINDS.items() for name in names}
MARKS = """() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const at = (n) => (performance.getEntriesByName(n)[0] || {}).startTime ?? null;
    return {received: nav.responseEnd, parsed: nav.domInteractive, start: at('ws:start'),
            interactive: at('ws:interactive'), fcp: at('first-contentful-paint')};
}"""


def cpu_by_kind(path: Path, url: str, start: float | None, until: float) -> dict[str, float]:
    """Thread time of the document's renderer main thread, from navigation start to ``until``
    ms, each event's own time less that of the categorised events inside it."""
    raw = json.loads(path.read_text())
    events = raw["traceEvents"] if isinstance(raw, dict) else raw
    # the document's renderer main thread parsed it; its last navigation start before that
    # (the mark does not always carry the URL)
    parses = [
        e for e in events if e.get("name") == "ParseHTML" and url in json.dumps(e.get("args", {}))
    ]
    key = (parses[0]["pid"], parses[0]["tid"])
    starts = [
        e["ts"]
        for e in events
        if e.get("name") == "navigationStart"
        and (e["pid"], e["tid"]) == key
        and e["ts"] <= parses[0]["ts"]
    ]
    if starts:
        t0 = max(starts)
    else:  # no mark: align on ws:start
        ws = [e["ts"] for e in events if e.get("name") == "ws:start"]
        t0 = ws[-1] - (start or 0) * 1000
    spans = sorted(
        (
            e
            for e in events
            if (e.get("pid"), e.get("tid")) == key and e.get("ph") == "X" and "dur" in e
        ),
        key=lambda e: (e["ts"], -e["dur"]),
    )
    out: collections.Counter[str] = collections.Counter()
    stack: list[list[Any]] = []  # [event, kind, time of categorised events inside]

    def close(item: list[Any]) -> None:
        event, kind, inside = item
        if kind is None:
            return
        own = event.get("tdur", event["dur"])
        if 0 <= (event["ts"] - t0) / 1000 <= until:
            out[kind] += (own - inside) / 1000
        for outer in reversed(stack):
            if outer[1] is not None:
                outer[2] += own
                break

    for event in spans:
        while stack and stack[-1][0]["ts"] + stack[-1][0]["dur"] <= event["ts"]:
            close(stack.pop())
        kind = KIND_OF.get(event["name"])
        if (
            kind is None
            and not stack
            and event["name"] in ("RunTask", "ThreadControllerImpl::RunTask")
        ):
            kind = "other"
        stack.append([event, kind, 0])
    while stack:
        close(stack.pop())
    return out


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", choices=["runserver", "gunicorn"], default="runserver")
    parser.add_argument("--loads", type=int, default=7, help="untraced loads per case")
    parser.add_argument("--traced", type=int, default=3, help="traced loads per case")
    args = parser.parse_args()
    project, annotator, demo, big, _ = bw.setup()
    server, base = bw.serve(args.server)
    traces = Path(tempfile.mkdtemp(prefix="bench-trace-"))
    pages = {
        "1 KB page": f"{base}/trivial",
        "demo": f"{base}/p/{project.slug}/d/{demo.pk}/annotate/",
        "long": f"{base}/p/{project.slug}/d/{big.pk}/annotate/",
    }
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=bw.CHROMIUM, args=bw.CHROMIUM_ARGS)
            first = bw.signed_in(browser, base, annotator).new_page()
            headers = {
                k: v for k, v in first.goto(pages["demo"]).headers.items() if k != "content-length"
            }
            first.context.close()

            def context() -> Any:
                made = bw.signed_in(browser, base, annotator)
                made.route(
                    pages["1 KB page"],
                    lambda route: route.fulfill(status=200, headers=headers, body=TRIVIAL),
                )
                return made

            def load(page: Any, name: str, trace: Path | None = None) -> dict[str, Any]:
                if trace:
                    browser.start_tracing(page=page, path=str(trace), categories=CATEGORIES)
                page.goto(pages[name])
                if name == "1 KB page":
                    page.wait_for_load_state("load")
                else:
                    page.wait_for_selector('#ws[data-interactive="true"]')
                marks = page.evaluate(MARKS)
                if trace:
                    page.wait_for_timeout(100)
                    browser.stop_tracing()
                return marks

            warm = context()
            tab = warm.new_page()
            for name in pages:
                load(tab, name)
            tab.close()
            plain: dict[tuple[str, str], list[dict[str, Any]]] = collections.defaultdict(list)
            traced: dict[tuple[str, str], list[tuple[dict[str, Any], Path]]] = (
                collections.defaultdict(list)
            )
            for i in range(args.loads + args.traced):
                for name in pages:
                    for how in ("cold", "warm", "moving on"):
                        trace = traces / f"{how}-{name}-{i}.json" if i >= args.loads else None
                        if how == "cold":
                            fresh = context()
                            page = fresh.new_page()
                        else:
                            fresh = None
                            page = warm.new_page()
                            if how == "moving on":
                                load(page, "demo" if name != "demo" else "long")
                        marks = load(page, name, trace)
                        (fresh or page).close()
                        if trace:
                            traced[(how, name)].append((marks, trace))
                        else:
                            plain[(how, name)].append(marks)
            browser.close()
    finally:
        server.terminate()
        server.wait()

    def median(rows: list[dict[str, Any]], key: str) -> str:
        values = [r[key] for r in rows if r[key] is not None]
        return f"{statistics.median(values):4.0f}" if values else "   -"

    print(f"== Start-up, {args.server}: medians of {args.loads} loads, ms after navigation start")
    for (how, name), rows in plain.items():
        gap = statistics.median(r["parsed"] - r["received"] for r in rows)
        print(
            f"   {how:9s} {name:9s} received {median(rows, 'received')}, parsed "
            f"{median(rows, 'parsed')} (gap {gap:3.0f}), modules started {median(rows, 'start')}, "
            f"interactive {median(rows, 'interactive')}, first paint {median(rows, 'fcp')}"
        )
    print(
        f"== Renderer main thread CPU, ms (median of {args.traced} traced loads), "
        "navigation start -> parsed; -> interactive"
    )
    order = [*KINDS, "other"]
    for (how, name), rows in traced.items():
        for until in ("parsed", "interactive"):
            if until == "interactive" and name == "1 KB page":
                continue
            per: dict[str, list[float]] = collections.defaultdict(list)
            for marks, path in rows:
                got = cpu_by_kind(
                    path, pages[name], marks["start"], marks[until] or marks["parsed"]
                )
                for kind in order:
                    per[kind].append(got[kind])
            med = {kind: statistics.median(per[kind]) for kind in order}
            label = f"{how:9s} {name:9s}" if until == "parsed" else " " * 19
            print(
                f"   {label} {until:11s} "
                + ", ".join(f"{kind} {med[kind]:.1f}" for kind in order)
                + f"; total {sum(med.values()):.0f}"
            )

    shutil.rmtree(traces, ignore_errors=True)


if __name__ == "__main__":
    main()
