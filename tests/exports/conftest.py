"""Helpers for the export tests: files in a temporary media folder, a project with real
submitted work (two annotators, relations, stances, a submitted gold), and running a build the
way a worker does, in this process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..conftest import World, client_for


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    """Export files of each test in their own folder (MEDIA_ROOT is read when used)."""
    root = tmp_path / "media"
    settings.MEDIA_ROOT = str(root)
    return root


def api(world: World, path: str = "") -> str:
    return f"/api/v1/projects/{world.project.pk}/exports/{path}"


def annotate(world: World, doc: Any, user: Any, *, label2: str = "Justification") -> None:
    """Two spans, a relation between them and a stance, then submit: through the API."""
    client = client_for(user)
    base = f"/api/v1/projects/{world.project.pk}/documents/{doc.pk}/annotation/"
    r = client.post(
        base + "spans/", {"start": 0, "end": 9, "label": "Claim", "client_id": "c1"}, format="json"
    )
    assert r.status_code == 201, r.content
    r = client.post(
        base + "spans/", {"start": 10, "end": 14, "label": label2, "client_id": "j1"}, format="json"
    )
    assert r.status_code == 201, r.content
    r = client.post(
        base + "relations/", {"from": "j1", "to": "c1", "type": "supports"}, format="json"
    )
    assert r.status_code == 201, r.content
    target = world.project.stance_targets.first()
    r = client.put(base + f"stances/{target.pk}/", {"value": "favor"}, format="json")
    assert r.status_code in (200, 201), r.content
    r = client.post(base + "submit/", {}, format="json")
    assert r.status_code == 200, r.content


@pytest.fixture
def annotated(world: World) -> World:
    """Documents 0 and 1 submitted by both annotators (they disagree on one label of
    document 1); document 0 has a submitted gold; document 2 has no work."""
    for doc, label2 in ((world.documents[0], "Justification"), (world.documents[1], "Critique")):
        annotate(world, doc, world.annotator)
        annotate(world, doc, world.annotator2, label2=label2)
    lead = client_for(world.lead)
    gold = f"/api/v1/projects/{world.project.pk}/documents/{world.documents[0].pk}/gold/"
    assert lead.post(gold + "merge/", {}, format="json").status_code == 201
    assert lead.post(gold + "submit/", {}, format="json").status_code == 200
    return world


def build_now(export_id: int) -> Any:
    """What a worker does with a delivery, in this process: claim, build, store."""
    from projects.services import exports

    result = exports.export_run(export_id=export_id, worker="test@here")
    assert result is not None, "the export was not claimed"
    return result


# --- an S3-compatible bucket (moto's server mode on 127.0.0.1) ------------------------------

BUCKET = "exports-test"


@pytest.fixture
def bucket(settings: Any, monkeypatch: Any) -> Iterator[Any]:
    boto3 = pytest.importorskip("boto3")
    server_module = pytest.importorskip("moto.server")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test-key",
        "AWS_SECRET_ACCESS_KEY": "test-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    # the same OPTIONS settings.py builds for STORAGE_BACKEND=s3
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "access_key": "test-key",
                "secret_key": "test-secret",
                "location": "annotator",
                "default_acl": "private",
                "querystring_auth": True,
                "file_overwrite": False,
            },
        },
    }
    yield client
    server.stop()


def keys(client: Any) -> list[str]:
    return [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
