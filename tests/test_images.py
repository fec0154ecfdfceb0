"""The sandbox images: built offline (reused when present), each toolchain working inside.

Every image runs here the way the sandbox runs it: no network, uid 1000, read-only root,
no capabilities, tmpfs /tmp and home. The images are built (or reused) once per session.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_ide import __version__
from jupyter_ide.kernels.images import LANGUAGES, ImageBuildError, build, hostconfig, image_for
from jupyter_ide.kernels.images.builder import (
    BASE,
    CORE,
    DIGEST_LABEL,
    LANGUAGE_LABEL,
    context_digest,
    docker_client,
)

JUPYTER_IDE = str(Path(sys.executable).parent / "jupyter-ide")
RUNNER_DIR = Path(__file__).resolve().parent.parent / "jupyter_ide" / "kernels" / "runner"


@pytest.fixture(scope="session")
def docker() -> Iterator[Any]:
    """A Docker SDK client for the engine (`make test` starts it)."""
    try:
        client = docker_client()
    except ImageBuildError as e:
        pytest.fail(str(e))
    yield client
    client.close()


@pytest.fixture(scope="session")
def images(docker: Any) -> list[Any]:
    """All images, built offline when missing or out of date (`make images` did it already)."""
    return build(offline=True, client=docker, progress=lambda line: None)


def sandbox_run(
    docker: Any,
    image: str,
    script: str,
    *,
    env: dict[str, str] | None = None,
    memory: str | None = None,
    tmpfs: bool = True,
) -> tuple[int, str, str]:
    """Run a shell script in the image the way the sandbox does; return (exit, out, err)."""
    options: dict[str, Any] = {
        "network_mode": "none",
        "user": "1000:1000",
        "read_only": True,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "environment": env or {},
        "pids_limit": 256,
    }
    if tmpfs:
        options["tmpfs"] = {
            "/tmp": "rw,exec,nosuid,nodev,size=256m",
            "/home/sandbox": "rw,noexec,nosuid,nodev,size=64m,uid=1000,gid=1000",
        }
    if memory:
        options["mem_limit"] = memory
        options["memswap_limit"] = memory
    container = docker.containers.create(image, ["sh", "-c", script], **options)
    try:
        container.start()
        code = container.wait(timeout=180)["StatusCode"]
        out = container.logs(stdout=True, stderr=False).decode()
        err = container.logs(stdout=False, stderr=True).decode()
    finally:
        container.remove(force=True)
    return code, out, err


def test_every_image_is_tagged_and_configured(docker: Any, images: list[Any]) -> None:
    assert {r.name for r in images} == {BASE, CORE, *LANGUAGES}
    for name in (BASE, *LANGUAGES):
        image = docker.images.get(image_for(name))
        assert f"jupyter-ide/{name}:{__version__}" in image.tags
        config = image.attrs["Config"]
        assert config["Labels"][LANGUAGE_LABEL] == name
        assert config["User"] == "1000:1000"
        assert config["WorkingDir"] == "/home/sandbox"
        env = dict(item.split("=", 1) for item in config["Env"])
        assert env["PATH"].startswith("/opt/ide/venv/bin:")
        assert env["HOME"] == "/home/sandbox"


@pytest.mark.parametrize("language", LANGUAGES)
def test_toolchain_and_runner_work_in_the_sandbox(
    docker: Any, images: list[Any], language: str
) -> None:
    runner = "ide_runner.ipython" if language == "python" else "ide_runner"
    script = (
        f"id -u && id -un && python -m {runner} --help > /dev/null && "
        f"python -m ide_runner --language {language} --self-test && "
        "sha256sum /opt/ide/lib/ide_runner/process.py"
    )
    code, out, err = sandbox_run(docker, image_for(language), script)
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[:2] == ["1000", "sandbox"]
    assert "hello, world" in lines
    assert any(line.startswith(f"self-test {language} (") and ": ok," in line for line in lines)
    # The image carries this checkout's runner, not a stale one.
    digest = hashlib.sha256((RUNNER_DIR / "process.py").read_bytes()).hexdigest()
    assert lines[-1].split()[0] == digest


def test_python_image_has_the_scientific_stack(docker: Any, images: list[Any]) -> None:
    script = (
        'python -c \'import numpy, pandas, matplotlib; matplotlib.use("Agg"); '
        'import matplotlib.pyplot as plt; plt.plot([1, 2]); plt.savefig("/tmp/p.png"); '
        'print(pandas.DataFrame({"a": numpy.arange(3)})["a"].sum())\''
    )
    code, out, err = sandbox_run(docker, image_for("python"), script)
    assert code == 0, err
    assert out.strip() == "3"


def test_no_build_config_or_network_in_the_images(docker: Any, images: list[Any]) -> None:
    script = (
        "ls -A /tmp; test ! -e /etc/pip.conf && pip config list; "
        "python -c 'import socket; socket.create_connection((\"1.1.1.1\", 80), timeout=3)'"
    )
    code, out, err = sandbox_run(docker, image_for("python"), script, tmpfs=False)
    assert code != 0
    assert out == ""  # nothing left in /tmp, no pip configuration
    assert "Network is unreachable" in err


def test_out_of_memory_verdict(docker: Any, images: list[Any]) -> None:
    code = (
        "#include <stdlib.h>\n#include <string.h>\n"
        "int main(void) { for (;;) { char *p = malloc(1 << 20); if (!p) return 9; "
        "memset(p, 1, 1 << 20); } }\n"
    )
    script = 'printf "%s" "$CODE" > /tmp/m.c && python -m ide_runner --language c --run /tmp/m.c'
    exit_code, _, err = sandbox_run(
        docker,
        image_for("c"),
        script,
        env={"CODE": code, "IDE_MEMORY_LIMIT": "67108864"},
        memory="64m",
    )
    verdict = json.loads(err.strip().splitlines()[-1].removeprefix("ide_runner: "))
    assert verdict["verdict"] == "out of memory", err
    assert verdict["description"] == "out of memory (limit 64 MiB): killed"
    assert exit_code == 128 + 9


def test_time_limit_in_the_sandbox(docker: Any, images: list[Any]) -> None:
    script = (
        "printf 'package main\\nfunc main() { for {} }\\n' > /tmp/loop.go && "
        "python -m ide_runner --language go --run /tmp/loop.go"
    )
    _, _, err = sandbox_run(docker, image_for("go"), script, env={"IDE_TIME_LIMIT": "1"})
    verdict = json.loads(err.strip().splitlines()[-1].removeprefix("ide_runner: "))
    assert verdict["verdict"] == "time limit"


STDIN_PROBE = """
import asyncio, os
from ide_runner.limits import RunLimits
from ide_runner.process import ProgramRun

