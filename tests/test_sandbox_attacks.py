"""The attack suite: each attack stays inside its sandbox while another kernel keeps answering."""

from __future__ import annotations

import os
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from jupyter_client.blocking.client import BlockingKernelClient

from jupyter_ide.kernels.profile import LABEL_KERNEL_ID

from .kernel_host import KernelHost, answers_within, execute, require_images

VICTIM_DEADLINE = 1.0  # the issue: another user's kernel keeps answering within a second
CANARY = "jupyter-ide-canary-6b1f"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KernelHost]:
    """A sandbox with short limits so attacks end quickly."""
    require_images("python")
    workspace = tmp_path_factory.mktemp("workspace")
    workspace.chmod(0o777)
    host = KernelHost(
        workspace,
        default_limits={"time_limit": 5, "memory_bytes": 256 * 1024 * 1024, "pids": 64},
        time_limit_grace=2.0,
    )
    yield host
    host.close()


@pytest.fixture(scope="module")
def victim(host: KernelHost) -> Iterator[BlockingKernelClient]:
    """Another user's kernel, which must keep answering throughout."""
    km = host.start("ide-python")
    kc = host.client(km)
    yield kc
    kc.stop_channels()


@pytest.fixture
def attacker(host: KernelHost) -> Iterator[tuple[object, BlockingKernelClient]]:
    """A fresh kernel for one attack, removed afterwards."""
    km = host.start("ide-python")
    kc = host.client(km)
    yield km, kc
    kc.stop_channels()
    if km in host.kernels:
        host.shutdown(km, now=True)


def _run(kc: BlockingKernelClient, code: str, timeout: float = 60) -> tuple[dict, str, str]:
    """Run dedented code."""
    return execute(kc, textwrap.dedent(code), timeout=timeout)


def test_fork_bomb_is_capped_by_the_pids_limit(attacker, victim) -> None:
    _, kc = attacker
    reply, out, err = _run(
        kc,
        """
        import os, subprocess, time
        subprocess.Popen(["bash", "-c", ":(){ :|:& };:"], start_new_session=True,
                         stderr=subprocess.DEVNULL)
        time.sleep(2)
        print("pids", sum(p.isdigit() for p in os.listdir("/proc")))
        """,
    )
    answers_within(victim, VICTIM_DEADLINE)
    count = int(out.split()[-1]) if "pids" in out else 0
    assert reply["status"] == "ok" or "Resource temporarily unavailable" in err
    if count:
        assert count <= 64


def test_memory_bomb_kills_only_its_kernel_and_says_out_of_memory(host, attacker, victim) -> None:
    km, kc = attacker
    msg_id = kc.execute("x = bytearray(1024 * 1024 * 1024)")
    with pytest.raises(Exception):  # noqa: B017 - the kernel dies; no reply ever comes
        while True:
            reply = kc.get_shell_msg(timeout=20)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
    answers_within(victim, VICTIM_DEADLINE)
    assert host.run(km.provisioner.poll()) is not None
    record = host.manager.kernels[km.kernel_id]
    assert record.last_exit is not None
    assert record.last_exit["reason"] == "out of memory"


@pytest.mark.parametrize(
    ("where", "limit_hit"),
    [("/tmp", "No space left"), ("/dev/shm", "No space left"), ("/home/sandbox", "No space left")],
)
def test_filling_tmpfs_stops_at_its_size(attacker, victim, where: str, limit_hit: str) -> None:
    _, kc = attacker
    _reply, out, err = _run(
        kc,
        f"""
        import os
        written = 0
        try:
            for n in range(2048):  # many 16 MB files: the folder fills before any file is big
                with open(os.path.join({where!r}, f"fill{{n}}"), "wb") as f:
                    for _ in range(16):
                        f.write(b"x" * 1024 * 1024)
                        written += 1024 * 1024
        except OSError as e:
            print("stopped", written // (1024 * 1024), e)
        """,
    )
    answers_within(victim, VICTIM_DEADLINE)
    assert "stopped" in out and limit_hit in out, (out, err)
    assert int(out.split()[1]) <= 256


def test_root_is_read_only_and_files_are_size_capped(host, attacker, victim) -> None:
    _, kc = attacker
    _reply, out, _err = _run(
        kc,
        """
        import os, signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        for path in ("/etc/evil", "/usr/bin/evil", "/opt/evil"):
            try:
                open(path, "w").write("x")
                print("WROTE", path)
            except OSError as e:
                print("refused", path, e.errno)
        written = 0
        try:
            with open("big.bin", "wb") as f:
                while True:
                    f.write(b"x" * 1024 * 1024)
                    written += 1
        except OSError as e:
            print("capped", written, e.errno)
        os.remove("big.bin")
        """,
    )
    answers_within(victim, VICTIM_DEADLINE)
    assert "WROTE" not in out
    assert out.count("refused") == 3
    capped = int(out.split("capped")[1].split()[0])
    assert capped <= 128  # fsize ulimit (MB)


