"""Replicas share liveness through Redis: a run killed outright leaves nothing running.

Each run with Redis keeps a heartbeat key with a TTL; every live run removes the containers
(kernels, warm kernels, judge boxes, terminals) of runs of the same Redis whose heartbeat is
gone, whatever data dir either uses. Real Redis, real Docker, real `jupyter ide` processes.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from docker.models.containers import Container
from redis.exceptions import ConnectionError as RedisConnectionError

from jupyter_ide.kernels.image_names import image_for
from jupyter_ide.kernels.liveness import Heartbeat, namespace_of
from jupyter_ide.kernels.profile import (
    LABEL_INSTANCE,
    LABEL_KIND,
    LABEL_LIVENESS,
    LABEL_SERVER,
)
from jupyter_ide.kernels.reaper import Reaper

from .kernel_ws import run_cell
from .launch import Launched, free_port, launch
from .services import redis_url

REAP_DEADLINE = 60.0  # the brief's promise: a killed run's boxes are gone within a minute
# A server's boxes once settled: a judge box, a cold kernel, a handed-out warm kernel and its
# replacement, a terminal.
EXPECTED = ["judge", "kernel", "pool", "pool", "terminal"]

BEATER = """
import sys, time
from jupyter_ide.kernels.liveness import Heartbeat
beat = Heartbeat(sys.argv[1], sys.argv[2], "server", prefix=sys.argv[3], ttl=2.0, interval=0.5)
beat.start()
print("beating", flush=True)
time.sleep(600)
"""


@pytest.fixture
def engine() -> Iterator[docker.DockerClient]:
    """The Docker engine the servers use."""
    client = docker.from_env(timeout=60)
    try:
        client.ping()
        yield client
    finally:
        client.close()


@pytest.fixture
def prefix() -> str:
    """A key prefix (so a liveness namespace) of this test's own: no other run reaps here."""
    return f"jupyter-ide-test-{uuid.uuid4().hex[:8]}:"


@pytest.fixture
def boxes(engine: docker.DockerClient) -> Iterator[list[Container]]:
    """Containers a test starts (idle, no network); removed afterwards."""
    made: list[Container] = []
    yield made
    for container in made:
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass


def start_box(
    engine: docker.DockerClient, made: list[Container], instance: str, namespace: str | None
) -> Container:
    """Start an idle container labelled as a sandbox of run ``instance``."""
    labels = {LABEL_KIND: "kernel", LABEL_SERVER: "test-reaping", LABEL_INSTANCE: instance}
    if namespace is not None:
        labels[LABEL_LIVENESS] = namespace
    container = engine.containers.run(
        image_for("base"),
        ["sleep", "600"],
        detach=True,
        labels=labels,
        network_mode="none",
        user="1000",
    )
    made.append(container)
    return container


def exists(engine: docker.DockerClient, container: Container | str) -> bool:
    """Whether the container (or container id) is still there."""
    try:
        engine.containers.get(container if isinstance(container, str) else container.id)
    except docker.errors.NotFound:
        return False
    return True


def new_id() -> str:
    """A fresh run id, shaped as the sandbox's are."""
    return uuid.uuid4().hex[:12]


def test_the_namespace_names_the_redis_and_prefix_not_the_password() -> None:
    """Same Redis and prefix: same namespace, whatever the password; another db: another."""
    a = namespace_of("redis://:secret@10.0.0.5:6379/0", "jupyter-ide:")
    assert a == namespace_of("redis://:other@10.0.0.5:6379/0", "jupyter-ide:")
    assert a != namespace_of("redis://10.0.0.5:6379/1", "jupyter-ide:")
    assert a != namespace_of("redis://10.0.0.5:6379/0", "elsewhere:")
    with pytest.raises(ValueError, match="twice"):
        Heartbeat(redis_url(), new_id(), "s", ttl=5, interval=3)


