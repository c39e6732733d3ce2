#!/usr/bin/env python3
"""Summarise py-spy raw (folded) profiles of the gunicorn workers by API endpoint.

    pyspy_summary.py bench/results/ours-sqlite-*-worker*.folded [--top 25] \
        [--endpoint SpanListView.post]

For each endpoint (the DRF view method on the stack) it prints the share of samples, then the
functions with the largest *inclusive* share of that endpoint's samples (each function counted
once per stack), then the hottest leaf frames (self time). Samples outside any view (gunicorn
accept loop, middleware before routing, authentication) are grouped by the first interesting
frame.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter, defaultdict

VIEW = re.compile(r"^(\w+View\.(get|post|put|patch|delete)) \((projects/[^)]*)\)$")
FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^():]+)(?::(?P<line>\d+))?\)$")


def endpoint_of(frames: list[str]) -> str:
    for f in frames:
        m = VIEW.match(f)
        if m:
            return m.group(1)
    for f in frames:
        if re.match(r"^\w+View\.initial \(projects/", f):
            return "(view initial: token auth + project access + document lookup)"
    for f in frames:
        if "authenticate" in f or "perform_authentication" in f:
            return "(authentication, before the view)"
        if "APIView.initial" in f:
            return "(DRF initial, before the view)"
    for f in reversed(frames):
        if "django/core/handlers" in f:
            return "(django request handling, outside views)"
    return "(gunicorn / outside requests)"


def short(frame: str) -> str:
    m = FRAME.match(frame)
    if not m:
        return frame
    return f"{m.group('func')} ({m.group('file')})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--endpoint", action="append", help="only these endpoints (repeatable)")
    ap.add_argument("--leaf-top", type=int, default=12)
    a = ap.parse_args()

    by_ep: dict[str, int] = Counter()
    incl: dict[str, Counter] = defaultdict(Counter)
    leaf: dict[str, Counter] = defaultdict(Counter)
    total = 0
    for path in a.files:
        with open(path) as f:
            for line in f:
                line = line.rstrip("\n")
                if not line:
                    continue
                stack, _, n = line.rpartition(" ")
                try:
                    n = int(n)
                except ValueError:
                    continue
                frames = stack.split(";")
                # drop the thread/process header py-spy may prepend
                frames = [fr for fr in frames if not fr.startswith(("process ", "thread "))]
                ep = endpoint_of(frames)
                total += n
                by_ep[ep] += n
                seen = set()
                for fr in frames:
                    s = short(fr)
                    if s not in seen:
                        seen.add(s)
                        incl[ep][s] += n
                if frames:
                    leaf[ep][short(frames[-1])] += n

    print(f"total samples: {total}")
    for ep, n in by_ep.most_common():
        if a.endpoint and ep not in a.endpoint:
            continue
        print(f"\n=== {ep}: {n} samples ({100 * n / total:.1f}% of all)")
        print("  inclusive (share of this endpoint):")
        shown = 0
        for fn, c in incl[ep].most_common():
            if any(
                x in fn
                for x in (
                    "gunicorn/",
                    "<module>",
                    "WSGIHandler",
                    "MiddlewareMixin",
                    "convert_exception_to_response",
                    "BaseHandler",
                    "csrf_exempt",
                    "View.as_view",
                    "View.dispatch",
                    "APIView.dispatch",
                    "_view_wrapper",
                )
            ):
                continue
            print(f"    {100 * c / n:5.1f}%  {fn}")
            shown += 1
            if shown >= a.top:
                break
        print("  self (leaf frames):")
        for fn, c in leaf[ep].most_common(a.leaf_top):
            print(f"    {100 * c / n:5.1f}%  {fn}")


if __name__ == "__main__":
    main()
