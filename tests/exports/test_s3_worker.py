"""Web and worker on different machines: they share only the database, the broker and an
S3-compatible bucket. Here the worker is a real process with its own, empty media folder, the
test process (the web side) has another; the export is built by the worker, stored in the
bucket (moto's S3 server on 127.0.0.1) and downloaded by the web side from the bucket. Neither
folder ever holds a file, so nothing crossed through a local disk."""

from __future__ import annotations

import hashlib
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from projects.models import Export

from ..conftest import World, client_for
from . import workers
from .conftest import BUCKET, api, keys

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

QUEUE = f"test-s3-{uuid.uuid4().hex[:8]}"


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_a_worker_with_its_own_disk_builds_into_the_bucket_and_the_web_side_serves_it(
    annotated: World, bucket: Any, settings: Any, tmp_path: Path
) -> None:
    if str(connection.settings_dict["NAME"]).startswith(("file:memorydb", ":memory:")):
        pytest.fail("the worker test needs a file or server database (see SQLITE_TEST_NAME)")
    web_media, worker_media = tmp_path / "web-media", tmp_path / "worker-media"
    web_media.mkdir()
    worker_media.mkdir()
    settings.MEDIA_ROOT = str(web_media)
    settings.CELERY_TASK_DEFAULT_QUEUE = QUEUE
    options = settings.STORAGES["default"]["OPTIONS"]
    worker = workers.start_worker(
        queue=QUEUE,
        media=worker_media,
        lease_seconds=30,
        extra_env={
            "STORAGE_BACKEND": "s3",
            "AWS_STORAGE_BUCKET_NAME": BUCKET,
            "AWS_S3_ENDPOINT_URL": options["endpoint_url"],
            "AWS_S3_REGION_NAME": "us-east-1",
            "AWS_ACCESS_KEY_ID": "test-key",
            "AWS_SECRET_ACCESS_KEY": "test-secret",
            "AWS_LOCATION": options["location"],
        },
    )
    try:
        client = client_for(annotated.consumer)
        created = client.post(api(annotated), {"format": "hf"}, format="json")
        assert created.status_code in (201, 202), created.content
        export_id = created.json()["id"]
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            status = client.get(api(annotated, f"{export_id}/")).json()["status"]
            if status in ("done", "failed"):
                break
            if worker.poll() is not None:
                pytest.fail("the worker exited early:\n" + workers.stop_worker(worker))
            time.sleep(0.5)
        else:
            pytest.fail("the worker did not finish the export:\n" + workers.stop_worker(worker))
        export = Export.objects.get(pk=export_id)
        assert export.status == "done", export.error
        assert keys(bucket) == [f"{options['location']}/{export.file.name}"]
        download = client.get(api(annotated, f"{export_id}/download/"))
        assert download.status_code == 200
        body = b"".join(download.streaming_content)
        assert hashlib.sha256(body).hexdigest() == export.sha256
        assert _files(worker_media) == [] and _files(web_media) == []
    finally:
        output = workers.stop_worker(worker)
    assert "Traceback" not in output, output
