"""Settings from the environment, /healthz, the OpenAPI schema."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_check(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        text=True,
        capture_output=True,
        env={**clean, **env},
        timeout=60,
    )


def test_production_start_up_fails_clearly_without_a_secret_key() -> None:
    result = run_check(DEBUG="false", ALLOWED_HOSTS="example.org")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_start_up_fails_clearly_without_allowed_hosts() -> None:
    result = run_check(DEBUG="false", SECRET_KEY="x" * 60)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is not set" in result.stderr


def test_an_unknown_project_creators_value_is_named() -> None:
    result = run_check(DEBUG="true", PROJECT_CREATORS="admins")
    assert result.returncode != 0
    assert "PROJECT_CREATORS='admins': use everyone or staff" in result.stderr


def test_a_bad_boolean_is_named() -> None:
    result = run_check(DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_production_settings_pass_check_deploy() -> None:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        text=True,
        capture_output=True,
        timeout=60,
        env={
            **clean,
            "DEBUG": "false",
            "SECRET_KEY": "k" * 20 + "-Zq8#vPw!2mXr7$Lt9&Ns4^Hb6*Jc3@",
            "ALLOWED_HOSTS": "annotate.example.org",
        },
    )
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client: Any) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200, r.content
    assert r.json()["checks"] == {"database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_healthz_answers_503_naming_a_broker_that_is_down(client: Any, settings: Any) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    r = client.get("/healthz")
    assert r.status_code == 503
    assert r.json()["checks"]["database"] == "ok"
    assert r.json()["checks"]["broker"] != "ok"


@pytest.mark.django_db
def test_the_openapi_schema_and_docs_are_served(client: Any) -> None:
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/projects/{project_id}/documents/{document_id}/annotation/spans/" in paths
    assert "tokenAuth" in schema.json()["components"]["securitySchemes"]
    assert client.get("/api/docs/").status_code == 200


def test_every_environment_variable_the_settings_read_is_documented_in_the_readme() -> None:
    import re

    settings_src = (ROOT / "annotator" / "settings.py").read_text()
    names = set(re.findall(r'env(?:bool|int|list)?\("([A-Z_]+)"', settings_src))
    names |= set(re.findall(r'os\.environ\.get\("([A-Z_]+)"', settings_src))
    readme = (ROOT / "README.md").read_text()
    assert names, "no variables found: the pattern is out of date"
    assert sorted(n for n in names if f"`{n}`" not in readme) == []


@pytest.mark.django_db
def test_an_unknown_api_path_answers_in_the_api_error_shape(client: Any) -> None:
    r = client.get("/api/v1/no-such-thing/")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_an_unknown_page_answers_with_the_site_404_page(client: Any) -> None:
    r = client.get("/no-such-page/")
    assert r.status_code == 404
    assert b"<html" in r.content.lower()


def test_a_server_error_on_an_api_path_answers_json_and_says_nothing_changed(rf: Any) -> None:
    from annotator.errors import server_error

    r = server_error(rf.get("/api/v1/projects/"))
    assert r.status_code == 500
    assert "nothing was changed" in r.content.decode()


def test_collectstatic_rewrites_the_workspace_module_imports_to_hashed_names(
    tmp_path: Path,
) -> None:
    """Production serves every static file under a hashed name; the workspace's ES modules must
    import each other by those names too, or a browser could mix two releases' modules."""
    clean = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env = {
        **clean,
        "DEBUG": "false",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "example.org",
        "STATIC_ROOT": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        text=True,
        capture_output=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    main = (tmp_path / manifest["projects/annotate/main.js"]).read_text()
    imports = re.findall(r"""from\s+["']([^"']+)["']""", main)
    assert imports, "main.js imports its modules"
    for target in imports:
        name = target.rsplit("/", 1)[-1]
        assert re.fullmatch(r"[\w-]+\.[0-9a-f]{12}\.js", name), target


def test_a_web_worker_imports_its_views_and_compiles_the_workspace_page_as_it_starts() -> None:
    """Else each gunicorn worker's first page pays for it: about 380 ms of CPU, not 7."""
    clean = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env = {**clean, "DEBUG": "false", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "example.org"}
    code = (
        "import sys, annotator.wsgi\n"
        "from django.template import engines\n"
        "loader = engines['django'].engine.template_loaders[0]\n"
        "print(sorted(m for m in ('projects.views.workspace', 'projects.api.urls')"
        " if m in sys.modules))\n"
        "print(sorted(n for n in ('base.html', 'projects/workspace.html')"
        " if any(k.startswith(n) for k in loader.get_template_cache)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, text=True, capture_output=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "['projects.api.urls', 'projects.views.workspace']",
        "['base.html', 'projects/workspace.html']",
    ]


def test_every_page_names_an_icon_that_is_served(client: Any, db: Any) -> None:
    """Browsers ask every page for an icon; without one each page load logged a 404."""
    from django.contrib.staticfiles import finders
    from django.templatetags.static import static

    html = client.get("/accounts/login/").content.decode()
    href = static("site/favicon.svg")
    assert f'<link rel="icon" href="{href}" type="image/svg+xml">' in html
    found = finders.find("site/favicon.svg")
    assert found and Path(found).read_text().startswith("<svg")
