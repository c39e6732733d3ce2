"""Export files in an S3-compatible bucket (STORAGE_BACKEND=s3, django-storages): built, stored,
downloaded through the project-scoped view and deleted, against a local S3 server (moto's
server mode speaks the S3 HTTP API; no AWS account, no network)."""

from __future__ import annotations

import hashlib
from typing import Any

from projects.models import Export

from ..conftest import World, client_for
from .conftest import BUCKET, api, build_now, keys


def test_an_export_goes_to_the_bucket_and_comes_back_through_the_download(
    annotated: World, bucket: Any
) -> None:
    client = client_for(annotated.consumer)
    created = client.post(api(annotated), {"format": "brat"}, format="json").json()
    export = build_now(created["id"])
    assert export.status == "done", export.error
    assert keys(bucket) == [f"annotator/{export.file.name}"]
    stored = bucket.get_object(Bucket=BUCKET, Key=f"annotator/{export.file.name}")["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == export.sha256
    download = client.get(api(annotated, f"{export.pk}/download/"))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == stored
    assert client.delete(api(annotated, f"{export.pk}/")).status_code == 204
    assert keys(bucket) == []
    assert not Export.objects.exists()


def test_settings_refuse_s3_without_a_bucket() -> None:
    from ..test_site import run_check

    result = run_check(DEBUG="true", STORAGE_BACKEND="s3")
    assert result.returncode != 0
    assert "STORAGE_BACKEND=s3 needs AWS_STORAGE_BUCKET_NAME" in result.stderr
    result = run_check(DEBUG="true", STORAGE_BACKEND="ftp")
    assert "STORAGE_BACKEND='ftp': use filesystem or s3" in result.stderr
