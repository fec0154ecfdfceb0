"""One-shot judge sandboxes: a warm container per use, judge-box inside, cgroup measurements.

A box is a started container of a language image whose command is
``/judge/bin/judge-box --serve /judge`` under the hardened profile. Everything is mounted at
fixed paths the sandbox user can reach, never at its host path (which, for a server running
as root with the default data dir, lies under ``/root``: not traversable in the images): the
slot folder (stdin, the job, the FIFOs) read-only at ``/judge``, judge-box's folder read-only at
``/judge/bin``, the program's folder read-only at ``/box`` (Judge0's path), and two single
files writable: ``/judge/result`` and ``/judge/artefact``. judge-box waits on the FIFO
``/judge/go``; the host writes the job, resets the
cgroup's peak memory and notes its CPU counter, then writes the go byte, so the figures cover
the program alone. judge-box runs the job, kills everything else in the container, writes
its report and signals ``SLOT/done``, then waits for the next go. No Docker API call is on
the path of a run. A box runs one submission's jobs (one, or the autograder's test cases in
turn: judge/cases.py) and is removed afterwards; it never serves another submission.

The program runs as the same user as judge-box, so it can write ``/judge/result`` and signal
``done`` itself. Each job therefore has a one-time code that only the host and judge-box know:
the host writes it into the go FIFO (never into the job file, which the program can read),
judge-box keeps it in its non-dumpable memory and puts it in its report, and a report without
it is refused as a BoxError (Internal Error), never read as a verdict. A box whose job failed
that way (or any other way after its go) runs no further job: its program may still be
alive, waiting to read the next job's code from the go FIFO. A job may also ask for a token
(``token_fd``): judge-box hands it to the program on that descriptor, so a trusted grading
script can prove its own report line (classroom/grading/).
"""

from __future__ import annotations

import contextlib
import errno
import hmac
import logging
import os
import re
import secrets
import select
import shutil
import stat
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
from docker.errors import APIError, DockerException, NotFound
from docker.models.containers import Container

from ..cgroup import INNER_CPU_FILES, CgroupFiles, find_cgroup
from ..profile import BindMount, SandboxLimits, SandboxSpec, container_options

log = logging.getLogger(__name__)

GO_TIMEOUT = 15.0  # seconds for judge-box to come up inside the container
OVERHEAD_PIDS = 3  # tini, judge-box and a tar after a compile
HEADER = re.compile(rb"^JUDGEBOX ((?:\w+=[-\w.]+ ?)+)\n")
# Paths inside a box (see the module's docstring).
SLOT_INSIDE = "/judge"
HELPER_DIR_INSIDE = "/judge/bin"
PROGRAM_INSIDE = "/box"
STDIN_INSIDE = "/judge/stdin"


class BoxError(RuntimeError):
    """The sandbox itself failed (not the program): reported as Internal Error."""


class BoxGone(BoxError):
    """The box died before its job started (engine restart, removal): use another one."""


@dataclass(frozen=True)
class ExecLimits:
    """Limits of one program run inside a box."""

    wall: float
    cpu: float
    memory_bytes: int
    pids: int
    stack_kb: int = 0
    fsize_kb: int = 0
    address_space_kb: int = 0
    merge_stderr: bool = False


@dataclass
class ExecResult:
    """How one program run ended and what it used, from judge-box and the cgroup."""

    exit_code: int
    signal: int
    wall_time: float
    timed_out: bool
    cpu_timed_out: bool
    exec_errno: int
    collected: bool
    stdout: bytes
    stderr: bytes
    cpu_time: float
    memory_bytes: int
    oom_killed: bool
    measured_by: str
    token: str = ""  # the job's token, when the program was given one (``token_fd``)


@dataclass
class Box:
    """A warm, started, never used sandbox container."""

    key: str
    image: str
    container: Container
    slot: Path
    cgroup: CgroupFiles | None
    memory_bytes: int
    pids: int
    created: float = field(default_factory=time.monotonic)
    used: bool = False
    broken: bool = False  # a job failed after its go: the box runs nothing more

    @property
    def program_dir(self) -> Path:
        """The host folder holding the program's files (read-only at ``/box`` inside)."""
        return self.slot / "prog"

    @property
    def stdin_path(self) -> Path:
        """The host file given to the program as stdin (``/judge/stdin`` inside)."""
        return self.slot / "stdin"


