"""Similarity of an assignment's submissions (issue #16), over HTTP, on PostgreSQL.

Thirty students submit a statistics module whose starter code gives every function's
signature, docstring and the main program. Their bodies come from a generator: each function
has four ways of writing it and each student a different mix of them, with names of their own.
One student copied another's work, renamed every variable and put the functions in reverse
order; one submitted the starter code untouched; one first submitted a copy, then their own
work (only the latest counts); one added a binary file and a huge one.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_ide.classroom.similarity import (
    Settings,
    compare,
    fingerprint,
    matched_rows,
    ranked,
    starter_hashes,
)

from .test_ai_common import HubLikeIdentity, as_user, make_course
from .test_classroom_api import classroom, write

# -- the generator of student programs --------------------------------------------------------

FUNCTIONS: dict[str, tuple[str, str]] = {
    "parse_scores": ("text", "Return the numbers in text, one per line (blank lines skipped)."),
    "mean": ("values", "Return the arithmetic mean (0.0 for no values)."),
    "median": ("values", "Return the median (0.0 for no values)."),
    "mode": ("values", "Return the most frequent value (None for no values)."),
    "variance": ("values", "Return the sample variance (0.0 below two values)."),
    "histogram": ("values, width", "Return {bucket start: count} for buckets of width."),
    "normalize": ("values", "Return the values scaled to 0..1 (all 0.0 when they are equal)."),
    "top_k": ("values, k", "Return the k largest values, largest first."),
    "running_total": ("values", "Return the running totals of the values."),
    "count_above": ("values, limit", "Return how many values are above limit."),
    "letters": ("values", "Return a letter grade (A-F) for each score out of 100."),
    "clip": ("values, low, high", "Return the values clipped into low..high."),
}

# Four ways of writing each body; {x} {y} {z} {w} {i} are the student's own names.
BODIES: dict[str, list[str]] = {
    "parse_scores": [
        "{x} = []\nfor {y} in text.splitlines():\n    {y} = {y}.strip()\n    if {y}:\n"
        "        {x}.append(float({y}))\nreturn {x}",
        'return [float({y}) for {y} in text.split("\\n") if {y}.strip()]',
        '{x} = []\n{z} = text.split("\\n")\n{w} = 0\nwhile {w} < len({z}):\n'
        '    if {z}[{w}].strip() != "":\n        {x}.append(float({z}[{w}].strip()))\n'
        "    {w} += 1\nreturn {x}",
        "{x} = list()\nfor {y} in filter(None, map(str.strip, text.splitlines())):\n    try:\n"
        "        {x}.append(float({y}))\n    except ValueError:\n        continue\nreturn {x}",
    ],
    "mean": [
        "if not values:\n    return 0.0\n{x} = 0.0\nfor {y} in values:\n    {x} += {y}\n"
        "return {x} / len(values)",
        "return sum(values) / len(values) if values else 0.0",
        "{z} = len(values)\nif {z} == 0:\n    return 0.0\n{x} = 0\n{w} = 0\nwhile {w} < {z}:\n"
        "    {x} = {x} + values[{w}]\n    {w} = {w} + 1\nreturn {x} / {z}",
        "import statistics\ntry:\n    return float(statistics.fmean(values))\n"
        "except statistics.StatisticsError:\n    return 0.0",
    ],
    "median": [
        "if not values:\n    return 0.0\n{x} = sorted(values)\n{y} = len({x})\n{z} = {y} // 2\n"
        "if {y} % 2 == 1:\n    return {x}[{z}]\nreturn ({x}[{z} - 1] + {x}[{z}]) / 2",
        "{x} = sorted(values)\nif len({x}) == 0:\n    return 0.0\n{w} = (len({x}) - 1) // 2\n"
        "return ({x}[{w}] + {x}[len({x}) // 2]) / 2.0",
        "{x} = list(values)\n{x}.sort()\n{y} = len({x})\nif {y} == 0:\n    return 0.0\n"
        "elif {y} % 2:\n    return float({x}[{y} // 2])\nelse:\n    {z} = {x}[{y} // 2 - 1]\n"
        "    {w} = {x}[{y} // 2]\n    return ({z} + {w}) / 2",
        "import statistics\nreturn float(statistics.median(values)) if values else 0.0",
    ],
    "mode": [
        "{x} = {{}}\nfor {y} in values:\n    {x}[{y}] = {x}.get({y}, 0) + 1\n{z} = None\n"
        "for {y}, {w} in {x}.items():\n    if {z} is None or {w} > {x}[{z}]:\n        {z} = {y}\n"
        "return {z}",
        "from collections import Counter\nif not values:\n    return None\n"
        "return Counter(values).most_common(1)[0][0]",
        "{z} = None\n{w} = 0\nfor {y} in set(values):\n    {x} = values.count({y})\n"
        "    if {x} > {w} or ({x} == {w} and {z} is not None and {y} < {z}):\n"
        "        {z}, {w} = {y}, {x}\nreturn {z}",
        "if len(values) == 0:\n    return None\n{x} = sorted(values)\n{z} = {x}[0]\n{w} = 1\n"
        "{y} = 1\nfor {i} in range(1, len({x})):\n"
        "    {y} = {y} + 1 if {x}[{i}] == {x}[{i} - 1] else 1\n    if {y} > {w}:\n"
        "        {w} = {y}\n        {z} = {x}[{i}]\nreturn {z}",
    ],
    "variance": [
        "if len(values) < 2:\n    return 0.0\n{x} = mean(values)\n{y} = 0.0\n"
        "for {z} in values:\n    {y} += ({z} - {x}) ** 2\nreturn {y} / (len(values) - 1)",
        "{x} = mean(values)\nif len(values) < 2:\n    return 0.0\n"
        "return sum(({z} - {x}) ** 2 for {z} in values) / (len(values) - 1)",
        "{w} = len(values)\nif {w} <= 1:\n    return 0.0\n{y} = sum(values)\n"
        "{z} = sum({x} * {x} for {x} in values)\nreturn ({z} - {y} * {y} / {w}) / ({w} - 1)",
        "import statistics\nif len(values) < 2:\n    return 0.0\n"
        "return float(statistics.variance(values))",
    ],
    "histogram": [
        "{x} = {{}}\nfor {y} in values:\n    {z} = int({y} // width) * width\n"
        "    {x}[{z}] = {x}.get({z}, 0) + 1\nreturn dict(sorted({x}.items()))",
        "from collections import Counter\n"
        "return dict(sorted(Counter(int({y} // width) * width for {y} in values).items()))",
        "{x} = []\nfor {y} in values:\n    {x}.append(int({y} / width) * width)\n{w} = {{}}\n"
        "for {z} in sorted({x}):\n    if {z} in {w}:\n        {w}[{z}] += 1\n    else:\n"
        "        {w}[{z}] = 1\nreturn {w}",
        "{w} = {{}}\n{i} = 0\nwhile {i} < len(values):\n"
        "    {z} = int(values[{i}] - values[{i}] % width)\n    {w}[{z}] = {w}.get({z}, 0) + 1\n"
        "    {i} += 1\nreturn {{{z}: {w}[{z}] for {z} in sorted({w})}}",
    ],
    "normalize": [
        "if not values:\n    return []\n{x} = min(values)\n{y} = max(values)\nif {x} == {y}:\n"
        "    return [0.0 for _ in values]\nreturn [({z} - {x}) / ({y} - {x}) for {z} in values]",
        "{w} = []\nif values:\n    {x}, {y} = min(values), max(values)\n    {i} = {y} - {x}\n"
        "    for {z} in values:\n        {w}.append(({z} - {x}) / {i} if {i} else 0.0)\n"
        "return {w}",
        "{x} = sorted(values)\nif not {x} or {x}[0] == {x}[-1]:\n"
        "    return [0.0] * len(values)\n{y} = {x}[-1] - {x}[0]\n"
        "return [({z} - {x}[0]) / {y} for {z} in values]",
        "try:\n    {x} = min(values)\n    {i} = max(values) - {x}\n"
        "    return list(map(lambda {z}: ({z} - {x}) / {i}, values))\n"
        "except (ValueError, ZeroDivisionError):\n    return [0.0] * len(values)",
    ],
    "top_k": [
        "return sorted(values, reverse=True)[:k]",
        "{x} = list(values)\n{y} = []\nfor _ in range(min(k, len({x}))):\n    {z} = max({x})\n"
        "    {x}.remove({z})\n    {y}.append({z})\nreturn {y}",
        "import heapq\nreturn heapq.nlargest(k, values)",
        "{x} = sorted(values)\n{y} = []\n{i} = len({x}) - 1\nwhile {i} >= 0 and len({y}) < k:\n"
        "    {y}.append({x}[{i}])\n    {i} -= 1\nreturn {y}",
    ],
    "running_total": [
        "{x} = []\n{y} = 0\nfor {z} in values:\n    {y} += {z}\n    {x}.append({y})\nreturn {x}",
        "import itertools\nreturn list(itertools.accumulate(values))",
        "{x} = [0.0] * len(values)\nfor {i} in range(len(values)):\n"
        "    {x}[{i}] = values[{i}] + ({x}[{i} - 1] if {i} > 0 else 0)\nreturn {x}",
        "return [sum(values[: {i} + 1]) for {i} in range(len(values))]",
    ],
    "count_above": [
        "{x} = 0\nfor {y} in values:\n    if {y} > limit:\n        {x} += 1\nreturn {x}",
        "return sum(1 for {y} in values if {y} > limit)",
        "return len([{y} for {y} in values if {y} > limit])",
        "{x} = sorted(values)\n{i} = 0\nwhile {i} < len({x}) and {x}[{i}] <= limit:\n"
        "    {i} += 1\nreturn len({x}) - {i}",
    ],
    "letters": [
        "{x} = []\nfor {y} in values:\n    if {y} >= 90:\n        {x}.append('A')\n"
        "    elif {y} >= 80:\n        {x}.append('B')\n    elif {y} >= 70:\n"
        "        {x}.append('C')\n    elif {y} >= 60:\n        {x}.append('D')\n    else:\n"
        "        {x}.append('F')\nreturn {x}",
        "{z} = [(90, 'A'), (80, 'B'), (70, 'C'), (60, 'D')]\n{x} = []\nfor {y} in values:\n"
        "    {x}.append(next(({w} for {i}, {w} in {z} if {y} >= {i}), 'F'))\nreturn {x}",
        "return ['ABCDF'[min(4, max(0, 9 - int({y} // 10)))] for {y} in values]",
        "def {w}({y}):\n    if {y} < 60:\n        return 'F'\n"
        "    if {y} < 70:\n        return 'D'\n    if {y} < 80:\n        return 'C'\n"
        "    return 'B' if {y} < 90 else 'A'\n"
        "return [{w}({z}) for {z} in values]",
    ],
    "clip": [
        "return [min(high, max(low, {y})) for {y} in values]",
        "{x} = []\nfor {y} in values:\n    if {y} < low:\n        {x}.append(low)\n"
        "    elif {y} > high:\n        {x}.append(high)\n    else:\n        {x}.append({y})\n"
        "return {x}",
        "{x} = list(values)\nfor {i}, {y} in enumerate({x}):\n    if {y} < low:\n"
        "        {x}[{i}] = low\n    if {y} > high:\n        {x}[{i}] = high\nreturn {x}",
        "return list(map(lambda {y}: low if {y} < low else high if {y} > high else {y}, values))",
    ],
}

NAMES = [
    "acc total result out items numbers parts idx count best current key freq found".split(),
    "res s val element piece tally buf position n top item entry counts seen".split(),
    "answer summe v x chunk counter store k size winner data slot table hits".split(),
    "collected running score elem word hits list_ j length champion nums bucket cnt pos".split(),
]


def starter() -> str:
    """Return the assignment's starter code: every function's signature, and the main."""
    parts = ['"""Statistics of a list of scores: fill in each function."""\n\nimport sys\n']
    for name, (args, doc) in FUNCTIONS.items():
        parts.append(f'\ndef {name}({args}):\n    """{doc}"""\n    raise NotImplementedError\n')
    parts.append(
        '\ndef main():\n    """Read scores from standard input and print a report."""\n'
        "    values = parse_scores(sys.stdin.read())\n"
        + "".join(
            f'    print("{n}", {n}(values{", 10" if n in ("histogram", "top_k") else ""}))\n'
            for n in ("mean", "median", "mode", "variance", "histogram", "normalize", "top_k")
        )
        + '    print("above 50", count_above(values, 50))\n'
        "    print(letters(values), clip(values, 0, 100), running_total(values))\n"
        '\n\nif __name__ == "__main__":\n    main()\n'
    )
    return "".join(parts)


def _indent(body: str) -> str:
    return "".join(f"    {line}\n" if line else "\n" for line in body.split("\n"))


def program(choices: dict[str, int], names: list[str], order: list[str], seed: int) -> str:
    """Return a student's module: the starter with each body written one of four ways."""
    rng = random.Random(seed)
    pools = [rng.sample(pool, len(pool)) for pool in NAMES]
    own = {
        key: f"{pools[n][0]}_{names[n]}" if names[n] else pools[n][0]
        for n, key in enumerate(("x", "y", "z", "w"))
    }
    own["i"] = rng.choice(["i", "j", "pos", "at", "idx2"]) + (names[0] or "")
    text = starter()
    head, _, rest = text.partition("\ndef parse_scores")
    main_at = rest.index("\ndef main")
    main = rest[main_at:]
    blocks = {}
    for name, (args, doc) in FUNCTIONS.items():
        body = BODIES[name][choices[name]].format(**own)
        comment = rng.choice(["# my solution", "# works for the examples", "# TODO tidy", ""])
        blocks[name] = f'\n{comment}\ndef {name}({args}):\n    """{doc}"""\n{_indent(body)}'
    return head + "".join(blocks[n] for n in order) + main


