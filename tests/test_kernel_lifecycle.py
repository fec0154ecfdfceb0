"""Sandboxed kernel lifecycle: interrupt, restart, shutdown, warm pool, orphan sweep, workspace."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

from jupyter_ide.kernels.containers import WORKSPACE_INSIDE
from jupyter_ide.kernels.image_names import image_for
from jupyter_ide.kernels.kernelspecs import PROVISIONER_NAME
from jupyter_ide.kernels.pool import WarmPool
from jupyter_ide.kernels.profile import (
    LABEL_INSTANCE,
    LABEL_KERNEL_ID,
    LABEL_SERVER,
    SandboxSpec,
    container_options,
)
from jupyter_ide.kernels.sandbox import SandboxManager, SandboxUnavailable
from jupyter_ide.kernels.service import pool_specs

from .kernel_host import KernelHost, execute, handshake, require_images


@pytest.fixture
def host(tmp_path: Path) -> Iterator[KernelHost]:
    """A sandbox whose workspace is a fresh folder."""
    require_images("python")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    workspace.chmod(0o777)
    host = KernelHost(workspace, default_limits={"time_limit": 20})
    yield host
    host.close()


def _containers(**labels: str) -> list:
    """Containers carrying every given label."""
    filters = {"label": [f"{k}={v}" for k, v in labels.items()]}
    return docker.from_env().containers.list(all=True, filters=filters)


def test_interrupt_stops_a_running_cell(host: KernelHost) -> None:
    km = host.start("ide-python")
    kc = host.client(km)
    msg_id = kc.execute("import time; time.sleep(60)")
    time.sleep(1.5)
    host.run(km.interrupt_kernel())
    while True:
        reply = kc.get_shell_msg(timeout=20)
        if reply["parent_header"]["msg_id"] == msg_id:
            break
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    _, out, _ = execute(kc, "print('alive')")
    assert out.strip() == "alive"
    kc.stop_channels()


def test_restart_gives_a_fresh_kernel_in_a_new_container(host: KernelHost) -> None:
    km = host.start("ide-python")
    kc = host.client(km)
    execute(kc, "x = 41")
    first = host.manager.kernels[km.kernel_id].container_id
    host.run(km.restart_kernel(now=True))
    kc.stop_channels()
    kc = host.client(km)
    reply, _, err = execute(kc, "print(x)")
    assert reply["status"] == "error" and "NameError" in err
    second = host.manager.kernels[km.kernel_id].container_id
    assert second != first
    assert _containers(**{LABEL_KERNEL_ID: km.kernel_id})[0].id == second
    kc.stop_channels()


def test_shutdown_removes_container_and_socket_folder(host: KernelHost) -> None:
    km = host.start("ide-python")
    socket_dir = Path(km.connection_file).parent
    assert socket_dir.is_dir()
    host.shutdown(km)
    assert _containers(**{LABEL_KERNEL_ID: km.kernel_id}) == []
    assert not socket_dir.exists()
    assert km.kernel_id not in host.manager.kernels


def test_workspace_is_shared_read_write_at_a_fixed_path(host: KernelHost) -> None:
    """The workspace appears at /workspace whatever its host path (a root server keeps it
    under /root, which the sandbox user cannot cross); the kernel starts in its folder."""
    (host.workspace / "given.txt").write_text("from the editor")
    sub = host.workspace / "lab1"
    sub.mkdir()
    sub.chmod(0o777)
    km = host.start("ide-python", cwd=sub)
    kc = host.client(km)
    _, out, err = execute(
        kc,
        "import os\nprint(os.getcwd())\nprint(open('../given.txt').read())\n"
        "_ = open('result.txt', 'w').write('from the kernel')",
    )
    assert out.splitlines() == [f"{WORKSPACE_INSIDE}/lab1", "from the editor"], err
    assert (sub / "result.txt").read_text() == "from the kernel"
    kc.stop_channels()


async def _wait_filled(pool: WarmPool, name: str) -> None:
    """Start filling ``name`` and wait until a kernel is ready."""
    pool.install()
    for _ in range(600):
        if pool.ready[name]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the pool never filled")


def _filled_pool(host: KernelHost, name: str) -> WarmPool:
    """A warm pool of one kernel of kernelspec ``name``, filled."""
    host.manager.pool_size = 1
    pool = WarmPool(host.manager, {name: pool_specs(host.manager)[name]})
    host.run(_wait_filled(pool, name))
    return pool


def test_warm_pool_hands_each_kernel_out_once_and_refills(host: KernelHost) -> None:
    pool = _filled_pool(host, "ide-python")
    pooled_id = pool.ready["ide-python"][0].container.id
    try:
        sub = host.workspace / "week2"
        sub.mkdir()
        sub.chmod(0o777)
        km = host.start("ide-python", cwd=sub)
        record = host.manager.kernels[km.kernel_id]
        assert record.container_id == pooled_id
        kc = host.client(km)
        _, out, _ = execute(kc, "import os; print(os.getcwd())")
        assert out.strip() == f"{WORKSPACE_INSIDE}/week2"
        host.run(_wait_filled(pool, "ide-python"))
        assert pool.ready["ide-python"][0].container.id != pooled_id
        km2 = host.start("ide-python")
        assert host.manager.kernels[km2.kernel_id].container_id != pooled_id
        # A restart keeps the kernel's sockets, so connected clients carry on.
        refill_id = pool.ready["ide-python"][0].container.id if pool.ready["ide-python"] else None
        before = km.get_connection_info()
        host.run(km.restart_kernel(now=True))
        assert km.get_connection_info() == before
        assert host.manager.kernels[km.kernel_id].container_id not in (pooled_id, refill_id)
        handshake(kc)  # as Jupyter Server nudges: the restarted kernel's IOPub is reached
        reply, out, _ = execute(kc, "print('same sockets')")
        assert out.strip() == "same sockets", reply
        kc.stop_channels()
    finally:
        host.run(pool.close())


def test_orphans_of_a_crashed_run_are_swept_at_start(host: KernelHost) -> None:
    manager = host.manager
    labels = {
        "jupyter-ide.kind": "kernel",
        LABEL_SERVER: manager.server_id,
        LABEL_INSTANCE: "crashed-run",
        LABEL_KERNEL_ID: str(uuid.uuid4()),
    }
    spec = SandboxSpec(image=image_for("python"), command=["sleep", "600"], labels=labels)
    orphan = docker.from_env().containers.create(**container_options(spec))
    orphan.start()
    # A crashed run's socket folder: under the data dir's root, or (a data dir too deep for
    # socket paths) a whole folder of its own in the temp dir, beside this run's.
    root = manager.socket_root()
    prefix = manager._fallback_prefix()
    if root.name.startswith(prefix):
        stale = root.parent / f"{prefix}deadbeef-crashed"
    else:
        stale = root / "deadbeef"
    stale.mkdir(mode=0o700)
    other_server = dict(labels, **{LABEL_SERVER: "another-server"})
    bystander = docker.from_env().containers.create(
        **container_options(SandboxSpec(image_for("python"), ["sleep", "600"], labels=other_server))
    )
    try:
        assert manager.sweep() >= 1
        assert _containers(**{LABEL_INSTANCE: "crashed-run", LABEL_SERVER: manager.server_id}) == []
        assert not stale.exists()
        bystander.reload()  # another server's container is left alone
    finally:
        bystander.remove(force=True)


def test_a_live_run_sharing_the_data_dir_keeps_its_containers(host: KernelHost) -> None:
    """Two servers started on one data dir share a server id; one's start-up sweep leaves
    the other's containers and socket folders alone while it runs, and sweeps them after."""
    other = SandboxManager(mode="docker", owner="tester")
    assert other.server_id == host.manager.server_id
    spec = SandboxSpec(image_for("python"), ["sleep", "600"], labels=other.labels("kernel"))
    theirs = docker.from_env().containers.create(**container_options(spec))
    their_sockets = other.new_kernel_sockets(b"key", "hmac-sha256").folder
    try:
        host.manager.sweep()
        theirs.reload()  # still there
        assert their_sockets.is_dir()
        other.instances.release()  # that server has ended
        assert host.manager.sweep() >= 1
        with pytest.raises(docker.errors.NotFound):
            theirs.reload()
        assert not their_sockets.exists()
    finally:
        other.instances.release()
        with contextlib.suppress(docker.errors.NotFound):
            theirs.remove(force=True)