def make_box(
    client: docker.DockerClient,
    key: str,
    image: str,
    slots_root: Path,
    helper: Path,
    limits: SandboxLimits,
    labels: dict[str, str],
) -> Box:
    """Create and start one judge container serving one job (blocking)."""
    slot = slots_root / uuid.uuid4().hex[:16]
    slot.mkdir(parents=True, mode=0o755)
    slot.chmod(0o755)
    for name in ("prog", "bin"):  # the program; where judge-box's folder is mounted
        (slot / name).mkdir(mode=0o755)
    for name in ("result", "artefact"):
        (slot / name).touch(mode=0o666)
        (slot / name).chmod(0o666)
    for name, mode in (("go", 0o644), ("done", 0o622)):
        os.mkfifo(slot / name, mode)
        (slot / name).chmod(mode)
    spec = SandboxSpec(
        image=image,
        command=[f"{HELPER_DIR_INSIDE}/{helper.name}", "--serve", SLOT_INSIDE],
        limits=limits,
        labels=labels,
        mounts=box_mounts(slot, helper),
    )
    try:
        container = client.containers.create(**container_options(spec))
    except DockerException:
        shutil.rmtree(slot, ignore_errors=True)
        raise
    try:
        container.start()
    except DockerException:
        remove_box_container(container, slot)
        raise
    cgroup = find_cgroup(container.id)
    return Box(key, image, container, slot, cgroup, limits.memory_bytes, limits.pids)


def box_mounts(slot: Path, helper: Path) -> tuple[BindMount, ...]:
    """Return the bind mounts of a box, each at a fixed path inside (see the module docstring)."""
    return (
        BindMount(slot, read_only=True, target=SLOT_INSIDE),
        BindMount(slot / "result", target=f"{SLOT_INSIDE}/result"),
        BindMount(slot / "artefact", target=f"{SLOT_INSIDE}/artefact"),
        BindMount(helper.parent, read_only=True, target=HELPER_DIR_INSIDE),
        BindMount(slot / "prog", read_only=True, target=PROGRAM_INSIDE),
    )


def remove_box_container(container: Container, slot: Path) -> None:
    """Remove a used box: its container and its slot folder (blocking)."""
    try:
        container.remove(force=True)
    except NotFound:
        pass
    except APIError as e:
        if e.status_code != 409:
            log.warning("judge: could not remove box %s: %s", container.short_id, e)
    shutil.rmtree(slot, ignore_errors=True)


def _set_limits(box: Box, memory: int, pids: int) -> None:
    """Give the box's cgroup this run's memory and process limits."""
    if memory != box.memory_bytes:
        if box.cgroup is None or not box.cgroup.set_memory(memory):
            box.container.update(mem_limit=memory, memswap_limit=memory)
        box.memory_bytes = memory
    if pids != box.pids and box.cgroup is not None and box.cgroup.set_pids(pids):
        box.pids = pids


def _engine_figures(box: Box) -> tuple[float, int]:
    """Return (CPU seconds, peak memory bytes) from the engine's stats (no host cgroup)."""
    stats: dict[str, Any] = box.container.stats(stream=False, one_shot=True)
    cpu = int(stats.get("cpu_stats", {}).get("cpu_usage", {}).get("total_usage", 0)) / 1e9
    memory = stats.get("memory_stats", {})
    peak = int(memory.get("max_usage") or memory.get("usage") or 0)
    return cpu, peak


def _job_args(
    limits: ExecLimits,
    stdin: str | None,
    cwd: str | None,
    collect: str | None,
    token_fd: int | None = None,
) -> list[str]:
    argv = ["--wall", f"{limits.wall:.3f}"]
    if limits.cpu > 0:
        argv += ["--cpu", f"{limits.cpu:.3f}", "--cpu-file", INNER_CPU_FILES[0]]
    if stdin:
        argv += ["--stdin", stdin]
    if cwd:
        argv += ["--cwd", cwd]
    if limits.stack_kb:
        argv += ["--stack", str(limits.stack_kb)]
    if limits.fsize_kb:
        argv += ["--fsize", str(limits.fsize_kb)]
    if limits.address_space_kb:
        argv += ["--as", str(limits.address_space_kb)]
    if limits.merge_stderr:
        argv.append("--merge")
    if collect:
        argv += ["--collect", collect]
    if token_fd is not None:
        argv += ["--token-fd", str(token_fd)]
    return [*argv, "--"]


def execute(
    box: Box,
    argv: list[str],
    limits: ExecLimits,
    *,
    stdin: str | None = None,
    cwd: str | None = None,
    collect: str | None = None,
    token_fd: int | None = None,
    result_cap: int = 64 * 1024 * 1024,
) -> ExecResult:
    """Run ``argv`` as the box's next job and measure it alone (blocking).

    ``stdin``, ``cwd`` and ``collect`` are paths inside the box; ``token_fd``: give the
    program a fresh token on that descriptor (returned in the result). Raises BoxError when
    the sandbox fails or its report is not judge-box's for this job.
    """
    if box.broken:
        raise BoxError("this sandbox failed an earlier job and runs no other")
    _set_limits(box, limits.memory_bytes, limits.pids)
    job = [*_job_args(limits, stdin, cwd, collect, token_fd), *argv]
    encoded = b"\0".join(part.encode("utf-8", errors="surrogateescape") for part in job)
    if b"\0\0" in encoded or len(encoded) > 60_000:
        raise BoxError("the command is too long or holds an empty argument")
    code = secrets.token_hex(16)  # this job's one-time code: judge-box's report must hold it
    token = secrets.token_hex(16) if token_fd is not None else ""
    go_message = f"{code} {token}\n" if token else f"{code}\n"
    job_path = box.slot / "job"
    job_path.write_bytes(encoded)
    job_path.chmod(0o644)
    try:
        result = _run_job(box, limits, go_message.encode(), code, result_cap)
    except BaseException:
        box.broken = True
        raise
    result.token = token
    return result


