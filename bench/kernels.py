"""Kernels: start and execute times of our sandbox (cold, warm pool) against two peers.

Peers, in one run on this machine:
- jupyter_client's LocalProvisioner: plain ipykernel on the host, no sandbox (the baseline);
- the same, running the launcher our Python image uses (``ide_runner.ipython``: capped output,
  the garbage collector off while the kernel starts), to show what the container alone adds;
- jupyter-ide cold: our DockerSandboxProvisioner, kernelspec ``ide-python``, no warm pool;
- jupyter-ide warm pool: the same, each kernel handed out by a filled WarmPool;
- gateway_provisioners' DockerProvisioner, with an image made from our offline base image plus
  its own kernel launchers (bench/peer_images/gateway-python).

Measured: the time from the start request to the first completed ``execute_request`` (its
``execute_reply``), over ``--starts`` starts each, and the execute round trip on a started kernel.
The starts go in rounds, one start of each peer per round, so that the load of a shared machine
falls on every peer alike. The warm pool is filled (untimed) before each start of every peer, so
no peer's start shares the CPUs with a pool kernel booting; the refill that a hand-out begins
runs during the warm start itself, as it does in a server.

Run alone: ``.venv/bin/python -m bench.kernels [--starts N] [--round-trips N] [--only PEER...]``.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import functools
import hashlib
import json
import os
import platform
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import docker
from docker.errors import ImageNotFound
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

from jupyter_ide.kernels.image_names import image_for
from jupyter_ide.kernels.images import build, hostconfig
from jupyter_ide.kernels.kernelspecs import IDEKernelSpecManager
from jupyter_ide.kernels.pool import WarmPool
from jupyter_ide.kernels.profile import LABEL_SERVER
from jupyter_ide.kernels.sandbox import SandboxManager
from jupyter_ide.kernels.service import pool_specs

from .quick import quick, skipped
from .stats import p95, print_table

STARTS = 2 if quick() else 20
ROUND_TRIPS = 5 if quick() else 200
WARMUP_STARTS = 1  # untimed: the first start after a build pays for cold disk caches
WARMUP_ROUND_TRIPS = 10
REPLY_TIMEOUT = 120.0
POOL_TIMEOUT = 120.0
MAX_POOL_FAILURES = 40
FIRST_CODE = "x = 1"
ROUND_TRIP_CODE = "x += 1"
KERNEL_NAME = "ide-python"

LOCAL = "local ipykernel (no sandbox)"
LAUNCHER = "local, our launcher (no sandbox)"
LAUNCHER_SPEC = "bench-ide-launcher"
COLD = "jupyter-ide cold"
WARM = "jupyter-ide warm pool"
GATEWAY = "gateway DockerProvisioner"

PEER_IMAGES = Path(__file__).parent / "peer_images"
GATEWAY_IMAGE_REPOSITORY = "jupyter-ide-bench/gateway-python"
GATEWAY_SPEC = "bench-gateway-python"
GATEWAY_LABEL = "gateway-provisioners"  # the `app` label its launcher puts on each container
BENCH_USER = "bench"

START_ROW = "start -> first execute"
ROUND_TRIP_ROW = "execute round trip"


# -- one kernel ----------------------------------------------------------------------------


async def execute(kc: AsyncKernelClient, code: str) -> None:
    """Send one execute_request and wait for its execute_reply (which must say ok)."""
    msg_id = kc.execute(code, store_history=False)
    while True:
        reply = await kc.get_shell_msg(timeout=REPLY_TIMEOUT)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    if reply["content"].get("status") != "ok":
        raise RuntimeError(f"execute_request failed: {reply['content']}")


@dataclass
class Started:
    """A started kernel and the client that ran its first cell."""

    km: AsyncKernelManager
    kc: AsyncKernelClient
    ms: float

    async def stop(self) -> None:
        """Close the client and shut the kernel down (its container, if any, is removed)."""
        self.kc.stop_channels()
        await self.km.shutdown_kernel(now=True)


@dataclass
class Peer:
    """How to start one peer's kernel; ``ready`` runs (untimed) before each start."""

    name: str
    make: Callable[[], AsyncKernelManager]
    start_kwargs: dict[str, Any] = field(default_factory=dict)
    ready: Callable[[], Awaitable[None]] | None = None
    after: Callable[[], None] | None = None  # runs (untimed) once the kernel is shut down

    async def start(self) -> Started:
        """Time one start: the start request up to the first completed execute_request."""
        if self.ready is not None:
            await self.ready()
        begin = time.perf_counter()
        km = self.make()
        try:
            await km.start_kernel(**self.start_kwargs)
            kc = km.client()
            kc.start_channels()
            await execute(kc, FIRST_CODE)
        except BaseException:
            if km.has_kernel:
                await km.shutdown_kernel(now=True)
            raise
        return Started(km, kc, (time.perf_counter() - begin) * 1000)

    async def stop(self, started: Started) -> None:
        """Shut a started kernel down, then run the ``after`` hook."""
        await started.stop()
        if self.after is not None:
            self.after()


