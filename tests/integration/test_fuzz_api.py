"""API fuzzing: schemathesis generates requests from /api/v1/schema/ for every operation,
as each demo role and anonymously. No answer is a 5xx, and every documented answer
matches the schema. Bounded (a few examples per operation and role, derandomized) so
it runs in a couple of minutes and fails the same way twice."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

ROLES = ["press", "operator", "editor", "health", "education", None]
EXAMPLES = 4


@pytest.fixture
def api_schema(db):
    from django.core.signals import request_finished, request_started
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    # As Django's test client does: the WSGI app must not close the test's connection
    # (and with it the transaction every request runs in).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schemathesis.serializer("application/offset+octet-stream")
def _upload_chunk(ctx, value) -> bytes:
    """The resumable upload's PATCH body: raw bytes at an offset."""
    if isinstance(value, bytes):
        return value
    return str(value).encode()


@pytest.fixture
def tokens(users, make_request) -> dict[str | None, str]:
    """Demo users with API tokens, and a few requests so that some ids exist."""
    from rest_framework.authtoken.models import Token

    for state in ("submitted", "scheduled", "in_review"):
        make_request(state)
    found: dict[str | None, str] = {None: ""}
    for role in ROLES:
        if role:
            found[role] = Token.objects.get_or_create(user=users[role])[0].key
    return found


def fuzz(operation, tokens: dict[str | None, str]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        # Every generated request is sent as each role: what one may do, another may not.
        for role in ROLES:
            headers = {"Authorization": f"Token {tokens[role]}"} if role else {}
            case.call_and_validate(
                headers=headers, checks=[not_a_server_error, response_schema_conformance]
            )

    run()


def test_it_never_answers_5xx_and_matches_the_schema(api_schema, tokens):
    # One test over every operation (schemathesis' own pytest loader does not run on
    # pytest 9); every operation is fuzzed even when an earlier one fails.
    failures: dict[str, str] = {}
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        try:
            fuzz(operation, tokens)
        except Exception as exc:  # noqa: BLE001 - collected and reported below
            failures[operation.label] = f"{exc.__class__.__name__}: {exc}"[:3000]
    assert operations > 10
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