def test_runaway_output_is_truncated_and_the_kernel_answers(host, attacker, victim) -> None:
    _, kc = attacker
    _reply, out, err = _run(
        kc,
        """
        import sys
        for i in range(10**9):
            print("y" * 1000)
        """,
        timeout=60,
    )
    answers_within(victim, VICTIM_DEADLINE)
    assert "output truncated" in (out + err).lower()
    assert len(out) <= 2 * 1024 * 1024
    _again, out2, _ = _run(kc, "print('still here')")
    assert "still here" in out2


def test_endless_loop_is_interrupted_at_the_time_limit(attacker, victim) -> None:
    _, kc = attacker
    reply, _out, err = _run(kc, "while True:\n    pass", timeout=60)
    answers_within(victim, VICTIM_DEADLINE)
    assert reply["status"] == "error"
    assert "KeyboardInterrupt" in err or reply.get("ename") == "KeyboardInterrupt"
    _again, out2, _ = _run(kc, "print(6 * 7)")
    assert out2.strip() == "42"


def test_a_loop_that_ignores_interrupts_is_killed_for_time(host, attacker, victim) -> None:
    km, kc = attacker
    kc.execute("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass")
    deadline_exit = None
    for _ in range(60):
        deadline_exit = host.run(km.provisioner.poll())
        if deadline_exit is not None:
            break
        answers_within(victim, VICTIM_DEADLINE)
        time.sleep(0.5)
    assert deadline_exit is not None
    assert host.manager.kernels[km.kernel_id].last_exit["reason"].startswith("time limit")


def test_no_network_egress(attacker, victim) -> None:
    _, kc = attacker
    _reply, out, _err = _run(
        kc,
        """
        import socket
        def attempt(label, fn):
            try:
                fn()
                print("REACHED", label)
            except OSError as e:
                print("blocked", label, type(e).__name__)
        attempt("dns", lambda: socket.getaddrinfo("pypi.org", 443))
        for host, port in (("169.254.169.254", 80), ("172.17.0.1", 2375), ("10.0.0.1", 80),
                           ("8.8.8.8", 53)):
            attempt(host, lambda: socket.create_connection((host, port), timeout=2))
        import os
        print("ifaces", sorted(os.listdir("/sys/class/net")))
        print("netns", os.readlink("/proc/self/ns/net"))
        server = socket.create_server(("127.0.0.1", 0))  # a class's socket exercise still works
        socket.create_connection(server.getsockname(), timeout=2).sendall(b"hi")
        print("own loopback", server.accept()[0].recv(2))
        """,
    )
    answers_within(victim, VICTIM_DEADLINE)
    assert "REACHED" not in out
    assert out.count("blocked") == 5
    assert "ifaces ['lo']" in out
    assert f"netns {os.readlink('/proc/self/ns/net')}" not in out  # not the server's namespace
    assert "netns net:[" in out
    assert "own loopback b'hi'" in out


def test_host_loopback_services_are_unreachable(attacker) -> None:
    _, kc = attacker
    _reply, out, _err = _run(
        kc,
        """
        import socket
        for port in (5432, 6379, 8888):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2)
                print("REACHED", port)
            except OSError:
                print("blocked", port)
        """,
    )
    assert "REACHED" not in out and out.count("blocked") == 3


def test_server_environment_and_host_files_stay_outside(
    host, victim, tmp_path: Path, monkeypatch
) -> None:
    secret_file = tmp_path / "host-secret.txt"
    secret_file.write_text(CANARY)
    monkeypatch.setenv("JUPYTER_IDE_CRYPT_KEY", CANARY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CANARY)
    km = host.start("ide-python")
    kc = host.client(km)
    try:
        _reply, out, _err = _run(
            kc,
            f"""
            import os, glob
            print("env-leak" if any({CANARY!r} in v for v in os.environ.values()) else "env-clean")
            print("file-leak" if os.path.exists({str(secret_file)!r}) else "file-clean")
            socks = ("/var/run/docker.sock", "/run/docker.sock")
            print("sock", any(os.path.exists(p) for p in socks))
            mine = os.getpid()
            cmdlines = []
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    cmdlines.append(open(f"/proc/{{pid}}/cmdline", "rb").read())
                except OSError:
                    pass
            print("pytest-visible", any(b"pytest" in c for c in cmdlines))
            print("uid", os.getuid())
            status = open("/proc/self/status").read()
            print([l for l in status.splitlines() if l.startswith(("CapEff", "NoNewPrivs"))])
            """,
        )
    finally:
        kc.stop_channels()
        host.shutdown(km, now=True)
    assert "env-clean" in out and "file-clean" in out
    assert "sock False" in out
    assert "pytest-visible False" in out
    assert "uid 0" not in out
    assert "CapEff:\\t0000000000000000" in out and "NoNewPrivs:\\t1" in out


