"""docker-compose.yml, the Dockerfile and .env.example, checked without Docker: the file
parses, every variable it sets is a setting Kadr reads (and every setting is listed),
every command it runs exists. tests/integration/test_compose_commands.py starts them."""

from __future__ import annotations

import importlib
import os
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
# The modules that read the environment: Django's settings and gunicorn's.
SETTINGS_SOURCES = [ROOT / "config" / "settings.py", ROOT / "config" / "gunicorn.py"]
KADR_SERVICES = ("web", "worker", "beat")
ENV_READ = re.compile(r"env(?:str|bool|int|list|float)\(\s*\"([A-Z][A-Z0-9_]*)\"")
INTERPOLATED = re.compile(r"\$\{([A-Z][A-Z0-9_]*)")
ENV_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def settings_variables() -> set[str]:
    return {name for path in SETTINGS_SOURCES for name in ENV_READ.findall(path.read_text("utf-8"))}


def example_variables() -> set[str]:
    return set(ENV_LINE.findall(ENV_EXAMPLE.read_text(encoding="utf-8")))


def compose_only_variables() -> set[str]:
    """Variables compose interpolates for the services that are not Kadr (db, minio...)."""
    return set(INTERPOLATED.findall(COMPOSE.read_text(encoding="utf-8"))) - settings_variables()


def command_of(service: str) -> list[str]:
    command = compose()["services"][service]["command"]
    return shlex.split(command) if isinstance(command, str) else list(command)


def web_steps() -> list[list[str]]:
    """The web command is `sh -c "step && step"`: each step as argv."""
    command = command_of("web")
    assert command[:2] == ["sh", "-c"]
    steps = [shlex.split(step) for step in command[2].split("&&")]
    return [step[1:] if step[0] == "exec" else step for step in steps]


def test_it_parses_and_has_the_production_services():
    services = compose()["services"]
    assert set(services) >= {"db", "redis", "minio", "bucket-init", "web", "worker", "beat"}


def test_it_gives_every_long_running_service_a_healthcheck():
    services = compose()["services"]
    for name in ("db", "redis", "minio", "web", "worker"):
        assert services[name]["healthcheck"]["test"], name


def test_it_starts_services_only_once_what_they_need_is_healthy():
    services = compose()["services"]
    web = services["web"]["depends_on"]
    assert web["db"]["condition"] == "service_healthy"
    assert web["redis"]["condition"] == "service_healthy"
    assert web["bucket-init"]["condition"] == "service_completed_successfully"
    assert services["bucket-init"]["depends_on"]["minio"]["condition"] == "service_healthy"
    # Workers start after the web container has migrated the database.
    assert services["worker"]["depends_on"]["web"]["condition"] == "service_healthy"
    assert services["beat"]["depends_on"]["web"]["condition"] == "service_healthy"


def test_it_keeps_state_in_named_volumes():
    data = compose()
    declared = set(data["volumes"])
    for name in ("db", "redis", "minio"):
        volumes = data["services"][name]["volumes"]
        assert volumes, name
        for volume in volumes:
            assert volume.split(":")[0] in declared, volume


def test_it_runs_kadr_in_production_mode_on_real_services():
    for service in KADR_SERVICES:
        env = compose()["services"][service]["environment"]
        assert env["DEBUG"] == "0"
        assert env["KADR_STORAGE"] == "s3"
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["CELERY_BROKER_URL"].startswith("redis://")


def test_it_sets_only_variables_that_the_settings_read():
    known = settings_variables()
    for service in KADR_SERVICES:
        environment = compose()["services"][service]["environment"]
        unknown = set(environment) - known
        assert not unknown, f"{service} sets variables no setting reads: {sorted(unknown)}"


def test_it_lists_every_variable_the_settings_read_in_env_example():
    missing = settings_variables() - example_variables()
    assert not missing, f".env.example does not list: {sorted(missing)}"


def test_it_lists_in_env_example_only_variables_someone_reads():
    unread = example_variables() - settings_variables() - compose_only_variables()
    assert not unread, f".env.example lists variables nothing reads: {sorted(unread)}"


def test_it_runs_commands_that_exist():
    from django.core.management import get_commands

    migrate, gunicorn = web_steps()
    assert migrate[:2] == ["python", "manage.py"]
    assert migrate[2] in get_commands()
    assert gunicorn[0] == "gunicorn"
    config = gunicorn[gunicorn.index("-c") + 1]
    assert config.startswith("python:")
    importlib.import_module(config.removeprefix("python:"))
    module, _, attribute = gunicorn[-1].partition(":")
    assert hasattr(importlib.import_module(module), attribute or "application")


def test_it_runs_the_celery_app_on_the_queues_tasks_are_routed_to():
    from celery.app.utils import find_app
    from django.conf import settings

    worker, beat = command_of("worker"), command_of("beat")
    for command in (worker, beat):
        assert command[:3] == ["celery", "-A", "config"]
        assert find_app(command[2]).main == "kadr"
    queues = set(worker[worker.index("--queues") + 1].split(","))
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert queues >= routed | {settings.CELERY_TASK_DEFAULT_QUEUE}
    assert beat[3] == "beat"


def test_it_builds_a_slim_image_that_runs_as_a_user_with_ffmpeg():
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim", text, re.MULTILINE)
    assert re.search(r"apt-get install[^\n]*ffmpeg", text)
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "collectstatic" in text
    # The image's default command is the compose web command.
    cmd = re.search(r"^CMD (.+)$", text, re.MULTILINE)
    assert cmd and yaml.safe_load(cmd.group(1)) == command_of("web")


def documented_environment() -> dict[str, str]:
    """What a deployment following .env.example and docker-compose.yml sets."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "KADR_", "CELERY_", "DATABASE_"))
    }
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            env[key] = value
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="0",
        KADR_VAR_DIR=str(ROOT / "var" / "check-deploy"),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    return env


def test_it_passes_the_deploy_checks_with_the_documented_environment():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=documented_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stderr


def test_it_refuses_to_start_without_a_secret_key_in_production():
    env = documented_environment()
    env["SECRET_KEY"] = ""
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize("service", KADR_SERVICES)
def test_it_passes_the_env_file_to_every_kadr_container(service):
    env_file = compose()["services"][service]["env_file"]
    assert env_file[0]["path"] == ".env"
    assert env_file[0]["required"] is False
