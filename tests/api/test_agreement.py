"""Agreement figures through the API: the selector feeds the pure measures exactly what was
submitted, the cache follows every change, and the query count does not grow."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from projects.domain import agreement
from projects.domain.agreement.serialize import to_jsonable

from ..conftest import World, client_for
from ..factories import DEMO_DIR


def demo_records() -> tuple[list[agreement.AnnotatedDocument], list[agreement.DocumentStance]]:
    """The demo file read straight into the pure records, bypassing the database."""
    source = json.loads((DEMO_DIR / "seed-annotated.jsonl").read_text())
    spans, relations, stances, who = [], [], [], []
    for ann in source["annotations"]:
        name = ann["annotator"]
        who.append(name)
        by_id = {s["id"]: (s["start"], s["end"]) for s in ann["spans"]}
        spans += [
            agreement.Span("D", name, s["start"], s["end"], s["label"], s["attributes"])
            for s in ann["spans"]
        ]
        relations += [
            agreement.Relation("D", name, by_id[r["from"]], by_id[r["to"]], r["type"])
            for r in ann["relations"]
        ]
        stances += [
            agreement.DocumentStance("D", name, s["target"], s["value"]) for s in ann["stances"]
        ]
    doc = agreement.AnnotatedDocument(
        "D", len(source["text"]), tuple(sorted(who)), tuple(spans), tuple(relations)
    )
    return [doc], stances


@pytest.fixture
def demo(db: Any) -> Any:
    from django.contrib.auth import get_user_model

    call_command("load_demo", stdout=StringIO())
    return get_user_model().objects.get(username="lead")


def test_the_demo_agreement_equals_the_measures_on_the_file_itself(demo: Any) -> None:
    r = client_for(demo).get("/api/v1/projects/demo/agreement/")
    assert r.status_code == 200, r.content
    documents, stances = demo_records()
    scheme = json.loads((DEMO_DIR / "scheme.json").read_text())
    expected = to_jsonable(
        agreement.agreement_report(
            documents,
            stances,
            stance_order=scheme["stance_values"],
            attribute_names=[a["name"] for a in scheme["span_attributes"]],
        )
    )
    report = r.json()["report"]
    # document ids differ (database id vs "D"); everything else must be identical
    from projects.models import Document

    doc_id = Document.objects.get(project__slug="demo").pk
    for part in ("spans", "unitizing", "relations", "confusion", "attributes", "stance"):
        got = json.dumps(report[part]).replace(f'"{doc_id}"', '"D"')
        assert json.loads(got) == json.loads(json.dumps(expected[part])), part
    exact = report["spans"]["exact_labelled"]
    assert exact["per_label"]["Claim"]["n"] > 0


def test_a_label_filter_keeps_only_that_label(demo: Any) -> None:
    r = client_for(demo).get("/api/v1/projects/demo/agreement/?label=Critique")
    per_label = r.json()["report"]["spans"]["exact_labelled"]["per_label"]
    assert set(per_label) == {"Critique"}


def test_a_date_filter_before_any_submission_leaves_nothing_to_measure(demo: Any) -> None:
    r = client_for(demo).get("/api/v1/projects/demo/agreement/?until=2000-01-01")
    report = r.json()["report"]
    assert report["documents"] == 0
    alpha = report["unitizing"]["concatenated"]["alpha"]
    assert alpha["value"] is None and alpha["reason"]


def test_a_bad_date_is_a_clear_400(demo: Any) -> None:
    r = client_for(demo).get("/api/v1/projects/demo/agreement/?from=yesterday")
    assert r.status_code == 400 and "from" in r.json()["error"]["message"]


def test_the_cached_figures_follow_a_change(world: World) -> None:
    lead = client_for(world.lead)
    url = f"/api/v1/projects/{world.project.pk}/agreement/"
    doc = world.documents[0]
    base = f"/api/v1/projects/{world.project.pk}/documents/{doc.pk}/annotation/"
    for user in (world.annotator, world.annotator2):
        c = client_for(user)
        c.post(
            base + "spans/",
            {"start": 0, "end": 9, "label": "Claim", "client_id": "x"},
            format="json",
        )
        c.post(base + "submit/", {}, format="json")
    first = lead.get(url).json()["report"]["spans"]["exact_labelled"]["f1"]
    assert first["value"] == 1.0
    client_for(world.annotator2).patch(base + "spans/x/", {"label": "Critique"}, format="json")
    second = lead.get(url).json()["report"]["spans"]["exact_labelled"]["f1"]
    assert second["value"] == 0.0


def test_the_agreement_query_count_does_not_grow_with_documents(
    world: World, django_assert_max_num_queries: Any
) -> None:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ..factories import assign, make_documents

    def annotate(docs: list[Any]) -> None:
        for doc in docs:
            for user in (world.annotator, world.annotator2):
                assign(world.project, doc, user)
                c = client_for(user)
                base = f"/api/v1/projects/{world.project.pk}/documents/{doc.pk}/annotation/"
                c.post(base + "spans/", {"start": 0, "end": 9, "label": "Claim"}, format="json")
                c.post(
                    base + "spans/", {"start": 10, "end": 14, "label": "Critique"}, format="json"
                )
                c.post(base + "submit/", {}, format="json")

    url = f"/api/v1/projects/{world.project.pk}/agreement/"
    annotate(make_documents(world.project, 2))
    cache.clear()
    connection.queries_log.clear()  # the log is a bounded deque: a full one captures nothing
    with CaptureQueriesContext(connection) as small:
        assert client_for(world.lead).get(url).status_code == 200
    baseline = len(small.captured_queries)  # read now: the slice is of a log cleared below
    annotate(make_documents(world.project, 20))
    cache.clear()
    connection.queries_log.clear()
    assert baseline > 3
    with django_assert_max_num_queries(baseline):
        r = client_for(world.lead).get(url)
    assert r.json()["report"]["documents"] == 22


def test_agreement_over_time_groups_documents_by_the_week_of_their_last_submission(
    world: World,
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from projects.models import Annotation

    docs = world.documents[:2]
    for doc, second_label in ((docs[0], "Claim"), (docs[1], "Critique")):
        for user, label in ((world.annotator, "Claim"), (world.annotator2, second_label)):
            c = client_for(user)
            base = f"/api/v1/projects/{world.project.pk}/documents/{doc.pk}/annotation/"
            c.post(base + "spans/", {"start": 0, "end": 9, "label": label}, format="json")
            c.post(base + "submit/", {}, format="json")
    earlier = timezone.now() - timedelta(days=14)
    Annotation.objects.filter(document=docs[0]).update(submitted_at=earlier)
    body = client_for(world.lead).get(f"/api/v1/projects/{world.project.pk}/agreement/").json()
    series = body["by_week"]
    assert [p["documents"] for p in series] == [1, 1]
    assert [p["f1"] for p in series] == [1.0, 0.0]  # the older week agreed, the newer did not
    assert series[0]["week"] < series[1]["week"]


def test_a_large_project_with_the_broker_down_gets_a_clear_503_and_no_stuck_lock(
    world: World, settings: Any, monkeypatch: Any
) -> None:
    """The publish fails the way kombu fails when the broker cannot be reached. (The task
    itself runs in a real worker in tests/test_worker.py; here only the refusal is checked,
    without rewiring the Celery app's connection pools.)"""
    from django.core.cache import cache
    from kombu.exceptions import OperationalError

    from projects import selectors
    from projects.tasks import agreement_compute

    def unreachable(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    settings.AGREEMENT_SYNC_MAX_ANNOTATIONS = 0
    doc = world.documents[0]
    for user in (world.annotator, world.annotator2):
        c = client_for(user)
        base = f"/api/v1/projects/{world.project.pk}/documents/{doc.pk}/annotation/"
        c.post(base + "spans/", {"start": 0, "end": 9, "label": "Claim"}, format="json")
        c.post(base + "submit/", {}, format="json")
    cache.clear()
    monkeypatch.setattr(agreement_compute, "apply_async", unreachable)
    r = client_for(world.lead).get(f"/api/v1/projects/{world.project.pk}/agreement/")
    assert r.status_code == 503, r.content
    assert r.json()["error"]["code"] == "unavailable"
    key = selectors.agreement_key(world.project, selectors.AgreementFilters())
    assert cache.get(f"{key}:lock") is None


def test_an_impossible_date_is_a_clear_400_not_a_server_error(demo: Any) -> None:
    r = client_for(demo).get("/api/v1/projects/demo/agreement/?from=2026-02-31")
    assert r.status_code == 400 and "from" in r.json()["error"]["message"]
