"""Liveness that replicas share: each run keeps a heartbeat key with a TTL in Redis.

A run's containers carry its instance id and the namespace of the Redis it beats in
(``LABEL_LIVENESS``); any live run of that namespace may remove the containers of a run whose
heartbeat is gone (reaper.py), whatever data dir either of them uses. Runs without Redis
label no namespace and keep to the lock files of their data dir (instances.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

import redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

KEY_PART = "instance:"


def namespace_of(url: str, prefix: str) -> str:
    """Return a short name for one Redis database and key prefix (no credentials in it)."""
    parts = urlsplit(url)
    where = f"{parts.scheme}://{parts.hostname or ''}:{parts.port or ''}{parts.path}|{prefix}"
    return hashlib.sha256(where.encode()).hexdigest()[:16]


class Heartbeat:
    """A run's heartbeat key, refreshed by a thread of its own (not the event loop's)."""

    def __init__(
        self,
        url: str,
        instance_id: str,
        server_id: str,
        *,
        prefix: str = "jupyter-ide:",
        ttl: float = 20.0,
        interval: float = 5.0,
    ) -> None:
        """Name the key; nothing is written before ``start``."""
        if ttl < 2 * interval:
            raise ValueError(f"a heartbeat's TTL ({ttl} s) must be at least twice its interval")
        self.instance_id = instance_id
        self.server_id = server_id
        self.prefix = prefix
        self.ttl = ttl
        self.interval = interval
        self.namespace = namespace_of(url, prefix)
        self._redis = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.beating = False

    def key(self, instance_id: str) -> str:
        """Return the heartbeat key of a run."""
        return f"{self.prefix}{KEY_PART}{instance_id}"

    def beat(self) -> None:
        """Write this run's key once more, with a fresh TTL."""
        value = json.dumps(
            {
                "server": self.server_id,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "at": time.time(),
            }
        )
        self._redis.set(self.key(self.instance_id), value, px=int(self.ttl * 1000))

    def start(self) -> None:
        """Write the first beat now (raising when Redis does not answer), then keep beating."""
        self.beat()
        self.beating = True
        self._thread = threading.Thread(
            target=self._run, name=f"heartbeat-{self.instance_id}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        """Beat every ``interval`` seconds until stopped; a missed beat is retried next time."""
        while not self._stop.wait(self.interval):
            try:
                self.beat()
            except RedisError as e:
                log.warning("Could not refresh this run's heartbeat in Redis: %s", e)

    def alive(self, instance_ids: Iterable[str]) -> set[str]:
        """Return those of ``instance_ids`` whose heartbeat key exists (raises RedisError)."""
        ids = sorted(set(instance_ids))
        if not ids:
            return set()
        pipe = self._redis.pipeline(transaction=False)
        for instance_id in ids:
            pipe.exists(self.key(instance_id))
        found = pipe.execute()
        return {i for i, n in zip(ids, found, strict=True) if int(n)} | (
            {self.instance_id} & set(ids) if self.beating else set()
        )

    def stop(self) -> None:
        """Stop beating and remove this run's key (its boxes are its own to remove)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 5)
            self._thread = None
        if self.beating:
            self.beating = False
            try:
                self._redis.delete(self.key(self.instance_id))
            except RedisError as e:
                log.warning("Could not remove this run's heartbeat from Redis: %s", e)
        self._redis.close()
