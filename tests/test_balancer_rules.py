"""The README's haproxy config routes as it says: run it in front of two stand-in replicas.

Each stand-in answers with its own name, so the test sees which replica a call reached.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from .balancer import haproxy
from .hubfixture import free_port

STUDENTS = [f"student{i}" for i in range(16)]


def _stand_in(name: str) -> ThreadingHTTPServer:
    """An HTTP server on loopback answering every GET with ``name``."""

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = name.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def balancer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """haproxy with the README's config in front of two stand-ins named r0 and r1."""
    stand_ins = [_stand_in("r0"), _stand_in("r1")]
    backends = [f"127.0.0.1:{s.server_address[1]}" for s in stand_ins]
    base: Path = tmp_path_factory.mktemp("haproxy")
    try:
        with haproxy(base, free_port(), backends) as running:
            yield running.url
    finally:
        for server in stand_ins:
            server.shutdown()


def _reached(url: str, token: str) -> str:
    """Return which stand-in answered a GET of ``url`` made with ``token``."""
    reply = requests.get(url, headers={"Authorization": f"token {token}"}, timeout=10)
    reply.raise_for_status()
    return reply.text


def test_a_students_live_rooms_and_their_watchers_meet_on_one_replica(balancer: str) -> None:
    """Her own socket (her token) and two instructors' sockets (theirs) on her rooms reach the
    same replica, with or without the hub's service prefix; different students spread."""
    homes = {}
    for student in STUDENTS:
        reached = {
            _reached(
                f"{balancer}/services/ide/ide/api/classroom/live/socket?path=a.py&owner={student}",
                student,
            ),
            _reached(
                f"{balancer}/services/ide/ide/api/classroom/cs101/live/{student}/socket"
                f"?path=a.py&owner={student}",
                "alan",
            ),
            _reached(
                f"{balancer}/ide/api/classroom/cs101/live/{student}/socket"
                f"?path=b.py&owner={student}",
                "grace",
            ),
        }
        assert len(reached) == 1, f"{student}'s rooms were split over {reached}"
        homes[student] = reached.pop()
    assert set(homes.values()) == {"r0", "r1"}, "one replica held every student's rooms"


def test_kernel_calls_stay_pinned_to_the_caller(balancer: str) -> None:
    """A user's kernel, terminal and language-server calls reach one replica (her token)."""
    for student in STUDENTS[:6]:
        reached = {
            _reached(f"{balancer}/services/ide/api/kernels", student),
            _reached(f"{balancer}/services/ide/api/terminals/1", student),
            _reached(f"{balancer}/services/ide/lsp/ws/pylsp", student),
        }
        assert len(reached) == 1, f"{student}'s calls were split over {reached}"
