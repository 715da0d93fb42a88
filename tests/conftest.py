"""Shared fixtures: roles and demo-like users, API clients, storage in a temp dir,
generated clips (never video files in the repo), and requests in any state."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from tests import factories

IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Integration and browser tests need services; on a laptop without them they skip,
    in CI (CI=true) they must run, so nothing is skipped there."""
    run_integration = IN_CI or os.environ.get("KADR_INTEGRATION") == "1"
    for item in items:
        if "integration" in item.keywords and not run_integration:
            item.add_marker(pytest.mark.skip(reason="integration suite: set KADR_INTEGRATION=1"))
        if "browser" in item.keywords and not IN_CI and not shutil.which("chromium"):
            item.add_marker(
                pytest.mark.skip(reason="needs Debian's chromium (apt-get install chromium)")
            )


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every test stores media in its own folder and runs Celery tasks in-process."""
    from config.celery import app
    from media_pipeline import storage

    root = tmp_path_factory.mktemp("kadr-var")
    settings.KADR_MEDIA_ROOT = root / "media"
    settings.KADR_SCRATCH_DIR = root / "scratch"
    settings.KADR_UPLOAD_DIR = root / "uploads"
    settings.KADR_STORAGE = "local"
    settings.LANGUAGE_CODE = "en"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    for key in ("KADR_MEDIA_ROOT", "KADR_SCRATCH_DIR", "KADR_UPLOAD_DIR"):
        Path(getattr(settings, key)).mkdir(parents=True, exist_ok=True)
    storage.reset()
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = eager
    storage.reset()


@pytest.fixture
def roles(db) -> dict[str, Group]:
    return factories.ensure_roles()


@pytest.fixture
def departments(db) -> dict[str, factories.Department]:
    return factories.ensure_departments()


@pytest.fixture
def users(roles, departments) -> dict[str, User]:
    """press (press head), operator, editor, journalist (crew), health and education (requesters)."""
    return factories.ensure_users()


@pytest.fixture
def channels(db):
    return factories.ensure_channels()


@pytest.fixture
def api(users) -> Callable[[str | None], APIClient]:
    """api("press") → an APIClient authenticated as that demo user; api(None) → anonymous."""

    def make(username: str | None) -> APIClient:
        client = APIClient()
        if username:
            client.force_authenticate(users[username])
        return client

    return make


@pytest.fixture
def make_request(users, channels) -> Callable[..., factories.ShootRequest]:
    """make_request("in_review", department="health") walks a request to that state."""
    return factories.request_in_state


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """clips("landscape") → a generated 1–2 s clip; see tests/factories.py CLIP_RECIPES."""
    folder = tmp_path_factory.mktemp("clips")
    cache: dict[tuple, Path] = {}

    def make(kind: str = "landscape", **overrides) -> Path:
        key = (kind, tuple(sorted(overrides.items())))
        if key not in cache:
            cache[key] = factories.generate_clip(folder, kind, **overrides)
        return cache[key]

    return make


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def ffprobe_json(path: Path) -> dict:
    import json

    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
            str(path),
        ],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    return json.loads(out)
