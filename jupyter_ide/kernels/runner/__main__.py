"""``python -m ide_runner --language LANG -f CONNECTION_FILE``: start the runner kernel."""

from __future__ import annotations

import argparse
import sys

from .languages import LANGUAGES

DESCRIPTION = (
    "jupyter-ide's language runner. With -f CONNECTION_FILE (and other ipykernel options) it "
    "runs as a Jupyter kernel where each cell is a whole program; --self-test, --run and "
    "--record-version are one-shot modes."
)


def parser() -> argparse.ArgumentParser:
    """Return the command-line parser (the kernel's own options pass through to ipykernel)."""
    p = argparse.ArgumentParser(prog="python -m ide_runner", description=DESCRIPTION)
    p.add_argument("--language", choices=sorted(LANGUAGES), help="the cells' language")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--self-test", action="store_true", help="compile and run hello world")
    mode.add_argument("--run", metavar="FILE", help="compile and run one source file")
    mode.add_argument(
        "--record-version", metavar="DIR", help="write the toolchain version to DIR/LANGUAGE"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a one-shot mode or start the kernel."""
    args, rest = parser().parse_known_args(sys.argv[1:] if argv is None else argv)
    if not args.language:
        parser().error("--language is required")
    if args.self_test:
        from .oneshot import self_test

        return self_test(args.language)
    if args.run:
        from .oneshot import run_file

        return run_file(args.language, args.run)
    if args.record_version:
        from .oneshot import record_version

        return record_version(args.language, args.record_version)
    if args.language == "python":
        parser().error("python runs ipykernel itself: python -m ide_runner.ipython -f FILE")
    from ipykernel.kernelapp import IPKernelApp

    from .kernel import kernel_class

    IPKernelApp.launch_instance(argv=rest, kernel_class=kernel_class(args.language))
    return 0


if __name__ == "__main__":
    sys.exit(main())