async def measure_starts(peers: list[Peer], starts: int) -> dict[str, list[float]]:
    """Start each peer's kernel once per round, ``starts`` rounds (after untimed warm-ups)."""
    for _ in range(WARMUP_STARTS):
        for peer in peers:
            await peer.stop(await peer.start())
    start_ms: dict[str, list[float]] = {peer.name: [] for peer in peers}
    for i in range(starts):
        line = []
        for peer in peers:
            started = await peer.start()
            await peer.stop(started)
            start_ms[peer.name].append(started.ms)
            line.append(f"{peer.name} {started.ms:.0f}")
        print(f"  round {i + 1}/{starts} (ms): {', '.join(line)}", file=sys.stderr)
    return start_ms


async def measure_round_trips(peer: Peer, round_trips: int) -> list[float]:
    """Time ``round_trips`` execute requests, one after another, on one started kernel."""
    started = await peer.start()
    try:
        for _ in range(WARMUP_ROUND_TRIPS):
            await execute(started.kc, ROUND_TRIP_CODE)
        trips: list[float] = []
        for _ in range(round_trips):
            begin = time.perf_counter()
            await execute(started.kc, ROUND_TRIP_CODE)
            trips.append((time.perf_counter() - begin) * 1000)
    finally:
        await peer.stop(started)
    return trips


# -- the gateway_provisioners peer ---------------------------------------------------------


def bridge_ip(client: docker.DockerClient) -> str:
    """Return the host's address on Docker's default bridge (docker0), where containers reach it."""
    network = client.networks.get("bridge")
    for config in network.attrs.get("IPAM", {}).get("Config") or []:
        if config.get("Gateway"):
            return str(config["Gateway"])
    # Older engines leave Gateway out: ask the bridge interface itself for its address.
    name = network.attrs.get("Options", {}).get("com.docker.network.bridge.name", "docker0")
    return interface_ipv4(name)


def interface_ipv4(name: str) -> str:
    """Return the IPv4 address of a network interface of this host (SIOCGIFADDR)."""
    siocgifaddr = 0x8915
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            packed = fcntl.ioctl(
                sock.fileno(), siocgifaddr, struct.pack("256s", name.encode()[:15])
            )
        except OSError as e:
            raise RuntimeError(f"the Docker bridge {name} has no IPv4 address: {e}") from e
    return socket.inet_ntoa(packed[20:24])


def ensure_images(client: docker.DockerClient) -> None:
    """Build our base and python images the offline way when they are missing (else reuse)."""
    try:
        client.images.get(image_for("base"))
        client.images.get(image_for("python"))
    except ImageNotFound:
        print("building the sandbox images: jupyter ide images build --offline", file=sys.stderr)
        build(["python"], offline=True, client=client)


GATEWAY_DIGEST_LABEL = "org.jupyter-ide.bench-digest"


def _gateway_tag(client: docker.DockerClient) -> tuple[str, str]:
    """Return the peer image's tag and the digest of what it is built from."""
    gp_version = version("gateway_provisioners")
    base = image_for("base")
    try:
        base_id = client.images.get(base).id
    except ImageNotFound as e:
        raise RuntimeError(
            f"{base} is missing: build it with `jupyter ide images build --offline`"
        ) from e
    dockerfile = (PEER_IMAGES / "gateway-python" / "Dockerfile").read_text()
    tag = f"{GATEWAY_IMAGE_REPOSITORY}:gp{gp_version}"
    return tag, hash_text(f"{base_id}:{gp_version}:{dockerfile}")


def gateway_image_ready(client: docker.DockerClient) -> bool:
    """Whether the peer's image is built and up to date (nothing to build)."""
    tag, digest = _gateway_tag(client)
    try:
        return bool(client.images.get(tag).labels.get(GATEWAY_DIGEST_LABEL) == digest)
    except ImageNotFound:
        return False


