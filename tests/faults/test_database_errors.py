"""A database that cannot be reached is a 503 ``database_unavailable`` with ``Retry-After``,
never a 500: the workspace keeps its changes and retries, scripts know to retry, and pages say
what is going on. The errors here are real ones from the real driver: this process's connection
is pointed where no database is (a closed port for PostgreSQL, a missing folder for SQLite).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client, RequestFactory

from annotator.errors import RETRY_AFTER_SECONDS, server_error

from ..conftest import World, client_for
from .infra import free_port

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def database_unreachable(tmp_path: Path) -> Iterator[None]:
    db = connection.settings_dict
    saved = dict(db)
    connection.close()
    if connection.vendor == "postgresql":
        db["HOST"], db["PORT"] = "127.0.0.1", free_port()  # nothing listens there
    else:
        db["NAME"] = str(tmp_path / "no-such-folder" / "db.sqlite3")
    try:
        yield
    finally:
        connection.close()
        db.clear()
        db.update(saved)


def annotation_url(world: World) -> str:
    return f"/api/v1/projects/{world.project.pk}/documents/{world.documents[0].pk}/annotation/"


def assert_database_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    error = json.loads(response.content)["error"]
    assert error["code"] == "database_unavailable"
    assert "database cannot be reached" in error["message"]
    assert "retry" in error["message"]
    assert error["details"] == []


def test_api_reads_and_writes_answer_503_while_the_database_is_unreachable(
    world: World, tmp_path: Path
) -> None:
    client = client_for(world.annotator)  # authenticated without the database
    url = annotation_url(world)
    with database_unreachable(tmp_path):
        assert_database_unavailable(client.get(url))
        assert_database_unavailable(
            client.post(
                url + "spans/",
                {"start": 0, "end": 9, "label": "Claim", "client_id": "c1", "version": 0},
                format="json",
            )
        )
    # back: the same client works, and the refused write left nothing behind
    after = client.get(url)
    assert after.status_code == 200, after.content
    assert after.json()["spans"] == [] and after.json()["version"] == 0


def test_a_signed_in_browser_gets_503_from_the_api_and_a_page_that_says_why(
    world: World, tmp_path: Path
) -> None:
    client = Client()
    client.force_login(world.annotator)  # the session lives in the database
    page_url = f"/p/{world.project.slug}/d/{world.documents[0].pk}/annotate/"
    with database_unreachable(tmp_path):
        assert_database_unavailable(client.get(annotation_url(world)))
        page = client.get(page_url)
        token = client.get("/api/v1/auth/tokens/", HTTP_AUTHORIZATION="Token sat_whatever")
    assert page.status_code == 503
    assert page["Retry-After"] == str(RETRY_AFTER_SECONDS)
    html = page.content.decode()
    assert "Temporarily unavailable" in html and "database cannot be reached" in html
    assert world.annotator.username not in html  # drawn without the (unreachable) session
    assert_database_unavailable(token)  # token auth needs the database too
    assert client.get(page_url).status_code == 200


def test_healthz_names_the_database_while_it_is_unreachable(
    client: Any, world: World, tmp_path: Path
) -> None:
    with database_unreachable(tmp_path):
        r = client.get("/healthz")
    assert r.status_code == 503
    assert r.json()["status"] == "down"
    assert r.json()["checks"]["database"].startswith("OperationalError")
    assert r.json()["checks"]["broker"] == "ok"
    assert client.get("/healthz").status_code == 200


def test_the_500_handler_answers_503_for_a_database_error_raised_outside_a_view(
    world: World, tmp_path: Path
) -> None:
    """Django calls the 500 handler while it handles the exception (a middleware's, say
    saving the session): a database error is then a 503 too, and anything else still a 500."""
    factory = RequestFactory()
    with database_unreachable(tmp_path):
        try:
            connection.ensure_connection()
        except OperationalError:
            api = server_error(factory.get("/api/v1/projects/"))
            page = server_error(factory.get("/p/alpha/"))
        else:
            pytest.fail("the database was reachable")
    assert_database_unavailable(api)
    assert page.status_code == 503 and b"Temporarily unavailable" in page.content
    try:
        raise ValueError("a bug")
    except ValueError:
        bug = server_error(factory.get("/api/v1/projects/"))
    assert bug.status_code == 500
    assert json.loads(bug.content)["error"]["code"] == "server_error"