def test_another_kernels_socket_folder_is_invisible(host, attacker, victim) -> None:
    _, kc = attacker
    victim_dir = Path(victim.connection_file or "").parent
    others = [
        str(r.container_id) for r in host.manager.kernels.values() if r.container_id is not None
    ]
    assert others
    socket_dirs = sorted(str(p) for p in host.manager.live_socket_dirs)
    assert len(socket_dirs) >= 2
    _reply, out, err = _run(
        kc,
        f"""
        import os
        dirs = {socket_dirs!r}
        print("visible", sum(os.path.exists(d) for d in dirs))
        print("own", sorted(os.listdir("/jide/ipc")))
        """,
    )
    # No host socket folder is reachable; only its own sockets are mounted, at /jide/ipc.
    assert "visible 0" in out, (out, err, victim_dir)
    assert "own ['k-1', 'k-2', 'k-3', 'k-4', 'k-5']" in out, (out, err)


def test_setuid_and_capability_tricks_fail(attacker) -> None:
    _, kc = attacker
    _reply, out, err = _run(
        kc,
        """
        import os, subprocess
        device = 0o600 | 0o020000
        for name, fn in (("setuid", lambda: os.setuid(0)), ("chroot", lambda: os.chroot("/")),
                         ("mknod", lambda: os.mknod("/tmp/dev", device, os.makedev(1, 1)))):
            try:
                fn()
                print("ALLOWED", name)
            except OSError as e:
                print("denied", name)
        r = subprocess.run(["su", "-c", "id"], capture_output=True, input=b"")
        print("su", r.returncode)
        r = subprocess.run(["unshare", "-r", "id"], capture_output=True)
        print("unshare", r.returncode)
        """,
    )
    assert "ALLOWED" not in out and out.count("denied") == 3, (out, err)
    assert "su 0" not in out and "unshare 0" not in out


def test_children_die_with_the_kernel(host) -> None:
    km = host.start("ide-python")
    kc = host.client(km)
    _run(
        kc,
        """
        import subprocess
        subprocess.Popen(["sleep", "1000"], start_new_session=True)
        """,
    )
    kc.stop_channels()
    host.shutdown(km)
    engine = docker.from_env()
    left = engine.containers.list(all=True, filters={"label": f"{LABEL_KERNEL_ID}={km.kernel_id}"})
    assert left == []


def test_the_sandbox_runs_with_the_hardened_profile(host) -> None:
    km = host.start("ide-python")
    try:
        record = host.manager.kernels[km.kernel_id]
        attrs = docker.from_env().containers.get(record.container_id).attrs
        hc = attrs["HostConfig"]
        assert hc["NetworkMode"] == "none"
        assert hc["CapDrop"] == ["ALL"]
        assert "no-new-privileges:true" in hc["SecurityOpt"]
        assert hc["ReadonlyRootfs"] is True
        assert hc["Memory"] == hc["MemorySwap"] > 0
        assert hc["PidsLimit"] > 0 and hc["NanoCpus"] > 0
        assert {u["Name"] for u in hc["Ulimits"]} == {"nofile", "fsize", "core"}
        assert set(hc["Tmpfs"]) == {"/tmp", "/dev/shm", "/home/sandbox"}
        # Only its sockets, its connection file (read-only) and the workspace, at fixed paths.
        mounts = {m["Destination"]: m["RW"] for m in attrs["Mounts"]}
        assert mounts == {"/jide/ipc": True, "/jide/connection.json": False, "/workspace": True}
        assert all("size=" in v for v in hc["Tmpfs"].values())
        assert attrs["Config"]["User"] not in ("", "0", "root", "0:0")
        assert not any(p for p in (attrs["NetworkSettings"].get("Ports") or {}).values())
        env_names = {e.split("=", 1)[0] for e in attrs["Config"]["Env"]}
        assert "JUPYTER_IDE_CRYPT_KEY" not in env_names and "PATH" in env_names
        labels = attrs["Config"]["Labels"]
        assert labels[LABEL_KERNEL_ID] == km.kernel_id
        assert {"jupyter-ide.owner", "jupyter-ide.server", "jupyter-ide.instance"} <= set(labels)
    finally:
        host.shutdown(km, now=True)


def test_environment_passed_in_is_filtered(host, monkeypatch) -> None:
    monkeypatch.setitem(os.environ, "SECRET_TOKEN", CANARY)
    km = host.start("ide-python")
    kc = host.client(km)
    try:
        _, out, _ = _run(kc, "import os; print(sorted(os.environ))")
    finally:
        kc.stop_channels()
        host.shutdown(km, now=True)
    assert "SECRET_TOKEN" not in out


def test_waiting_for_input_is_not_cut_by_the_time_limit(attacker) -> None:
    """The limit counts CPU time: a student may take longer than it to type an answer."""
    _, kc = attacker
    msg_id = kc.execute("name = input('name? ')\nprint('hello', name)", allow_stdin=True)
    request = kc.get_stdin_msg(timeout=30)
    assert request["content"]["prompt"] == "name? "
    time.sleep(7)  # longer than the 5 s limit of this module
    kc.input("ada")
    while True:
        reply = kc.get_shell_msg(timeout=30)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    assert reply["content"]["status"] == "ok"
