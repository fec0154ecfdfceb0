"""``python -m ide_runner.ipython -f CONNECTION_FILE``: ipykernel with capped output streams."""

from __future__ import annotations

import sys

from .outstream import CappedOutStream


def main(argv: list[str] | None = None) -> None:
    """Start IPython's kernel with stdout/stderr cut at the run's size and rate limits."""
    from ipykernel.kernelapp import IPKernelApp

    outstream = f"{CappedOutStream.__module__}.{CappedOutStream.__qualname__}"
    IPKernelApp.launch_instance(
        argv=sys.argv[1:] if argv is None else argv, outstream_class=outstream
    )


if __name__ == "__main__":
    main()
