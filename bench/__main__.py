"""Run every benchmark: `python -m bench` (or `make bench`)."""

from __future__ import annotations

import asyncio

from . import ai, contents, judge, kernels


def main() -> None:
    """Run the benchmarks in turn."""
    asyncio.run(contents.main())
    asyncio.run(kernels.main())
    asyncio.run(ai.main())
    asyncio.run(judge.main())


if __name__ == "__main__":
    main()
