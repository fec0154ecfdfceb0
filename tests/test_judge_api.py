"""The Judge0 CE compatible API against the real Docker engine and sandbox images: every
status we can provoke, base64, fields, batch, polling, limits, owners, hostile input."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import pytest

from .test_judge_common import b64, call, docker_or_fail, judge_config, poll, run, zip_b64

C_HELLO = '#include <stdio.h>\nint main(void) { printf("hello, %s\\n", "judge"); return 0; }\n'


@pytest.fixture(scope="session")
def judge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One judge folder for the session (judge-box is built once, the compile cache is shared)."""
    docker_or_fail()
    return tmp_path_factory.mktemp("judge")


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], judge_dir: Path) -> dict[str, Any]:
    """Hub-like users and a judge with small input caps."""
    return judge_config(jp_server_config, judge_dir)


async def test_languages_statuses_about_and_config(jp_fetch: Any) -> None:
    """The read-only endpoints answer in Judge0's shapes, with Judge0 CE's language ids."""
    code, languages, _ = await call(jp_fetch, "GET", "languages")
    assert code == 200
    ids = {lang["id"] for lang in languages}
    assert {46, 50, 54, 60, 62, 63, 71, 73, 89} <= ids
    names = {lang["id"]: lang["name"] for lang in languages}
    assert names[50].startswith("C (GCC") and names[71].startswith("Python (3")
    code, c, _ = await call(jp_fetch, "GET", "languages", "50")
    assert code == 200 and c["source_file"] == "main.c" and "gcc" in c["compile_cmd"]
    assert c["is_archived"] is False and c["run_cmd"]
    code, python, _ = await call(jp_fetch, "GET", "languages", "71")
    assert python["compile_cmd"] is None
    code, body, _ = await call(jp_fetch, "GET", "languages", "999")
    assert code == 404 and "999" in body["error"]
    code, statuses, _ = await call(jp_fetch, "GET", "statuses")
    assert [s["id"] for s in statuses] == list(range(1, 15))
    assert statuses[2] == {"id": 3, "description": "Accepted"}
    assert statuses[7]["description"] == "Runtime Error (SIGXFSZ)"
    code, about, _ = await call(jp_fetch, "GET", "about")
    assert code == 200 and about["version"]
    code, config, _ = await call(jp_fetch, "GET", "config_info")
    assert config["max_cpu_time_limit"] == 15 and config["memory_limit"] == 128000
    assert config["allow_enable_network"] is False and config["enable_wait_result"] is True


async def test_accepted_wrong_answer_and_fields(jp_fetch: Any, jp_serverapp: Any) -> None:
    """C and Python run; expected_output decides Accepted / Wrong Answer; fields pick attributes."""
    result = await run(
        jp_fetch, language_id=50, source_code=C_HELLO, expected_output="hello, judge  \n\n"
    )
    assert result["status"] == {"id": 3, "description": "Accepted"}
    assert result["stdout"] == "hello, judge\n"
    assert result["stderr"] is None and result["compile_output"] is None
    assert float(result["time"]) >= 0 and isinstance(result["memory"], int)
    assert result["exit_code"] == 0 and result["language_id"] == 50
    assert result["finished_at"] and result["created_at"] and result["wall_time"]
    assert result["cpu_time_limit"] == 5 and result["memory_limit"] == 128000

    wrong = await run(jp_fetch, language_id=50, source_code=C_HELLO, expected_output="hello")
    assert wrong["status"]["id"] == 4
    judge = jp_serverapp.web_app.settings["jupyter_ide_judge"]
    assert judge.judge.cache.hits >= 1  # the second run of the same source skipped the compiler

    code, default, _ = await call(
        jp_fetch,
        "POST",
        "submissions",
        body={"language_id": 71, "source_code": "print(6*7)"},
        wait=True,
    )
    assert code == 201
    assert set(default) == {
        "stdout",
        "time",
        "memory",
        "stderr",
        "token",
        "compile_output",
        "message",
        "status",
    }
    assert default["stdout"] == "42\n"
    code, picked, _ = await call(
        jp_fetch, "GET", "submissions", default["token"], fields="stdout,status_id,language_id"
    )
    assert picked == {"stdout": "42\n", "status_id": 3, "language_id": 71}
    code, body, _ = await call(jp_fetch, "GET", "submissions", default["token"], fields="nope")
    assert code == 400 and "nope" in body["error"]


