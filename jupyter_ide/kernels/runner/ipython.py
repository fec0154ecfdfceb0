"""``python -m ide_runner.ipython -f CONNECTION_FILE``: ipykernel with capped output streams.

It starts faster than ``ipykernel_launcher``: the cyclic garbage collector stays off while
ipykernel is imported and set up (hundreds of modules, almost no garbage), then runs as usual
for the user's code, with the start-up objects frozen out of its way.
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
from pathlib import Path

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
    collecting = gc.isenabled()
    gc.disable()
    try:
        from ipykernel.kernelapp import IPKernelApp

        from .outstream import CappedOutStream

        seed_matplotlib_cache()
        outstream = f"{CappedOutStream.__module__}.{CappedOutStream.__qualname__}"
        app = IPKernelApp.instance(outstream_class=outstream)
        app.initialize(sys.argv[1:] if argv is None else argv)  # type: ignore[no-untyped-call]
    finally:
        if collecting:
            gc.freeze()  # what start-up made lives as long as the kernel: never scan it
            gc.enable()
    app.start()  # type: ignore[no-untyped-call]


if __name__ == "__main__":
    main()