class Lines:
    asked = 0
    def request(self):
        self.asked += 1
    def reply(self):
        return "20 22"

out, lines = [], Lines()
run = ProgramRun(["/tmp/add"], cwd="/tmp", env=dict(os.environ), limits=RunLimits(),
                 emit=lambda name, text: out.append(text), stdin=lines)
outcome = asyncio.run(run.run())
print(lines.asked, "".join(out).strip(), outcome.verdict)
"""


def test_stdin_wait_is_seen_in_the_sandbox(docker: Any, images: list[Any]) -> None:
    # The runner reads /proc/<pid>/task/*/syscall of its own child: allowed for the same uid
    # without any capability, under no-new-privileges.
    code = (
        "#include <stdio.h>\n"
        'int main(void) { int a, b; scanf("%d %d", &a, &b); printf("%d\\n", a + b); }\n'
    )
    script = 'printf "%s" "$CODE" > /tmp/add.c && gcc -o /tmp/add /tmp/add.c && python -c "$PROBE"'
    exit_code, out, err = sandbox_run(
        docker, image_for("c"), script, env={"CODE": code, "PROBE": STDIN_PROBE}
    )
    assert exit_code == 0, err
    assert out.strip() == "1 42 ok"


def test_a_second_build_reuses_everything(docker: Any, images: list[Any]) -> None:
    again = build(offline=True, client=docker, progress=lambda line: None)
    assert {r.state for r in again} == {"reused"}
    for result in again:
        assert docker.images.get(result.tag).labels[DIGEST_LABEL]


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [JUPYTER_IDE, "images", "build", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_cli_reuses_present_images(images: list[Any]) -> None:
    done = _cli("--offline", "--only", "bash")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"[images] bash: reusing jupyter-ide/bash:{__version__}" in done.stdout
    assert "3 image(s) ready (0 built, 3 reused)" in done.stdout


def test_cli_says_how_to_start_a_missing_engine(tmp_path: Path) -> None:
    done = _cli("--offline", env={"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"})
    assert done.returncode == 1
    assert "cannot reach the Docker engine" in done.stdout
    assert "dockerd" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_cli_refuses_an_unknown_language(images: list[Any]) -> None:
    done = _cli("--offline", "--only", "cobol")
    assert done.returncode == 1
    assert "unknown language(s) cobol" in done.stdout


def test_digest_follows_the_runner_and_the_parent() -> None:
    assert context_digest(BASE, ["a"]) == context_digest(BASE, ["a"])
    assert context_digest(BASE, ["a"]) != context_digest(BASE, ["b"])
    # The core (no runner) and the base (runner) come from the same Dockerfile but differ.
    assert context_digest(CORE, ["a"]) != context_digest(BASE, ["a"])


def test_host_apt_sources_are_parsed(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text(
        "# comment\ndeb http://mirror.example/debian bookworm main contrib\n"
        "deb [signed-by=/usr/share/keyrings/other.gpg] https://vendor.example/apt bookworm main\n"
        "deb http://old.example/debian bullseye main\n"
    )
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n"
        "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        "Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\nComponents: main\n"
        "Enabled: no\n"
    )
    sources = hostconfig.debian_sources(tmp_path)
    assert [s.uri for s in sources] == [
        "http://mirror.example/debian",
        "http://mirror.example/debian-security",
    ]
    assert sources[0].components == ("main", "contrib")
    assert hostconfig.debian_mirror(tmp_path) == "http://mirror.example/debian"
    assert "Suites: bookworm-security" in sources[1].deb822()


def test_host_pip_settings_drop_local_indexes(tmp_path: Path) -> None:
    env = {
        "PIP_INDEX_URL": "https://pypi.mirror.example/simple",
        "PIP_EXTRA_INDEX_URL": "file:///opt/wheels https://extra.example/simple",
        "PIP_CERT": str(tmp_path / "missing.crt"),
    }
    settings = hostconfig.pip_settings(env)
    assert settings["index-url"] == "https://pypi.mirror.example/simple"
    assert settings["extra-index-url"] == "https://extra.example/simple"
    bundle = tmp_path / "ca.crt"
    bundle.write_text("certs")
    assert hostconfig.ca_bundle({"PIP_CERT": str(bundle)}) == bundle
    assert hostconfig.proxy_build_args({"HTTPS_PROXY": "http://proxy:3128", "PATH": "/bin"}) == {
        "HTTPS_PROXY": "http://proxy:3128"
    }