C_CASES = {
    "segv": ("int main(void) { volatile int *p = 0; return *p; }", 7, 11),
    "fpe": ("int main(void) { volatile int x = 7, z = 0; return x / z; }", 9, 8),
    "abort": ("#include <stdlib.h>\nint main(void) { abort(); }", 10, 6),
    "nzec": ("int main(void) { return 3; }", 11, None),
    "xfsz": (
        '#include <stdio.h>\nint main(void) { for (;;) fputs("spam spam spam spam\\n", stdout); }',
        8,
        25,
    ),
}


@pytest.mark.parametrize("case", sorted(C_CASES))
async def test_runtime_errors(jp_fetch: Any, case: str) -> None:
    """Each runtime error kind a C program can provoke gets Judge0's status and signal."""
    source, status, signal = C_CASES[case]
    result = await run(jp_fetch, language_id=50, source_code=source)
    assert result["status"]["id"] == status, str(
        {
            k: v
            for k, v in result.items()
            if v is not None and k not in ("source_code",) and "limit" not in k
        }
    )
    assert result["exit_signal"] == signal
    if case == "nzec":
        assert result["exit_code"] == 3 and result["message"] == "Exited with error status 3"
    if case == "xfsz":  # output stops at max_file_size (1024 KB by default)
        assert len(result["stdout"]) <= 1024 * 1024


@pytest.mark.parametrize("language_id", [46, 50, 54, 60, 62, 63, 71, 73])
async def test_every_language_runs_with_stdin(jp_fetch: Any, language_id: int) -> None:
    """Each language's hello world (the runner's own sample) is Accepted with its output."""
    from jupyter_ide.kernels.judge.languages import JUDGE_LANGUAGES

    runner = JUDGE_LANGUAGES[language_id].runner
    assert runner is not None
    result = await run(
        jp_fetch,
        language_id=language_id,
        source_code=runner.hello_world,
        stdin="ignored\n",
        expected_output="hello, world",
    )
    assert result["status"]["id"] == 3, result
    assert result["stdout"] == "hello, world\n" and result["memory"] > 0


async def test_time_memory_and_compilation_errors(jp_fetch: Any) -> None:
    """Endless loops and sleepers hit the time limits; memory hogs the memory limit."""
    busy = await run(
        jp_fetch,
        language_id=71,
        source_code="while True: pass",
        cpu_time_limit=1,
        cpu_extra_time=0.5,
        wall_time_limit=6,
    )
    assert busy["status"]["id"] == 5 and busy["message"].startswith("Time limit exceeded")
    sleeper = await run(
        jp_fetch, language_id=71, source_code="import time; time.sleep(30)", wall_time_limit=1
    )
    assert sleeper["status"]["id"] == 5
    assert sleeper["message"] == "Time limit exceeded (wall clock)"
    assert float(sleeper["wall_time"]) >= 1
    hog = await run(
        jp_fetch,
        language_id=50,
        source_code=(
            "#include <stdlib.h>\n#include <string.h>\n"
            "int main(void) { for (;;) { char *p = malloc(1 << 20); memset(p, 1, 1 << 20); } }"
        ),
        memory_limit=32000,
    )
    assert hog["status"]["id"] == 12 and hog["message"] == "Memory limit exceeded", hog
    assert hog["memory"] >= 30000
    broken = await run(jp_fetch, language_id=50, source_code="int main( {")
    assert broken["status"] == {"id": 6, "description": "Compilation Error"}
    assert "error" in broken["compile_output"] and broken["stdout"] is None
    assert broken["time"] is None and broken["memory"] is None


