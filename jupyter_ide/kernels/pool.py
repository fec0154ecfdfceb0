"""The warm pool: kernels started ahead per kernelspec, each handed out once and replaced.

For one user (a standalone server) a warm kernel mounts that user's workspace from the start.
For many (the jupyter-ide service) it mounts an empty hand-off folder, onto which its user's
workspace is bind-mounted when it is handed out (handoff.py); without hand-off mounts there is
no warm kernel for many users at all.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any, ClassVar

from docker.errors import DockerException, ImageNotFound
from docker.models.containers import Container
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.connect import write_connection_file
from tornado.web import HTTPError

from .containers import KernelLaunch, remove_container, start_kernel_container
from .handoff import PROPAGATION
from .profile import SandboxLimits
from .sandbox import SandboxManager
from .sockets import CONNECTION_INSIDE, KernelSockets

log = logging.getLogger(__name__)

READY_TIMEOUT = 60.0
REPLY_TIMEOUT = 10.0
POOL_ENV = {"LANG": "C.UTF-8", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}


@dataclass(frozen=True)
class PoolSpec:
    """What a pooled kernel of one kernelspec runs."""

    name: str
    image: str
    language: str
    argv: list[str]
    limits: SandboxLimits


@dataclass
class PooledKernel:
    """A started, answering kernel waiting for its one user."""

    spec: PoolSpec
    container: Container
    sockets: KernelSockets
    workspace: Path
    client: AsyncKernelClient | None = field(default=None, repr=False)
    # Its hand-off folder (many users): where its user's workspace is bound when handed out.
    mount_point: Path | None = None

    @property
    def connection_info(self) -> dict[str, Any]:
        """How clients on the host reach the kernel."""
        return self.sockets.host_info()

    async def run_silently(self, code: str) -> None:
        """Run one silent cell (no output, no history) and wait for its reply."""
        client = self.client or _client_for(self.connection_info)
        msg_id = client.execute(code, silent=True, store_history=False)
        while True:
            reply = await client.get_shell_msg(timeout=REPLY_TIMEOUT)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        if reply["content"].get("status") != "ok":
            raise RuntimeError(f"The warm kernel refused to move: {reply['content']}")

    def release_client(self) -> None:
        """Close the pool's own connection to the kernel."""
        if self.client is not None:
            self.client.stop_channels()
            self.client = None


def _client_for(info: Mapping[str, Any]) -> AsyncKernelClient:
    """Return a kernel client connected to ``info``."""
    client = AsyncKernelClient()
    client.load_connection_info(dict(info))  # type: ignore[arg-type]
    client.start_channels()
    return client


async def _wait_ready(client: AsyncKernelClient, timeout: float) -> None:
    """Wait until the kernel answers kernel_info and its IOPub is connected.

    Not ``wait_for_ready``: without a kernel manager it judges life by heartbeats, which a
    kernel still importing its libraries has not sent yet.
    """
    deadline = time.monotonic() + timeout
    while True:
        client.kernel_info()
        try:
            await client.get_shell_msg(timeout=1)
            await client.get_iopub_msg(timeout=0.5)
        except Empty:
            if time.monotonic() > deadline:
                raise TimeoutError("the warm kernel did not answer") from None
            continue
        break
    while True:
        try:
            await client.get_iopub_msg(timeout=0.05)
        except Empty:
            return


async def release_hand_off(manager: SandboxManager, entry: PooledKernel) -> None:
    """Undo a warm kernel's hand-off mount and remove its folder, once its container is gone."""
    folder, entry.mount_point = entry.mount_point, None
    if folder is None or manager.handoff is None:
        return
    try:
        await asyncio.to_thread(manager.handoff.release, folder)
    except OSError as e:
        log.warning("Could not release the hand-off folder %s: %s", folder, e)