def class_choices(count: int, seed: int = 16, alike: int = 4) -> list[dict[str, int]]:
    """Return ``count`` mixes of ways, any two alike in at most ``alike`` of the functions."""
    rng = random.Random(seed)
    found: list[tuple[int, ...]] = []
    while len(found) < count:
        pick = tuple(rng.randrange(4) for _ in FUNCTIONS)
        if all(sum(a == b for a, b in zip(pick, f, strict=True)) <= alike for f in found):
            found.append(pick)
    return [dict(zip(FUNCTIONS, pick, strict=True)) for pick in found]


# -- the server -------------------------------------------------------------------------------

ORIGINALS = [f"st{n:02d}" for n in range(26)]  # st00 is the one copied
STUDENTS = [*ORIGINALS, "copycat", "lazy", "late", "hostile"]
USERS = {"prof": "instructor", "other": "instructor", **dict.fromkeys(STUDENTS, "student")}
MAX_FILE = 24_000


@pytest.fixture
def ide_db_url(pg_database_url: str) -> str:
    """PostgreSQL."""
    return pg_database_url


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Hub-like users; files above 24 kB are left out of checks."""
    HubLikeIdentity.USERS.update(USERS)
    return {
        **jp_server_config,
        "ServerApp": {**jp_server_config["ServerApp"], "identity_provider_class": HubLikeIdentity},
        "SimilarityChecker": {"max_file_bytes": MAX_FILE, "workers": 2, "report_seconds": 0.2},
    }


async def call(
    fetch: Any, who: str, method: str, *path: str, body: Any = None, **params: str
) -> tuple[int, Any]:
    """Call /ide/api/courses/... as ``who`` ("": a token nobody has); return (status, JSON)."""
    headers = as_user(who) if who else {"Authorization": "token nobody-has-this"}
    kwargs: dict[str, Any] = {"method": method, "headers": headers}
    if params:
        kwargs["params"] = params
    if method == "POST":
        kwargs["body"] = json.dumps(body) if body is not None else b""
    try:
        response = await fetch("ide", "api", "courses", *path, **kwargs)
        code, text = response.code, response.body
    except HTTPClientError as e:
        assert e.response is not None
        code, text = e.code, e.response.body
    try:
        return code, json.loads(text)
    except ValueError:
        return code, text.decode("utf-8", "replace")


async def submit(app: Any, fetch: Any, student: str, files: dict[str, bytes]) -> int:
    """Write the student's files into their copy and submit it; return the submission id."""
    for path, data in files.items():
        await write(app, student, f"assignments/cs1/stats/{path}", data)
    code, body = await call(fetch, student, "POST", "cs1", "assignments", "stats", "submissions")
    assert code == 201, body
    return int(body["id"])