async def test_memory_hogs_are_killed_before_the_judge(jp_fetch: Any) -> None:
    """The program is the OOM killer's first choice, so a hog never takes judge-box with it."""
    score = await run(
        jp_fetch, language_id=71, source_code="print(open('/proc/self/oom_score_adj').read())"
    )
    assert score["status"]["id"] == 3 and score["stdout"].strip() == "1000", score
    hog = (
        "#include <stdlib.h>\n#include <string.h>\n"
        "int main(void) { for (;;) { char *p = malloc(1 << 20); memset(p, 1, 1 << 20); } }"
    )
    for _ in range(5):
        result = await run(jp_fetch, language_id=50, source_code=hog, memory_limit=32000)
        assert result["status"]["id"] == 12, result
        assert result["message"] == "Memory limit exceeded", result


async def test_base64_round_trip_and_non_utf8_output(jp_fetch: Any) -> None:
    """Base64 in and out; output that is not UTF-8 needs base64_encoded=true, as in Judge0."""
    code, body, _ = await call(
        jp_fetch,
        "POST",
        "submissions",
        body={"language_id": 71, "source_code": b64("print(input()[::-1])"), "stdin": b64("été")},
        base64_encoded=True,
        wait=True,
    )
    assert code == 201 and base64.b64decode(body["stdout"]).decode() == "été"[::-1] + "\n"
    raw = "import sys; sys.stdout.buffer.write(bytes([0xfe, 0xff, 10]))"
    code, body, _ = await call(
        jp_fetch, "POST", "submissions", body={"language_id": 71, "source_code": raw}, wait=True
    )
    assert code == 201 and "base64_encoded=true" in body["error"] and body["token"]
    code, body2, _ = await call(jp_fetch, "GET", "submissions", body["token"])
    assert code == 400 and "cannot be converted to UTF-8" in body2["error"]
    code, body3, _ = await call(jp_fetch, "GET", "submissions", body["token"], base64_encoded=True)
    assert code == 200 and base64.b64decode(body3["stdout"]) == b"\xfe\xff\n"
    code, bad, _ = await call(
        jp_fetch,
        "POST",
        "submissions",
        body={"language_id": 71, "source_code": "not base64!!"},
        base64_encoded=True,
    )
    assert code == 422 and bad == {"source_code": ["is not valid base64"]}


async def test_batch_and_polling(jp_fetch: Any) -> None:
    """A batch answers a token or errors per item; wait=false then polling finds each result."""
    code, created, _ = await call(
        jp_fetch,
        "POST",
        "submissions",
        "batch",
        body={
            "submissions": [
                {"language_id": 71, "source_code": "print('one')"},
                {"language_id": 123456789, "source_code": "print('x')"},
                {"language_id": 50, "source_code": C_HELLO, "expected_output": "hello, judge"},
                {"language_id": 71, "source_code": ""},
            ]
        },
    )
    assert code == 201
    assert created[1] == {"language_id": ["language with id 123456789 doesn't exist"]}
    assert created[3] == {"source_code": ["can't be blank"]}
    tokens = [created[0]["token"], created[2]["token"]]
    for token in tokens:
        await poll(jp_fetch, token)
    code, got, _ = await call(
        jp_fetch,
        "GET",
        "submissions",
        "batch",
        tokens=",".join([*tokens, "no-such-token"]),
        fields="token,stdout,status_id",
    )
    assert code == 200
    first, second, missing = got["submissions"]
    assert first == {"token": tokens[0], "stdout": "one\n", "status_id": 3}
    assert second["status_id"] == 3 and missing is None

    code, single, _ = await call(
        jp_fetch, "POST", "submissions", body={"language_id": 71, "source_code": "print(1)"}
    )
    assert code == 201 and set(single) == {"token"}
    final = await poll(jp_fetch, single["token"])
    assert final["stdout"] == "1\n"


