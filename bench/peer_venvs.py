"""Peers the benches compare with, installed once into venvs of their own (never into ours)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "jupyter-ide-bench"


def peer_venv(name: str, *specs: str, install: bool) -> Path | None:
    """Return the venv ``name`` holding ``specs``; install them once when ``install``, else None.

    A peer's own dependencies stay out of the project's venv, where its server extensions (say
    nbgrader's) would load into every Jupyter server the tests start.
    """
    venv = CACHE / name
    marker = venv / ".installed"
    if marker.is_file() and marker.read_text() == " ".join(specs):
        return venv
    if not install:
        return None
    print(f"installing {' '.join(specs)} into {venv} (once)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *specs], check=True)
    marker.write_text(" ".join(specs))
    return venv
