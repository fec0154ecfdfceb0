"""The compile cache under load: a tiny cap, 32 submissions at once, cache on and off, against
the real Docker engine. Every verdict must be right; nothing a running job needs may vanish."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from .test_judge_common import call, docker_or_fail, judge_config, poll

SUBMISSIONS = 32
DISTINCT = 6  # sources; the rest repeat them, so compiles of one key overlap and share


def c_program(number: int) -> str:
    """A C program printing its number (each number is its own cache key)."""
    return f'#include <stdio.h>\nint main(void) {{ printf("n=%d\\n", {number}); return 0; }}\n'


@pytest.fixture(params=["cache on", "cache off"])
def cached(request: pytest.FixtureRequest) -> bool:
    """Run each test with the compile cache on and off."""
    return bool(request.param == "cache on")


@pytest.fixture
def judge_dir(tmp_path: Path) -> Path:
    """A judge folder of the test's own (an empty cache)."""
    docker_or_fail()
    return tmp_path / "judge"


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], judge_dir: Path, cached: bool) -> Any:
    """Eight workers, a compile cache capped at one byte (every entry is over the cap)."""
    return judge_config(
        jp_server_config,
        judge_dir,
        workers=8,
        compile_cache=cached,
        compile_cache_bytes=1,
        warm_languages="c",
        pool_size=2,
        max_submission_batch_size=SUBMISSIONS,
    )


async def test_tiny_cache_32_concurrent_submissions_all_correct(
    jp_fetch: Any, judge_dir: Path, cached: bool
) -> None:
    """32 C submissions at once, three runs each, over a one-byte cache: all Accepted, right
    output; the cache never lost a build a job was using, and uncached builds never entered it."""
    body = {
        "submissions": [
            {
                "language_id": 50,
                "source_code": c_program(i % DISTINCT),
                "expected_output": f"n={i % DISTINCT}\n",
                "number_of_runs": 3,
            }
            for i in range(SUBMISSIONS)
        ]
    }
    code, created, _ = await call(jp_fetch, "POST", "submissions", "batch", body=body)
    assert code == 201, created
    tokens = [item["token"] for item in created]
    results = await asyncio.gather(*(poll(jp_fetch, token, timeout=280) for token in tokens))
    wrong = [
        (i, r["status"], r["message"], r["stdout"])
        for i, r in enumerate(results)
        if r["status"]["id"] != 3 or r["stdout"] != f"n={i % DISTINCT}\n"
    ]
    assert not wrong, wrong
    cache_root = judge_dir / "cache"
    entries = [p for p in cache_root.glob("??/*")] if cache_root.is_dir() else []
    if cached:
        assert all(len(p.name) == 64 for p in entries), entries
    else:
        assert entries == [], "uncached builds must never enter the shared cache"
    # jobs/<run>/ holds this run's uncached builds while they run: none may be left.
    left = [job for run in (judge_dir / "jobs").glob("*") for job in run.iterdir()]
    assert left == [], "a job's build folder was left behind"