async def test_multi_file_and_additional_files(jp_fetch: Any) -> None:
    """Language 89 runs the zip's compile and run scripts; additional_files sit beside a program."""
    files = {
        "main.c": '#include "greet.h"\nint main(void) { greet(); return 0; }\n',
        "greet.h": "void greet(void);\n",
        "greet.c": '#include <stdio.h>\nvoid greet(void) { puts("multi"); }\n',
        "compile": "gcc -O2 -o app main.c greet.c\n",
        "run": "./app\n",
    }
    result = await run(jp_fetch, language_id=89, additional_files=zip_b64(files))
    assert result["status"]["id"] == 3 and result["stdout"] == "multi\n", result
    helper = {"helper.py": "def twice(x):\n    return 2 * x\n"}
    result = await run(
        jp_fetch,
        language_id=71,
        source_code="from helper import twice\nprint(twice(21))",
        additional_files=zip_b64(helper),
    )
    assert result["stdout"] == "42\n", result


async def test_limits_over_the_maxima_are_refused(jp_fetch: Any) -> None:
    """Values above the admin's maxima, network and callbacks get Judge0's 422 messages."""
    cases = [
        ({"cpu_time_limit": 100}, {"cpu_time_limit": ["must be less than or equal to 15"]}),
        ({"wall_time_limit": 21}, {"wall_time_limit": ["must be less than or equal to 20"]}),
        ({"memory_limit": 10**9}, {"memory_limit": ["must be less than or equal to 512000"]}),
        ({"max_file_size": 5000}, {"max_file_size": ["must be less than or equal to 4096"]}),
        ({"stack_limit": -1}, {"stack_limit": ["must be greater than or equal to 1"]}),
        (
            {"max_processes_and_or_threads": 1000},
            {"max_processes_and_or_threads": ["must be less than or equal to 120"]},
        ),
        ({"enable_network": True}, {"enable_network": ["setting enable_network is not allowed"]}),
        (
            {"callback_url": "http://x"},
            {"callback_url": ["callbacks are not supported by this server"]},
        ),
        ({"number_of_runs": 50}, {"number_of_runs": ["must be less than or equal to 20"]}),
        ({"cpu_time_limit": "fast"}, {"cpu_time_limit": ["is not a number"]}),
    ]
    for extra, expected in cases:
        code, body, _ = await call(
            jp_fetch,
            "POST",
            "submissions",
            body={"language_id": 71, "source_code": "print(1)", **extra},
        )
        assert (code, body) == (422, expected), extra


async def test_hostile_input(jp_fetch: Any) -> None:
    """Unknown language, missing source, bad JSON, enormous source, stdin or body: clear answers."""
    cases: list[tuple[Any, int, Any]] = [
        (
            {"language_id": 4242, "source_code": "x"},
            422,
            {"language_id": ["language with id 4242 doesn't exist"]},
        ),
        ({"source_code": "x"}, 422, {"language_id": ["can't be blank"]}),
        ({"language_id": 50}, 422, {"source_code": ["can't be blank"]}),
        ({"language_id": True, "source_code": "x"}, 422, {"language_id": ["is not a number"]}),
        ([1, 2], 422, {"submission": ["must be a JSON object"]}),
    ]
    for body, status, expected in cases:
        code, answer, _ = await call(jp_fetch, "POST", "submissions", body=body)
        assert (code, answer) == (status, expected), body
    code, answer, _ = await call(jp_fetch, "POST", "submissions", raw=b"{not json")
    assert code == 400 and "not valid JSON" in answer["error"]
    big_source = "x = 1\n" * 20_000  # 120 KB > max_source_bytes (64 KB in these tests)
    code, answer, _ = await call(
        jp_fetch, "POST", "submissions", body={"language_id": 71, "source_code": big_source}
    )
    assert code == 422 and "too long" in answer["source_code"][0]
    big_stdin = "y" * (300 * 1024)
    code, answer, _ = await call(
        jp_fetch,
        "POST",
        "submissions",
        body={"language_id": 71, "source_code": "print(1)", "stdin": big_stdin},
    )
    assert code == 422 and "too long" in answer["stdin"][0]
    code, answer, _ = await call(
        jp_fetch, "POST", "submissions", raw=b'{"stdin": "' + b"z" * (2 * 1024 * 1024) + b'"}'
    )
    assert code == 413 and "larger than" in answer["error"]
    code, answer, _ = await call(jp_fetch, "POST", "submissions", "batch", body={"x": 1})
    assert code == 422 and answer == {"submissions": ["must be a non-empty list"]}
    code, answer, _ = await call(jp_fetch, "GET", "submissions", "batch")
    assert code == 400


