"""jupyter-ide: an AI-assisted, multi-language browser IDE as a Jupyter Server extension."""

from __future__ import annotations

from typing import Any

from ._version import __version__

__all__ = ["__version__"]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    """Name the extension apps Jupyter Server loads."""
    from .lsp.app import IDELspApp
    from .server_extension.app import IDEApp
    from .terminals.app import IDETerminalsApp

    # Terminals are a point of their own: they replace jupyter_server_terminals' routes.
    return [
        {"module": "jupyter_ide", "app": IDEApp},
        {"module": "jupyter_ide.terminals.app", "app": IDETerminalsApp},
        # Language servers replace jupyter-lsp's routes (its servers would run on the host).
        {"module": "jupyter_ide.lsp.app", "app": IDELspApp},
    ]
