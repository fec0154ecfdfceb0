"""The language runner kernel: each cell is a whole program, compiled and run with live output."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

from ipykernel.kernelbase import Kernel

from .languages import LANGUAGES, Language
from .limits import RunLimits
from .process import ProgramRun
from .verdict import Outcome

RUNNER_VERSION = "1.0"
VERSIONS_DIR = Path(os.environ.get("IDE_VERSIONS_DIR", "/opt/ide/versions"))
STDBUF_LIBS = (
    "/usr/libexec/coreutils/libstdbuf.so",
    "/usr/lib/coreutils/libstdbuf.so",
)
NODE_PRELOAD = Path(__file__).with_name("node_stdin.js")
_VERSION = re.compile(r"(\d+\.\d+(?:\.\d+)?)")
VERSION_TIMEOUT = 10.0
MIN_COMPILE_TIME = 30.0


def toolchain_version(language: Language, *, cached: bool = True) -> str:
    """Return the toolchain's version ("12.2.0"), recorded at image build or asked live."""
    recorded = VERSIONS_DIR / language.key
    if cached:
        try:
            return recorded.read_text().strip()
        except OSError:
            pass
    try:
        done = subprocess.run(
            language.version,
            capture_output=True,
            text=True,
            timeout=VERSION_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    match = _VERSION.search(done.stdout + done.stderr)
    return match.group(1) if match else ""


def write_source(directory: str, name: str, code: str) -> None:
    """Save a cell's code as the program's source file."""
    with open(os.path.join(directory, name), "w", encoding="utf-8") as f:
        f.write(code)


def program_env(language: Language, interactive: bool) -> dict[str, str]:
    """Return the environment a user's program runs with."""
    env = dict(os.environ)
    if interactive and language.stdio_line_buffered:
        # glibc flushes a line-buffered stdout before reading an unbuffered stdin, so a prompt
        # printed without a newline shows up before the program waits for input (as stdbuf -i0 -oL).
        lib = next((p for p in STDBUF_LIBS if os.path.exists(p)), None)
        if lib:
            env["LD_PRELOAD"] = lib
            env["_STDBUF_I"] = "0"
            env["_STDBUF_O"] = "L"
    if interactive and language.key == "javascript" and NODE_PRELOAD.is_file():
        options = env.get("NODE_OPTIONS", "")
        env["NODE_OPTIONS"] = f"{options} --require={NODE_PRELOAD}".strip()
    return env


# The silent cell the provisioner sends to move a warm kernel: "%cd <absolute path>".
CD_DIRECTIVE = "%cd "


class _StdinChannel:
    """A program's stdin lines through Jupyter's stdin channel (input_request / input_reply)."""

    def __init__(self, kernel: RunnerKernel, ident: Any, parent: dict[str, Any]) -> None:
        self.kernel = kernel
        self.ident = ident
        self.parent = parent

    def request(self) -> None:
        """Send an input_request, dropping stale replies first."""
        session, socket = self.kernel.session, self.kernel.stdin_socket
        assert session is not None
        while session.recv(socket)[1] is not None:
            pass
        content = {"prompt": "", "password": False}
        session.send(socket, "input_request", content, self.parent, ident=self.ident)

    def reply(self) -> str | None:
        """Return the value of an input_reply that arrived, else None."""
        assert self.kernel.session is not None
        _, msg = self.kernel.session.recv(self.kernel.stdin_socket)
        if msg is None:
            return None
        value = msg.get("content", {}).get("value", "")
        return value if isinstance(value, str) else ""


class RunnerKernel(Kernel):
    """A wrapper kernel that compiles and runs each cell as a whole program."""

    implementation = "ide_runner"
    implementation_version = RUNNER_VERSION
    language_key = "c"

    def __init__(self, **kwargs: Any) -> None:
        """Set up the language, its limits and the working directory programs run in."""
        super().__init__(**kwargs)
        self.language = LANGUAGES[self.language_key]
        version = toolchain_version(self.language)
        self.language_info = {**self.language.language_info, "version": version}
        self.banner = f"{self.language.display_name} {version} (jupyter-ide runner)".strip()
        self.limits = RunLimits.from_env()
        self.workdir = os.getcwd()
        self._current: ProgramRun | None = None
        self._interrupted = False
        self._last_run: dict[str, Any] = {}

    def _stream(self, name: str, text: str) -> None:
        self.send_response(self.iopub_socket, "stream", {"name": name, "text": text})

    def _shell_ident(self) -> Any:
        var = getattr(self, "_shell_parent_ident", None)
        if var is not None:
            return self._get_shell_context_var(var)
        return self._parent_ident["shell"]  # ipykernel 6

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        self._interrupted = True
        if self._current is not None:
            self._current.interrupt()

    async def _program(
        self,
        argv: list[str],
        cwd: str,
        emit: Any,
        stdin: _StdinChannel | None,
        time_limit: float,
    ) -> Outcome:
        run = ProgramRun(
            argv,
            cwd=cwd,
            env=program_env(self.language, stdin is not None),
            limits=self.limits,
            emit=emit,
            stdin=stdin,
            time_limit=time_limit,
        )
        self._current = run
        if self._interrupted:
            run.interrupt()
        try:
            return await run.run()
        finally:
            self._current = None

    async def do_execute(
        self,
        code: str,
        silent: bool,
        store_history: bool = True,
        user_expressions: dict[str, Any] | None = None,
        allow_stdin: bool = False,
        *,
        cell_meta: dict[str, Any] | None = None,
        cell_id: str | None = None,
    ) -> dict[str, Any]:
        """Compile and run one cell as a program; report its exit code and verdict."""
        self._last_run = {}
        if not code.strip():
            return self._ok()
        if silent and code.startswith(CD_DIRECTIVE):
            return self._change_dir(code[len(CD_DIRECTIVE) :].strip())
        emit = (lambda name, text: None) if silent else self._stream
        stdin = None
        if allow_stdin:
            stdin = _StdinChannel(self, self._shell_ident(), self.get_parent("shell"))
        self._interrupted = False
        previous = signal.signal(signal.SIGINT, self._on_sigint)
        build = tempfile.mkdtemp(prefix="ide-run-")
        try:
            return await self._compile_and_run(code, build, emit, stdin, silent)
        except Exception as e:  # a reply must always go out, or the frontend waits forever
            self.log.exception("The runner failed")
            return self._error("RunnerError", f"the runner failed: {e!r}", silent)
        finally:
            signal.signal(signal.SIGINT, previous)
            shutil.rmtree(build, ignore_errors=True)

    async def _compile_and_run(
        self, code: str, build: str, emit: Any, stdin: _StdinChannel | None, silent: bool
    ) -> dict[str, Any]:
        lang = self.language
        write_source(build, lang.source_name(code), code)
        if lang.compile is not None:
            compile_limit = max(self.limits.time_limit, MIN_COMPILE_TIME)
            argv = lang.argv(lang.compile, build, code)
            built = await self._program(argv, build, emit, None, compile_limit)
            if not built.ok:
                self._last_run = {"stage": "compile", **built.as_dict()}
                if built.verdict == "ok":
                    return self._error("CompileError", "compilation failed", silent)
                return self._error(built.error_name(), built.describe(), silent)
        argv = lang.argv(lang.run, build, code)
        outcome = await self._program(argv, self.workdir, emit, stdin, self.limits.time_limit)
        self._last_run = {"stage": "run", **outcome.as_dict()}
        if outcome.ok:
            return self._ok()
        return self._error(outcome.error_name(), outcome.describe(), silent)

    def _change_dir(self, path: str) -> dict[str, Any]:
        """Move the kernel (a warm one being handed out) to the folder it was started for."""
        try:
            os.chdir(path)
        except OSError as e:
            return self._error("ChangeDirError", f"cannot change to {path}: {e}", silent=True)
        self.workdir = os.getcwd()
        return self._ok()

    def _ok(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "execution_count": self.execution_count,
            "payload": [],
            "user_expressions": {},
        }

    def _error(self, ename: str, evalue: str, silent: bool) -> dict[str, Any]:
        content = {"ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}
        if not silent:
            self.send_response(self.iopub_socket, "error", content)
        return {"status": "error", "execution_count": self.execution_count, **content}

    def finish_metadata(
        self, parent: dict[str, Any], metadata: dict[str, Any], reply_content: dict[str, Any]
    ) -> dict[str, Any]:
        """Add the last run's exit code and verdict to the execute_reply metadata."""
        metadata = super().finish_metadata(parent, metadata, reply_content)
        if self._last_run:
            metadata["ide_run"] = self._last_run
        return metadata

    async def do_shutdown(self, restart: bool) -> dict[str, Any]:
        """Stop a running program before the kernel goes."""
        if self._current is not None:
            self._current.kill()
        return {"status": "ok", "restart": restart}


def kernel_class(language: str) -> type[RunnerKernel]:
    """Return the runner kernel class for one language."""
    if language not in LANGUAGES or language == "python":
        known = ", ".join(k for k in LANGUAGES if k != "python")
        raise ValueError(f"unknown language {language!r} (known: {known})")
    name = f"{language.capitalize()}RunnerKernel"
    return type(name, (RunnerKernel,), {"language_key": language})