async def test_gigabytes_of_output_are_capped(jp_fetch: Any) -> None:
    """A program printing without end is cut at max_file_size; the server keeps answering."""
    flood = run(
        jp_fetch,
        language_id=50,
        max_file_size=64,
        wall_time_limit=5,
        source_code=(
            "#include <stdio.h>\n#include <string.h>\nint main(void) {"
            " static char b[1 << 16]; memset(b, 'x', sizeof b);"
            " for (;;) fwrite(b, 1, sizeof b, stdout); }"
        ),
    )
    py_flood = run(
        jp_fetch,
        language_id=71,
        max_file_size=64,
        source_code="import sys\nwhile True: sys.stdout.write('y' * 65536)",
    )
    flooded, py = await asyncio.gather(flood, py_flood)
    assert flooded["status"]["id"] == 8 and len(flooded["stdout"]) <= 64 * 1024
    # CPython ignores SIGXFSZ: its write fails instead and it exits with an error, as in Judge0.
    assert py["status"]["id"] == 11 and len(py["stdout"]) <= 64 * 1024
    code, _, _ = await call(jp_fetch, "GET", "statuses")
    assert code == 200


async def test_owners_only(jp_fetch: Any, jp_serverapp: Any) -> None:
    """A token of another user is 404; listings show one's own, or a course's to its teacher."""
    mine = await run(jp_fetch, who="alice", language_id=71, source_code="print('mine')")
    code, body, _ = await call(jp_fetch, "GET", "submissions", mine["token"], who="bob")
    assert code == 404
    code, body, _ = await call(
        jp_fetch, "GET", "submissions", "batch", tokens=mine["token"], who="bob"
    )
    assert body == {"submissions": [None]}
    code, listed, _ = await call(jp_fetch, "GET", "submissions", who="alice", fields="token")
    assert code == 200 and mine["token"] in [s["token"] for s in listed["submissions"]]
    assert listed["meta"]["total_count"] >= 1
    code, listed, _ = await call(jp_fetch, "GET", "submissions", who="bob", fields="token")
    assert mine["token"] not in [s["token"] for s in listed["submissions"]]
    code, body, _ = await call(jp_fetch, "GET", "submissions", who="bob", user="alice")
    assert code == 403
    courses = jp_serverapp.web_app.settings["jupyter_ide_courses"]
    from jupyter_ide.auth import Role

    await courses.create("cs1", "CS 1", by="root")
    await jp_serverapp.web_app.settings["jupyter_ide_users"].saw("teacher", Role.INSTRUCTOR)
    await courses.set_member("cs1", "alice", "student", by="root", by_role=Role.ADMIN)
    await courses.set_member("cs1", "teacher", "instructor", by="root", by_role=Role.ADMIN)
    # Made in cs1 (alice's only course): its instructor sees it; the earlier one, made in no
    # course, stays alice's own.
    in_course = await run(jp_fetch, who="alice", language_id=71, source_code="print('cs1')")
    code, listed, _ = await call(
        jp_fetch,
        "GET",
        "submissions",
        who="teacher",
        fields="token,status_id",
        user="alice",
    )
    assert code == 200
    assert [s["token"] for s in listed["submissions"]] == [in_course["token"]]
    code, listed, _ = await call(jp_fetch, "GET", "submissions", who="root", user="*")
    assert code == 200 and listed["meta"]["total_count"] >= 1
