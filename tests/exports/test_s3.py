"""Export files in an S3-compatible bucket (STORAGE_BACKEND=s3, django-storages): built, stored,
downloaded through the project-scoped view and deleted, against a local S3 server (moto's
server mode speaks the S3 HTTP API; no AWS account, no network)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from projects.models import Export

from ..conftest import World, client_for
from .conftest import api, build_now

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
