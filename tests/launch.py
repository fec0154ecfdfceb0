"""Start `jupyter ide` the README's way, in its own process, and talk to it. No tests here.

``launch()`` runs ``.venv/bin/jupyter ide --ip=127.0.0.1 --port=<free> --no-browser`` (plus
``--allow-root`` as root, as the Makefile does) with no config that preconfigures the server:
a fresh HOME (0700, as a real home is), so the default Jupyter data dir
(``~/.local/share/jupyter``) and runtime dir are used, and an environment holding nothing of the
test process's Jupyter or jupyter-ide settings — only what the test passes in ``env``.

Two modes:

- ``user=None``: the test process's own user (root on this project's CI machines). The fresh
  HOME is made inside that user's real home, so every path the server uses crosses it exactly as
  ``make run`` does (for root: ``/root``, which is 0700 in the sandbox images too).
- ``user="ide-tester"`` (needs root): a system user, created when missing, member of the
  ``docker`` group so it reaches the engine; the server runs as that user through ``setpriv``
  with a fresh 0700 HOME inside the user's own home. When the project's ``.venv`` sits on a
  Python the user cannot reach (a pyenv build under ``/root`` on this project's machines), the
  user gets a small venv of its own on a system Python of the same minor version that loads the
  project's ``.venv`` site-packages and has the same ``jupyter*`` commands.

The server's token is set with ``--IdentityProvider.token``. On exit the server gets SIGTERM
(SIGKILL after a grace period), any container labelled with its server id is removed and its
HOME is deleted.
"""

from __future__ import annotations

import contextlib
import fcntl
import grp
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker

from jupyter_ide.kernels.profile import LABEL_SERVER

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
TEST_USER = "ide-tester"
START_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0
# Passed through from the test process when set; everything else is left behind.
PASSED_ENV = (
    "PATH",
    "LANG",
    "LC_ALL",
    "TZ",
    "DOCKER_HOST",
    "DOCKER_CERT_PATH",
    "DOCKER_TLS_VERIFY",
)


class LaunchError(RuntimeError):
    """The server could not be started (its log's tail is in the message)."""


@dataclass
class Reply:
    """One HTTP answer: status, parsed JSON body (None when not JSON), headers and raw body."""

    status: int
    body: Any
    headers: Mapping[str, str]
    raw: bytes

    @property
    def text(self) -> str:
        """The body as text."""
        return self.raw.decode("utf-8", errors="replace")


