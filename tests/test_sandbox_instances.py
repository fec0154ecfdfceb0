"""The server id two runs share, and the lock that tells a live run from an ended one."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

from jupyter_ide.kernels.instances import InstanceLocks, stable_id

from .racing import at_once

HOLDER = """
import sys, time
from pathlib import Path
from jupyter_ide.kernels.instances import InstanceLocks
InstanceLocks(Path(sys.argv[1]), sys.argv[2]).hold()
print("held", flush=True)
time.sleep(600)
"""


def test_servers_racing_for_the_id_all_get_the_same_one(tmp_path: Path) -> None:
    """Twenty threads creating the id at once: one id, no error, no temporary files left."""
    path = tmp_path / "data" / "server_id"
    found = at_once(lambda: stable_id(path))
    assert len(set(found)) == 1 and found[0] == path.read_text()
    assert [p.name for p in path.parent.iterdir()] == ["server_id"]
    assert stable_id(path) == found[0]  # and it stays


def test_a_run_is_alive_while_its_process_holds_the_lock(tmp_path: Path) -> None:
    """Another process's run is alive until that process dies, then its lock file goes."""
    folder, theirs = tmp_path / "instances", uuid.uuid4().hex[:12]
    mine = InstanceLocks(folder, uuid.uuid4().hex[:12])
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder), theirs], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert mine.alive(theirs)
        assert mine.ended([theirs, "0123456789ab"]) == set()  # alive, and unknown here
        holder.kill()
        holder.wait(10)
        assert not mine.alive(theirs)
        assert not (folder / f"{theirs}.lock").exists()
        # Known ended, even once its lock file is gone (a sweep found it first).
        assert mine.ended([theirs, "0123456789ab"]) == {theirs}
    finally:
        holder.kill()


def test_own_lock_names_and_release(tmp_path: Path) -> None:
    """A run is alive once it holds its lock; odd names are never alive; release frees it."""
    run = InstanceLocks(tmp_path, uuid.uuid4().hex[:12])
    assert not run.alive(run.instance_id)
    run.hold()
    run.hold()  # holding twice is fine
    watcher = InstanceLocks(tmp_path, uuid.uuid4().hex[:12])
    assert run.alive(run.instance_id) and watcher.alive(run.instance_id)
    assert not watcher.alive("../../etc/passwd")
    assert not watcher.alive("crashed-run")
    run.release()
    assert not watcher.alive(run.instance_id)
    assert list(tmp_path.iterdir()) == []