def _run_job(
    box: Box, limits: ExecLimits, go_message: bytes, code: str, result_cap: int
) -> ExecResult:
    """Signal the job written in the slot, wait for judge-box's report and check it."""
    done = os.open(box.slot / "done", os.O_RDONLY | os.O_NONBLOCK)
    # Our own writer keeps the FIFO from reading as end-of-file until judge-box writes.
    keep = os.open(box.slot / "done", os.O_WRONLY | os.O_NONBLOCK)
    try:
        go = _open_go(box)
        cgroup = box.cgroup
        baseline = 0
        if cgroup is not None:
            reset = cgroup.reset_peak()
            baseline = (cgroup.memory_usage() or 0) if reset else 0
            cpu_before = cgroup.cpu_seconds() or 0.0
            oom_before = cgroup.oom_kills()
            measured_by = "cgroup"
        else:
            cpu_before, _ = _engine_figures(box)
            oom_before = 0
            measured_by = "engine"
        try:
            # One write below PIPE_BUF: judge-box reads it whole (atomic on a FIFO).
            if os.write(go, go_message) != len(go_message):
                raise BoxError("the sandbox's go signal was cut short")
        finally:
            os.close(go)
        went = time.monotonic()
        try:
            _wait_done(box, done, limits.wall + 30.0)
        except BoxError:
            if not _oom_killed(box, oom_before):
                raise
            # The OOM killer took judge-box too (the program's memory not yet given back):
            # the verdict is still the program's.
            return _killed_by_oom(box, cpu_before, baseline, time.monotonic() - went)
        if cgroup is not None:
            cpu_after = cgroup.cpu_seconds() or cpu_before
            peak = cgroup.memory_peak() or 0
            oom_killed = cgroup.oom_kills() > oom_before
        else:
            cpu_after, peak = _engine_figures(box)
            oom_killed = bool(box.container.attrs.get("State", {}).get("OOMKilled"))
    finally:
        os.close(keep)
        os.close(done)
    with open(box.slot / "result", "rb") as report:
        output = report.read(result_cap)
    return _parse(
        output,
        code=code,
        cpu_time=max(0.0, cpu_after - cpu_before),
        memory=max(0, peak - baseline),
        oom_killed=oom_killed,
        measured_by=measured_by,
    )


def _oom_killed(box: Box, oom_before: int) -> bool:
    """Whether the OOM killer struck in the box since the run began.

    The cgroup counts it while it exists; once the box has stopped, the engine's state says.
    """
    if box.cgroup is not None and box.cgroup.oom_kills() > oom_before:
        return True
    return bool(box.container.attrs.get("State", {}).get("OOMKilled"))


def _killed_by_oom(box: Box, cpu_before: float, baseline: int, wall: float) -> ExecResult:
    """Return the result of a run whose box the OOM killer ended before judge-box reported.

    Once the box has stopped its cgroup is gone: the program then used all the box allowed.
    """
    cgroup = box.cgroup
    cpu_after = (cgroup.cpu_seconds() if cgroup is not None else None) or cpu_before
    peak = cgroup.memory_peak() if cgroup is not None else None
    memory = max(0, peak - baseline) if peak else box.memory_bytes
    return ExecResult(
        exit_code=0,
        signal=9,
        wall_time=wall,
        timed_out=False,
        cpu_timed_out=False,
        exec_errno=0,
        collected=False,
        stdout=b"",
        stderr=b"",
        cpu_time=max(0.0, cpu_after - cpu_before),
        memory_bytes=memory,
        oom_killed=True,
        measured_by="cgroup" if cgroup is not None else "engine",
    )


def read_artefact(box: Box, cap: int) -> bytes:
    """Return the tar of the build folder a compile job collected."""
    path = box.slot / "artefact"
    if path.stat().st_size > cap:
        raise BoxError(f"the compiled program is larger than {cap} bytes")
    return path.read_bytes()


