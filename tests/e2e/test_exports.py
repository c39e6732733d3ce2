"""The demo lead requests an ``hf`` export in a real browser, watches the progress bar (moved by
the page's ES module polling the API) reach done, downloads the file, and the download loads
with ``datasets``. A real Celery worker builds it, on its own queue."""

from __future__ import annotations

import hashlib
import uuid
import zipfile
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from projects.models import Export, Project

from ..exports import workers
from ..factories import make_documents
from .conftest import screenshot
from .test_review_flow import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

QUEUE = f"test-e2e-exports-{uuid.uuid4().hex[:8]}"


def test_the_demo_lead_exports_hf_in_the_browser_and_loads_it_with_datasets(
    live_server: Any, page: Any, settings: Any, tmp_path: Path
) -> None:
    media = tmp_path / "media"
    settings.MEDIA_ROOT = str(media)
    settings.CELERY_TASK_DEFAULT_QUEUE = QUEUE
    call_command("load_demo", stdout=StringIO())
    # more documents than the demo's one, so the bar has something to show
    make_documents(Project.objects.get(slug="demo"), 24, prefix="extra")
    worker = workers.start_worker(queue=QUEUE, media=media, lease_seconds=30, delay_ms=250)
    try:
        base = live_server.url
        log_in(page, base, "lead")
        page.goto(f"{base}/p/demo/")
        page.get_by_role("link", name="Exports").click()
        page.wait_for_url(f"{base}/p/demo/exports/")

        page.select_option("select[name=format]", "hf")
        page.fill("input[name=train]", "0.8")
        page.fill("input[name=validation]", "0.1")
        page.fill("input[name=test]", "0.1")
        page.get_by_role("button", name="Request export").click()
        page.wait_for_load_state()
        export = Export.objects.get()
        row = page.locator(f"#export-{export.pk}")
        bar = row.get_by_role("progressbar")
        assert bar.count() == 1
        # the module moves the bar while the worker reads documents...
        page.wait_for_function(
            "() => Number(document.querySelector('[role=progressbar]')"
            "?.getAttribute('aria-valuenow') || 0) > 0",
            timeout=60_000,
        )
        screenshot(page, "exports-progress")
        # ...and reloads the page when the export is done
        download_link = row.get_by_role("link", name=f"Download export #{export.pk}")
        download_link.wait_for(timeout=90_000)
        export.refresh_from_db()
        assert export.status == "done", export.error
        assert row.get_by_role("progressbar").count() == 0
        assert export.sha256[:10] in row.inner_text()
        screenshot(page, "exports")

        with page.expect_download() as info:
            download_link.click()
        download = info.value
        assert download.suggested_filename == f"demo-{export.pk}.zip"
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
    finally:
        output = workers.stop_worker(worker)
    data = saved.read_bytes()
    assert hashlib.sha256(data).hexdigest() == export.sha256, output

    folder = tmp_path / "hf"
    with zipfile.ZipFile(saved) as archive:
        archive.extractall(folder)
    from datasets import load_dataset

    dataset = load_dataset(str(folder))
    assert set(dataset) <= {"train", "validation", "test"}
    rows = sum(len(split) for split in dataset.values())
    assert rows == export.counts["annotations"] > 0
    labels = next(iter(dataset.values())).features["spans"].feature["label"].names
    assert labels == ["Claim", "Justification", "Critique"]
