"""pylsp's entry point inside its sandbox: jedi inferring in pylsp's own process.

Not imported by jupyter-ide: its source is the container's command (``python -I -c``, so no
module of the workspace can shadow pylsp, jedi or the standard library). pylsp hands jedi no
environment, so jedi inspects compiled modules (``posix``, ``sys``, ...) in a subprocess of
its own, one pipe round trip per look (about 350 for ``os.pa``), each one a wake-up of two
processes under the container's CPU quota. The sandbox is the isolation here, so jedi uses
its in-process environment, as IPython does: the same answers at about two thirds of the CPU
time and without the round trips. pylsp's plugins are imported before the first message, so
a server started ahead of its first use (``POST /lsp/warm``) has them ready. jedi's parse
cache of the standard library, made when the image was built, is copied into the sandbox's
home (a fresh tmpfs), so the first completion does not parse every stub again.
"""

import os
import shutil
import sys

import jedi.api.environment  # type: ignore[import-untyped]
import jedi.api.project  # type: ignore[import-untyped]
import pylsp.plugins.jedi_completion  # type: ignore[import-not-found]
import pylsp.plugins.pycodestyle_lint  # type: ignore[import-not-found]
import pylsp.plugins.pyflakes_lint  # type: ignore[import-not-found]  # noqa: F401
from pylsp.__main__ import main  # type: ignore[import-not-found]

IN_PROCESS = jedi.api.environment.InterpreterEnvironment()


def in_process_environment() -> object:
    """Return this process as jedi's environment (where pylsp names none)."""
    return IN_PROCESS


def seed_jedi_cache(baked: str = "/opt/ide/jedi-cache") -> None:
    """Copy the image's jedi parse cache to where jedi looks, when there is none yet."""
    import jedi.settings  # type: ignore[import-untyped]

    target = jedi.settings.cache_directory
    if os.path.isdir(baked) and not os.path.exists(target):
        try:
            shutil.copytree(baked, target)
        except OSError:  # a full or missing home: jedi parses as it would without
            shutil.rmtree(target, ignore_errors=True)


if __name__ == "__main__":
    seed_jedi_cache()
    # pylsp calls jedi.api.environment's function; jedi's Project imported the name itself.
    jedi.api.environment.get_cached_default_environment = in_process_environment
    jedi.api.project.get_cached_default_environment = in_process_environment
    sys.argv = ["pylsp"]
    main()
