"""Run one program outside Jupyter: ``--run FILE`` and ``--self-test`` (image smoke checks)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from .kernel import program_env, toolchain_version, write_source
from .languages import LANGUAGES, Language
from .limits import RunLimits
from .process import ProgramRun
from .verdict import Outcome

SELF_TEST_OUTPUT = "hello, world"


def _write(name: str, text: str) -> None:
    stream = sys.stdout if name == "stdout" else sys.stderr
    stream.write(text)
    stream.flush()


async def run_source(
    language: Language,
    code: str,
    limits: RunLimits,
    emit: Callable[[str, str], None] = _write,
    cwd: str | None = None,
    inherit_stdin: bool = False,
) -> Outcome:
    """Compile (if needed) and run one program; output goes to ``emit``."""
    build = tempfile.mkdtemp(prefix="ide-run-")
    try:
        write_source(build, language.source_name(code), code)
        env = program_env(language, interactive=False)
        if language.compile is not None:
            argv = language.argv(language.compile, build, code)
            built = await ProgramRun(argv, cwd=build, env=env, limits=limits, emit=emit).run()
            if not built.ok:
                return built
        argv = language.argv(language.run, build, code)
        run = ProgramRun(
            argv,
            cwd=cwd or os.getcwd(),
            env=env,
            limits=limits,
            emit=emit,
            inherit_stdin=inherit_stdin,
        )
        return await run.run()
    finally:
        shutil.rmtree(build, ignore_errors=True)


def run_file(language_key: str, path: str) -> int:
    """Run a source file once (stdin passed through); print a JSON verdict line on stderr."""
    language = LANGUAGES[language_key]
    code = Path(path).read_text(encoding="utf-8")
    limits = RunLimits.from_env()
    outcome = asyncio.run(run_source(language, code, limits, inherit_stdin=True))
    sys.stderr.write("ide_runner: " + json.dumps(outcome.as_dict()) + "\n")
    if outcome.exit_code is not None:
        return outcome.exit_code
    return 128 + (outcome.signal or 0)


def self_test(language_key: str) -> int:
    """Compile and run the language's hello world; exit 0 when it prints what it should."""
    language = LANGUAGES[language_key]
    code = language.hello_world
    captured: list[str] = []

    def keep(name: str, text: str) -> None:
        captured.append(text)
        _write(name, text)

    limits = RunLimits.from_env()
    outcome = asyncio.run(run_source(language, code, limits, keep, tempfile.gettempdir()))
    version = toolchain_version(language)
    good = outcome.ok and SELF_TEST_OUTPUT in "".join(captured)
    state = "ok" if good else "FAILED"
    print(
        f"self-test {language_key} ({language.display_name} {version}): {state}, "
        f"{outcome.describe()}"
    )
    return 0 if good else 1


def record_version(language_key: str, directory: str) -> int:
    """Write the toolchain's version to ``directory/<language>`` (done once at image build)."""
    version = toolchain_version(LANGUAGES[language_key], cached=False)
    if not version:
        print(f"cannot tell the version of {language_key}", file=sys.stderr)
        return 1
    Path(directory).mkdir(parents=True, exist_ok=True)
    Path(directory, language_key).write_text(version + "\n")
    print(f"{language_key} {version}")
    return 0
