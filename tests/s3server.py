"""An S3 server for the test run: moto's standalone server over real HTTP on 127.0.0.1,
with a tiny fault-injecting proxy in front (moto has no switch for failing requests).

Use in a test module:  from tests.s3server import s3_endpoint, s3_storage  # noqa: F401
"""

from __future__ import annotations

import http.client
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


@dataclass
class FaultProxy:
    """Forwards every request to moto, except that the next `fail_next` answer 503."""

    upstream: tuple[str, int]
    fail_next: int = 0
    failed: int = 0
    seen: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_failure(self) -> bool:
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                self.failed += 1
                return True
            return False


def _handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            proxy.seen.append(f"{self.command} {self.path}")
            if proxy.take_failure():
                payload = (
                    b"<Error><Code>ServiceUnavailable</Code><Message>injected</Message></Error>"
                )
                self.send_response(503)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            conn = http.client.HTTPConnection(*proxy.upstream, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            self.send_response(response.status)
            for key, value in response.getheaders():
                if key.lower() not in HOP_HEADERS | {"content-length"}:
                    self.send_header(key, value)
            # A HEAD answer announces the object's length without a body.
            length = response.getheader("Content-Length") if self.command == "HEAD" else None
            self.send_header("Content-Length", length or str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            conn.close()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

    return Handler


@dataclass
class S3Endpoint:
    url: str  # through the fault proxy
    moto_url: str
    proxy: FaultProxy


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[S3Endpoint]:
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    proxy = FaultProxy(upstream=(host, port))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(proxy))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield S3Endpoint(
            url=f"http://127.0.0.1:{server.server_address[1]}",
            moto_url=f"http://{host}:{port}",
            proxy=proxy,
        )
    finally:
        server.shutdown()
        moto.stop()


@pytest.fixture
def s3_storage(s3_endpoint: S3Endpoint, settings):
    """KADR_STORAGE=s3 against a fresh bucket on the test server; yields the backend."""
    import boto3

    from media_pipeline import storage

    bucket = f"kadr-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint.moto_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).create_bucket(Bucket=bucket)
    settings.KADR_STORAGE = "s3"
    settings.KADR_S3_BUCKET = bucket
    settings.KADR_S3_ENDPOINT_URL = s3_endpoint.url
    settings.KADR_S3_REGION = "us-east-1"
    settings.KADR_S3_ACCESS_KEY_ID = "test"
    settings.KADR_S3_SECRET_ACCESS_KEY = "test"
    settings.KADR_S3_MAX_ATTEMPTS = 3
    s3_endpoint.proxy.fail_next = 0
    storage.reset()
    yield storage.get_storage()
    s3_endpoint.proxy.fail_next = 0
    storage.reset()
