"""The JupyterLab 4 plugin ships with the Python package: `jupyter labextension list` shows it
enabled for the editable install (what `make setup` does) and for an installed wheel."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NAME = "@jupyter-ide/jupyterlab"
SHARE = f"share/jupyter/labextensions/{NAME}"
BIN = Path(sys.executable).parent
PIP = [sys.executable, "-m", "pip"]
# Install only this wheel, and never touch the venv's own jupyter-ide: without
# --ignore-installed pip uninstalls an installed distribution first, even for --prefix.
ALONE = ["--no-deps", "--no-compile", "--ignore-installed", "-q"]
ENABLED = re.compile(
    rf"^\s+{re.escape(NAME)} v\S+ \S*enabled\S* \S*OK\S* \(python, jupyter-ide\)", re.MULTILINE
)


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    """An environment without anyone's Jupyter config, so nothing disables the extension."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    for name in ("config", "data", "runtime"):
        (tmp_path / name).mkdir()
        env[f"JUPYTER_{name.upper()}_DIR"] = str(tmp_path / name)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["NO_COLOR"] = "1"
    return env


def _labextension_list(env: dict[str, str]) -> str:
    """What `jupyter labextension list` prints (it prints to stderr and stdout)."""
    result = subprocess.run(
        [str(BIN / "jupyter"), "labextension", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)


def _section(listing: str, folder: Path) -> str:
    """The lines `labextension list` prints under one labextensions folder."""
    lines = listing.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == str(folder))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")), None)
    return "\n".join(lines[start + 1 : end])


def _check_built(folder: Path) -> None:
    """A federated extension: its package.json names a remoteEntry that is there, + install.json."""
    package = json.loads((folder / "package.json").read_text())
    assert package["name"] == NAME
    load = package["jupyterlab"]["_build"]["load"]
    assert re.fullmatch(r"static/remoteEntry\.[0-9a-f]+\.js", load), load
    assert (folder / load).is_file()
    install = json.loads((folder / "install.json").read_text())
    assert install == {
        "packageManager": "python",
        "packageName": "jupyter-ide",
        "uninstallInstructions": install["uninstallInstructions"],
    }


def test_editable_install_lists_the_plugin_enabled(clean_env: dict[str, str]) -> None:
    """The venv's editable install (make setup) put the built plugin where JupyterLab looks."""
    folder = Path(sys.prefix) / SHARE
    _check_built(folder)
    listing = _labextension_list(clean_env)
    assert ENABLED.search(_section(listing, folder.parent.parent)), listing
    # The copy in the venv is the one the source builds (make setup reinstalls on a change).
    built = json.loads((ROOT / "jupyter_ide/labextension/package.json").read_text())
    installed = json.loads((folder / "package.json").read_text())
    assert installed["jupyterlab"]["_build"] == built["jupyterlab"]["_build"]


def test_wheel_ships_the_plugin_and_installs_it_enabled(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    """A wheel carries share/jupyter/labextensions/<name> (+ install.json); installed, it is on."""
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = wheels.glob("jupyter_ide-*.whl")
    data = f"jupyter_ide-{wheel.name.split('-')[1]}.data/data/{SHARE}"
    names = zipfile.ZipFile(wheel).namelist()
    assert f"{data}/package.json" in names
    assert f"{data}/install.json" in names
    assert any(
        re.fullmatch(rf"{re.escape(data)}/static/remoteEntry\.[0-9a-f]+\.js", n) for n in names
    )
    # Installed (no dependencies: the venv has them) into a prefix of its own.
    prefix = tmp_path / "prefix"
    install = subprocess.run(
        [*PIP, "install", *ALONE, "--prefix", str(prefix), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    folder = prefix / SHARE
    _check_built(folder)
    clean_env["JUPYTER_PATH"] = str(prefix / "share/jupyter")
    listing = _labextension_list(clean_env)
    assert ENABLED.search(_section(listing, folder.parent.parent)), listing
    # The venv's own (editable) install is untouched.
    assert (Path(sys.prefix) / SHARE / "package.json").is_file()
    assert importlib.metadata.distribution("jupyter-ide").read_text("direct_url.json")