def gateway_image(client: docker.DockerClient) -> str:
    """Return the peer's image, building it from our base image when missing or out of date."""
    gp_version = version("gateway_provisioners")
    base = image_for("base")
    folder = PEER_IMAGES / "gateway-python"
    tag, digest = _gateway_tag(client)
    label = GATEWAY_DIGEST_LABEL
    if gateway_image_ready(client):
        return tag
    print(f"building {tag} from {base} (gateway_provisioners {gp_version})", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="jupyter-ide-bench-") as context:
        (Path(context) / "Dockerfile").write_bytes((folder / "Dockerfile").read_bytes())
        hostconfig.write_host_context(Path(context) / "host")
        stream = client.api.build(
            path=context,
            tag=tag,
            buildargs={
                "BASE_IMAGE": base,
                "GP_VERSION": gp_version,
                **hostconfig.proxy_build_args(),
            },
            network_mode="host",
            labels={label: digest},
            rm=True,
            forcerm=True,
            pull=False,
            decode=True,
        )
        tail: list[str] = []
        for chunk in stream:
            if "error" in chunk:
                shown = "\n".join(tail[-30:])
                raise RuntimeError(f"building {tag} failed: {chunk['error']}\n{shown}")
            tail.extend(line for line in str(chunk.get("stream", "")).splitlines() if line)
    return tag


def hash_text(text: str) -> str:
    """Return the sha256 of ``text``."""
    return hashlib.sha256(text.encode()).hexdigest()


def install_gateway_spec(root: Path, image: str) -> Path:
    """Write the peer's kernelspec with its own `jupyter docker-spec install`; return its dir."""
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [
            str(bin_dir / "jupyter-docker-spec"),
            "install",
            f"--prefix={root}",
            f"--kernel-name={GATEWAY_SPEC}",
            f"--image-name={image}",
            "--log-level=WARN",
        ],
        check=True,
    )
    return root / "share" / "jupyter" / "kernels"


def install_launcher_spec(root: Path) -> Path:
    """Write a kernelspec running the sandbox's Python launcher on the host; return its dir."""
    folder = root / "launcher-kernels"
    (folder / LAUNCHER_SPEC).mkdir(parents=True)
    spec = {
        "argv": [
            sys.executable,
            "-m",
            "jupyter_ide.kernels.runner.ipython",
            "-f",
            "{connection_file}",
        ],
        "display_name": "Python 3 (jupyter-ide launcher, no sandbox)",
        "language": "python",
    }
    (folder / LAUNCHER_SPEC / "kernel.json").write_text(json.dumps(spec))
    return folder


def remove_gateway_containers(client: docker.DockerClient, kernel_ids: set[str]) -> int:
    """Remove every container the peer started for this run's kernels."""
    removed = 0
    for container in client.containers.list(all=True, filters={"label": f"app={GATEWAY_LABEL}"}):
        if container.labels.get("kernel_id") in kernel_ids:
            container.remove(force=True)
            removed += 1
    return removed


# -- the run -------------------------------------------------------------------------------