def _open_go(box: Box) -> int:
    """Open the go FIFO once judge-box waits on it; fail if it never comes or the box died."""
    started = time.monotonic()
    checked = started
    while True:
        try:
            return os.open(box.slot / "go", os.O_WRONLY | os.O_NONBLOCK)
        except OSError as e:
            if e.errno != errno.ENXIO:
                raise BoxError(f"cannot signal the sandbox: {e}") from e
        now = time.monotonic()
        if now - checked > 0.5:
            checked = now
            if not _running(box):
                raise BoxGone(f"the sandbox container is gone ({_how_it_ended(box)})")
        if now - started > GO_TIMEOUT:
            raise BoxGone("judge-box did not start in the sandbox")
        time.sleep(0.001)


def _running(box: Box) -> bool:
    """Ask the engine whether the box's container still runs."""
    try:
        box.container.reload()
    except NotFound:
        box.container.attrs["State"] = {}  # removed: no last state to tell
        return False
    except DockerException:
        return False
    return bool(box.container.attrs.get("State", {}).get("Running"))


def _how_it_ended(box: Box) -> str:
    """Say how a box's container ended, from the engine's last state of it."""
    state = box.container.attrs.get("State", {})
    if not state:
        return "removed"
    told = f"exit code {state.get('ExitCode')}"
    if state.get("OOMKilled"):
        told += ", out of memory"
    if state.get("Error"):
        told += f", {state['Error']}"
    return told


def _wait_done(box: Box, fd: int, timeout: float) -> None:
    """Wait until judge-box signals that its report is written (or its box is gone)."""
    deadline = time.monotonic() + timeout
    # poll(), not select(): a busy server has file descriptors past select()'s 1024.
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise BoxError("the sandbox did not report after the program's time limit")
        readable = poller.poll(min(left, 1.0) * 1000)
        if readable:
            with contextlib.suppress(BlockingIOError):
                if os.read(fd, 1):
                    return
        elif not _running(box):
            raise BoxError(f"the sandbox container stopped before reporting ({_how_it_ended(box)})")


def _parse(
    output: bytes,
    *,
    code: str,
    cpu_time: float,
    memory: int,
    oom_killed: bool,
    measured_by: str,
) -> ExecResult:
    """Read judge-box's header line and the framed stdout and stderr; check the job's code."""
    match = HEADER.match(output)
    if not match:
        raise BoxError("judge-box did not report (the report is missing or malformed)")
    fields = dict(item.split(b"=", 1) for item in match.group(1).split())
    if not hmac.compare_digest(fields.get(b"code", b""), code.encode()):
        # Written by something else than judge-box for this job: the program itself.
        raise BoxError("the sandbox's report does not carry this job's code: refused")
    body = output[match.end() :]
    try:
        out_len = int(fields[b"stdout"])
        err_len = int(fields[b"stderr"])
    except (KeyError, ValueError) as e:
        raise BoxError("judge-box's report is malformed") from e
    # The cgroup's peak over its level before the run, or the program's own peak resident set
    # when that is larger (a tiny program's charge can vanish under reclaimed page cache).
    rss = int(fields.get(b"rss", b"0")) * 1024
    return ExecResult(
        exit_code=int(fields[b"exit"]),
        signal=int(fields[b"signal"]),
        wall_time=float(fields[b"wall"]),
        timed_out=fields[b"timeout"] == b"1",
        cpu_timed_out=fields[b"cpu_timeout"] == b"1",
        exec_errno=int(fields[b"exec_errno"]),
        collected=fields.get(b"collected") == b"1",
        stdout=body[:out_len],
        stderr=body[out_len : out_len + err_len],
        cpu_time=cpu_time,
        memory_bytes=max(memory, rss),
        oom_killed=oom_killed,
        measured_by=measured_by,
    )


def fill_slot(
    box: Box, files: dict[str, bytes] | None, source_dir: Path | None, stdin: bytes
) -> None:
    """Put the program's files (from a folder and/or a name->bytes map) and stdin in the slot."""
    target = box.program_dir
    if source_dir is not None:
        _link_tree(source_dir, target)
    for name, data in (files or {}).items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o644)
    box.stdin_path.write_bytes(stdin)
    box.stdin_path.chmod(0o644)


def _link_tree(source: Path, target: Path) -> None:
    """Hard-link (or copy) a build folder into a slot."""
    if not source.is_dir():  # never run an empty folder and blame the program
        raise BoxError(f"the compiled program is gone: {source.name}")
    for root, dirs, names in os.walk(source):
        rel = Path(root).relative_to(source)
        for d in dirs:
            (target / rel / d).mkdir(exist_ok=True, mode=0o755)
        for name in names:
            src = Path(root) / name
            dst = target / rel / name
            if src.is_symlink():
                continue
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)
            mode = dst.stat().st_mode
            if not mode & stat.S_IROTH:
                dst.chmod(mode | 0o444)
