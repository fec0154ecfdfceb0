"""`jupyter ide images build [--offline] [--only LANG ...] [--force]`: build the sandbox images."""

from __future__ import annotations

import time

from jupyter_core.application import JupyterApp
from traitlets import Bool, Int, List, Unicode

from .images import LANGUAGES, ImageBuildError, build


class ImagesBuildApp(JupyterApp):
    """Build (or reuse) the base image and the eight language images."""

    name = "jupyter-ide-images-build"
    description = (
        "Build the sandbox images jupyter-ide/<language>:<version>; present, up-to-date images "
        "are reused. --offline builds the base from Debian packages (debootstrap) where no "
        "image registry can be reached."
    )

    offline = Bool(
        False, help="Build the base from Debian packages (debootstrap) instead of a registry."
    ).tag(config=True)
    force = Bool(False, help="Rebuild images that are present (through Docker's layer cache).").tag(
        config=True
    )
    refresh_base = Bool(
        False, help="Debootstrap the Debian root filesystem again (with --offline)."
    ).tag(config=True)
    verbose = Bool(False, help="Print every line of the builds.").tag(config=True)
    only = List(
        Unicode(), default_value=[], help=f"Build only these languages ({', '.join(LANGUAGES)})."
    ).tag(config=True)
    jobs = Int(2, help="How many language images to build at once.").tag(config=True)

    flags = {
        "offline": ({"ImagesBuildApp": {"offline": True}}, offline.help),
        "force": ({"ImagesBuildApp": {"force": True}}, force.help),
        "refresh-base": ({"ImagesBuildApp": {"refresh_base": True}}, refresh_base.help),
        "verbose": ({"ImagesBuildApp": {"verbose": True}}, verbose.help),
    }
    aliases = {"only": "ImagesBuildApp.only", "jobs": "ImagesBuildApp.jobs"}

    def start(self) -> None:
        """Build, print one line per image, exit non-zero with the reason when a build fails."""
        # `--only c go`, `--only c --only go`, `--only c,go` and plain `c go` all work.
        named = [*self.only, *self.extra_args]
        languages = [part for item in named for part in item.replace(",", " ").split()]
        started = time.monotonic()
        try:
            results = build(
                languages or None,
                offline=self.offline,
                force=self.force,
                refresh_base=self.refresh_base,
                jobs=self.jobs,
                verbose=self.verbose,
                progress=lambda line: print(line, flush=True),
            )
        except ImageBuildError as e:
            print(f"jupyter ide images build: {e}", flush=True)
            self.exit(1)
        built = sum(r.state == "built" for r in results)
        print(
            f"[images] {len(results)} image(s) ready ({built} built, "
            f"{len(results) - built} reused) in {time.monotonic() - started:.0f} s"
        )


class ImagesApp(JupyterApp):
    """Manage the sandbox images."""

    name = "jupyter-ide-images"
    description = "Build the Docker sandbox images (jupyter ide images build)."
    subcommands = {"build": (ImagesBuildApp, ImagesBuildApp.description)}

    def start(self) -> None:
        """Without a subcommand, say which ones exist."""
        if self.subapp is None:
            print("Usage: jupyter ide images build [--offline] [--only LANG ...] [--force]")
            self.exit(1)
            return
        self.subapp.start()
