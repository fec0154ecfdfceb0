"""Run every benchmark: `python -m bench [--quick]` (or `make bench`).

Every bench runs even when one fails; the exit status is 1 if any failed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
import traceback

from .quick import ENV

BENCHES = (
    "contents",
    "kernels",
    "ai",
    "ai_scale",
    "judge",
    "judge_scale",
    "failover",
    "hub",
    "classroom_start",
    "grading",
    "capacity",
    "similarity",
    "marketplace",
    "marketplace_paint",
    "activity",
    "liveview",
    "lsp",
    "lsp_paint",
)


def main() -> None:
    """Run the benchmarks in turn; exit 1 when one of them failed."""
    parser = argparse.ArgumentParser(description="Run every benchmark of jupyter-ide.")
    parser.add_argument(
        "--quick", action="store_true", help=f"a handful of iterations each (also {ENV}=1)"
    )
    parser.add_argument("--only", nargs="+", choices=BENCHES, help="run only these benches")
    args = parser.parse_args()
    if args.quick:
        os.environ[ENV] = "1"  # before the benches are imported: they read it then
    failed = []
    for name in args.only or BENCHES:
        module = importlib.import_module(f"bench.{name}")
        try:
            asyncio.run(module.main())
        except Exception:
            traceback.print_exc()
            print(f"bench {name} FAILED", file=sys.stderr, flush=True)
            failed.append(name)
    if failed:
        sys.exit(f"benches failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
