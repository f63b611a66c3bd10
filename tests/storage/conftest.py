"""An S3 server for storage tests: moto's server mode on 127.0.0.1 (a real HTTP endpoint, so
pyarrow, boto3, deltalake and a `meshc` CLI subprocess all talk to it as they would to a bucket).

    def test_x(s3):                      # env points at the session's server, for this test
        bucket = s3.bucket()             # a new, empty, uniquely named bucket
        s3.put(bucket, "in/orders.csv", b"...")
        s3.get(bucket, "out/data.parquet")

    def test_y(private_s3_server):       # a server of this test's own (stop it mid-run)
        private_s3_server.stop()

moto keeps its buckets in process-wide memory: every server of this process (the session's and the
private ones) sees the same buckets, so each test makes its own with `bucket()`.
"""

from __future__ import annotations

import itertools
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

REGION = "us-east-1"
# moto accepts any key; these are not secrets
ACCESS_KEY = "meshc-test-access-key"
SECRET_KEY = "meshc-test-secret-key"
_serial = itertools.count()


@dataclass
class S3Server:
    endpoint: str  # http://127.0.0.1:<port>
    _server: Any = field(repr=False)
    running: bool = True

    def env(self) -> dict[str, str]:
        """What a process needs to reach this server (pyarrow, boto3, deltalake, the CLI)."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ENDPOINT_URL_S3": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            # plain http, no instance-metadata lookups (they wait for a timeout off EC2)
            "AWS_ALLOW_HTTP": "true",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )

    def bucket(self, prefix: str = "meshc-test") -> str:
        """Create a new empty bucket; its name."""
        name = f"{prefix}-{next(_serial)}-{uuid.uuid4().hex[:8]}"
        self.client().create_bucket(Bucket=name)
        return name

    def put(self, bucket: str, key: str, body: bytes) -> None:
        self.client().put_object(Bucket=bucket, Key=key, Body=body)

    def get(self, bucket: str, key: str) -> bytes:
        body: bytes = self.client().get_object(Bucket=bucket, Key=key)["Body"].read()
        return body

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        listed = self.client().list_objects_v2(Bucket=bucket, Prefix=prefix)
        return sorted(o["Key"] for o in listed.get("Contents", []))

    def stop(self) -> None:
        """Stop serving: later requests are refused (connection refused). Idempotent."""
        if self.running:
            self._server.stop()
            self.running = False


def _start() -> S3Server:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return S3Server(f"http://{host}:{port}", server)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """One moto S3 server for the session (no environment set: use `s3` or `server.env()`)."""
    pytest.importorskip("moto.server", reason="moto[server] is in the dev extra")
    server = _start()
    yield server
    server.stop()


@pytest.fixture
def s3(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """The session's S3 server, with this test's environment (and CLI subprocesses) pointed at it."""
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    return s3_server


@pytest.fixture
def private_s3_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Server]:
    """A server of this test's own, environment pointed at it: stop it to simulate an outage."""
    pytest.importorskip("moto.server", reason="moto[server] is in the dev extra")
    server = _start()
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    yield server
    server.stop()
