"""`jupyter ide service`: jupyter-ide as a multi-user JupyterHub service (shared state here)."""

from __future__ import annotations

from typing import Any


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    """Name the service's extension app (loaded only by `jupyter ide service`)."""
    from .app import IDEServiceApp

    return [{"module": "jupyter_ide.service", "app": IDEServiceApp}]