async def wait_done(fetch: Any, seen: list[dict[str, Any]], timeout: float = 120) -> Any:
    """Poll the check's state until it ends; keep every state seen."""
    deadline = time.monotonic() + timeout
    while True:
        code, state = await call(fetch, "prof", "GET", "cs1", "assignments", "stats", "similarity")
        assert code == 200, state
        seen.append(state["run"])
        if state["run"]["status"] != "running":
            return state
        assert time.monotonic() < deadline, state
        await asyncio.sleep(0.1)


def pair_of(pair: dict[str, Any]) -> set[str]:
    """The two students of a ranked pair."""
    return {pair["a"]["student"], pair["b"]["student"]}


async def test_copy_ranks_first_and_starter_scores_zero(jp_fetch: Any, jp_serverapp: Any) -> None:
    """30 latest submissions: the renamed, reordered copy ranks first, the starter alone is near
    zero, the matched regions cover the copied code, hostile files are left out, refusals are
    clear (outsiders, no or one student, a second start while one runs)."""
    app = jp_serverapp
    await make_course(app, "cs1", STUDENTS, ["prof"])
    await make_course(app, "cs2", [], ["other"])
    start = starter().encode()
    await write(app, "prof", "stats/stats.py", start)
    await write(app, "prof", "empty/stats.py", start)
    code, body = await call(
        jp_fetch, "prof", "POST", "cs1", "assignments",
        body={"name": "stats", "folder": "stats", "language": "python"},
    )  # fmt: skip
    assert code == 201, body
    code, body = await call(
        jp_fetch, "prof", "POST", "cs1", "assignments",
        body={"name": "empty", "folder": "empty", "language": "python"},
    )  # fmt: skip
    assert code == 201, body
    assert (await call(jp_fetch, "prof", "POST", "cs1", "assignments", "stats", "release"))[
        0
    ] == 200
    # Grading is not under test: 30 sandbox runs would only cost time.
    classroom(app).submissions.enqueue = None

    choices = class_choices(len(ORIGINALS) + 2)
    order = list(FUNCTIONS)
    programs = {
        who: program(choices[n], [f"s{n}", "", "", ""], order, n) for n, who in enumerate(ORIGINALS)
    }
    # The copy: st00's ways, every name different, the functions in reverse order.
    programs["copycat"] = program(choices[0], ["zz", "qq", "kk", "mm"], order[::-1], 999)
    assert programs["copycat"] != programs["st00"]
    programs["hostile"] = program(choices[-2], ["h", "", "", ""], order, 77)
    late_own = program(choices[-1], ["l", "", "", ""], order, 78)

    subs = {}
    for who in [*ORIGINALS, "copycat"]:
        subs[who] = await submit(app, jp_fetch, who, {"stats.py": programs[who].encode()})
    subs["lazy"] = await submit(app, jp_fetch, "lazy", {"stats.py": start})
    # late first submits st00's program as it is, then their own: the latest counts.
    await submit(app, jp_fetch, "late", {"stats.py": programs["st00"].encode()})
    subs["late"] = await submit(app, jp_fetch, "late", {"stats.py": late_own.encode()})
    huge = ("x = 1\n" * (MAX_FILE // 6 + 10)).encode()
    subs["hostile"] = await submit(
        app,
        jp_fetch,
        "hostile",
        {
            "stats.py": programs["hostile"].encode(),
            "data.bin": b"\x00\x01\x02" * 50,
            "big.py": huge,
        },
    )

    # Refusals: outsiders, students and anonymous callers; unknown names; before any result.
    sim = ("cs1", "assignments", "stats", "similarity")
    for who, method, expected in [
        ("st01", "POST", 403),
        ("st01", "GET", 403),
        ("other", "POST", 403),
        ("other", "GET", 403),
        ("", "GET", 403),  # a wrong token: nobody
    ]:
        code, body = await call(jp_fetch, who, method, *sim)
        assert code == expected, (who, method, code, body)
    code, body = await call(jp_fetch, "other", "GET", *sim, "pairs")
    assert code == 403, body
    code, body = await call(jp_fetch, "prof", "POST", "cs1", "assignments", "nope", "similarity")
    assert code == 404 and "nope" in body["message"], body
    code, body = await call(jp_fetch, "prof", "POST", "cs1", "assignments", "empty", "similarity")
    assert code == 409 and "0 student" in body["message"], body
    code, body = await call(jp_fetch, "prof", "GET", *sim, "pairs")
    assert code == 409 and "finished" in body["message"], body
    code, body = await call(jp_fetch, "prof", "POST", *sim, body={"k": 5})
    assert code == 400 and "no options" in body["message"], body
    code, body = await call(jp_fetch, "prof", "GET", *sim)
    assert code == 200 and body == {"run": None, "result": None}, body

    # Start; a second start while it runs is refused.
    code, started = await call(jp_fetch, "prof", "POST", *sim)
    assert code == 202 and started["status"] == "running", started
    assert started["submissions"] == len(STUDENTS)
    code, body = await call(jp_fetch, "prof", "POST", *sim)
    assert code == 409 and "already running" in body["message"], body
    seen: list[dict[str, Any]] = []
    state = await wait_done(jp_fetch, seen)
    run = state["run"]
    assert run["status"] == "done", run
    assert state["result"]["id"] == run["id"] == started["id"]
    assert run["pairs"] == len(STUDENTS) * (len(STUDENTS) - 1) // 2
    percents = [s["percent"] for s in seen]
    assert percents == sorted(percents) and percents[-1] == 100.0, percents
    assert any(s["status"] == "running" and s["total"] > 0 for s in seen), seen
    left_out = {(s["student"], s["path"]): s["reason"] for s in run["skipped"]}
    assert left_out == {
        ("hostile", "data.bin"): "binary",
        ("hostile", "big.py"): f"larger than {MAX_FILE} bytes",
    }, left_out

    # The ranked pairs: the copy first, far ahead; the starter alone near zero.
    code, page = await call(jp_fetch, "prof", "GET", *sim, "pairs", limit="500")
    assert code == 200, page
    pairs = page["pairs"]
    assert [p["rank"] for p in pairs] == list(range(1, len(pairs) + 1))
    assert pair_of(pairs[0]) == {"st00", "copycat"}, pairs[:3]
    assert pairs[0]["score"] > 0.8, pairs[0]
    assert pairs[0]["score"] > pairs[1]["score"] + 0.3, pairs[:2]
    assert {pairs[0]["a"]["submission"], pairs[0]["b"]["submission"]} == {
        subs["st00"],
        subs["copycat"],
    }
    lazy = [p["score"] for p in pairs if "lazy" in pair_of(p)]
    assert max(lazy, default=0.0) < 0.05, lazy
    scores = [p["score"] for p in pairs]
    assert scores == sorted(scores, reverse=True)
    # late's earlier copy of st00 does not count: their latest is their own work.
    late = next(p for p in pairs if pair_of(p) == {"late", "st00"})
    assert late["score"] < 0.6, late
    # Excluding the starter is what keeps lazy near zero: without it, much of the starter
    # (signatures, docstrings, the main program) matches any student's module.
    settings = Settings()
    bare = fingerprint([(start.decode(), "python")], starter_hashes([], settings), settings)
    other = fingerprint([(programs["st05"], "python")], starter_hashes([], settings), settings)
    assert compare(bare, other, settings.noise)[0] > 0.2

    code, second = await call(jp_fetch, "prof", "GET", *sim, "pairs", offset="1", limit="2")
    assert code == 200 and [p["id"] for p in second["pairs"]] == [p["id"] for p in pairs[1:3]]
    for query in ({"limit": "0"}, {"limit": "x"}, {"offset": "-1"}, {"limit": "100000"}):
        code, body = await call(jp_fetch, "prof", "GET", *sim, "pairs", **query)
        assert code == 400, (query, body)

    # Side by side: both files, the matched regions in lines and characters.
    top = pairs[0]
    code, detail = await call(jp_fetch, "prof", "GET", *sim, "pairs", str(top["id"]))
    assert code == 200, detail
    match = detail["matches"][0]
    assert (match["path_a"], match["path_b"]) == ("stats.py", "stats.py")
    for side in ("a", "b"):
        text = detail[f"files_{side}"]["stats.py"]["text"]
        who = detail[side]["student"]
        assert text == programs[who]
        regions = match[f"regions_{side}"]
        assert regions
        covered = 0
        for r in regions:
            assert text[: r["start"]].count("\n") + 1 == r["start_line"]
            assert r["start"] - (text.rfind("\n", 0, r["start"]) + 1) + 1 == r["start_column"]
            assert text[: r["end"]].count("\n") + 1 == r["end_line"]
            covered += r["end"] - r["start"]
        # Most of what the student wrote (beyond the starter) is matched...
        written = len(text) - len(start) + len(FUNCTIONS) * len("    raise NotImplementedError\n")
        assert covered > 0.6 * written, (who, covered, written)
        # ...and nothing of the main program, which is starter code.
        main_at = text.index("\ndef main")
        assert all(r["start"] < main_at for r in regions), who
    for wrong, expected in (("abc", 400), ("999999", 404)):
        code, body = await call(jp_fetch, "prof", "GET", *sim, "pairs", wrong)
        assert code == expected, (wrong, body)
    code, body = await call(jp_fetch, "other", "GET", *sim, "pairs", str(top["id"]))
    assert code == 403, body
    code, body = await call(
        jp_fetch,
        "prof",
        "GET",
        "cs1",
        "assignments",
        "empty",
        "similarity",
        "pairs",
        str(top["id"]),
    )
    assert code == 404, body

    # One student's submissions (two of them) are not enough.
    empty = ("cs1", "assignments", "empty")
    assert (await call(jp_fetch, "prof", "POST", *empty, "release"))[0] == 200
    for text in (programs["st01"], programs["st02"]):
        await write(app, "st01", "assignments/cs1/empty/stats.py", text.encode())
        assert (await call(jp_fetch, "st01", "POST", *empty, "submissions"))[0] == 201
    code, body = await call(jp_fetch, "prof", "POST", *empty, "similarity")
    assert code == 409 and "1 student" in body["message"], body

    # A second check replaces the first result.
    await submit(app, jp_fetch, "st01", {"stats.py": programs["st01"].encode()})
    code, again = await call(jp_fetch, "prof", "POST", *sim)
    assert code == 202, again
    state = await wait_done(jp_fetch, [])
    assert state["run"]["status"] == "done" and state["run"]["id"] == again["id"]
    code, page = await call(jp_fetch, "prof", "GET", *sim, "pairs", limit="1")
    assert pair_of(page["pairs"][0]) == {"st00", "copycat"}
    code, body = await call(jp_fetch, "prof", "GET", *sim, "pairs", str(top["id"]))
    assert code == 404, body  # the first check's pairs went with it


def test_whole_class_rows_match_the_pairwise_measure() -> None:
    """The row-by-row comparison of a class gives each pair copydetect's pairwise counts."""
    settings = Settings()
    excluded = starter_hashes([(starter(), "python")], settings)
    order = list(FUNCTIONS)
    texts = [program(c, [f"s{n}", "", "", ""], order, n) for n, c in enumerate(class_choices(12))]
    texts.append(program(class_choices(1)[0], ["a", "b", "c", "d"], order[::-1], 5))  # a copy
    texts.append(starter())  # nothing of its own
    prints = [fingerprint([(t, "python")], excluded, settings) for t in texts]
    rows = matched_rows(prints, 0, len(prints), settings.noise)
    pairwise = []
    for a in range(len(prints)):
        for b in range(a + 1, len(prints)):
            sim_a, sim_b, matched_a, matched_b = compare(prints[a], prints[b], settings.noise)
            assert (rows[a, b], rows[b, a]) == (matched_a, matched_b), (a, b)
            if matched_a or matched_b:
                pairwise.append((a, b, sim_a, sim_b))
    best = ranked(rows, [p.coverage for p in prints], 3)
    assert best[0][:2] == (0, 12), best
    top = max(pairwise, key=lambda p: (p[2] + p[3]) / 2)
    assert best[0][2:4] == top[2:4]
    assert not rows[-1].any() and not rows[:, -1].any()