class WarmPool:
    """Per kernelspec, ``size`` kernels already started (in the user's workspace, or blank)."""

    _current: ClassVar[WarmPool | None] = None

    def __init__(self, manager: SandboxManager, specs: Mapping[str, PoolSpec]) -> None:
        """Size each kernelspec's pool from the manager's settings."""
        self.manager = manager
        self.handoff = manager.handoff if manager.multi_user else None
        self.specs = dict(specs)
        # Many users but no hand-off mounts: a warm kernel could be given to nobody.
        usable = not manager.multi_user or self.handoff is not None
        self.sizes = {
            name: int(manager.pool_specs.get(name, manager.pool_size)) if usable else 0
            for name in self.specs
        }
        self.ready: dict[str, list[PooledKernel]] = {name: [] for name in self.specs}
        self.starting: dict[str, int] = dict.fromkeys(self.specs, 0)
        self.missing_images: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    @classmethod
    def current(cls) -> WarmPool | None:
        """Return the pool of this server, if one runs."""
        return cls._current

    def install(self) -> None:
        """Make this the server's pool and begin filling it."""
        WarmPool._current = self
        for name in self.specs:
            self._refill(name)

    def take(self, name: str, workspace: Path) -> PooledKernel | None:
        """Hand out a warm kernel of kernelspec ``name`` (once), and start its replacement."""
        entries = self.ready.get(name)
        if not entries:
            return None
        for i, entry in enumerate(entries):
            if self.handoff is not None or entry.workspace == workspace:
                del entries[i]
                # Later, so the replacement does not take the CPU from the kernel handed out.
                self._refill(name, delay=self.manager.pool_refill_delay)
                return entry
        return None

    async def hand_out(self, name: str, workspace: Path) -> PooledKernel | None:
        """Take a warm kernel for ``workspace``; with hand-off, bind that workspace into it.

        A hand-off that fails removes the kernel: the caller starts one cold instead.
        """
        entry = self.take(name, workspace)
        if entry is None or self.handoff is None:
            return entry
        assert entry.mount_point is not None
        try:
            await asyncio.to_thread(self.handoff.attach, entry.mount_point, workspace)
        except OSError as e:
            log.warning("Warm pool: could not hand a %s kernel over: %s", name, e)
            await self._discard(entry)
            return None
        entry.workspace = workspace
        return entry

    def _refill(self, name: str, delay: float = 0.0) -> None:
        """Start filling ``name`` in the background (after ``delay`` seconds)."""
        if self._closed or self.sizes.get(name, 0) <= 0 or name in self.missing_images:
            return
        task = asyncio.ensure_future(self._fill(name, delay))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fill(self, name: str, delay: float = 0.0) -> None:
        """Start kernels until ``name`` has its size."""
        if delay:
            await asyncio.sleep(delay)
        while not self._closed and len(self.ready[name]) + self.starting[name] < self.sizes[name]:
            self.starting[name] += 1
            try:
                entry = await self._start_one(self.specs[name])
            except ImageNotFound:
                self.missing_images.add(name)
                log.warning(
                    "Warm pool: image %s is missing; build it with `jupyter ide images build`",
                    self.specs[name].image,
                )
                return
            except (DockerException, OSError, RuntimeError, TimeoutError, HTTPError) as e:
                # HTTPError: the workspace could not be opened (its database, its volume).
                log.warning("Warm pool: could not start a %s kernel: %s", name, e)
                return
            finally:
                self.starting[name] -= 1
            if self._closed:
                await self._discard(entry)
                return
            self.ready[name].append(entry)

    async def _start_one(self, spec: PoolSpec) -> PooledKernel:
        """Start one kernel container and wait until it answers."""
        manager = self.manager
        if not await asyncio.to_thread(manager.engine_answers):
            raise RuntimeError("the Docker engine does not answer")
        sockets = await asyncio.to_thread(
            manager.new_kernel_sockets, secrets.token_hex(32).encode(), "hmac-sha256"
        )
        try:
            info = sockets.host_info()
            write_connection_file(
                str(sockets.host_file), **{**info, "key": sockets.key}, kernel_name=spec.name
            )
            await asyncio.to_thread(sockets.prepare, spec.name)
            handoff, mount_point = self.handoff, None
            if handoff is not None:
                workspace = mount_point = await asyncio.to_thread(handoff.prepare)
            else:
                workspace = await manager.open_workspace()
            argv = [a.replace("{connection_file}", CONNECTION_INSIDE) for a in spec.argv]
            launch = KernelLaunch(
                image=spec.image,
                argv=argv,
                limits=spec.limits,
                sockets=sockets,
                workspace=workspace,
                cwd=workspace,
                env=POOL_ENV,
                kernel_id=f"pool-{uuid.uuid4().hex[:12]}",
                kind="pool",
                owner="" if handoff is not None else None,  # nobody's until handed out
                propagation=PROPAGATION if handoff is not None else "",
            )
            try:
                container = await asyncio.to_thread(start_kernel_container, manager, launch)
            except BaseException:
                if handoff is not None and mount_point is not None:
                    await asyncio.to_thread(handoff.release, mount_point)
                raise
        except BaseException:
            await asyncio.to_thread(manager.release_kernel_sockets, sockets)
            raise
        entry = PooledKernel(spec, container, sockets, workspace, mount_point=mount_point)
        try:
            entry.client = _client_for(info)
            await _wait_ready(entry.client, READY_TIMEOUT)
            if spec.language == "python":
                await entry.run_silently("pass")  # pay the first execution's cost ahead
            # It answered, so it has read its connection file: nothing inside may read it now.
            await asyncio.to_thread(sockets.scrub)
        except BaseException:
            await self._discard(entry)
            raise
        return entry

    async def _discard(self, entry: PooledKernel) -> None:
        """Remove a pooled kernel that will never be used."""
        entry.release_client()
        await asyncio.to_thread(remove_container, entry.container)
        await asyncio.to_thread(self.manager.release_kernel_sockets, entry.sockets)
        await release_hand_off(self.manager, entry)

    def describe(self) -> dict[str, dict[str, int]]:
        """Ready and starting kernels per kernelspec."""
        return {
            name: {
                "size": self.sizes[name],
                "ready": len(self.ready[name]),
                "starting": self.starting[name],
            }
            for name in self.specs
        }

    async def close(self) -> None:
        """Stop filling and remove every waiting kernel."""
        self._closed = True
        # Let starts in flight finish: each removes its own kernel once it sees the pool closed.
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for entries in self.ready.values():
            while entries:
                await self._discard(entries.pop())
        if WarmPool._current is self:
            WarmPool._current = None