def test_only_dead_runs_of_the_same_redis_are_reaped(
    engine: docker.DockerClient, boxes: list[Container], prefix: str
) -> None:
    """A live run's boxes, its own, other namespaces' and unlabelled ones all stay."""
    mine = Heartbeat(redis_url(), new_id(), "s1", prefix=prefix, ttl=4, interval=1)
    theirs = Heartbeat(redis_url(), new_id(), "s2", prefix=prefix, ttl=4, interval=1)
    mine.start()
    theirs.start()
    reaper = Reaper(mine, grace=0)
    try:
        ns = mine.namespace
        own = start_box(engine, boxes, mine.instance_id, ns)
        live = start_box(engine, boxes, theirs.instance_id, ns)
        dead_run = new_id()  # never beat: a run killed before this test looked
        dead = start_box(engine, boxes, dead_run, ns)
        elsewhere = start_box(engine, boxes, dead_run, namespace_of(redis_url(), "other:"))
        lock_only = start_box(engine, boxes, dead_run, None)  # a run without Redis
        assert reaper.reap_once() == 1
        assert not exists(engine, dead)
        for kept in (own, live, elsewhere, lock_only):
            assert exists(engine, kept)
        theirs.stop()  # a clean stop removes its key: what is left of it goes
        assert reaper.reap_once() == 1
        assert not exists(engine, live)
        assert reaper.reap_once() == 0
        for kept in (own, elsewhere, lock_only):
            assert exists(engine, kept)
    finally:
        reaper.stop()
        theirs.stop()
        mine.stop()


def test_keys_lost_for_a_moment_reap_nothing(
    engine: docker.DockerClient, boxes: list[Container], prefix: str
) -> None:
    """A Redis restart loses every key: live runs write theirs again before the grace ends."""
    mine = Heartbeat(redis_url(), new_id(), "s1", prefix=prefix, ttl=4, interval=0.5)
    theirs = Heartbeat(redis_url(), new_id(), "s2", prefix=prefix, ttl=4, interval=0.5)
    mine.start()
    theirs.start()
    reaper = Reaper(mine)  # grace: 1.5 beats
    try:
        live = start_box(engine, boxes, theirs.instance_id, mine.namespace)
        mine._redis.delete(theirs.key(theirs.instance_id))  # as a flushed Redis would
        assert theirs.instance_id not in mine.alive([theirs.instance_id])
        assert reaper.reap_once() == 0  # missing once: a suspect, not dead
        deadline = time.monotonic() + 10
        while theirs.instance_id not in mine.alive([theirs.instance_id]):
            assert time.monotonic() < deadline, "the live run never wrote its key again"
            time.sleep(0.1)
        time.sleep(reaper.grace)
        assert reaper.reap_once() == 0
        assert exists(engine, live)
    finally:
        reaper.stop()
        theirs.stop()
        mine.stop()


def test_without_an_answer_from_redis_nothing_is_reaped(
    engine: docker.DockerClient, boxes: list[Container], prefix: str
) -> None:
    """Redis unreachable: a pass fails (the thread logs it and waits) and removes nothing."""
    down = Heartbeat(f"redis://127.0.0.1:{free_port()}/0", new_id(), "s", prefix=prefix)
    with pytest.raises(RedisConnectionError):
        down.start()  # the server then keeps to its lock files (and labels no namespace)
    assert not down.beating
    reaper = Reaper(down, grace=0)
    box = start_box(engine, boxes, new_id(), down.namespace)
    with pytest.raises(RedisConnectionError):
        reaper.reap_once()
    reaper.start()  # the thread survives the failure
    time.sleep(1)
    assert reaper._thread is not None and reaper._thread.is_alive()
    reaper.stop()
    down.stop()
    assert exists(engine, box)


