"""Remove the boxes of runs whose heartbeat is gone: kernels, warm boxes, judge boxes, terminals.

Every live run with Redis reaps, in a thread of its own, every ``interval`` seconds. It looks
only at containers labelled with its own liveness namespace (the same Redis), never at its own
run's, and a run counts as dead only when its key has been missing for ``grace`` seconds: a
Redis restart loses every key, and live runs write theirs again within one beat.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import docker
from docker.errors import APIError, DockerException, NotFound
from docker.models.containers import Container
from redis.exceptions import RedisError

from .liveness import Heartbeat
from .profile import LABEL_INSTANCE, LABEL_LIVENESS

log = logging.getLogger(__name__)


class Reaper:
    """Finds the containers of dead runs of the same Redis and removes them."""

    def __init__(
        self,
        heartbeat: Heartbeat,
        *,
        interval: float = 10.0,
        grace: float | None = None,
        client_factory: Callable[[], docker.DockerClient] | None = None,
    ) -> None:
        """Reap every ``interval`` s; a run is dead once missing ``grace`` s (1.5 beats)."""
        self.heartbeat = heartbeat
        self.interval = interval
        self.grace = 1.5 * heartbeat.interval if grace is None else grace
        self._client_factory = client_factory or (lambda: docker.from_env(timeout=30))
        self._client: docker.DockerClient | None = None
        self._missing_since: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reaped = 0

    def reap_once(self) -> int:
        """Look once; remove the containers of runs missing for ``grace`` s; return how many."""
        if self._client is None:
            self._client = self._client_factory()
        label = f"{LABEL_LIVENESS}={self.heartbeat.namespace}"
        found = self._client.containers.list(all=True, filters={"label": label})
        by_run: dict[str, list[Container]] = {}
        for container in found:
            run = container.labels.get(LABEL_INSTANCE, "")
            if run and run != self.heartbeat.instance_id:
                by_run.setdefault(run, []).append(container)
        alive = self.heartbeat.alive(by_run)
        now = time.monotonic()
        missing = set(by_run) - alive
        self._missing_since = {run: self._missing_since.get(run, now) for run in missing}
        removed = 0
        for run in sorted(missing):
            if now - self._missing_since[run] < self.grace:
                continue
            for container in by_run[run]:
                removed += _remove(container)
            log.warning(
                "Removed %d sandbox container(s) of run %s: its heartbeat is gone",
                len(by_run[run]),
                run,
            )
            del self._missing_since[run]
        self.reaped += removed
        return removed

    def start(self) -> None:
        """Reap in a background thread until ``stop``."""
        self._thread = threading.Thread(
            target=self._run, name=f"reaper-{self.heartbeat.instance_id}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        """Reap now and then every ``interval`` seconds; errors wait for the next pass."""
        while True:
            try:
                self.reap_once()
            except (DockerException, RedisError, OSError) as e:
                log.warning("Could not reap the boxes of dead runs: %s", e)
                self._close_client()
            if self._stop.wait(self.interval):
                return

    def _close_client(self) -> None:
        """Drop the engine client (the next pass opens a new one)."""
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def stop(self) -> None:
        """Stop reaping and close the engine client."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 30)
            self._thread = None
        self._close_client()


def _remove(container: Container) -> int:
    """Remove one container by force; return 1 when this call removed it."""
    try:
        container.remove(force=True)
    except NotFound:
        return 0
    except APIError as e:
        if e.status_code != 409:  # 409: another run is removing it right now
            log.warning("Could not remove %s: %s", container.short_id, e)
        return 0
    return 1
