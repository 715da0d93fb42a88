"""The compose topology minus Docker: PostgreSQL (pytest-django's test database, from
DATABASE_URL), Redis (CELERY_BROKER_URL), moto's S3 server on 127.0.0.1, and a REAL
`celery worker` started with the compose worker's command line in its own process
group. `make test-integration` sets the environment; with CI=true or
KADR_INTEGRATION=1 a missing service fails the run, it never skips."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.integration.tcpproxy import CuttableProxy
from tests.s3server import S3Endpoint, s3_endpoint  # noqa: F401 - session fixture
from tests.test_compose import command_of

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
IT_BUCKET = "kadr-it"
READY_TIMEOUT = 60.0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


def wait_until(
    predicate: Callable[[], object],
    *,
    timeout: float,
    what: str,
    detail: Callable[[], str] | None = None,
) -> object:
    """Poll predicate until it returns something truthy; fail with `what` after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = f"\n{detail()}" if detail else ""
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}{extra}")
        time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def broker_url() -> str:
    """The Redis the Makefile points CELERY_BROKER_URL at, emptied for this run."""
    import redis

    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        pytest.fail(
            "the integration suite needs CELERY_BROKER_URL=redis://… (run `make test-integration`)"
        )
    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {url} is not reachable: {exc}")
    client.flushdb()
    return url


@pytest.fixture(scope="session")
def django_db_modify_db_settings() -> None:
    """Fail (never skip) when the database is not PostgreSQL or not reachable."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail(
            "the integration suite needs DATABASE_URL=postgres://… (run `make test-integration`)"
        )
    host, port = db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)
    if not port_open(host, port):
        pytest.fail(f"PostgreSQL at {host}:{port} is not reachable")


@pytest.fixture(scope="session")
def s3_bucket(s3_endpoint: S3Endpoint) -> str:  # noqa: F811 - the imported fixture
    import boto3

    boto3.client(
        "s3",
        endpoint_url=s3_endpoint.moto_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).create_bucket(Bucket=IT_BUCKET)
    return IT_BUCKET


@pytest.fixture(scope="session")
def s3_link(s3_endpoint: S3Endpoint) -> Iterator[CuttableProxy]:  # noqa: F811
    """The services reach S3 through this link; `s3_link.cut()` makes S3 unreachable."""
    proxy = CuttableProxy(host_port(s3_endpoint.url))
    yield proxy
    proxy.cut()


@pytest.fixture(scope="session")
def service_env(
    django_db_setup: None,
    broker_url: str,
    s3_link: CuttableProxy,
    s3_bucket: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, str]:
    """The environment the compose containers get, pointed at this run's services."""
    from django.db import connection

    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KADR_", "PYTEST_", "DJANGO_"))
    }
    env.update(
        DEBUG="0",
        SECRET_KEY="integration-" + uuid.uuid4().hex * 2,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        CSRF_TRUSTED_ORIGINS="https://127.0.0.1",
        SITE_URL="http://127.0.0.1",
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker_url,
        KADR_STORAGE="s3",
        KADR_S3_BUCKET=s3_bucket,
        KADR_S3_ENDPOINT_URL=s3_link.url,
        KADR_S3_REGION="us-east-1",
        KADR_S3_ACCESS_KEY_ID="test",
        KADR_S3_SECRET_ACCESS_KEY="test",
        KADR_S3_MAX_ATTEMPTS="2",
        KADR_VAR_DIR=str(tmp_path_factory.mktemp("service-var")),
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
    )
    return env


@dataclass
class ServiceProcess:
    """A service started with a compose command, in its own process group."""

    argv: list[str]
    env: dict[str, str]
    log_path: Path
    ready_marker: str
    process: subprocess.Popen | None = None
    log_offset: int = 0
    history: list[int] = field(default_factory=list)

    def start(self) -> ServiceProcess:
        self.log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killpg reaches every child
        )
        log.close()
        self.history.append(self.process.pid)
        wait_until(self._ready, timeout=READY_TIMEOUT, what=f"{self.argv[:4]} to start")
        return self

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            pytest.fail(f"{self.argv[:4]} exited {self.process.returncode}:\n{self.log()[-3000:]}")
        return self.ready_marker in self.log()

    def log(self) -> str:
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as fh:
            fh.seek(self.log_offset)
            return fh.read().decode("utf-8", "replace")

    @property
    def pgid(self) -> int:
        assert self.process is not None
        return self.process.pid  # start_new_session: the group leader

    def group_pids(self) -> list[int]:
        """Every live process in the group (the worker, its pool children, their ffmpeg)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.getpgid(int(entry.name)) == self.pgid:
                        pids.append(int(entry.name))
                except ProcessLookupError:
                    continue
        return pids

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a pulled plug would: no clean-up, no ack."""
        if self.process and self.process.poll() is None:
            os.killpg(self.pgid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if not self.process or self.process.poll() is not None:
            return
        os.killpg(self.pgid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.pgid, signal.SIGKILL)
            self.process.wait(timeout=30)


def worker_argv() -> list[str]:
    """The compose worker's command line, run from this virtualenv."""
    argv = command_of("worker")
    return [str(BIN / argv[0]), *argv[1:]]


@pytest.fixture(scope="session")
def start_worker(
    service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., ServiceProcess]]:
    """start_worker(**env) → a running `celery worker` (the compose command)."""
    started: list[ServiceProcess] = []
    logs = tmp_path_factory.mktemp("worker-logs")

    def start(**extra_env: str) -> ServiceProcess:
        env = {**service_env, **extra_env}
        worker = ServiceProcess(
            argv=worker_argv(),
            env=env,
            log_path=logs / f"worker-{len(started)}.log",
            ready_marker=" ready.",
        )
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture(scope="session")
def celery_worker(start_worker: Callable[..., ServiceProcess]) -> ServiceProcess:
    """The session's worker; tests that kill it start it again."""
    return start_worker()


@pytest.fixture
def live_worker(celery_worker: ServiceProcess) -> ServiceProcess:
    """The session's worker, restarted if an earlier test killed it."""
    if celery_worker.process is None or celery_worker.process.poll() is not None:
        celery_worker.start()
    return celery_worker


@pytest.fixture(autouse=True)
def _real_services(
    _isolated_media: None,
    settings,
    s3_endpoint: S3Endpoint,  # noqa: F811
    s3_bucket: str,
    broker_url: str,
    request: pytest.FixtureRequest,
) -> Iterator[None]:
    """Undo the unit-test defaults: tasks go to Redis and media to S3, like production."""
    from config.celery import app
    from media_pipeline import storage

    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.KADR_STORAGE = "s3"
    settings.KADR_S3_BUCKET = s3_bucket
    settings.KADR_S3_ENDPOINT_URL = s3_endpoint.url
    settings.KADR_S3_REGION = "us-east-1"
    settings.KADR_S3_ACCESS_KEY_ID = "test"
    settings.KADR_S3_SECRET_ACCESS_KEY = "test"
    s3_endpoint.proxy.fail_next = 0
    storage.reset()
    yield
    s3_endpoint.proxy.fail_next = 0
    storage.reset()
    if "s3_link" in request.fixturenames:
        request.getfixturevalue("s3_link").restore()


def queue_length(url: str, queue: str) -> int:
    import redis

    return int(redis.Redis.from_url(url, socket_connect_timeout=3).llen(queue))


def redis_db_url(port: int, db: int = 0) -> str:
    return f"redis://127.0.0.1:{port}/{db}"


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 0
