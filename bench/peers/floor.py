#!/usr/bin/env python3
"""The floor: what a no-op authenticated request costs on this machine, through the same
server set-up and the same kind of client as the peer benchmark.

If the stack cannot answer ``GET /api/v1/me/`` (token check, one query, a two-key JSON body)
faster than a third of doccano's span-create p95, or serve three times doccano's span
throughput of it with 8 client threads, no change to the span or page code can meet those
targets: this script measures that bound, for our app and (``--doccano``) for doccano's
``GET /v1/me`` under its own server.

Our app is started as ``compare.sh`` starts it: gunicorn, 2×cores+1 sync workers on 127.0.0.1,
``DEBUG=false``, a throw-away ``SECRET_KEY``, ``LOG_LEVEL=WARNING``, a fresh SQLite database
(or ``DATABASE_URL``, dropped and re-created) in a scratch folder, a snapshot of ``APP_REF``
(default HEAD). The client is ``requests`` with one ``Session`` per thread, as the harness's.

    <bench-venv>/bin/python bench/peers/floor.py                 # ours, HEAD, SQLite
    <bench-venv>/bin/python bench/peers/floor.py --doccano       # ours, then doccano
    <bench-venv>/bin/python bench/peers/floor.py --url http://127.0.0.1:8000/api/v1/me/ \\
        --token KEY                                              # any running server

``--hot`` then runs the harness's workload steps (b) and (c) against the same server with our
driver (``bench/peers/ours.py``): ``--docs`` documents, ``--spans`` span creations with 1
client and as many with 8, the page loads — with the same figures, so the cost of a span
saved or a page loaded can be set against the floor's.

Printed per system: 1 client p50/p95/p99 (``--requests`` sequential requests after a warm-up),
8 clients req/s over ``--seconds``, and CPU per request of the server process tree and of
the client process (both share the machine's cores: their sum bounds the throughput).
Run it on a quiet machine; the load average is printed next to the figures.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import requests

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def tree_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its children (gunicorn's workers)."""
    total = 0.0
    try:
        procs = [psutil.Process(pid)]
        procs += procs[0].children(recursive=True)
    except psutil.NoSuchProcess:
        return 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def wait_up(url: str, headers: dict[str, str], seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if requests.get(url, headers=headers, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not answer 200 within {seconds:.0f} s")


def measure(name: str, url: str, headers: dict[str, str], server_pid: int | None, a) -> dict:
    s = requests.Session()
    s.headers.update(headers)
    for _ in range(a.warmup):
        s.get(url, timeout=30).raise_for_status()
    lat = []
    srv0 = tree_cpu(server_pid) if server_pid else 0.0
    cli0 = time.process_time()
    for _ in range(a.requests):
        t0 = time.perf_counter()
        r = s.get(url, timeout=30)
        lat.append(time.perf_counter() - t0)
        r.raise_for_status()
    cli1 = time.process_time()
    srv1 = tree_cpu(server_pid) if server_pid else 0.0

    done = [0] * a.clients
    errors = [0] * a.clients
    stop = threading.Event()

    def worker(i: int) -> None:
        ws = requests.Session()
        ws.headers.update(headers)
        while not stop.is_set():
            try:
                ok = ws.get(url, timeout=30).status_code == 200
            except requests.RequestException:
                ok = False
            if ok:
                done[i] += 1
            else:
                errors[i] += 1

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(a.clients)]
    srv2 = tree_cpu(server_pid) if server_pid else 0.0
    cli2 = time.process_time()
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(a.seconds)
    stop.set()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    cli3 = time.process_time()
    srv3 = tree_cpu(server_pid) if server_pid else 0.0
    n = sum(done)
    res = {
        "system": name,
        "p50_ms": pct(lat, 50) * 1e3,
        "p95_ms": pct(lat, 95) * 1e3,
        "p99_ms": pct(lat, 99) * 1e3,
        "mean_ms": statistics.fmean(lat) * 1e3,
        "client_cpu_ms_1": (cli1 - cli0) / a.requests * 1e3,
        "server_cpu_ms_1": (srv1 - srv0) / a.requests * 1e3 if server_pid else None,
        "rps": n / wall,
        "errors": sum(errors),
        "client_cpu_ms_n": (cli3 - cli2) / max(n, 1) * 1e3,
        "server_cpu_ms_n": (srv3 - srv2) / max(n, 1) * 1e3 if server_pid else None,
        "load": os.getloadavg(),
    }
    srv = (
        f"server {res['server_cpu_ms_1']:.2f} ms CPU/request (1 client), "
        f"{res['server_cpu_ms_n']:.2f} ({a.clients} clients); "
        if server_pid
        else ""
    )
    print(
        f"{name}: 1 client p50 {res['p50_ms']:.2f} ms, p95 {res['p95_ms']:.2f} ms, "
        f"p99 {res['p99_ms']:.2f} ms ({a.requests} requests) | {a.clients} clients "
        f"{res['rps']:.0f} req/s over {wall:.0f} s, {res['errors']} errors | {srv}"
        f"client {res['client_cpu_ms_1']:.2f} / {res['client_cpu_ms_n']:.2f} ms CPU/request | "
        f"load average {res['load'][0]:.2f} {res['load'][1]:.2f}",
        flush=True,
    )
    return res


def hot(a, base: str, server_pid: int, scratch: Path, user: str, password: str) -> None:
    """Steps (b) and (c) of the harness with our driver, with server and client CPU."""
    import concurrent.futures as cf
    from collections import defaultdict

    h = scratch / "harness"
    shutil.copytree(a.harness, h)
    shutil.copy(HERE / "ours.py", h / "drivers" / "ours.py")
    sys.path.insert(0, str(h))
    import workload
    from drivers.ours import OursDriver

    wl = workload.build(seed=42, n_docs=a.docs, n_spans=a.spans, n_pages=a.pages)
    d = OursDriver(base, username=user, password=password)
    d.setup(wl)
    d.import_docs(wl, deadline_s=600)
    d.resolve_docs(wl)
    texts = [doc["text"] for doc in wl.docs]

    def timed(ops, fn):
        lat = []
        for op in ops:
            t0 = time.perf_counter()
            fn(op)
            lat.append(time.perf_counter() - t0)
        return lat

    def report(name, lat, wall, srv, cli, clients=1):
        n = len(lat)
        print(
            f"  {name}: {n} requests, {clients} client(s): p50 {pct(lat, 50) * 1e3:.2f} ms, "
            f"p95 {pct(lat, 95) * 1e3:.2f} ms, {n / wall:.0f} req/s | server {srv / n * 1e3:.2f}"
            f" ms CPU/request, client {cli / n * 1e3:.2f} | load average "
            f"{os.getloadavg()[0]:.2f}",
            flush=True,
        )

    seq = [op for op in wl.span_ops if op.phase == "seq"]
    conc = [op for op in wl.span_ops if op.phase == "conc"]
    sess = d.new_session()
    s0, c0, t0 = tree_cpu(server_pid), time.process_time(), time.perf_counter()
    lat = timed(seq, lambda op: d.create_span(sess, op, texts[op.doc]))
    report(
        "span create",
        lat,
        time.perf_counter() - t0,
        tree_cpu(server_pid) - s0,
        time.process_time() - c0,
    )
    buckets = defaultdict(list)
    for op in conc:
        buckets[op.doc % a.clients].append(op)
    s0, c0, t0 = tree_cpu(server_pid), time.process_time(), time.perf_counter()
    with cf.ThreadPoolExecutor(a.clients) as pool:
        sessions = [d.new_session() for _ in range(a.clients)]

        def client(i: int) -> list[float]:
            return timed(buckets[i], lambda op: d.create_span(sessions[i], op, ""))

        futs = [pool.submit(client, i) for i in range(a.clients)]
        lat = [x for f in futs for x in f.result()]
    report(
        "span create",
        lat,
        time.perf_counter() - t0,
        tree_cpu(server_pid) - s0,
        time.process_time() - c0,
        a.clients,
    )
    sess = d.new_session()
    for rnd in range(2):
        s0, c0, t0 = tree_cpu(server_pid), time.process_time(), time.perf_counter()
        lat = timed(wl.page_docs, lambda doc: d.fetch_page(sess, doc))
        report(
            f"page load, round {rnd + 1}",
            lat,
            time.perf_counter() - t0,
            tree_cpu(server_pid) - s0,
            time.process_time() - c0,
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_tree(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_ours(a, scratch: Path) -> dict:
    app_py = Path(a.app_py)
    data = scratch / "ours"
    app = data / "app"
    app.mkdir(parents=True)
    if a.app_ref == "worktree":
        app = REPO
    else:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", a.app_ref], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(app)], input=archive, check=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "annotator.settings",
        "DEBUG": "false",
        "SECRET_KEY": "floor-" + secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        "VAR_DIR": str(data / "var"),
        "STATIC_ROOT": str(data / "static"),
        "MEDIA_ROOT": str(data / "media"),
    }
    if a.database_url:
        env["DATABASE_URL"] = a.database_url
        subprocess.run([str(app_py), "-c", FRESH_PG, a.database_url], check=True, cwd=app, env=env)
    else:
        env.pop("DATABASE_URL", None)
    for cmd in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        subprocess.run(
            [str(app_py), "manage.py", *cmd], check=True, cwd=app, env=env, capture_output=True
        )
    token = (
        subprocess.run(
            [str(app_py), "manage.py", "shell", "-c", MAKE_TOKEN],
            check=True,
            cwd=app,
            env=env,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    port = free_port()
    with open(data / "web.log", "w") as log:
        web = subprocess.Popen(
            [
                str(app_py.parent / "gunicorn"),
                "annotator.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(a.workers),
                *(["--threads", str(a.threads)] if a.threads else []),
                "--chdir",
                str(app),
                "--log-level",
                "warning",
                "--timeout",
                "300",
            ],
            cwd=app,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}/api/v1/me/"
        headers = {"Authorization": f"Token {token}"}
        wait_up(url, headers)
        time.sleep(2)  # every worker booted
        db = "postgres" if a.database_url else "sqlite"
        how = f"{a.workers} workers" + (f" x {a.threads} threads" if a.threads else " sync")
        res = measure(f"ours ({a.app_ref}, {db}, {how}) GET /api/v1/me/", url, headers, web.pid, a)
        if a.hot:
            hot(a, f"http://127.0.0.1:{port}", web.pid, scratch, "floor", FLOOR_PASSWORD)
        return res
    finally:
        stop_tree(web)


def run_doccano(a, scratch: Path) -> dict:
    harness = Path(a.harness)
    venv = Path(a.doccano_venv)
    port = free_port()
    env = {**os.environ, "DOCCANO_VENV": str(venv), "DATA_DIR": str(scratch / "doccano")}
    env["PORT"] = str(port)
    env.pop("DATABASE_URL", None)
    server = harness / "servers" / "doccano.sh"
    subprocess.run(["bash", str(server), "start"], check=True, env=env, capture_output=True)
    try:
        base = f"http://127.0.0.1:{port}"
        r = requests.post(
            f"{base}/v1/auth/login/", json={"username": "admin", "password": "password"}, timeout=30
        )
        r.raise_for_status()
        headers = {"Authorization": f"Token {r.json()['key']}"}
        wait_up(f"{base}/v1/me", headers)
        time.sleep(2)
        pid = int((scratch / "doccano" / "web.pid").read_text())
        return measure("doccano 1.8.4 (sqlite) GET /v1/me", f"{base}/v1/me", headers, pid, a)
    finally:
        subprocess.run(["bash", str(server), "stop"], env=env, capture_output=True)


FLOOR_PASSWORD = "floor-" + "x" * 20
MAKE_TOKEN = f"""
from django.contrib.auth import get_user_model
from projects.services.tokens import token_create
u = get_user_model().objects.create_user("floor", password="{FLOOR_PASSWORD}")
print(token_create(user_id=u.pk, name="floor")[1])
"""

FRESH_PG = """
import sys
from urllib.parse import urlsplit
import psycopg
u = urlsplit(sys.argv[1])
name = u.path.lstrip("/")
assert u.hostname in ("127.0.0.1", "localhost", "::1"), "refusing a non-loopback database"
with psycopg.connect(host=u.hostname, port=u.port or 5432, user=u.username or "postgres",
                     password=u.password or None, dbname="postgres", autocommit=True) as c:
    c.execute(f'DROP DATABASE IF EXISTS "{name}"')
    c.execute(f'CREATE DATABASE "{name}"')
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=2000, help="sequential requests (1 client)")
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=20, help="duration of the N-client phase")
    ap.add_argument(
        "--workers", type=int, default=int(os.environ.get("WORKERS", 2 * (os.cpu_count() or 1) + 1))
    )
    ap.add_argument(
        "--threads",
        type=int,
        default=int(os.environ.get("THREADS", "0")),
        help="gunicorn gthread worker with this many threads (keeps connections alive), "
        "e.g. 8 with --workers 2 as README.md's deployment section; 0: sync workers",
    )
    ap.add_argument("--app-ref", default=os.environ.get("APP_REF", "HEAD"))
    ap.add_argument("--app-py", default=str(REPO / ".venv" / "bin" / "python"))
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    ap.add_argument("--doccano", action="store_true", help="also doccano's GET /v1/me")
    ap.add_argument("--harness", default=str(REPO.parent / "shared" / "bench-peers"))
    ap.add_argument("--doccano-venv", default=str(REPO.parent / "anchors" / "doccano-venv"))
    ap.add_argument("--hot", action="store_true", help="also steps (b) and (c), ours only")
    ap.add_argument("--docs", type=int, default=2000, help="with --hot")
    ap.add_argument("--spans", type=int, default=5000, help="with --hot: per phase")
    ap.add_argument("--pages", type=int, default=200, help="with --hot")
    ap.add_argument("--url", help="measure this URL of an already running server instead")
    ap.add_argument("--token", help="with --url: the Authorization token")
    ap.add_argument("--server-pid", type=int, help="with --url: its master pid, for server CPU")
    a = ap.parse_args()
    if a.url:
        headers = {"Authorization": f"Token {a.token}"} if a.token else {}
        measure(a.url, a.url, headers, a.server_pid, a)
        return
    scratch = Path(tempfile.mkdtemp(prefix="bench-floor-"))
    try:
        ours = run_ours(a, scratch)
        if a.doccano:
            theirs = run_doccano(a, scratch)
            print(
                f"ours / doccano: p50 {ours['p50_ms'] / theirs['p50_ms']:.2f}, "
                f"p95 {ours['p95_ms'] / theirs['p95_ms']:.2f}, "
                f"{a.clients}-client req/s {ours['rps'] / theirs['rps']:.2f}x"
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