def test_a_killed_beater_is_reaped_once_its_key_expires(
    engine: docker.DockerClient, boxes: list[Container], prefix: str
) -> None:
    """A process that beat and was SIGKILLed: alive until its TTL ends, then reaped."""
    run = new_id()
    mine = Heartbeat(redis_url(), new_id(), "s1", prefix=prefix, ttl=4, interval=0.5)
    mine.start()
    reaper = Reaper(mine, interval=0.5)
    beater = subprocess.Popen(
        [sys.executable, "-c", BEATER, redis_url(), run, prefix], stdout=subprocess.PIPE, text=True
    )
    try:
        assert beater.stdout is not None and beater.stdout.readline().strip() == "beating"
        box = start_box(engine, boxes, run, mine.namespace)
        assert reaper.reap_once() == 0 and exists(engine, box)
        beater.send_signal(signal.SIGKILL)
        beater.wait(10)
        reaper.start()
        deadline = time.monotonic() + 30
        while exists(engine, box):
            assert time.monotonic() < deadline, "the killed run's box was never reaped"
            time.sleep(0.2)
        assert reaper.reaped == 1
    finally:
        beater.kill()
        beater.wait(10)
        reaper.stop()
        mine.stop()


# -- two `jupyter ide` servers, two data dirs, one Redis and one engine --------------------

SERVER_ARGS = (
    "--SandboxManager.pool_size=0",
    "--SandboxManager.pool_specs=ide-python=1",
    "--JudgeSettings.pool_size=1",
    "--JudgeSettings.warm_languages=python",
)


def sandboxes(engine: docker.DockerClient, server: Launched) -> list[Container]:
    """The server's containers (all of its runs)."""
    server_id = server.server_id()
    assert server_id
    return list(engine.containers.list(all=True, filters={"label": f"{LABEL_SERVER}={server_id}"}))


async def settle(engine: docker.DockerClient, server: Launched) -> dict[str, str]:
    """Start kernels and a terminal; wait for every kind of box; return {container id: kind}.

    The Python kernel is the warm one handed out (it keeps its "pool" label, and a new warm
    one replaces it); Bash has no warm pool here, so its kernel starts cold ("kernel").
    """
    for name in ("ide-python", "ide-bash"):
        kernel = server.fetch("POST", "api/kernels", {"name": name})
        assert kernel.status == 201, kernel.text
        url = server.ws_url(f"api/kernels/{kernel.body['id']}/channels")
        assert "2" in await run_cell(url, "echo 2" if name == "ide-bash" else "print(2)")
    terminal = server.fetch("POST", "api/terminals", {})
    assert terminal.status == 200, terminal.text
    deadline = time.monotonic() + 120
    while True:
        found = {c.id: c.labels[LABEL_KIND] for c in sandboxes(engine, server)}
        kinds = sorted(found.values())
        if kinds == EXPECTED:
            return found
        assert time.monotonic() < deadline, f"{server.base_url} never had {EXPECTED}: {kinds}"
        await asyncio.sleep(0.5)


async def test_a_killed_replicas_boxes_are_reaped_and_the_survivors_kept(
    engine: docker.DockerClient,
) -> None:
    """SIGKILL one of two servers: within a minute its boxes are gone; the other's all stay."""
    env = {"JUPYTER_IDE_SANDBOX": "docker", "JUPYTER_IDE_REDIS_URL": redis_url()}
    with launch(env=env, args=SERVER_ARGS) as doomed, launch(env=env, args=SERVER_ARGS) as kept:
        assert doomed.data_dir != kept.data_dir and doomed.server_id() != kept.server_id()
        doomed_boxes = await settle(engine, doomed)
        kept_boxes = await settle(engine, kept)
        namespaces = {c.labels.get(LABEL_LIVENESS) for c in sandboxes(engine, doomed)}
        namespaces |= {c.labels.get(LABEL_LIVENESS) for c in sandboxes(engine, kept)}
        assert namespaces == {namespace_of(redis_url(), "jupyter-ide:")}
        os.kill(doomed.process.pid, signal.SIGKILL)
        doomed.process.wait(10)
        killed_at = time.monotonic()
        while any(exists(engine, cid) for cid in doomed_boxes):
            assert time.monotonic() - killed_at < REAP_DEADLINE, (
                f"still there after {REAP_DEADLINE:.0f} s: "
                f"{[doomed_boxes[c] for c in doomed_boxes if exists(engine, c)]}"
            )
            await asyncio.sleep(1)
        assert not sandboxes(engine, doomed)
        print(f"the killed server's boxes were gone {time.monotonic() - killed_at:.1f} s after")
        # A few more passes of the survivor's reaper: none of its own boxes goes.
        await asyncio.sleep(25)
        now = {c.id: c.labels[LABEL_KIND] for c in sandboxes(engine, kept)}
        assert now == kept_boxes
        assert all(c.status == "running" for c in sandboxes(engine, kept))
        kernels = {k["name"]: k["id"] for k in kept.fetch("GET", "api/kernels").body}
        assert sorted(kernels) == ["ide-bash", "ide-python"]
        url = kept.ws_url(f"api/kernels/{kernels['ide-python']}/channels")
        assert "42" in await run_cell(url, "print(6 * 7)")