@contextmanager
def bench_environment(data_dir: Path, response_ip: str) -> Iterator[None]:
    """A private Jupyter data dir (own server id, kernelspecs) and the peer's response address."""
    saved = {
        k: os.environ.get(k) for k in ("JUPYTER_DATA_DIR", "GP_RESPONSE_IP", "GP_DOCKER_NETWORK")
    }
    os.environ["JUPYTER_DATA_DIR"] = str(data_dir)
    # gateway_provisioners reads these when first imported: the launcher in the container sends
    # its connection info to this address, on the host's side of the docker0 bridge.
    os.environ["GP_RESPONSE_IP"] = response_ip
    os.environ["GP_DOCKER_NETWORK"] = "bridge"
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def cpu_model() -> str:
    """Return the CPU's model name (as lscpu shows it)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@dataclass
class PoolSwitch:
    """The warm pool, filled (untimed) before every start and offered only to the warm peer."""

    pool: WarmPool
    name: str
    failed: int = 0

    async def offered(self) -> None:
        """Before a warm start: the pool is full and the provisioner may take from it."""
        await self._full()
        WarmPool._current = self.pool  # what WarmPool.install() sets; the provisioner reads it

    async def withheld(self) -> None:
        """Before any other start: the pool is full (idle) and the provisioner does not see it."""
        await self._full()
        WarmPool._current = None

    async def _full(self) -> None:
        """Return once a kernel is ready; start a new fill when one gave up."""
        deadline = time.monotonic() + POOL_TIMEOUT
        while not self.pool.ready[self.name]:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the warm pool did not fill in {POOL_TIMEOUT:.0f} s")
            if not self.pool.starting[self.name] and not self.pool._tasks:
                # The pool gives up after a failed start (its log says why); a server would
                # refill on the next hand-out. Count it and ask again, a few times at most.
                self.failed += 1
                if self.failed > MAX_POOL_FAILURES:
                    raise RuntimeError(
                        f"the warm pool failed to start a {self.name} kernel "
                        f"{self.failed} times (see the log above)"
                    )
                self.pool._refill(self.name)
            await asyncio.sleep(0.02)


PEER_KEYS = {
    "local": LOCAL,
    "launcher": LAUNCHER,
    "cold": COLD,
    "warm": WARM,
    "gateway": GATEWAY,
}


async def main(
    starts: int = STARTS, round_trips: int = ROUND_TRIPS, only: list[str] | None = None
) -> dict[str, dict[str, list[float]]]:
    """Run the four peers (or ``only`` those keys, always with local); print table and goals."""
    chosen = {LOCAL, *(PEER_KEYS[key] for key in only)} if only else set(PEER_KEYS.values())
    client = docker.from_env(timeout=120)
    client.ping()
    ensure_images(client)
    if quick() and GATEWAY in chosen and not gateway_image_ready(client):
        chosen.discard(GATEWAY)
        skipped("the gateway DockerProvisioner peer", "its image is not built; `make bench` does")
    gw_image = gateway_image(client) if GATEWAY in chosen else "-"
    gateway_ids: set[str] = set()
    notes: list[str] = []
    results: dict[str, dict[str, list[float]]] = {START_ROW: {}, ROUND_TRIP_ROW: {}}
    with tempfile.TemporaryDirectory(prefix="jide-bench-") as tmp:
        root = Path(tmp)
        workspace = root / "workspace"
        cwd = workspace / "course" / "week1"  # kernels start in a folder of the workspace
        cwd.mkdir(parents=True)
        for path in (workspace, workspace / "course", cwd):
            if os.getuid() == 0:
                os.chown(path, 1000, 1000)
            path.chmod(0o755)
        with bench_environment(root / "data", bridge_ip(client)):
            SandboxManager.clear_instance()
            manager = SandboxManager.instance(mode="docker", owner=BENCH_USER, pool_size=0)
            manager.workspace_dir = lambda: workspace
            manager.pool_specs = {KERNEL_NAME: 1}
            pool = WarmPool(manager, {KERNEL_NAME: pool_specs(manager)[KERNEL_NAME]})
            switch = PoolSwitch(pool, KERNEL_NAME)
            ide_specs = IDEKernelSpecManager()
            gateway_dirs = [str(install_gateway_spec(root, gw_image))] if GATEWAY in chosen else []
            gateway_specs = KernelSpecManager(kernel_dirs=gateway_dirs)

            def ide_kernel() -> AsyncKernelManager:
                return AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=ide_specs)

            def gateway_kernel() -> AsyncKernelManager:
                km = AsyncKernelManager(kernel_name=GATEWAY_SPEC, kernel_spec_manager=gateway_specs)
                km.kernel_id = str(uuid.uuid4())
                gateway_ids.add(km.kernel_id)
                return km

            gateway_env = {
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                "KERNEL_USERNAME": BENCH_USER,
                "LANG": "C.UTF-8",
            }
            in_cwd = {"cwd": str(cwd)}
            launcher_specs = KernelSpecManager(kernel_dirs=[str(install_launcher_spec(root))])
            peers = [
                Peer(LOCAL, lambda: AsyncKernelManager(kernel_name="python3"), in_cwd),
                Peer(
                    LAUNCHER,
                    lambda: AsyncKernelManager(
                        kernel_name=LAUNCHER_SPEC, kernel_spec_manager=launcher_specs
                    ),
                    in_cwd,
                ),
                Peer(COLD, ide_kernel, in_cwd, ready=switch.withheld),
                Peer(WARM, ide_kernel, in_cwd, ready=switch.offered),
                Peer(GATEWAY, gateway_kernel, {"env": gateway_env}, ready=switch.withheld),
            ]
            peers = [peer for peer in peers if peer.name in chosen]
            if WARM in chosen:
                pool.install()
            else:
                for peer in peers:
                    peer.ready = None
            for peer in peers:
                if peer.name == GATEWAY:
                    peer.ready = functools.partial(_gateway_ready, peer.ready)
                    peer.after = _stop_response_manager
            try:
                print(
                    f"kernels: {starts} rounds of starts ({', '.join(p.name for p in peers)})",
                    file=sys.stderr,
                )
                results[START_ROW] = await measure_starts(peers, starts)
                for peer in peers:
                    print(f"{peer.name}: {round_trips} round trips", file=sys.stderr)
                    results[ROUND_TRIP_ROW][peer.name] = await measure_round_trips(
                        peer, round_trips
                    )
            finally:
                await pool.close()
                _stop_response_manager()
                left = remove_gateway_containers(client, gateway_ids)
                left += _remove_ours(client, manager)
                if left:
                    print(f"removed {left} container(s) left by the bench", file=sys.stderr)
                SandboxManager.clear_instance()
    if switch.failed:
        notes.append(
            f"warm pool: {switch.failed} pool fill(s) failed and were retried (untimed); "
            "see the log above"
        )
    report(results, starts, round_trips, gw_image, notes)
    return results


def _response_manager() -> Any | None:
    """Return the peer's ResponseManager, once its first provisioner made it."""
    module = sys.modules.get("gateway_provisioners.response_manager")
    if module is not None and module.ResponseManager.initialized():
        return module.ResponseManager.instance()
    return None


