"""haproxy in front of jupyter-ide service replicas, as the README's deployment runs it.

The affinity rules: calls that reach a replica's own processes (kernels, sessions, terminals,
language servers) are hashed on the caller's ``Authorization`` header, so every call a user's
server makes with its hub token lands on the same replica; the live view's sockets are hashed
on the room owner the URL names (``?owner=``), so a student and the instructors watching her
meet in one replica's rooms; everything else (contents, courses, AI, judge) is stateless and
goes to the replica with the fewest open connections.
A replica that stops answering is taken out within a second; the hash then moves only its
users, and their next kernel starts on another replica.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

# The calls a replica answers from its own process: pinned to one replica per caller.
PINNED = r"^(/services/[^/]+)?/(api/(kernels|sessions|terminals)|lsp/)"
# The live view's sockets: one owner's rooms live in one replica, whoever watches them.
ROOMS = r"^(/services/[^/]+)?/ide/api/classroom/([^/]+/)?live/([^/]+/)?socket$"

CONFIG = """\
global
    maxconn 4096

defaults
    mode http
    option redispatch
    retries 3
    timeout connect 2s
    timeout client 300s
    timeout server 300s
    timeout tunnel 1h

frontend ide
    bind 127.0.0.1:{port}
    acl pinned path_reg {pinned}
    acl rooms path_reg {rooms}
    use_backend pinned if pinned
    use_backend rooms if rooms
    default_backend stateless

backend pinned
    balance hdr(Authorization)
    hash-type consistent
{pinned_servers}

backend rooms
    balance url_param owner
    hash-type consistent
{room_servers}

backend stateless
    balance leastconn
{stateless_servers}
"""


def haproxy_config(port: int, backends: list[str]) -> str:
    """Return haproxy's config: ``port`` on loopback in front of ``backends`` (host:port)."""
    servers = "\n".join(
        f"    server r{i} {where} check inter 500ms fall 2 rise 2"
        for i, where in enumerate(backends)
    )
    return CONFIG.format(
        port=port,
        pinned=PINNED,
        rooms=ROOMS,
        pinned_servers=servers,
        room_servers=servers,
        stateless_servers=servers,
    )


@dataclass
class Balancer:
    """A running haproxy: its URL, config and process."""

    url: str
    config: Path
    process: subprocess.Popen[bytes]


def haproxy_binary() -> str:
    """Return haproxy's path (scripts/services.sh installs it from Debian's packages)."""
    found = shutil.which("haproxy") or shutil.which("/usr/sbin/haproxy")
    if found is None:
        raise AssertionError("haproxy is missing: `make test` installs it (scripts/services.sh)")
    return found


@contextmanager
def haproxy(base: Path, port: int, backends: list[str]) -> Iterator[Balancer]:
    """Run haproxy on ``port`` in front of ``backends`` until the block ends."""
    config = base / "haproxy.cfg"
    config.write_text(haproxy_config(port, backends))
    binary = haproxy_binary()
    check = subprocess.run([binary, "-c", "-f", str(config)], capture_output=True, text=True)
    if check.returncode != 0:
        raise AssertionError(f"haproxy refused its config:\n{check.stdout}{check.stderr}")
    log = base / "haproxy.log"
    process = subprocess.Popen(
        [binary, "-db", "-f", str(config)], stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise AssertionError(f"haproxy exited:\n{log.read_text(errors='replace')}")
            try:
                requests.get(url, timeout=2, allow_redirects=False)
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield Balancer(url, config, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