# -- a judge of its own (no SandboxManager: benches, scripts), killed outright -------------

STANDALONE_JUDGE = """
import asyncio, sys
from pathlib import Path
from jupyter_ide.cache import MemoryCache
from jupyter_ide.db import Database, ensure_schema
from jupyter_ide.kernels.judge.manager import JudgeManager
from jupyter_ide.kernels.judge.own_run import LivenessOptions
from jupyter_ide.kernels.judge.settings import JudgeSettings

async def main():
    root = Path(sys.argv[1])
    url = f"sqlite:///{root / 'judge.db'}"
    ensure_schema(url)
    settings = JudgeSettings(
        data_dir=str(root / "judge"), pool_size=2, warm_languages="python", workers=1
    )
    liveness = LivenessOptions(redis_url=sys.argv[2], prefix=sys.argv[3], ttl=2.0, interval=0.5)
    judge = JudgeManager(settings, Database(url), MemoryCache(), None, root, liveness)
    await judge.start()
    await judge.available()
    while judge.pool.ready_count("python") < 2:
        await asyncio.sleep(0.1)
    print("ready", judge.own_run.instance_id, flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


def test_a_killed_standalone_judges_warm_boxes_are_reaped(
    engine: docker.DockerClient, prefix: str, tmp_path: Path
) -> None:
    """A JudgeManager without a SandboxManager labels its boxes with a run that beats."""
    mine = Heartbeat(redis_url(), new_id(), "s1", prefix=prefix, ttl=4, interval=0.5)
    mine.start()
    reaper = Reaper(mine, interval=0.5)
    boxes: list[Container] = []
    judge = subprocess.Popen(
        [sys.executable, "-c", STANDALONE_JUDGE, str(tmp_path), redis_url(), prefix],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert judge.stdout is not None
        said = judge.stdout.readline().split()
        assert len(said) == 2 and said[0] == "ready", said
        run = said[1]
        boxes += engine.containers.list(all=True, filters={"label": f"{LABEL_INSTANCE}={run}"})
        assert len(boxes) == 2
        for box in boxes:
            assert box.labels[LABEL_KIND] == "judge"
            assert box.labels[LABEL_LIVENESS] == mine.namespace
        assert reaper.reap_once() == 0 and all(exists(engine, box) for box in boxes)
        judge.send_signal(signal.SIGKILL)
        judge.wait(10)
        reaper.start()
        deadline = time.monotonic() + 30
        while any(exists(engine, box) for box in boxes):
            assert time.monotonic() < deadline, "the killed judge's boxes were never reaped"
            time.sleep(0.2)
        reaper.stop()  # its pass has ended: the count is final
        assert reaper.reaped == 2
    finally:
        judge.kill()
        judge.wait(10)
        reaper.stop()
        mine.stop()
        for box in boxes:  # a failed test leaves nothing running either
            if exists(engine, box):
                box.remove(force=True)
