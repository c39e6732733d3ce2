"""Schema fuzzing: schemathesis generates requests for every operation of ``/api/schema/``
(valid and invalid bodies, odd query strings) against the app, as a lead of a real project
whose ids fill the path parameters. No response may be a 500, and every response must match
what the schema documents for its status code.

Bounded for CI: ``SCHEMA_FUZZ_EXAMPLES`` examples per operation (default 25).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

EXAMPLES = int(os.environ.get("SCHEMA_FUZZ_EXAMPLES", "25"))

# Loaded once at collection (the schema view needs no database); the app is called in-process.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture(autouse=True)
def _keep_the_test_transaction(db: Any) -> Iterator[None]:
    """Called in-process the way Django's test client calls it: the test's transaction must
    survive each request, so connections are not closed at the end of a request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def lead_setup(world: Any) -> dict[str, Any]:
    from projects.services.tokens import token_create

    _token, key = token_create(user_id=world.lead.pk, name="fuzz")
    return {
        "headers": {"Authorization": f"Token {key}"},
        "path": {
            "project_id": world.project.pk,
            "document_id": world.documents[0].pk,
        },
    }


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_operation_answers_500_or_breaks_its_schema(case: Any, lead_setup: dict) -> None:
    for name, value in lead_setup["path"].items():
        if case.path_parameters is not None and name in case.path_parameters:
            case.path_parameters[name] = value
    case.call_and_validate(
        headers=lead_setup["headers"],
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