def _stop_response_manager() -> None:
    """Stop the peer's response listener (it holds our event loop, see README), if it runs.

    While it runs, it accepts on its socket from the event loop every 0.1 ms with a 10 ms
    timeout, so the loop is held about 10 ms at a time: it runs only while the peer is measured.
    """
    manager = _response_manager()
    if manager is not None:
        manager.stop_response_manager()


async def _gateway_ready(pool_ready: Callable[[], Awaitable[None]] | None) -> None:
    """Before a gateway start: the pool is idle, and the peer's response listener runs."""
    if pool_ready is not None:
        await pool_ready()
    manager = _response_manager()
    if manager is not None:
        manager._start_response_manager()  # made (and started) by its first provisioner


def _remove_ours(client: docker.DockerClient, manager: Any) -> int:
    """Remove any sandbox container of this bench's server that is still there."""
    found = client.containers.list(
        all=True, filters={"label": f"{LABEL_SERVER}={manager.server_id}"}
    )
    for container in found:
        container.remove(force=True)
    return len(found)


def report(
    results: dict[str, dict[str, list[float]]],
    starts: int,
    round_trips: int,
    gw_image: str,
    notes: list[str],
) -> None:
    """Print the table, the notes and the two goals."""
    print_table(
        f"kernels: {starts} starts and {round_trips} execute round trips per peer; "
        f"{cpu_model()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; "
        f"python {platform.python_version()}; peer image {gw_image}",
        results,
        baseline=LOCAL,
    )
    for note in notes:
        print(f"note: {note}")
    starts_ms = results[START_ROW]
    if not {LOCAL, WARM, COLD} <= set(starts_ms):
        return
    local = statistics.median(starts_ms[LOCAL])
    warm = statistics.median(starts_ms[WARM])
    cold = statistics.median(starts_ms[COLD])
    print(
        f"goal: warm-pool start p50 {warm:.1f} ms (p95 {p95(starts_ms[WARM]):.1f} ms) "
        f"< 100 ms: {'met' if warm < 100 else 'MISSED'}"
    )
    print(
        f"goal: cold start p50 {cold:.1f} ms = {cold / local:.2f}x the local kernel's "
        f"{local:.1f} ms (<= 1.3x): {'met' if cold / local <= 1.3 else 'MISSED'}"
    )
    if LAUNCHER in starts_ms:
        same = statistics.median(starts_ms[LAUNCHER])
        print(
            f"the sandbox alone: cold start = {cold / same:.2f}x the same launcher on the host "
            f"({same:.1f} ms): +{cold - same:.1f} ms for the container"
        )


def cli() -> None:
    """Parse the command line and run the bench."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=STARTS, help="starts per peer")
    parser.add_argument("--round-trips", type=int, default=ROUND_TRIPS, help="round trips")
    parser.add_argument(
        "--only", nargs="+", choices=sorted(PEER_KEYS), help="run only these peers (local first)"
    )
    args = parser.parse_args()
    asyncio.run(main(args.starts, args.round_trips, args.only))


if __name__ == "__main__":
    cli()
