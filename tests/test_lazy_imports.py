"""Starting a server or the hub service imports no plotting library (copydetect's matplotlib)."""

from __future__ import annotations

import subprocess
import sys

APPS = ("jupyter_ide.service.app", "jupyter_ide.server_extension.app")


def test_the_apps_import_no_matplotlib() -> None:
    """The similarity engine is loaded with the apps; copydetect, with matplotlib, is not."""
    probe = (
        f"import sys, {', '.join(APPS)}, jupyter_ide.classroom.similarity_manager\n"
        "print(sorted(m for m in ('matplotlib', 'copydetect') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=300
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
