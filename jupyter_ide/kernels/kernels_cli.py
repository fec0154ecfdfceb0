"""`jupyter ide kernels install`: write the ide-* kernelspecs where Jupyter finds them."""

from __future__ import annotations

import sys

from jupyter_core.application import JupyterApp
from traitlets import Bool, Unicode

from .kernelspecs import install_kernelspecs


class KernelsInstallApp(JupyterApp):
    """Install the eight sandboxed kernelspecs (ide-python, ide-c, ...)."""

    name = "jupyter-ide-kernels-install"
    description = "Install the ide-* kernelspecs, each naming the Docker sandbox provisioner."

    user = Bool(False, help="Install for the current user instead of system-wide.").tag(config=True)
    prefix = Unicode("", help="Install under this prefix (e.g. sys.prefix).").tag(config=True)
    sys_prefix = Bool(False, help="Install into this Python's prefix (a venv).").tag(config=True)

    flags = {
        "user": ({"KernelsInstallApp": {"user": True}}, user.help),
        "sys-prefix": ({"KernelsInstallApp": {"sys_prefix": True}}, sys_prefix.help),
    }
    aliases = {"prefix": "KernelsInstallApp.prefix"}

    def start(self) -> None:
        """Write the kernelspecs and print where they went."""
        prefix = sys.prefix if self.sys_prefix else (self.prefix or None)
        for path in install_kernelspecs(user=self.user, prefix=prefix):
            print(f"Installed {path}")


class KernelsApp(JupyterApp):
    """Manage jupyter-ide's kernelspecs."""

    name = "jupyter-ide-kernels"
    description = "Manage the sandboxed ide-* kernelspecs."
    subcommands = {"install": (KernelsInstallApp, KernelsInstallApp.description)}

    def start(self) -> None:
        """Without a subcommand, say which ones exist."""
        subapp = self.subapp
        if subapp is None:
            print("Usage: jupyter ide kernels install [--user | --sys-prefix | --prefix=DIR]")
            self.exit(1)
            return
        subapp.start()
