#!/usr/bin/env python3
"""Where does one request's time go? In-process, no network, no client threads.

Runs the app (the current directory must be an app checkout, e.g. the snapshot compare.sh
makes) with Django's test client against a fresh database, replays the peer workload's first
span creations and page loads one request at a time, and prints per endpoint:
  * latency p50/p95 of the full Django stack (middleware, auth, view, DB, connection close);
  * the SQL statements of one typical request, with their count;
  * the split of time between SQL execution, connection open/close and Python;
  * the cProfile functions with the largest cumulative time (``--profile``).

    cd <app checkout> && DJANGO_SETTINGS_MODULE=annotator.settings SECRET_KEY=x \\
      ALLOWED_HOSTS=testserver SECURE_SSL_REDIRECT=false VAR_DIR=$(mktemp -d) \\
      <app venv>/bin/python <repo>/bench/peers/request_profile.py --harness <bench-peers copy>

DATABASE_URL selects PostgreSQL as usual (use a throw-away database: it is migrated and
written to). Options: --docs, --spans, --pages, --profile, --profile-import, --no-client-id.
Environment: PROF_SORT orders the cProfile table (default cumulative; e.g. tottime);
GC_FREEZE=1 moves everything alive after the import out of the garbage collector's reach
before the timing.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from collections import Counter


def pct(values, p):
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


class Timer:
    """Sums time in SQL execution (execute_wrapper) and in connection open/close."""

    def __init__(self):
        self.sql_s = 0.0
        self.sql_n = 0
        self.statements: list[str] = []
        self.keep = False

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.sql_s += time.perf_counter() - t0
            self.sql_n += 1
            if self.keep:
                self.statements.append(" ".join(sql.split())[:160])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--harness", required=True, help="bench-peers folder (for workload.py)")
    ap.add_argument("--docs", type=int, default=200)
    ap.add_argument("--spans", type=int, default=1000)
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--profile", action="store_true", help="cProfile the span and page phases")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--profile-import", action="store_true", help="cProfile the import")
    ap.add_argument("--no-client-id", action="store_true")
    a = ap.parse_args()

    sys.path.insert(0, os.getcwd())
    sys.path.insert(0, a.harness)
    import django
    import workload as wl_mod

    django.setup()
    from django.core.management import call_command
    from django.db import close_old_connections, connection
    from django.db.backends.base import base as db_base
    from django.test import Client

    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("prof", password="prof-password-12345")
    del user
    c = Client()
    r = c.post(
        "/api/v1/auth/tokens/",
        {"username": "prof", "password": "prof-password-12345", "name": "prof"},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    auth = {"HTTP_AUTHORIZATION": f"Token {r.json()['token']}"}
    wl = wl_mod.build(seed=42, n_docs=a.docs, n_spans=a.spans, n_pages=a.pages)
    r = c.post(
        "/api/v1/projects/",
        {
            "name": "prof",
            "slug": "prof",
            "scheme": {"name": "bench", "span_labels": [{"name": x} for x in wl_mod.LABELS]},
        },
        content_type="application/json",
        **auth,
    )
    assert r.status_code == 201, r.content
    pid = r.json()["id"]
    body = "".join(
        json.dumps(
            {"id": d["doc_key"], "title": d["text"].split("\n", 1)[0][:200], "text": d["text"]},
            ensure_ascii=False,
        )
        + "\n"
        for d in wl.docs
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    t0 = time.perf_counter()
    upload = SimpleUploadedFile("c.jsonl", body.encode(), "application/x-ndjson")
    prof = cProfile.Profile() if a.profile_import else None
    if prof:
        prof.enable()
    r = c.post(f"/api/v1/projects/{pid}/documents/import/", {"file": upload}, **auth)
    if prof:
        prof.disable()
    t_import = time.perf_counter() - t0
    if prof:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats(os.environ.get("PROF_SORT", "cumulative"))
        pstats.Stats(prof, stream=out).sort_stats(
            os.environ.get("PROF_SORT", "cumulative")
        ).print_stats(a.top)
        print("  cProfile of the import:")
        for line in out.getvalue().splitlines():
            if line.strip() and ("/" in line or "ncalls" in line or "{" in line):
                print("   ", line[:200])
    assert r.status_code == 201, r.content
    ids = {}
    page = 1
    while True:
        r = c.get(f"/api/v1/projects/{pid}/documents/", {"page_size": 500, "page": page}, **auth)
        for d in r.json()["results"]:
            ids[d["external_id"]] = d["id"]
        if not r.json().get("next"):
            break
        page += 1
    doc_id = {i: ids[d["doc_key"]] for i, d in enumerate(wl.docs)}

    timer = Timer()
    conn_s = {"open": 0.0, "close": 0.0, "commit": 0.0}
    wrapper = db_base.BaseDatabaseWrapper
    orig_connect, orig_close, orig_commit = wrapper.connect, wrapper._close, wrapper._commit

    def commit(self):
        t = time.perf_counter()
        try:
            return orig_commit(self)
        finally:
            conn_s["commit"] += time.perf_counter() - t

    def connect(self):
        t = time.perf_counter()
        try:
            return orig_connect(self)
        finally:
            conn_s["open"] += time.perf_counter() - t

    def close(self):
        t = time.perf_counter()
        try:
            return orig_close(self)
        finally:
            conn_s["close"] += time.perf_counter() - t

    wrapper.connect, wrapper._close, wrapper._commit = connect, close, commit

    def phase(name, calls, profile, tags=None):
        lat = []
        cpus: list[float] = []
        cpu0 = time.process_time()
        timer.sql_s = 0.0
        timer.sql_n = 0
        conn_s["open"] = conn_s["close"] = conn_s["commit"] = 0.0
        prof = cProfile.Profile() if profile else None
        all_sql: list[list[str]] = []
        for call in calls:
            timer.keep = True
            timer.statements = []
            t0 = time.perf_counter()
            c0 = time.process_time()
            if prof:
                prof.enable()
            # The test client keeps the connection open; a real server runs Django's
            # close_old_connections on request start and finish (CONN_MAX_AGE decides).
            close_old_connections()
            call()
            close_old_connections()
            if prof:
                prof.disable()
            lat.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
            all_sql.append(list(timer.statements))
        cpu = time.process_time() - cpu0
        n = len(lat)
        total = sum(lat)
        print(
            f"\n=== {name}: {n} requests, p50 {pct(lat, 50) * 1e3:.2f} ms, "
            f"p95 {pct(lat, 95) * 1e3:.2f} ms, mean {statistics.fmean(lat) * 1e3:.2f} ms, "
            f"CPU {cpu / n * 1e3:.2f} ms per request, median {pct(cpus, 50) * 1e3:.2f} ms "
            f"(process time: Python and in-process SQLite)"
        )
        print(
            f"  per request: SQL {timer.sql_n / n:.1f} statements, "
            f"{timer.sql_s / n * 1e3:.2f} ms executing; "
            f"COMMIT {conn_s['commit'] / n * 1e3:.2f} ms; connection open "
            f"{conn_s['open'] / n * 1e3:.2f} ms, close {conn_s['close'] / n * 1e3:.2f} ms; "
            f"everything else (Python: middleware, DRF, ORM query building, serialisation) "
            f"{(total - timer.sql_s - sum(conn_s.values())) / n * 1e3:.2f} ms"
        )
        # the SQL of a typical request: the most common statement count, its middle request
        mode = Counter(len(x) for x in all_sql).most_common(1)[0][0] if all_sql else 0
        typical = [x for x in all_sql if len(x) == mode]
        sample_sql = typical[len(typical) // 2] if typical else None
        if sample_sql:
            kinds = Counter(s.split()[0] for s in sample_sql)
            print(
                f"  SQL of a typical request ({len(sample_sql)} statements, as in "
                f"{len(typical)}/{len(all_sql)} requests: {dict(kinds)}):"
            )
            for s in sample_sql:
                print(f"    {s}")
        for tag in sorted(set(tags or [])):
            tagged = [x for x, t in zip(lat, tags, strict=True) if t == tag]
            sql_n = Counter(len(x) for x, t in zip(all_sql, tags, strict=True) if t == tag)
            print(
                f"  {tag}: {len(tagged)} requests, p50 {pct(tagged, 50) * 1e3:.2f} ms, "
                f"p95 {pct(tagged, 95) * 1e3:.2f} ms, statements {dict(sql_n)}"
            )
        if prof:
            out = io.StringIO()
            order = os.environ.get("PROF_SORT", "cumulative")  # or tottime
            st = pstats.Stats(prof, stream=out).sort_stats(order)
            st.print_stats(a.top)
            print(f"  cProfile ({order}, whole phase):")
            for line in out.getvalue().splitlines():
                if line.strip() and ("/" in line or "ncalls" in line):
                    print("   ", line[:200])

    # The wrapper list belongs to the connection handler's wrapper object, which survives the
    # per-request reconnects of CONN_MAX_AGE=0.
    connection.execute_wrappers.append(timer)

    seq = [op for op in wl.span_ops if op.phase == "seq"]

    def span_call(op):
        def f():
            payload = {"start": op.start, "end": op.end, "label": op.label}
            if not a.no_client_id:
                payload["client_id"] = f"b-{op.doc}-{op.start}-{op.end}"
            r = c.post(
                f"/api/v1/projects/{pid}/documents/{doc_id[op.doc]}/annotation/spans/",
                payload,
                content_type="application/json",
                **auth,
            )
            assert r.status_code == 201, r.content[:300]

        return f

    def page_call(doc):
        def f():
            r = c.get(
                f"/api/v1/projects/{pid}/documents/{doc_id[doc]}/annotation/",
                {"include": "document"},
                **auth,
            )
            assert r.status_code == 200, r.content[:300]

        return f

    if os.environ.get("GC_FREEZE"):
        import gc

        gc.collect()
        gc.freeze()  # a what-if: the app's own start-up (annotator/wsgi.py) does not do this
    print(f"import of {a.docs} docs in-process: {t_import:.2f} s ({a.docs / t_import:.0f} docs/s)")
    seen: set[int] = set()
    tags = []
    for op in seq:
        tags.append("later span of a document" if op.doc in seen else "first span of a document")
        seen.add(op.doc)
    phase("span create (sequential)", [span_call(op) for op in seq], a.profile, tags)
    phase("annotation page (?include=document)", [page_call(d) for d in wl.page_docs], a.profile)
    wrapper.connect, wrapper._close, wrapper._commit = orig_connect, orig_close, orig_commit


if __name__ == "__main__":
    main()
