"""Terminals: Jupyter's terminal API behind our checks, opened in the workspace, sandboxed."""

from .manager import (
    CwdError,
    IDETerminalManager,
    TerminalUnavailable,
    TooManyTerminals,
    workspace_folder,
)

__all__ = [
    "CwdError",
    "IDETerminalManager",
    "TerminalUnavailable",
    "TooManyTerminals",
    "workspace_folder",
]
