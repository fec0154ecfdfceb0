"""Wheel build hook: the JupyterLab plugin (labextension/jupyterlab) into jupyter_ide/labextension.

The /ide app is built by hatch-jupyter-builder's own hook (pyproject.toml); this one builds the
second npm package the same way (npm install, npm run build), only when its sources are newer
than its output, and fails the wheel when the output is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PLUGIN = "labextension/jupyterlab"
OUTPUT = "jupyter_ide/labextension"


class JupyterLabPluginHook(BuildHookInterface):
    """Build the federated JupyterLab extension that the wheel ships in share/jupyter."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Build before a wheel (standard or editable) is assembled; sdists carry sources."""
        if self.target_name != "wheel":
            return
        from hatch_jupyter_builder import npm_builder

        root = Path(self.root)
        if (root / PLUGIN / "package.json").exists():
            npm_builder(
                self.target_name,
                version,
                path=str(root / PLUGIN),
                build_dir=str(root / OUTPUT / "static"),
                source_dir=str(root / PLUGIN / "src"),
                build_cmd="build",
                npm=["npm"],
            )
        if not (root / OUTPUT / "package.json").exists():
            raise RuntimeError(f"The JupyterLab plugin was not built: {OUTPUT}/package.json")