@dataclass
class Launched:
    """A running `jupyter ide` process: where it is, how to sign in, where its files are."""

    base_url: str
    token: str
    home: Path
    user: str
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    killed: bool = False  # it did not stop on SIGTERM within STOP_TIMEOUT
    final_log: str = ""  # everything it printed, kept when it has stopped

    @property
    def data_dir(self) -> Path:
        """The default Jupyter data dir of the server's user (inside the fresh HOME)."""
        return self.home / ".local" / "share" / "jupyter"

    def url(self, path: str, /, **params: Any) -> str:
        """An absolute URL of ``path`` (relative to the server's base URL)."""
        url = f"{self.base_url}/{path.lstrip('/')}"
        if params:
            url += "?" + urllib.parse.urlencode({k: _param(v) for k, v in params.items()})
        return url

    def ws_url(self, path: str) -> str:
        """The websocket URL of ``path``, carrying the token."""
        url = self.url(path).replace("http://", "ws://", 1)
        return f"{url}{'&' if '?' in url else '?'}token={self.token}"

    def fetch(
        self,
        method: str,
        path: str,
        json_body: Any = None,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 120.0,
    ) -> Reply:
        """Call the server with the token; return the reply for successes and errors alike."""
        data = None if json_body is None else json.dumps(json_body).encode()
        sent = {"Authorization": f"token {self.token}", **(headers or {})}
        if data is not None:
            sent.setdefault("Content-Type", "application/json")
        elif method.upper() in ("POST", "PUT", "PATCH"):
            data = b""
        request = urllib.request.Request(
            self.url(path, **(params or {})), data=data, method=method.upper(), headers=sent
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return _reply(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as e:
            with e:
                return _reply(e.code, dict(e.headers), e.read())

    def server_id(self) -> str | None:
        """The server id its sandboxes are labelled with, once the server has made it."""
        try:
            return (self.data_dir / "jupyter_ide" / "server_id").read_text().strip() or None
        except OSError:
            return None

    def log(self) -> str:
        """The server's output so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def _param(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _reply(status: int, headers: dict[str, str], raw: bytes) -> Reply:
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    return Reply(status, body, headers, raw)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_test_user(name: str = TEST_USER) -> pwd.struct_passwd:
    """Create the system user ``name`` (home 0700, in the docker group) when missing."""
    if os.geteuid() != 0:
        raise LaunchError(f"creating the user {name!r} needs root; run the tests as root")
    try:
        docker_group = grp.getgrnam("docker")
    except KeyError as e:
        raise LaunchError("there is no 'docker' group: install docker.io (it makes one)") from e
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            [
                *("useradd", "--system", "--create-home", "--home-dir", f"/home/{name}"),
                *("--shell", "/bin/bash", "--groups", "docker", name),
            ],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(name)
    if name not in docker_group.gr_mem and entry.pw_gid != docker_group.gr_gid:
        subprocess.run(["usermod", "-aG", "docker", name], check=True, capture_output=True)
    home = Path(entry.pw_dir)
    home.mkdir(mode=0o700, exist_ok=True)
    os.chown(home, entry.pw_uid, entry.pw_gid)
    home.chmod(0o700)
    _check_socket_group(docker_group)
    return entry


def _check_socket_group(docker_group: grp.struct_group) -> None:
    """Fail clearly when the engine's socket does not let the docker group in."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        return
    sock = Path(host[len("unix://") :])
    try:
        info = sock.stat()
    except OSError as e:
        raise LaunchError(f"the Docker socket {sock} is missing: start dockerd") from e
    if info.st_gid != docker_group.gr_gid or not info.st_mode & 0o060 == 0o060:
        raise LaunchError(
            f"{sock} does not let the docker group read and write it: start dockerd with "
            "its default `--group docker`"
        )


def user_venv_bin(user: pwd.struct_passwd) -> Path:
    """Return the bin folder of a venv ``user`` can run, holding the project's packages."""
    if _imports_server(user, VENV_BIN / "python"):
        return VENV_BIN
    minor = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    system_python = shutil.which(minor, path="/usr/local/bin:/usr/bin:/bin")
    if system_python is None:
        raise LaunchError(f"{user.pw_name} cannot run {VENV_BIN / 'python'}; no system {minor}")
    venv = Path(user.pw_dir) / ".venv-jupyter-ide"
    python = venv / "bin" / "python3"
    marker = venv / ".made-from"
    made_from = f"{VENV_BIN}\n{system_python}\n"
    if marker.is_file() and marker.read_text() == made_from:
        return venv / "bin"
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([system_python, "-m", "venv", "--without-pip", str(venv)], check=True)
    site_packages = next((VENV_BIN.parent / "lib").glob("python3.*/site-packages"))
    user_site = next((venv / "lib").glob("python3.*/site-packages"))
    (user_site / "_jupyter_ide_project.pth").write_text(
        f"import site; site.addsitedir({str(site_packages)!r})\n"
    )
    shebang = f"#!{VENV_BIN / 'python3'}"
    for script in VENV_BIN.glob("jupyter*"):
        lines = script.read_bytes().split(b"\n", 1)
        if len(lines) == 2 and lines[0].decode(errors="replace").strip() == shebang:
            (venv / "bin" / script.name).write_bytes(f"#!{python}\n".encode() + lines[1])
            (venv / "bin" / script.name).chmod(0o755)
    # Requirements that only this Python needs (e.g. redis wants async-timeout below 3.11.3).
    pip = [str(VENV_BIN / "python"), "-m", "pip", "--python", str(python)]
    check = subprocess.run([*pip, "check"], capture_output=True, text=True, check=False)
    missing = sorted(set(re.findall(r"requires ([\w.-]+), which is not installed", check.stdout)))
    if missing:
        subprocess.run([*pip, "install", "-q", *missing], check=True)
    if not _imports_server(user, python):
        raise LaunchError(f"{user.pw_name} cannot import jupyter_ide with {python}")
    marker.write_text(made_from)
    return venv / "bin"


def as_user(user: pwd.struct_passwd) -> list[str]:
    """The command prefix that runs what follows as ``user`` (with its groups)."""
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", "--"]


def _imports_server(user: pwd.struct_passwd, python: Path) -> bool:
    """Whether ``user`` can start ``python`` and import the server's app with it."""
    done = subprocess.run(
        [*as_user(user), str(python), "-c", "import jupyter_ide.server_extension.app"],
        capture_output=True,
        check=False,
        cwd="/",
        env={"PATH": "/usr/bin:/bin", "HOME": user.pw_dir},
    )
    return done.returncode == 0


def _home_for(user: pwd.struct_passwd) -> Path:
    """Make a fresh 0700 HOME for one server inside ``user``'s real home."""
    parent = Path(user.pw_dir) / ".cache" / "jupyter-ide-launch"
    parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    home = Path(tempfile.mkdtemp(prefix="home-", dir=parent))
    home.chmod(0o700)
    for folder in (parent.parent, parent, home):
        if folder.stat().st_uid != user.pw_uid:
            os.chown(folder, user.pw_uid, user.pw_gid)
    return home


@contextlib.contextmanager
def _setup_lock(user: str) -> Iterator[None]:
    """Hold a lock while ``user`` and its venv are made (one test session at a time)."""
    with open(Path(tempfile.gettempdir()) / f"jupyter-ide-launch-{user}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@contextlib.contextmanager
def launch(
    *,
    user: str | None = None,
    env: Mapping[str, str] | None = None,
    args: tuple[str, ...] = (),
    start_timeout: float = START_TIMEOUT,
    app: str = "ide",
) -> Iterator[Launched]:
    """Run `jupyter ide` as the README says; yield a client; stop it and clean up after.

    ``app="server"`` runs `jupyter server` instead (the extension loads there too), whose
    config may name its own identity provider, which `jupyter ide` sets itself.
    """
    if user is None:
        who = pwd.getpwuid(os.geteuid())
        bin_dir = VENV_BIN
    else:
        with _setup_lock(user):  # test sessions running side by side set the user up once
            who = ensure_test_user(user)
            bin_dir = user_venv_bin(who)
    home = _home_for(who)
    run_env = {k: os.environ[k] for k in PASSED_ENV if os.environ.get(k)}
    run_env["PATH"] = f"{bin_dir}:{run_env.get('PATH', '/usr/local/bin:/usr/bin:/bin')}"
    run_env.update(HOME=str(home), USER=who.pw_name, LOGNAME=who.pw_name, SHELL="/bin/bash")
    run_env.update(env or {})
    port, token = free_port(), secrets.token_hex(16)
    command = [
        str(bin_dir / "jupyter"),
        app,
        "--ip=127.0.0.1",
        f"--port={port}",
        "--no-browser",
        f"--IdentityProvider.token={token}",
        *(["--allow-root"] if who.pw_uid == 0 else []),
        *args,
    ]
    if who.pw_uid != os.geteuid():
        command = [*as_user(who), *command]
    log_fd, log_name = tempfile.mkstemp(prefix="jupyter-ide-", suffix=".log")
    os.close(log_fd)
    log_path = Path(log_name)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            env=run_env,
            cwd=home,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Launched(
        f"http://127.0.0.1:{port}", token, home, who.pw_name, process, log_path, run_env
    )
    try:
        _wait_until_up(server, start_timeout)
        yield server
    finally:
        _stop(server)
        _remove_containers(server)
        _remove_home(home)
        with contextlib.suppress(OSError):
            server.final_log = log_path.read_text(errors="replace")
        log_path.unlink(missing_ok=True)


def _remove_home(home: Path) -> None:
    """Delete the server's HOME (again, briefly, while a last writer may still finish)."""
    for _ in range(10):
        shutil.rmtree(home, ignore_errors=True)
        if not home.exists():
            return
        time.sleep(0.5)


def _wait_until_up(server: Launched, timeout: float) -> None:
    """Poll /api/status until the server answers; raise with its log when it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise LaunchError(
                f"jupyter ide exited with {server.process.returncode}:\n{server.log()[-4000:]}"
            )
        try:
            if server.fetch("GET", "api/status", timeout=5).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise LaunchError(f"jupyter ide did not answer in {timeout:.0f} s:\n{server.log()[-4000:]}")


def _stop(server: Launched) -> None:
    """SIGTERM, wait, then SIGKILL the server's whole process group."""
    process = server.process
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            server.killed = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    # Anything the server started in its session and left behind (a local kernel, a shell).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _remove_containers(server: Launched) -> None:
    """Remove every container labelled with the server's id (kernels, judge boxes, terminals)."""
    server_id = server.server_id()
    if not server_id:
        return
    try:
        client = docker.from_env(timeout=30)
    except docker.errors.DockerException:
        return
    try:
        found = client.containers.list(all=True, filters={"label": f"{LABEL_SERVER}={server_id}"})
        for container in found:
            with contextlib.suppress(docker.errors.DockerException):
                container.remove(force=True)
    finally:
        client.close()
