"""A judge without a SandboxManager (benches, tests, scripts) still labels its boxes with a run.

Its boxes carry a server id (of its data dir), an instance id whose lock it holds there and,
with Redis, the liveness namespace of a heartbeat it keeps: so when the process is killed
outright, any live run of the same Redis (a server, a judge worker, another such judge)
removes its boxes once the heartbeat is gone (kernels/reaper.py), and a later judge on the
same data dir removes them at start-up. It reaps the boxes of dead runs of its namespace too.
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import DockerException, NotFound
from redis.exceptions import RedisError

from ..instances import InstanceLocks, stable_id
from ..liveness import Heartbeat
from ..profile import LABEL_INSTANCE, LABEL_LIVENESS, LABEL_OWNER, LABEL_SERVER
from ..reaper import Reaper

log = logging.getLogger(__name__)

OWNER = "judge"


@dataclass(frozen=True)
class LivenessOptions:
    """Where and how often a judge of its own beats and reaps (a SandboxManager's defaults)."""

    redis_url: str = ""  # empty: the cache's Redis, else JUPYTER_IDE_REDIS_URL, else none
    prefix: str = "jupyter-ide:"  # the servers' own: they reap this run's boxes and it theirs
    ttl: float = 20.0
    interval: float = 5.0
    reap_interval: float = 10.0


class OwnRun:
    """A judge's own run: its labels, its lock and, with Redis, its heartbeat and reaper."""

    def __init__(self, data_dir: Path, options: LivenessOptions) -> None:
        """Name the run (nothing is held or started before ``start``)."""
        self.options = options
        self.data_dir = data_dir
        self.server_id = ""  # of the data dir, read (or made) by ``start``
        self.instance_id = uuid.uuid4().hex[:12]
        self.instances = InstanceLocks(data_dir / "instances", self.instance_id)
        self.heartbeat: Heartbeat | None = None
        self.reaper: Reaper | None = None
        self.started = False  # the lock is held (from ``start`` until ``stop``)

    def start(self, client: docker.DockerClient) -> None:
        """Hold the lock, remove what ended runs of this data dir left, beat and reap (blocking).

        Redis not answering is logged: the boxes then carry the lock's instance only.
        """
        self.server_id = stable_id(self.data_dir / "server_id")
        self.instances.hold()
        self.started = True
        self._sweep(client)
        url = self.options.redis_url
        if not url:
            return
        o = self.options
        heartbeat = Heartbeat(
            url, self.instance_id, self.server_id, prefix=o.prefix, ttl=o.ttl, interval=o.interval
        )
        try:
            heartbeat.start()
        except (RedisError, OSError) as e:
            heartbeat.stop()
            log.warning("judge: Redis did not answer (%s): no other run reaps our boxes", e)
            return
        self.heartbeat = heartbeat
        self.reaper = Reaper(heartbeat, interval=o.reap_interval)
        self.reaper.start()

    def labels(self) -> dict[str, str]:
        """Return the labels that tie a box to this run (and its heartbeat, when it beats)."""
        labels = {
            LABEL_SERVER: self.server_id,
            LABEL_INSTANCE: self.instance_id,
            LABEL_OWNER: OWNER,
        }
        if self.heartbeat is not None and self.heartbeat.beating:
            labels[LABEL_LIVENESS] = self.heartbeat.namespace
        return labels

    def _sweep(self, client: docker.DockerClient) -> None:
        """Remove the containers of ended runs of this data dir (their lock is free)."""
        found = client.containers.list(
            all=True, filters={"label": f"{LABEL_SERVER}={self.server_id}"}
        )
        removed = 0
        for container in found:
            if self.instances.alive(container.labels.get(LABEL_INSTANCE, "")):
                continue
            try:
                container.remove(force=True)
                removed += 1
            except NotFound:
                pass
            except DockerException as e:
                log.warning("judge: could not remove %s: %s", container.short_id, e)
        if removed:
            log.warning("judge: removed %d box(es) left by an ended run", removed)

    def stop(self) -> None:
        """Stop reaping and beating (removing the key), and give the lock up (blocking)."""
        reaper, self.reaper = self.reaper, None
        if reaper is not None:
            reaper.stop()
        heartbeat, self.heartbeat = self.heartbeat, None
        if heartbeat is not None:
            heartbeat.stop()
        self.instances.release()
        self.started = False


def default_redis_url(cache_url: str) -> str:
    """Return the Redis a judge of its own beats in: the cache's, else the environment's."""
    return cache_url or os.environ.get("JUPYTER_IDE_REDIS_URL", "").strip()
