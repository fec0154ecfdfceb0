"""The judge with the server started the README's way (tests/launch.py): as root with the
default data dir under /root (issue #19: every run ended as Internal Error, judge-box could
not be reached inside the box), and as a normal user. Every language, compiled and not."""

from __future__ import annotations

import time
from typing import Any

import pytest

from .launch import Launched, launch
from .test_judge_common import docker_or_fail, zip_b64

NAME = "judge"
GREETING = f"hello, {NAME}\n"
PROGRAMS: dict[int, str] = {
    46: 'read name\necho "hello, $name"\n',
    50: (
        '#include <stdio.h>\nint main(void) { char n[64]; scanf("%63s", n);'
        ' printf("hello, %s\\n", n); return 0; }\n'
    ),
    54: (
        "#include <iostream>\n#include <string>\nint main() { std::string n; std::cin >> n;"
        ' std::cout << "hello, " << n << std::endl; }\n'
    ),
    60: (
        'package main\nimport "fmt"\nfunc main() { var n string; fmt.Scan(&n);'
        ' fmt.Println("hello, " + n) }\n'
    ),
    62: (
        "import java.util.Scanner;\npublic class Main { public static void main(String[] a) {"
        ' System.out.println("hello, " + new Scanner(System.in).next()); } }\n'
    ),
    63: 'const n = require("fs").readFileSync(0, "utf8").trim(); console.log("hello, " + n);\n',
    71: 'print(f"hello, {input()}")\n',
    73: (
        "fn main() { let mut n = String::new(); std::io::stdin().read_line(&mut n).unwrap();"
        ' println!("hello, {}", n.trim()); }\n'
    ),
}
MULTI_FILE = {
    "main.c": '#include <stdio.h>\nint main(void) { puts("multi"); return 0; }\n',
    "compile": "gcc -O2 -o prog main.c\n",
    "run": "./prog\n",
}
# The program's folder is read-only, and nothing of the host's paths shows inside.
PROBE = (
    "import os\ntry:\n    open('made.txt', 'w')\n"
    "except OSError as e:\n    print('refused', e.errno)\nprint(os.getcwd())\n"
)


def submit_all(server: Launched) -> list[dict[str, Any]]:
    """Submit every language, a multi-file program, a probe and a compile error; await all."""
    submissions: list[dict[str, Any]] = [
        {"language_id": lid, "source_code": source, "stdin": f"{NAME}\n"}
        for lid, source in PROGRAMS.items()
    ]
    submissions += [
        {"language_id": 89, "additional_files": zip_b64(MULTI_FILE)},
        {"language_id": 71, "source_code": PROBE},
        {"language_id": 50, "source_code": "int main( {"},
    ]
    for submission in submissions:  # the largest limits: a busy machine is slow, not wrong
        submission.update(cpu_time_limit=15, wall_time_limit=20)
    reply = server.fetch("POST", "ide/api/judge/submissions/batch", {"submissions": submissions})
    assert reply.status == 201, (reply.status, reply.text, server.log()[-3000:])
    tokens = ",".join(item["token"] for item in reply.body)
    deadline = time.monotonic() + 240
    while True:
        got = server.fetch(
            "GET", "ide/api/judge/submissions/batch", params={"tokens": tokens, "fields": "*"}
        )
        assert got.status == 200, got.text
        results: list[dict[str, Any]] = got.body["submissions"]
        if all(r["status"]["id"] > 2 for r in results):
            return results
        assert time.monotonic() < deadline, [r["status"] for r in results]
        time.sleep(0.5)


def check(server: Launched, results: list[dict[str, Any]]) -> None:
    """Every verdict is right, and the judge kept its files in the default data dir."""
    *languages, multi, probe, broken = results
    wrong = {
        r["language_id"]: (r["status"], r["message"], r["stdout"], r["compile_output"])
        for r in languages
        if r["status"]["id"] != 3 or r["stdout"] != GREETING
    }
    assert not wrong, wrong
    assert multi["status"]["id"] == 3 and multi["stdout"] == "multi\n", multi
    assert probe["status"]["id"] == 3, probe
    assert probe["stdout"] == "refused 30\n/box\n"  # EROFS
    assert broken["status"]["id"] == 6 and "error" in broken["compile_output"], broken
    for result in results:
        for name in ("stdout", "stderr", "compile_output", "message"):
            assert str(server.home) not in (result[name] or ""), (name, result[name])
    judge_root = server.data_dir / "jupyter_ide" / "judge"
    assert (judge_root / "bin").is_dir() and (judge_root / "cache").is_dir()


@pytest.fixture(scope="module", autouse=True)
def engine() -> None:
    """The Docker engine and the images must be there (never skip)."""
    docker_or_fail()


def test_judge_runs_every_language_when_the_server_runs_as_root_with_default_dirs() -> None:
    """As root (the data dir under root's home, 0700 in the images): every verdict is right."""
    with launch(env={"JUPYTER_IDE_SANDBOX": "docker"}) as server:
        check(server, submit_all(server))


def test_judge_runs_every_language_when_the_server_runs_as_a_normal_user() -> None:
    """As a normal user in the docker group, with its own 0700 HOME: every verdict is right."""
    with launch(user="ide-tester", env={"JUPYTER_IDE_SANDBOX": "docker"}) as server:
        assert server.user == "ide-tester"
        check(server, submit_all(server))
