"""``python -m ide_runner.ipython -f CONNECTION_FILE``: ipykernel with capped output streams."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from .outstream import CappedOutStream

# Matplotlib's font cache, built once in the python image: copied into the (fresh, tmpfs) home
# so that a kernel's first plot does not rebuild it.
MPL_SEED = Path("/opt/ide/mplconfig")


def seed_matplotlib_cache(seed: Path = MPL_SEED) -> None:
    """Copy the image's Matplotlib font cache into MPLCONFIGDIR when it is not there yet."""
    target = os.environ.get("MPLCONFIGDIR")
    if not target or not seed.is_dir():
        return
    try:
        Path(target).mkdir(parents=True, exist_ok=True)
        for item in seed.glob("fontlist-*.json"):
            if not (Path(target) / item.name).exists():
                shutil.copyfile(item, Path(target) / item.name)
    except OSError:
        pass  # only a cache: matplotlib rebuilds it


def main(argv: list[str] | None = None) -> None:
    """Start IPython's kernel with stdout/stderr cut at the run's size and rate limits."""
    from ipykernel.kernelapp import IPKernelApp

    seed_matplotlib_cache()
    outstream = f"{CappedOutStream.__module__}.{CappedOutStream.__qualname__}"
    IPKernelApp.launch_instance(
        argv=sys.argv[1:] if argv is None else argv, outstream_class=outstream
    )


if __name__ == "__main__":
    main()
