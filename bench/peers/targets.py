#!/usr/bin/env python3
"""Issue 2's four targets, as ratios of ours to doccano, run by run and over runs.

One paired run decides nothing on a machine whose speed drifts within minutes, and doccano's
import time includes its Celery task and the client's polling of it. So ``compare.sh
ROUNDS=N`` alternates ours and doccano N times, and this script prints each pair's four ratios,
how many pairs met each target, and the median of the pairs' ratios: the issue defines each
target as a ratio "in the same run", and a pair is the same run; the ratio of the two systems'
medians (also printed) mixes runs taken at different speeds.

    python bench/peers/targets.py OURS_1.json DOCCANO_1.json OURS_2.json DOCCANO_2.json ...

Result files of run_bench.py, in any order: the n-th ``ours`` file is paired with the n-th
``doccano`` file as given. Standard library only (it runs in the harness's venv).
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Callable
from typing import Any

# name, how to read the figure from a result, "up" (ours ÷ doccano must reach the bound) or
# "down" (must stay at or under it), the bound
Target = tuple[str, Callable[[dict[str, Any]], float | None], str, float]


def _get(run: dict[str, Any], *path: str) -> float | None:
    cur: Any = run
    for key in path:
        cur = cur.get(key) if isinstance(cur, dict) else None
    return float(cur) if isinstance(cur, int | float) else None


TARGETS: list[Target] = [
    ("import, docs/s (ours ÷ doccano ≥ 3)", lambda r: _get(r, "import", "docs_per_s"), "up", 3.0),
    (
        "span create p95 (ours ÷ doccano ≤ 1/3)",
        lambda r: _get(r, "spans_sequential", "p95_ms"),
        "down",
        1 / 3,
    ),
    (
        "8-client spans/s (ours ÷ doccano ≥ 3)",
        lambda r: _get(r, "spans_concurrent", "req_per_s"),
        "up",
        3.0,
    ),
    (
        "page fetch p95 (ours ÷ doccano ≤ 1/3)",
        lambda r: _get(r, "page_fetch", "median_p95_ms"),
        "down",
        1 / 3,
    ),
]


def ratio(ours: float | None, theirs: float | None) -> float | None:
    if ours is None or theirs is None or theirs == 0:
        return None
    return ours / theirs


def met(value: float | None, direction: str, bound: float) -> bool:
    if value is None:
        return False
    return value >= bound if direction == "up" else value <= bound


def pairs(runs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    ours = [r for r in runs if r.get("meta", {}).get("system") == "ours"]
    theirs = [r for r in runs if r.get("meta", {}).get("system") == "doccano"]
    if not ours or len(ours) != len(theirs):
        raise SystemExit(f"need as many ours as doccano results; got {len(ours)} and {len(theirs)}")
    return list(zip(ours, theirs, strict=True))


def report(runs: list[dict[str, Any]]) -> str:
    ps = pairs(runs)
    lines = [
        "| target | "
        + " | ".join(f"pair {i}" for i in range(1, len(ps) + 1))
        + " | met | median of the pair ratios | ratio of the medians |",
        "|---" * (len(ps) + 4) + "|",
    ]
    for name, read, direction, bound in TARGETS:
        ratios = [ratio(read(o), read(d)) for o, d in ps]
        cells = [("n/a" if x is None else f"{x:.2f}") for x in ratios]
        n_met = sum(met(x, direction, bound) for x in ratios)
        known = [x for x in ratios if x is not None]
        verdict = "n/a"
        if known:
            median = statistics.median(known)
            verdict = f"{median:.2f}" + (
                " (met)" if met(median, direction, bound) else " (**not met**)"
            )
        ours_vals = [v for v in (read(o) for o, _ in ps) if v is not None]
        their_vals = [v for v in (read(d) for _, d in ps) if v is not None]
        of_medians = (
            ratio(statistics.median(ours_vals), statistics.median(their_vals))
            if ours_vals and their_vals
            else None
        )
        lines.append(
            f"| {name} | {' | '.join(cells)} | {n_met} of {len(ps)} | {verdict} | "
            + ("n/a" if of_medians is None else f"{of_medians:.2f}")
            + " |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    runs = []
    for path in argv:
        with open(path, encoding="utf-8") as f:
            runs.append(json.load(f))
    print(report(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
