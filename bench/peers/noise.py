#!/usr/bin/env python3
"""CPU used by *other* processes while a benchmark runs (the machine has 2 cores, shared by
client and server, so anything else running skews the figures).

    noise.py --exclude-tree PID [--exclude-tree PID ...] [--exclude-cmd SUBSTR ...] --out FILE.json

Samples every second until SIGTERM/SIGINT, then writes a JSON summary: wall time, CPU-seconds
used by processes outside the excluded trees (PostgreSQL server processes are counted apart,
since they serve the system under test when it runs on PostgreSQL), the average number of
cores that took, and the top foreign commands. Needs psutil (the harness's venv has it).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import time
from collections import defaultdict

import psutil


def tree(pids):
    out = set()
    for pid in pids:
        try:
            p = psutil.Process(pid)
            out.add(pid)
            out.update(c.pid for c in p.children(recursive=True))
        except psutil.Error:
            pass
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--exclude-tree", type=int, action="append", default=[])
    ap.add_argument(
        "--exclude-cmd",
        action="append",
        default=[],
        help="also exclude processes whose command line contains this (e.g. a peer's "
        "venv path: its servers are detached from our process tree)",
    )
    ap.add_argument("--out", required=True)
    ap.add_argument("--interval", type=float, default=1.0)
    a = ap.parse_args()
    stop = False

    def on_signal(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    me = os.getpid()
    last: dict[int, float] = {}
    by_cmd: dict[str, float] = defaultdict(float)
    foreign = pg = 0.0
    busiest_tick = 0.0
    t0 = time.monotonic()
    first = True
    while not stop:
        excluded = tree([*a.exclude_tree, me])
        tick_foreign = 0.0
        seen = {}
        for p in psutil.process_iter(["pid", "name", "cmdline", "username", "cpu_times"]):
            info = p.info
            ct = info.get("cpu_times")
            if ct is None:
                continue
            used = ct.user + ct.system
            seen[info["pid"]] = used
            if first or info["pid"] in excluded:
                continue
            cmdline = " ".join(info.get("cmdline") or [])
            if any(x in cmdline for x in a.exclude_cmd):
                continue
            # a process born since the last tick counts with all it used so far
            delta = used - last.get(info["pid"], 0.0)
            if delta <= 0:
                continue
            if (info.get("name") or "").startswith("postgres") and info.get(
                "username"
            ) == "postgres":
                pg += delta
                continue
            foreign += delta
            tick_foreign += delta
            cmd = " ".join((info.get("cmdline") or [info.get("name") or "?"])[:4])[:120]
            by_cmd[cmd] += delta
        last = seen
        first = False
        busiest_tick = max(busiest_tick, tick_foreign / a.interval)
        end = time.monotonic() + a.interval
        while not stop and time.monotonic() < end:
            time.sleep(0.1)
    wall = time.monotonic() - t0
    top = [kv for kv in sorted(by_cmd.items(), key=lambda kv: -kv[1]) if kv[1] >= 0.5][:6]
    res = {
        "wall_s": round(wall, 1),
        "foreign_cpu_s": round(foreign, 1),
        "foreign_avg_cores": round(foreign / wall, 2) if wall else None,
        "foreign_peak_cores_1s": round(busiest_tick, 2),
        "postgres_cpu_s": round(pg, 1),
        "cores": os.cpu_count(),
        "loadavg_at_end": os.getloadavg(),
        "top_foreign": [{"cmd": c, "cpu_s": round(s, 1)} for c, s in top],
        "excluded": {"trees": a.exclude_tree, "cmd_substrings": a.exclude_cmd},
    }
    with open(a.out, "w") as f:
        json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