def test_kernel_death_by_kill_is_reported(host: KernelHost) -> None:
    km = host.start("ide-python")
    record = host.manager.kernels[km.kernel_id]
    docker.from_env().containers.get(record.container_id).kill()
    for _ in range(50):
        if host.run(km.provisioner.poll()) is not None:
            break
        time.sleep(0.1)
    assert record.last_exit is not None
    assert record.last_exit["reason"] == "killed"


def test_a_warm_runner_kernel_moves_to_its_folder(host: KernelHost) -> None:
    require_images("bash")
    pool = _filled_pool(host, "ide-bash")
    pooled_id = pool.ready["ide-bash"][0].container.id
    try:
        sub = host.workspace / "scripts"
        sub.mkdir()
        sub.chmod(0o777)
        km = host.start("ide-bash", cwd=sub)
        assert host.manager.kernels[km.kernel_id].container_id == pooled_id
        kc = host.client(km)
        reply, out, _ = execute(kc, "pwd\necho made > made.txt")
        assert reply["status"] == "ok"
        assert out.strip() == f"{WORKSPACE_INSIDE}/scripts"
        assert (sub / "made.txt").read_text() == "made\n"
        kc.stop_channels()
    finally:
        host.run(pool.close())


def test_a_missing_image_is_a_clear_error(host: KernelHost, tmp_path: Path) -> None:
    spec_dir = tmp_path / "kernels" / "ide-nothing"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": ["python", "-m", "ide_runner", "-f", "{connection_file}"],
                "display_name": "missing",
                "language": "python",
                "metadata": {
                    "kernel_provisioner": {
                        "provisioner_name": PROVISIONER_NAME,
                        "config": {"image": "jupyter-ide/missing:0", "language": "python"},
                    }
                },
            }
        )
    )

    async def start() -> None:
        km = AsyncKernelManager(
            kernel_name="ide-nothing",
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")]),
        )
        await km.start_kernel(cwd=str(host.workspace))

    with pytest.raises(SandboxUnavailable, match="images build"):
        host.run(start())


def test_a_failing_last_sync_does_not_fail_the_shutdown(host: KernelHost) -> None:
    """The workspace sync after a kernel ends may fail (its folder gone); the kernel still
    shuts down and its container goes, instead of the error stopping the server's shutdown."""
    km = host.start("ide-python")
    kernel_id = km.kernel_id
    assert kernel_id is not None

    async def folder_gone() -> None:
        raise FileNotFoundError("the workspace folder is gone")

    host.manager.after_run = folder_gone
    host.run(km.shutdown_kernel(now=True))
    assert kernel_id not in host.manager.kernels
    assert _containers(**{LABEL_KERNEL_ID: kernel_id}) == []
