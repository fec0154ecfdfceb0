"""Drive s3contents (sync, run in its own venv) for bench/contents.py; prints JSON timings."""

from __future__ import annotations

import json
import sys
import time
from typing import Any


def main() -> None:
    """Run one phase: setup, list, open, save or rename."""
    args = json.loads(sys.argv[1])
    from s3contents import S3ContentsManager

    cm = S3ContentsManager(
        bucket=args["bucket"],
        prefix="s3contents",
        endpoint_url=args["endpoint"],
        access_key_id="testing",
        secret_access_key="testing",
    )
    phase, rounds, n = args["phase"], args["rounds"], args["files"]
    mb = "y" * (1024 * 1024)
    times: list[float] = []

    def timed(op: Any) -> None:
        for i in range(rounds):
            start = time.perf_counter()
            op(i)
            times.append((time.perf_counter() - start) * 1000)

    if phase == "setup":
        cm.save({"type": "directory"}, "big")
        for i in range(n):
            cm.save({"type": "file", "format": "text", "content": f"file {i}"}, f"big/f{i:04}.py")
        cm.save({"type": "file", "format": "text", "content": mb}, "one.txt")
    elif phase == "list":
        timed(lambda i: cm.get("big"))
        assert len(cm.get("big")["content"]) == n
    elif phase == "open":
        timed(lambda i: cm.get("one.txt"))
    elif phase == "save":
        timed(
            lambda i: cm.save(
                {"type": "file", "format": "text", "content": f"{i:08}" + mb[8:]}, "one.txt"
            )
        )
    elif phase == "rename":
        timed(lambda i: cm.rename_file(f"big{i or ''}", f"big{i + 1}"))
    print(json.dumps(times))


if __name__ == "__main__":
    main()
