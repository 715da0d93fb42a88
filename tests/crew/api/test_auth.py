"""Token and session auth, 401 for strangers, and the schema and docs pages."""

import pytest
from rest_framework.test import APIClient


def test_it_trades_a_username_and_password_for_a_token(users):
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": "press", "password": "press"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/requests/").status_code == 200


def test_it_gives_the_same_token_twice(users):
    client = APIClient()
    body = {"username": "health", "password": "health"}
    first = client.post("/api/v1/auth/token/", body, format="json").json()["token"]
    assert client.post("/api/v1/auth/token/", body, format="json").json()["token"] == first


def test_it_refuses_a_wrong_password(users):
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "press", "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert "token" not in response.json()


def test_it_refuses_a_made_up_token(users):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef")
    assert client.get("/api/v1/requests/").status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/departments/",
        "/api/v1/requests/",
        "/api/v1/requests/1/",
        "/api/v1/requests/1/history/",
        "/api/v1/shoots/",
        "/api/v1/shoots/1/",
    ],
)
def test_it_answers_401_when_not_logged_in(db, path):
    response = APIClient().get(path)
    assert response.status_code == 401
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "path", ["/api/v1/requests/1/accept/", "/api/v1/shoots/", "/api/v1/shoots/1/complete/"]
)
def test_it_answers_401_to_anonymous_writes(db, path):
    assert APIClient().post(path, {}, format="json").status_code == 401


def test_it_accepts_a_browser_session(users):
    client = APIClient()
    assert client.login(username="editor", password="editor")
    assert client.get("/api/v1/requests/").status_code == 200


def test_it_publishes_an_openapi_schema_with_the_tracker_endpoints(users):
    response = APIClient().get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    assert set(paths["/api/v1/requests/"]) >= {"get", "post"}
    assert set(paths["/api/v1/requests/{id}/"]) >= {"get", "patch"}
    for action in ("accept", "decline", "cancel"):
        assert "post" in paths[f"/api/v1/requests/{{id}}/{action}/"]
    assert "get" in paths["/api/v1/requests/{id}/history/"]
    assert set(paths["/api/v1/shoots/"]) >= {"get", "post"}
    assert "post" in paths["/api/v1/shoots/{id}/complete/"]
    assert "post" in paths["/api/v1/shoots/{id}/footage/"]
    assert "post" in paths["/api/v1/auth/token/"]
    assert "Token" in str(schema["components"]["securitySchemes"])


def test_it_serves_browsable_docs(users):
    response = APIClient().get("/api/v1/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_the_tracker_and_shoots_endpoints_describe_themselves_without_warnings(users):
    """`manage.py spectacular --validate --fail-on-warn`, limited to these endpoints."""
    from django.urls import include, path
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    from crew.api import shoots, tracker

    GENERATOR_STATS.reset()
    patterns = [path("api/v1/", include([*tracker.urlpatterns, *shoots.urlpatterns]))]
    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)
    validate_schema(schema)
    assert not GENERATOR_STATS, (
        dict(GENERATOR_STATS._warn_cache),
        dict(GENERATOR_STATS._error_cache),
    )
    assert len(schema["paths"]) == 15
