"""An invalid setting stops the server process with one line naming it and the fix.

Before, an extension that failed to load left Jupyter Server running without the IDE (/ide
answered 404 and nothing said why). Each case starts a real server process; `jupyter ide
doctor` reports the same line.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_ide.server_extension.settings import IDESettings
from jupyter_ide.server_extension.validation import REFUSAL, setting_problems

BIN = Path(sys.executable).parent
HEX_KEY = secrets.token_hex(32)

# (variable, bad value, words the line must hold besides the variable)
BAD = [
    ("JUPYTER_IDE_CRYPT_KEY", "changeme", "openssl rand -hex 32"),
    ("JUPYTER_IDE_CRYPT_KEY", f"{HEX_KEY};{HEX_KEY[:40]}", "key 2 of 2"),
    ("JUPYTER_IDE_DB_URL", "postgres://ide:pw@db/ide", "postgresql+psycopg://"),
    ("JUPYTER_IDE_DB_URL", "not a url", "sqlite:///"),
    ("JUPYTER_IDE_REDIS_URL", "localhost:6379", "redis://host:6379/0"),
    ("JUPYTER_IDE_STORAGE_URL", "/srv/files", "file:///absolute/folder"),
    ("JUPYTER_IDE_STORAGE_URL", "s3://", "s3://bucket/prefix"),
    ("JUPYTER_IDE_SANDBOX", "vm", "docker, auto, local"),
    ("JUPYTER_IDE_QUOTA_BYTES", "1GB", "digits only"),
    ("JUPYTER_IDE_QUOTA_FILES", "-5", "digits only"),
    ("JUPYTER_IDE_JUDGE_WORKERS", "0", "digits only"),
    ("JUPYTER_IDE_S3_SSE", "aes", "AES256"),
    ("JUPYTER_IDE_AI_POOL_URL", "vllm:8000", "http://host/v1"),
    ("JUPYTER_IDE_WORKSPACE_BYTES", "2G", "digits only"),
    ("JUPYTER_IDE_WORKSPACE_VOLUME", "zfs", "auto, loop, sync, off"),
    ("JUPYTER_IDE_IMAGE_HOSTS", "javascript:alert(1)", "https://upload.wikimedia.org"),
]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A clean environment: no Jupyter settings of the test process, a fresh HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env["HOME"] = str(tmp_path)
    env["JUPYTER_IDE_DB_URL"] = f"sqlite:///{tmp_path / 'ide.db'}"
    env["JUPYTER_IDE_STORAGE_URL"] = (tmp_path / "blobs").as_uri()
    return env


def _start(command: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Start a server the way a person would; it must exit on its own."""
    root = ["--allow-root"] if os.geteuid() == 0 else []
    return subprocess.run(
        [str(BIN / command), "--no-browser", "--ip=127.0.0.1", "--port=0", *root, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _refusals(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(f"{REFUSAL}:")]


@pytest.mark.parametrize(("variable", "value", "fix"), BAD)
def test_the_settings_check_names_each_bad_variable(
    env: dict[str, str], variable: str, value: str, fix: str
) -> None:
    """Each invalid value gives one problem naming its variable, with the fix."""
    env[variable] = value
    previous = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        problems = setting_problems(IDESettings)
    finally:
        os.environ.clear()
        os.environ.update(previous)
    assert [p.name for p in problems] == [variable]
    line = problems[0].line()
    assert "\n" not in line and fix in line
    if variable == "JUPYTER_IDE_CRYPT_KEY" or "pw@" in value:
        assert value not in line and "pw" not in line


@pytest.mark.parametrize(
    ("variable", "value", "fix"), [BAD[0], BAD[2], BAD[4], BAD[5], BAD[7], BAD[8]]
)
def test_jupyter_ide_exits_with_one_line(
    env: dict[str, str], variable: str, value: str, fix: str
) -> None:
    """`jupyter ide` exits non-zero; its last words are the one line naming the variable."""
    env[variable] = value
    done = _start("jupyter-ide", env)
    assert done.returncode != 0
    lines = _refusals(done.stderr)
    assert len(lines) == 1, done.stderr[-3000:]
    assert lines[0].startswith(f"{REFUSAL}: {variable} ") and fix in lines[0]
    assert done.stderr.strip().splitlines()[-1] == lines[0]


def test_jupyter_server_exits_too(env: dict[str, str]) -> None:
    """Under plain `jupyter server` (the extension enabled by its installed file) as well."""
    env["JUPYTER_IDE_CRYPT_KEY"] = "changeme"
    env["JUPYTER_IDE_SANDBOX"] = "vm"
    done = _start("jupyter-server", env)
    assert done.returncode != 0
    lines = _refusals(done.stderr)
    assert [line.split()[3] for line in lines] == ["JUPYTER_IDE_CRYPT_KEY", "JUPYTER_IDE_SANDBOX"]
    assert "changeme" not in done.stderr


def test_a_bad_value_in_the_config_file_names_the_config_setting(
    env: dict[str, str], tmp_path: Path
) -> None:
    """A value from jupyter_server_config.py is named as c.IDESettings.<name>."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "jupyter_server_config.py").write_text(
        'c.IDESettings.redis_url = "http://cache:6379"\n'
    )
    env["JUPYTER_CONFIG_DIR"] = str(config)
    done = _start("jupyter-server", env)
    assert done.returncode != 0
    lines = _refusals(done.stderr)
    assert len(lines) == 1 and lines[0].startswith(f"{REFUSAL}: c.IDESettings.redis_url is not")


def test_doctor_reports_the_same_line(env: dict[str, str]) -> None:
    """`jupyter ide doctor` says broken, names the variable and the fix, and exits 1."""
    env["JUPYTER_IDE_CRYPT_KEY"] = "changeme"
    done = subprocess.run(
        [str(BIN / "jupyter-ide"), "doctor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if " settings " in line)
    assert lines[at].split()[:3] == ["broken", "settings", "JUPYTER_IDE_CRYPT_KEY"]
    assert "fix: make one with `openssl rand -hex 32`" in lines[at + 1]
    assert "changeme" not in done.stdout


def test_doctor_says_the_settings_are_valid(env: dict[str, str]) -> None:
    """With a JupyterHub-style hex key, the settings line is ok."""
    env["JUPYTER_IDE_CRYPT_KEY"] = HEX_KEY
    done = subprocess.run(
        [str(BIN / "jupyter-ide"), "doctor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    line = next(line for line in done.stdout.splitlines() if " settings " in line)
    assert line.split()[:2] == ["ok", "settings"]
