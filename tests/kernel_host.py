"""Start sandboxed kernels for tests: an AsyncKernelManager on an event loop in its own thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import Future
from pathlib import Path
from queue import Empty
from typing import Any, TypeVar

import docker
import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import AsyncKernelManager

from jupyter_ide.kernels.image_names import image_for
from jupyter_ide.kernels.kernelspecs import LANGUAGES, IDEKernelSpecManager
from jupyter_ide.kernels.sandbox import SandboxManager

T = TypeVar("T")
START_TIMEOUT = 120


def require_images(*languages: str) -> None:
    """Fail (never skip) when the engine or a sandbox image is missing, saying how to fix it."""
    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as e:
        pytest.fail(f"No Docker engine answers ({e}); `make test` starts it (scripts/services.sh)")
    for language in languages or tuple(lang.key for lang in LANGUAGES):
        try:
            client.images.get(image_for(language))
        except docker.errors.ImageNotFound:
            pytest.fail(
                f"Image {image_for(language)} is missing: `jupyter ide images build --offline`"
            )


class KernelHost:
    """Owns a SandboxManager and a loop thread; starts and stops kernels on it."""

    def __init__(self, workspace: Path, **manager_config: Any) -> None:
        """Start the loop thread and a SandboxManager in docker mode for ``workspace``."""
        self.workspace = workspace
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        SandboxManager.clear_instance()
        self.manager = SandboxManager.instance(mode="docker", owner="tester", **manager_config)
        self.manager.workspace_dir = lambda: workspace
        self.kernels: list[AsyncKernelManager] = []

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = START_TIMEOUT) -> T:
        """Run ``coro`` on the host's loop and wait for its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout)

    def start(self, kernel_name: str, cwd: Path | None = None) -> AsyncKernelManager:
        """Start a kernel of ``kernel_name`` (an ide-* spec) in the sandbox."""

        async def _start() -> AsyncKernelManager:
            km = AsyncKernelManager(
                kernel_name=kernel_name, kernel_spec_manager=IDEKernelSpecManager()
            )
            await km.start_kernel(cwd=str(cwd or self.workspace))
            ready = km.client()
            ready.start_channels()
            try:
                await ready.wait_for_ready(timeout=START_TIMEOUT)
            finally:
                ready.stop_channels()
            return km

        km = self.run(_start())
        self.kernels.append(km)
        return km

    def client(self, km: AsyncKernelManager) -> BlockingKernelClient:
        """A blocking client connected to ``km``'s kernel, its IOPub subscription live."""
        kc = BlockingKernelClient()
        kc.load_connection_info(km.get_connection_info())
        kc.start_channels()
        handshake(kc)
        return kc

    def shutdown(self, km: AsyncKernelManager, now: bool = False) -> None:
        """Shut a kernel down (removing its container)."""
        self.run(km.shutdown_kernel(now=now))
        if km in self.kernels:
            self.kernels.remove(km)

    def close(self) -> None:
        """Shut every kernel down and stop the loop."""
        for km in list(self.kernels):
            try:
                self.shutdown(km, now=True)
            except Exception:  # keep closing the rest
                pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
        self.manager.instances.release()
        self.manager.close_client()
        SandboxManager.clear_instance()


def handshake(kc: BlockingKernelClient) -> None:
    """Ask kernel_info until its IOPub status arrives: the subscription is live (after a
    start or a restart, output published before it would be lost)."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        kc.kernel_info()
        try:
            kc.get_shell_msg(timeout=2)
            kc.get_iopub_msg(timeout=0.5)  # kernel_info's status: IOPub is connected
            break
        except Empty:
            if time.monotonic() > deadline:
                raise TimeoutError("the kernel did not answer") from None
    while True:  # drop what the handshake left
        try:
            kc.get_iopub_msg(timeout=0.2)
        except Empty:
            break


def execute(
    kc: BlockingKernelClient, code: str, timeout: float = 60, stdin: str | None = None
) -> tuple[dict[str, Any], str, str]:
    """Run ``code``; return the reply content, stdout and stderr (plus error text)."""
    out: list[str] = []
    err: list[str] = []

    def on_output(msg: dict[str, Any]) -> None:
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            (out if content["name"] == "stdout" else err).append(content["text"])
        elif kind == "error":
            err.append("\n".join(content.get("traceback", [])) or content.get("evalue", ""))
        elif kind in ("execute_result", "display_data"):
            out.append(content["data"].get("text/plain", ""))

    def on_stdin(msg: dict[str, Any]) -> None:
        kc.input(stdin or "")

    reply = kc.execute_interactive(
        code,
        timeout=timeout,
        output_hook=on_output,
        allow_stdin=stdin is not None,
        stdin_hook=on_stdin if stdin is not None else None,
    )
    return reply["content"], "".join(out), "".join(err)


def answers_within(kc: BlockingKernelClient, seconds: float) -> float:
    """Ask the kernel for kernel_info; return how long it took (fails past ``seconds``)."""
    start = time.monotonic()
    msg_id = kc.kernel_info()
    while True:
        reply = kc.get_shell_msg(timeout=seconds)
        if reply["parent_header"].get("msg_id") == msg_id:
            return time.monotonic() - start
