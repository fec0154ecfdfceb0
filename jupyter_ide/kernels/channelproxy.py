"""The server's side of a kernel's shell and stdin channels: every message passes through it.

Clients (Jupyter Server, the warm pool) connect to a ROUTER socket in the kernel's private
folder, which the sandbox cannot reach; a DEALER forwards to the kernel's own socket. The
forwarding is libzmq's proxy in a thread of its own (no Python on the path of a message). The
shell proxy copies every message to a PUB socket, so the time-limit watchdog sees the execute
requests the server sent, not what the kernel says about itself.

The kernel sees one peer per channel, named ``ROUTING_ID``, followed by the client's own
identity. Its stdin requests go to the identities of the shell request they answer, so the
stdin proxy connects under the same name: each input request reaches the client that asked.
"""

from __future__ import annotations

import logging
import threading
import uuid
from pathlib import Path

import zmq
import zmq.asyncio

log = logging.getLogger(__name__)

ROUTING_ID = b"jupyter-ide-server"
CAPTURE_HWM = 100_000  # messages the watchdog may fall behind by before copies are dropped
STOP_TIMEOUT = 5.0
_async_context: zmq.asyncio.Context | None = None


def async_context() -> zmq.asyncio.Context:
    """Return an asyncio context sharing the proxies' context (inproc needs one context)."""
    global _async_context
    if _async_context is None:
        _async_context = zmq.asyncio.Context.shadow(zmq.Context.instance().underlying)
    return _async_context


class ChannelProxy:
    """Forward one kernel channel from ``frontend`` (clients) to ``backend`` (the kernel)."""

    def __init__(self, frontend: Path, backend: Path, capture: bool = False) -> None:
        """Remember both socket paths (and whether to copy messages); nothing is bound yet."""
        self.frontend = frontend
        self.backend = backend
        name = uuid.uuid4().hex
        self.capture_url = f"inproc://jide-channel-{name}" if capture else None
        self._control_url = f"inproc://jide-channel-control-{name}"
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the proxy thread forwards messages."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Bind the frontend, connect the backend and start forwarding (raises if binding fails)."""
        context: zmq.Context[zmq.Socket[bytes]] = zmq.Context.instance()
        sockets: list[zmq.Socket[bytes]] = []
        try:
            front = context.socket(zmq.ROUTER)
            sockets.append(front)
            front.bind(f"ipc://{self.frontend}")
            back = context.socket(zmq.DEALER)
            sockets.append(back)
            back.setsockopt(zmq.ROUTING_ID, ROUTING_ID)
            back.connect(f"ipc://{self.backend}")
            capture = None
            if self.capture_url is not None:
                capture = context.socket(zmq.PUB)
                sockets.append(capture)
                capture.setsockopt(zmq.SNDHWM, CAPTURE_HWM)
                capture.bind(self.capture_url)
            control = context.socket(zmq.PAIR)
            sockets.append(control)
            control.bind(self._control_url)
        except BaseException:
            for socket in sockets:
                socket.close(linger=0)
            raise
        for socket in sockets:
            socket.setsockopt(zmq.LINGER, 0)
        self._thread = threading.Thread(
            target=_forward,
            args=(front, back, capture, control),
            name=f"kernel-proxy {self.frontend}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop forwarding and close the sockets (blocking: call it off the event loop)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        context: zmq.Context[zmq.Socket[bytes]] = zmq.Context.instance()
        control = context.socket(zmq.PAIR)
        try:
            control.connect(self._control_url)
            control.send(b"TERMINATE")
            # Closed only once the proxy is gone: closing earlier may drop the message unread.
            thread.join(STOP_TIMEOUT)
        finally:
            control.close(linger=0)
        if thread.is_alive():
            log.warning("The kernel channel proxy at %s did not stop", self.frontend)


def _forward(
    front: zmq.Socket[bytes],
    back: zmq.Socket[bytes],
    capture: zmq.Socket[bytes] | None,
    control: zmq.Socket[bytes],
) -> None:
    """Run libzmq's proxy until told to terminate; then close its sockets."""
    try:
        zmq.proxy_steerable(front, back, capture, control)
    except zmq.ZMQError as e:
        if e.errno != zmq.ETERM:
            log.warning("A kernel's channel proxy stopped: %s", e)
    finally:
        for socket in (front, back, capture, control):
            if socket is not None:
                socket.close(linger=0)
