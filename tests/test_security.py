"""Security headers, login lockout, password strength and request ids, through the site."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from annotator.logs import JsonFormatter, RequestIdFilter, bind_request_id, unbind_request_id
from tests.factories import PASSWORD


def _policy(response: Any) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


@pytest.mark.parametrize("url", ["/accounts/login/", "/api/v1/me/", "/healthz", "/nowhere/"])
def test_every_response_carries_a_strict_enforced_policy(client: Any, db: Any, url: str) -> None:
    response = client.get(url)
    assert "Content-Security-Policy-Report-Only" not in response.headers
    policy = _policy(response)
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    header = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header


def test_the_api_docs_run_from_our_own_files_without_inline_script(client: Any, world: Any) -> None:
    client.force_login(world.lead)
    html = client.get("/api/docs/").content.decode()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts, "Swagger UI loads its scripts"
    for attributes, body in scripts:
        assert "src=" in attributes and not body.strip(), attributes
        assert "cdn" not in attributes and "//" not in attributes.split("src=")[1][:3]
    starter = re.search(r'src="([^"]*\?script[^"]*)"', html)
    assert starter is not None
    assert client.get(starter.group(1).replace("&amp;", "&")).status_code == 200


def _login(client: Any, username: str, password: str, address: str = "10.0.0.1") -> Any:
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_a_login_is_locked_out_after_five_failures_for_that_user_and_address_only(
    client: Any, world: Any
) -> None:
    for _ in range(4):
        assert _login(client, "lead", "wrong-password").status_code == 200
    # the fifth failure locks the pair; then even the right password is refused
    assert _login(client, "lead", "wrong-password").status_code == 429
    locked = _login(client, "lead", PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed log-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # another user from the same address, and the same user from elsewhere, still get in
    assert _login(client, "reviewer", PASSWORD).status_code == 302
    client.logout()
    assert _login(client, "lead", PASSWORD, address="10.0.0.2").status_code == 302


def test_a_successful_login_resets_the_failure_count(client: Any, world: Any) -> None:
    for _ in range(4):
        _login(client, "lead", "wrong-password")
    assert _login(client, "lead", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        _login(client, "lead", "wrong-password")
    assert _login(client, "lead", PASSWORD).status_code == 302


@pytest.mark.parametrize("weak", ["password1", "12345678901", "short1!", "lead-lead-lead"])
def test_weak_passwords_are_refused(db: Any, weak: str) -> None:
    from tests.factories import make_user

    user = make_user("lead-lead-lead")
    with pytest.raises(ValidationError):
        validate_password(weak, user)
    validate_password("correct horse battery staple 7", user)


def test_each_response_has_a_request_id_and_keeps_a_sane_one_from_the_proxy(
    client: Any, db: Any
) -> None:
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second
    kept = client.get("/healthz", HTTP_X_REQUEST_ID="lb-4711.abc").headers["X-Request-ID"]
    assert kept == "lb-4711.abc"
    hostile = client.get("/healthz", HTTP_X_REQUEST_ID="x\nFAKE LOG LINE").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", hostile)


def test_json_log_lines_carry_the_request_id_and_the_exception() -> None:
    record = logging.LogRecord(
        "projects", logging.ERROR, __file__, 1, "export %s failed", (7,), None
    )
    token = bind_request_id("req-1")
    try:
        RequestIdFilter().filter(record)
    finally:
        unbind_request_id(token)
    try:
        raise RuntimeError("disk full")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "export 7 failed"
    assert line["request_id"] == "req-1" and line["level"] == "ERROR"
    assert "disk full" in line["exception"]


def test_django_s_own_error_lines_carry_the_request_id(client: Any, db: Any) -> None:
    """ "Not Found" and "Internal Server Error" are logged after the middleware returns; the
    id must still be on them (the filter runs when the line is written, as in production)."""

    class Keep(logging.Handler):
        def __init__(self) -> None:
            super().__init__(level=logging.WARNING)
            self.ids: list[str] = []
            self.addFilter(RequestIdFilter())

        def emit(self, record: logging.LogRecord) -> None:
            self.ids.append(record.request_id)  # type: ignore[attr-defined]

    keep = Keep()
    logger = logging.getLogger("django.request")
    logger.addHandler(keep)
    try:
        response = client.get("/api/v1/nowhere/", HTTP_X_REQUEST_ID="trace-404")
    finally:
        logger.removeHandler(keep)
    assert response.status_code == 404
    assert keep.ids == ["trace-404"]
