"""Benchmark: exports of a large project, through the real code path (claim, stream, shape,
write, store), against a plain ``COPY (SELECT …) TO STDOUT`` of the same rows.

Targets (issue 5), on PostgreSQL: 100,000 documents x 2 annotators x 10 spans with relations,
``jsonl`` export <= 60 s, worker peak RSS <= 300 MB, export/COPY <= 3. The COPY is of the query
the export reads (documents with their work grouped, ``selectors_exports.copy_query``); a COPY
of the same data as five flat queries (one row per span, relation, ...) is printed beside it.
Then every format at 10,000 documents. Run by hand, prints figures; not part of the test run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/exports_bench \\
        DEBUG=true .venv/bin/python bench/exports.py

Projects are built once (bulk inserts, the same builder as bench/agreement.py) and reused by
later runs of the same size. Each export runs in a fresh child process, so its peak RSS is the
export's alone (not the build's); files go to a temporary MEDIA_ROOT, deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")
os.environ.setdefault("DEBUG", "true")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from projects import selectors_exports  # noqa: E402
from projects.models import Export, Project  # noqa: E402
from projects.services import exports  # noqa: E402

FORMATS = ("jsonl", "csv", "conll", "brat", "spacy", "hf")


def project_of(docs: int, annotators: int, spans: int, seed: int) -> Project:
    """Build (once) a project of that size, as bench/agreement.py does."""
    from agreement import build  # bench/agreement.py

    slug = f"exports-bench-{docs}-{annotators}-{spans}"
    project = Project.objects.filter(slug=slug).first()
    if project is None:
        started = time.perf_counter()
        project = build(slug, docs, annotators, spans, seed)
        print(f"built {slug} in {time.perf_counter() - started:.1f} s", flush=True)
    return project


def run_child(project: Project, fmt: str, media: str) -> dict[str, float]:
    """One export in a fresh process: its time, peak RSS, and the file's size."""
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(project.pk), fmt],
        env={**os.environ, "MEDIA_ROOT": media},
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"the {fmt} export failed:\n{proc.stdout}\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def peak_rss_mb() -> float:
    """This process's own peak RSS. Not ru_maxrss: Linux carries that over an exec from the
    forked parent (which built the project and is large), VmHWM belongs to this image alone."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(project_id: int, fmt: str) -> None:
    project = Project.objects.get(pk=project_id)
    export = Export.objects.create(project=project, format=fmt, options={"format": fmt})
    started = time.perf_counter()
    cpu_started = time.process_time()
    result = exports.export_run(export_id=export.pk, worker="bench")
    took = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    assert result is not None and result.status == "done", result and result.error
    rss = peak_rss_mb()
    counts = result.counts
    print(
        json.dumps(
            {
                "seconds": took,
                "cpu_seconds": cpu,
                "rss_mb": rss,
                "size": result.size,
                "documents": counts["documents"],
                "spans": counts["spans"],
                "relations": counts["relations"],
                "export_id": result.pk,
            }
        )
    )


def copy_seconds(project: Project) -> tuple[float, int]:
    """COPY the rows the export reads to nowhere: on PostgreSQL the export itself reads one
    ``COPY`` of ``selectors_exports.copy_query`` (documents with their work grouped as JSON),
    so this is that query, on the same kind of connection, without the export around it."""
    import psycopg

    options = exports.options_from({"format": "jsonl"})
    query, params = selectors_exports.copy_query(project, options)
    raw = connection.connection
    statement = psycopg.ClientCursor(raw).mogrify(f"COPY ({query}) TO STDOUT", params)
    total_bytes = 0
    started = time.perf_counter()
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for block in copy:
            total_bytes += len(block)
    return time.perf_counter() - started, total_bytes


def flat_copy_seconds(project: Project) -> tuple[float, int]:
    """COPY the same data as five flat queries, one row per document, annotation, span,
    relation and stance (what the export read before it read one grouped COPY, and what a
    worker inside a transaction still reads): the raw rows with nothing grouped."""
    import psycopg

    options = exports.options_from({"format": "jsonl"})
    querysets = _selector_querysets(project, options)
    raw = connection.connection
    total_bytes = 0
    started = time.perf_counter()
    for qs in querysets:
        sql, params = qs.query.sql_with_params()
        literal = psycopg.ClientCursor(raw).mogrify(sql, params)
        with raw.cursor() as cursor, cursor.copy(f"COPY ({literal}) TO STDOUT") as copy:
            for block in copy:
                total_bytes += len(block)
    return time.perf_counter() - started, total_bytes


def _selector_querysets(project: Project, options: object) -> list[object]:
    """The five querysets of the streamed read, rebuilt for COPY (same filters, same order)."""
    from projects.models import Annotation, Document, Relation, Span, Stance

    by = selectors_exports._by_bytes
    related = selectors_exports._annotation_conditions(options, prefix="annotation__")  # type: ignore[arg-type]
    conditions = selectors_exports._annotation_conditions(options)  # type: ignore[arg-type]
    return [
        Document.objects.filter(project=project)
        .order_by(by("external_id"))
        .values_list("external_id", "title", "text", "meta"),
        Annotation.objects.filter(project=project, **conditions)
        .order_by(by("document__external_id"))
        .values_list("document__external_id", "pk", "annotator__username", "kind", "status"),
        Span.objects.filter(annotation__project=project, **related)
        .order_by(by("annotation__document__external_id"))
        .values_list(
            "annotation__document__external_id",
            "annotation_id",
            "client_id",
            "start",
            "end",
            "label__name",
            "attributes",
        ),
        Relation.objects.filter(annotation__project=project, **related)
        .order_by(by("annotation__document__external_id"))
        .values_list(
            "annotation__document__external_id",
            "annotation_id",
            "source__client_id",
            "target__client_id",
            "type__name",
        ),
        Stance.objects.filter(annotation__project=project, **related)
        .order_by(by("annotation__document__external_id"))
        .values_list("annotation__document__external_id", "annotation_id", "target__name", "value"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--small-docs", type=int, default=10_000)
    parser.add_argument("--annotators", type=int, default=2)
    parser.add_argument("--spans", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--child", nargs=2, metavar=("PROJECT_ID", "FORMAT"))
    args = parser.parse_args()
    if args.child:
        child(int(args.child[0]), args.child[1])
        return
    if connection.vendor != "postgresql":
        print(f"note: {connection.vendor}, not PostgreSQL: the COPY comparison is skipped")
    call_command("migrate", verbosity=0)
    with tempfile.TemporaryDirectory(prefix="exports-bench-") as media:
        big = project_of(args.docs, args.annotators, args.spans, args.seed)
        print(
            f"database: {connection.vendor}; {args.docs} documents x {args.annotators} "
            f"annotators x {args.spans} spans, with relations",
            flush=True,
        )
        figures = run_child(big, "jsonl", media)
        print(f"load average before the runs: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(
            f"jsonl: {figures['seconds']:.1f} s (target <= 60 s; {figures['cpu_seconds']:.1f} s "
            "of CPU in the exporting process), peak RSS "
            f"{figures['rss_mb']:.0f} MB (target <= 300 MB), {figures['size'] / 1e6:.0f} MB, "
            f"{figures['documents']} documents, {figures['spans']} spans, "
            f"{figures['relations']} relations",
            flush=True,
        )
        if connection.vendor == "postgresql":
            copy, copied = copy_seconds(big)
            print(
                f"COPY (SELECT ...) TO STDOUT of the rows the export reads: {copy:.1f} s "
                f"({copied / 1e6:.0f} MB); export/COPY = {figures['seconds'] / copy:.2f} "
                "(target <= 3)",
                flush=True,
            )
            flat, flat_bytes = flat_copy_seconds(big)
            print(
                f"COPY of the same data as five flat queries: {flat:.1f} s "
                f"({flat_bytes / 1e6:.0f} MB); export/flat COPY = "
                f"{figures['seconds'] / flat:.2f}",
                flush=True,
            )
        Export.objects.filter(project=big).delete()

        small = project_of(args.small_docs, args.annotators, args.spans, args.seed)
        print(f"\nevery format at {args.small_docs} documents:", flush=True)
        print(f"{'format':8} {'seconds':>8} {'CPU s':>8} {'peak RSS MB':>12} {'size MB':>8}")
        for fmt in args.formats.split(","):
            figures = run_child(small, fmt, media)
            print(
                f"{fmt:8} {figures['seconds']:8.2f} {figures['cpu_seconds']:8.2f} "
                f"{figures['rss_mb']:12.0f} "
                f"{figures['size'] / 1e6:8.1f}",
                flush=True,
            )
        Export.objects.filter(project=small).delete()


if __name__ == "__main__":
    main()
