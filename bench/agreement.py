"""Benchmark: the full agreement report of a large project, from the database.

Target (issue 4): 10,000 documents x 3 annotators x 15 spans, full report in <= 10 s on a
2-core machine, peak memory <= 500 MB. Run by hand, prints figures; not part of the test run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/agreement_bench \\
        DEBUG=true .venv/bin/python bench/agreement.py --docs 10000

It builds the project once (bulk inserts, a minute or so) and reuses it on later runs with the
same size; ``--rebuild`` starts over.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")
os.environ.setdefault("DEBUG", "true")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from projects import selectors  # noqa: E402
from projects.models import (  # noqa: E402
    Annotation,
    Document,
    Label,
    Membership,
    Project,
    Relation,
    RelationType,
    Span,
)
from projects.services.projects import project_create  # noqa: E402

SCHEME = {
    "name": "bench",
    "span_labels": [{"name": n} for n in ("Claim", "Justification", "Critique")],
    "relation_types": [{"name": "supports"}, {"name": "attacks"}],
    "span_attributes": [
        {"name": "stance", "kind": "choice", "values": ["favor", "against", "neutral"]}
    ],
    "stance_targets": ["The decision"],
    "stance_values": ["favor", "against", "neutral"],
}
TEXT_LEN = 3000


def build(slug: str, docs: int, annotators: int, spans: int, seed: int) -> Project:
    rng = random.Random(seed)
    User = get_user_model()
    lead, _ = User.objects.get_or_create(username="bench-lead")
    project = project_create(name=slug, slug=slug, created_by_id=lead.pk, scheme=SCHEME)
    users = []
    for i in range(annotators):
        user, _ = User.objects.get_or_create(username=f"bench-a{i}")
        Membership.objects.create(project=project, user=user, role="annotator")
        users.append(user)
    labels = list(Label.objects.filter(project=project))
    rtypes = list(RelationType.objects.filter(project=project))
    now = timezone.now()
    text = ("word " * (TEXT_LEN // 5))[:TEXT_LEN]
    batch = 500
    for first in range(0, docs, batch):
        with transaction.atomic():
            ds = Document.objects.bulk_create(
                [
                    Document(
                        project=project,
                        external_id=f"d{i}",
                        title=f"Doc {i}",
                        text=text,
                        length=len(text),
                        sha256="0" * 64,
                    )
                    for i in range(first, min(docs, first + batch))
                ]
            )
            anns = Annotation.objects.bulk_create(
                [
                    Annotation(
                        project=project,
                        document=d,
                        annotator=u,
                        status="submitted",
                        version=spans,
                        submitted_at=now,
                    )
                    for d in ds
                    for u in users
                ]
            )
            span_rows = []
            for a in anns:
                # a shared skeleton per document, jittered per annotator, so agreement is real
                doc_rng = random.Random(a.document_id)
                for k in range(spans):
                    start = doc_rng.randrange(0, TEXT_LEN - 60)
                    start = max(0, start + rng.choice((0, 0, 0, -3, 4)))
                    end = start + doc_rng.randrange(10, 50) + rng.choice((0, 0, 5))
                    label = (
                        labels[doc_rng.randrange(3)] if rng.random() > 0.15 else rng.choice(labels)
                    )
                    span_rows.append(
                        Span(
                            annotation=a,
                            client_id=f"s{k}",
                            start=start,
                            end=end,
                            label=label,
                            attributes={"stance": rng.choice(("favor", "against", "neutral"))},
                        )
                    )
            Span.objects.bulk_create(span_rows, batch_size=2000)
            rel_rows = []
            for i in range(0, len(span_rows), spans):
                group = span_rows[i : i + spans]
                for k in range(0, len(group) - 1, 3):
                    rel_rows.append(
                        Relation(
                            annotation_id=group[k].annotation_id,
                            client_id=f"r{k}",
                            source=group[k + 1],
                            target=group[k],
                            type=rng.choice(rtypes),
                        )
                    )
            Relation.objects.bulk_create(rel_rows, batch_size=2000)
        print(f"  built {min(docs, first + batch)}/{docs} documents", flush=True)
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--annotators", type=int, default=3)
    parser.add_argument("--spans", type=int, default=15)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    slug = f"agreement-bench-{args.docs}-{args.annotators}-{args.spans}"
    project = Project.objects.filter(slug=slug).first()
    if project is not None and args.rebuild:
        print("rebuilding: delete the database (or use another DATABASE_URL) to start over")
    if project is None:
        started = time.perf_counter()
        project = build(slug, args.docs, args.annotators, args.spans, args.seed)
        print(f"built in {time.perf_counter() - started:.1f} s")
    print(
        f"database: {connection.vendor}; {args.docs} documents x {args.annotators} "
        f"annotators x {args.spans} spans"
    )
    for round_no in range(1, args.rounds + 1):
        cache.clear()
        started = time.perf_counter()
        report = selectors.agreement_for(project)
        took = time.perf_counter() - started
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"round {round_no}: full agreement report in {took:.2f} s "
            f"(target <= 10 s); peak RSS so far {rss:.0f} MB (target <= 500 MB)"
        )
    started = time.perf_counter()
    selectors.agreement_for(project)
    print(f"cached: {1000 * (time.perf_counter() - started):.1f} ms")
    f1 = report["spans"]["overlap_labelled"]["f1"]
    alpha = report["unitizing"]["concatenated"]["alpha"]
    print(
        f"overlap labelled F1 {f1['value']:.3f} (n={f1['n']}), "
        f"alpha_U {alpha['value']:.3f} (n={alpha['n']}), documents {report['documents']}"
    )


if __name__ == "__main__":
    main()
