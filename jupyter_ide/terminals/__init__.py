"""Terminals: Jupyter's terminal API behind our checks, always opened inside the workspace."""

from .manager import CwdError, IDETerminalManager, workspace_folder

__all__ = ["CwdError", "IDETerminalManager", "workspace_folder"]
