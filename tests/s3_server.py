"""moto's standalone S3 server as a subprocess on loopback, and a gate that can cut it off."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import closing

import boto3  # type: ignore[import-untyped]
import pytest

REGION = "us-east-1"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MotoServer:
    """``python -m moto.server`` on 127.0.0.1 and a free port."""

    def __init__(self) -> None:
        """Pick a port; call start()."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until it answers."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **CREDENTIALS},
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("moto's server exited at start-up")
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"moto's server did not answer on {self.url}")

    def stop(self) -> None:
        """Stop the server."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def client(self) -> object:
        """Return a plain boto3 client on the server (for set-up and checks)."""
        return boto3.client("s3", endpoint_url=self.url, region_name=REGION, **_boto_keys())


def _boto_keys() -> dict[str, str]:
    return {
        "aws_access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }


class TcpGate:
    """A TCP forwarder on its own port: close() makes S3 unreachable, open() brings it back.

    moto keeps its objects in memory, so "stopping S3" without losing them means cutting the
    network path to it, as an outage looks to the client. It also counts connections' requests
    (one per HTTP request line seen from the client).
    """

    def __init__(self, target_port: int) -> None:
        """Forward a new port to ``target_port``."""
        self.target_port = target_port
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: bool
    ) -> None:
        try:
            while data := await reader.read(65536):
                if count:
                    self.requests += sum(
                        data.count(verb)
                        for verb in (b"GET /", b"PUT /", b"POST /", b"HEAD /", b"DELETE /")
                    )
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        await asyncio.gather(
            self._pipe(reader, up_writer, True), self._pipe(up_reader, writer, False)
        )
        self._writers.difference_update((writer, up_writer))

    def open(self) -> None:
        """Start forwarding."""
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop

            async def serve() -> None:
                self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
                ready.set()

            loop.run_until_complete(serve())
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the S3 gate did not start")

    def close(self) -> None:
        """Refuse new connections and cut the open ones."""
        loop = self._loop
        if loop is None:
            return

        async def shut() -> None:
            assert self._server is not None
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            self._writers.clear()

        asyncio.run_coroutine_threadsafe(shut(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        assert self._thread is not None
        self._thread.join(10)
        self._loop = None


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto S3 server for the whole test run."""
    server = MotoServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The usual AWS variables, pointing nowhere real."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def s3_bucket(moto_server: MotoServer, s3_env: None) -> str:
    """A fresh bucket on the moto server; returns its name."""
    name = f"test-{uuid.uuid4().hex[:16]}"
    moto_server.client().create_bucket(Bucket=name)  # type: ignore[attr-defined]
    return name


@pytest.fixture
def s3_gate(moto_server: MotoServer) -> Iterator[TcpGate]:
    """A gate in front of moto that a test can close and reopen."""
    gate = TcpGate(moto_server.port)
    gate.open()
    try:
        yield gate
    finally:
        gate.close()


BACKENDS = ["local-sqlite", "s3-sqlite", "local-postgresql", "s3-postgresql"]


@pytest.fixture(params=BACKENDS)
def contents_backend(request: pytest.FixtureRequest) -> str:
    """Each contents test runs on the local store and S3, on SQLite and PostgreSQL."""
    return str(request.param)


@pytest.fixture
def contents_db_url(contents_backend: str, request: pytest.FixtureRequest) -> str:
    """The database of the backend under test."""
    name = "pg_database_url" if contents_backend.endswith("postgresql") else "sqlite_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def storage_settings(
    contents_backend: str, request: pytest.FixtureRequest, tmp_path: object
) -> dict[str, str]:
    """IDESettings for the blob store under test."""
    if contents_backend.startswith("s3"):
        bucket = request.getfixturevalue("s3_bucket")
        server: MotoServer = request.getfixturevalue("moto_server")
        return {"storage_url": f"s3://{bucket}/ide", "s3_endpoint_url": server.url}
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    return {"storage_url": (tmp_path / "blobs").as_uri()}
