"""The language runner kernel (ide_runner) on this machine's toolchains, over the real protocol.

Each language whose compiler or interpreter is installed here passes the Jupyter project's
conformance suite (jupyter_kernel_test); Go is missing on the host, so it is checked inside
its image (tests/test_images.py) and by the provisioner's conformance run in the sandbox.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from queue import Empty
from typing import Any

import jupyter_kernel_test
import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

from jupyter_ide.kernels.runner.languages import LANGUAGES, java_main_class
from jupyter_ide.kernels.runner.limits import OutputGate

RUNNER_DIR = Path(__file__).resolve().parent.parent / "jupyter_ide" / "kernels" / "runner"
TIMEOUT = 60
_SPECS = Path(tempfile.mkdtemp(prefix="ide-runner-specs-"))
_PYTHONPATH = _SPECS / "pythonpath"
_PYTHONPATH.mkdir()
# Inside the images the runner is the top-level package ide_runner; here a symlink makes it so.
(_PYTHONPATH / "ide_runner").symlink_to(RUNNER_DIR, target_is_directory=True)


def _spec(name: str, argv: list[str], env: dict[str, str] | None = None) -> str:
    """Write a kernelspec running the runner with this Python; return its name."""
    folder = _SPECS / "kernels" / name
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, *argv, "-f", "{connection_file}"],
        "display_name": name,
        "language": name,
        "env": {"PYTHONPATH": str(_PYTHONPATH), **(env or {})},
    }
    (folder / "kernel.json").write_text(json.dumps(spec))
    return name


def runner_spec(language: str, env: dict[str, str] | None = None, suffix: str = "") -> str:
    """A kernelspec for `python -m ide_runner --language LANG`."""
    name = f"ide-test-{language}{suffix}"
    return _spec(name, ["-m", "ide_runner", "--language", language], env)


def start(spec: str) -> tuple[KernelManager, BlockingKernelClient]:
    """Start a kernel from our kernelspecs and wait until it answers."""
    ksm = KernelSpecManager(kernel_dirs=[str(_SPECS / "kernels")])
    # IPC sockets: no TCP port to race other processes for.
    ipc = _SPECS / f"ipc-{uuid.uuid4().hex[:8]}"
    km = KernelManager(kernel_name=spec, kernel_spec_manager=ksm, transport="ipc", ip=str(ipc))
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=TIMEOUT)
    except RuntimeError:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        raise
    return km, kc


def host_has(language: str) -> bool:
    """Whether this machine has the language's toolchain."""
    lang = LANGUAGES[language]
    tools = [lang.run[0]] if lang.compile is None else [lang.compile[0]]
    if language == "java":
        tools.append("java")
    return all(shutil.which(tool) for tool in tools if not tool.startswith("{"))


NOT_FOR_PROGRAMS = (
    "test_completion",
    "test_inspect",
    "test_pager",
    "test_history",
    "test_is_complete",
    "test_execute_result",
    "test_display_data",
    "test_clear_output",
    "test_recv_iopub_welcome_msg",
)


class RunnerKernelTests(jupyter_kernel_test.KernelTests):
    """jupyter_kernel_test against one runner kernel started from our kernelspecs."""

    __test__ = False
    language = ""

    @classmethod
    def setUpClass(cls) -> None:
        if not host_has(cls.language):
            pytest.fail(f"the {cls.language} toolchain is missing on this machine")
        cls.km, cls.kc = start(runner_spec(cls.language))

    @classmethod
    def tearDownClass(cls) -> None:
        if hasattr(cls, "kc"):
            cls.kc.stop_channels()
            cls.km.shutdown_kernel(now=True)


def _suite(language: str, exit_one: str) -> type[RunnerKernelTests]:
    lang = LANGUAGES[language]
    attrs: dict[str, Any] = {
        "language": language,
        "kernel_name": f"ide-test-{language}",
        "language_name": lang.language_info["name"],
        "file_extension": lang.language_info["file_extension"],
        "code_hello_world": lang.hello_world,
        "code_stderr": lang.stderr_sample,
        "code_generate_error": exit_one,
        "__test__": True,
        # A runner cell is a whole program: these parts of the suite do not apply.
        **dict.fromkeys(NOT_FOR_PROGRAMS),
    }
    return type(f"Test{language.capitalize()}Conformance", (RunnerKernelTests,), attrs)


TestCConformance = _suite("c", "int main(void) { return 1; }\n")
TestCppConformance = _suite("cpp", "int main() { return 1; }\n")
TestJavaConformance = _suite(
    "java",
    "public class Fails {\n    public static void main(String[] a) {\n"
    "        System.exit(1);\n    }\n}\n",
)
TestJavascriptConformance = _suite("javascript", "process.exit(1);\n")
TestRustConformance = _suite("rust", "fn main() {\n    std::process::exit(1);\n}\n")
TestBashConformance = _suite("bash", "exit 1\n")


class TestIPythonConformance(jupyter_kernel_test.KernelTests):
    """ide_runner.ipython is ipykernel itself (with capped streams): the full sample set."""

    kernel_name = "ide-test-ipython"
    language_name = "python"
    file_extension = ".py"
    code_hello_world = "print('hello, world')"
    code_stderr = "import sys; print('oops', file=sys.stderr)"
    code_generate_error = "raise ValueError('boom')"
    code_execute_result = [{"code": "6 * 7", "result": "42"}]
    code_display_data = [
        {
            "code": "from IPython.display import HTML; display(HTML('<b>hi</b>'))",
            "mime": "text/html",
        }
    ]
    completion_samples = [{"text": "zi", "matches": {"zip"}}]
    code_inspect_sample = "zip"
    code_page_something = "zip?"
    code_clear_output = "from IPython.display import clear_output; clear_output()"
    code_history_pattern = "6 *"
    supported_history_operations = ("tail", "search")
    support_iopub_welcome = True
    complete_code_samples = ["1", "print('hello, world')"]
    incomplete_code_samples = ["print('''hello"]

    @classmethod
    def setUpClass(cls) -> None:
        cls.km, cls.kc = start(_spec("ide-test-ipython", ["-m", "ide_runner.ipython"]))

    @classmethod
    def tearDownClass(cls) -> None:
        cls.kc.stop_channels()
        cls.km.shutdown_kernel(now=True)


# --- behaviour beyond the conformance suite -------------------------------------------------


class Run:
    """What one execute_request produced: reply, stream chunks, errors, input requests."""

    def __init__(self) -> None:
        self.reply: dict[str, Any] = {}
        self.streams: list[tuple[str, str]] = []
        self.errors: list[dict[str, Any]] = []
        self.input_requests = 0

    def text(self, name: str | None = None) -> str:
        return "".join(t for n, t in self.streams if name is None or n == name)

    @property
    def status(self) -> str:
        return str(self.reply["content"]["status"])

    @property
    def verdict(self) -> dict[str, Any]:
        return dict(self.reply["metadata"].get("ide_run", {}))


def execute(
    kc: BlockingKernelClient,
    code: str,
    *,
    inputs: list[str] | None = None,
    on_stream: Any = None,
    on_input: Any = None,
    timeout: float = TIMEOUT,
) -> Run:
    """Run one cell; answer input requests from ``inputs`` (or ``on_input``); collect output."""
    answers = list(inputs or [])
    msg_id = kc.execute(code, allow_stdin=inputs is not None)
    run = Run()
    deadline = time.monotonic() + timeout
    idle = False
    while not (idle and run.reply):
        assert time.monotonic() < deadline, f"no reply within {timeout} s: {run.streams}"
        if inputs is not None:
            try:
                request = kc.get_stdin_msg(timeout=0.01)
            except Empty:
                pass
            else:
                assert request["parent_header"]["msg_id"] == msg_id
                run.input_requests += 1
                if on_input is not None:
                    on_input(run)
                else:
                    kc.input(answers.pop(0) if answers else "\x04")
        try:
            msg = kc.get_iopub_msg(timeout=0.05)
        except Empty:
            msg = None
        if msg is not None and msg["parent_header"].get("msg_id") == msg_id:
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                run.streams.append((content["name"], content["text"]))
                if on_stream is not None:
                    on_stream(run)
            elif kind == "error":
                run.errors.append(content)
            elif kind == "status" and content["execution_state"] == "idle":
                idle = True
        if not run.reply:
            try:
                reply = kc.get_shell_msg(timeout=0.01)
            except Empty:
                continue
            if reply["parent_header"].get("msg_id") == msg_id:
                run.reply = reply
    return run


@pytest.fixture(scope="module")
def c_kernel() -> Iterator[BlockingKernelClient]:
    km, kc = start(runner_spec("c"))
    yield kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def bash_kernel() -> Iterator[BlockingKernelClient]:
    km, kc = start(runner_spec("bash"))
    yield kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def limited_kernel() -> Iterator[BlockingKernelClient]:
    """A C kernel with a 2 s time limit and a 20 kB output limit."""
    env = {"IDE_TIME_LIMIT": "2", "IDE_OUTPUT_LIMIT": "20000", "IDE_OUTPUT_RATE": "1000000"}
    km, kc = start(runner_spec("c", env, suffix="-limited"))
    yield kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def test_output_streams_as_it_comes(bash_kernel: BlockingKernelClient) -> None:
    seen_before_end: list[str] = []

    def note(run: Run) -> None:
        if len(run.streams) == 1:
            seen_before_end.append(run.streams[0][1])

    run = execute(bash_kernel, "echo first\nsleep 1\necho second\n", on_stream=note)
    assert run.status == "ok"
    assert run.streams == [("stdout", "first\n"), ("stdout", "second\n")]
    assert seen_before_end == ["first\n"]
    assert run.verdict["verdict"] == "ok"
    assert run.verdict["exit_code"] == 0


def test_stdin_through_input_request(c_kernel: BlockingKernelClient) -> None:
    code = (
        "#include <stdio.h>\n"
        "int main(void) {\n"
        '    char name[64]; int a, b;\n    printf("Name: ");\n'
        '    if (scanf("%63s", name) != 1) return 2;\n'
        '    printf("Two numbers: ");\n'
        '    if (scanf("%d %d", &a, &b) != 2) return 3;\n'
        '    printf("Hello, %s! %d\\n", name, a + b);\n    return 0;\n}\n'
    )
    run = execute(c_kernel, code, inputs=["Ada", "20 22"])
    assert run.status == "ok", run.streams
    assert run.input_requests == 2
    assert run.text("stdout") == "Name: Two numbers: Hello, Ada! 42\n"


def test_stdin_eof_and_no_stdin(bash_kernel: BlockingKernelClient) -> None:
    code = 'n=0\nwhile read -r line; do n=$((n+1)); echo "got $line"; done\necho "lines: $n"\n'
    run = execute(bash_kernel, code, inputs=["one", "two"])
    assert run.status == "ok"
    assert run.input_requests == 3  # two lines, then EOF (the frontend's \x04)
    assert run.text("stdout") == "got one\ngot two\nlines: 2\n"
    # A frontend that does not allow stdin: the program reads end-of-file at once.
    run = execute(bash_kernel, code)
    assert run.text("stdout") == "lines: 0\n"


@pytest.mark.parametrize(
    ("language", "code"),
    [
        (
            "javascript",
            "const rl = require('readline').createInterface({ input: process.stdin });\n"
            "rl.on('line', (l) => { console.log('js ' + l); rl.close(); });\n",
        ),
        (
            "java",
            "import java.util.Scanner;\npublic class Echo {\n"
            "    public static void main(String[] a) {\n"
            '        System.out.println("java " + new Scanner(System.in).nextLine());\n'
            "    }\n}\n",
        ),
        (
            "rust",
            "fn main() {\n    let mut s = String::new();\n"
            "    std::io::stdin().read_line(&mut s).unwrap();\n"
            '    println!("rust {}", s.trim());\n}\n',
        ),
    ],
)
def test_stdin_in_other_languages(language: str, code: str) -> None:
    km, kc = start(runner_spec(language))
    try:
        run = execute(kc, code, inputs=["hi"])
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert run.status == "ok", run.streams
    assert run.input_requests == 1
    assert run.text("stdout") == f"{language.replace('javascript', 'js')} hi\n"


def test_compile_error_shows_line_number(c_kernel: BlockingKernelClient) -> None:
    code = '#include <stdio.h>\nint main(void) {\n    printf("x")\n    return 0;\n}\n'
    run = execute(c_kernel, code)
    assert run.status == "error"
    assert run.reply["content"]["ename"] == "CompileError"
    assert "main.c:3:" in run.text("stderr")
    assert [e["ename"] for e in run.errors] == ["CompileError"]
    assert run.verdict["stage"] == "compile"


def test_exit_code_and_signal(c_kernel: BlockingKernelClient) -> None:
    run = execute(c_kernel, '#include <stdio.h>\nint main(void) { puts("bye"); return 3; }\n')
    assert run.status == "error"
    assert run.text("stdout") == "bye\n"
    assert run.reply["content"]["ename"] == "NonZeroExit"
    assert run.reply["content"]["evalue"] == "exit code 3"
    assert run.verdict["exit_code"] == 3

    run = execute(c_kernel, "int main(void) { volatile int *p = 0; *p = 1; return 0; }\n")
    assert run.status == "error"
    assert run.reply["content"]["evalue"] == "killed by signal 11 (SIGSEGV)"
    assert run.verdict["verdict"] == "killed by signal"
    assert run.verdict["signal"] == 11


def test_time_limit(limited_kernel: BlockingKernelClient) -> None:
    run = execute(limited_kernel, "int main(void) { for (;;) {} }\n")
    assert run.status == "error"
    assert run.reply["content"]["ename"] == "TimeLimitExceeded"
    assert run.reply["content"]["evalue"] == "time limit of 2 s exceeded"
    assert run.verdict["verdict"] == "time limit"
    # A program that ignores SIGINT is killed after the grace time.
    code = (
        "#include <signal.h>\n#include <unistd.h>\n"
        "int main(void) { signal(SIGINT, SIG_IGN); for (;;) pause(); }\n"
    )
    run = execute(limited_kernel, code)
    assert run.verdict["verdict"] == "time limit"
    # The kernel still works afterwards.
    assert execute(limited_kernel, LANGUAGES["c"].hello_world).status == "ok"


def test_output_truncated(limited_kernel: BlockingKernelClient) -> None:
    run = execute(limited_kernel, '#include <stdio.h>\nint main(void) { for (;;) puts("spam"); }\n')
    assert run.reply["content"]["ename"] == "TimeLimitExceeded"
    shown = run.text("stdout")
    assert 0 < len(shown.encode()) <= 20000
    assert set(shown.split()) == {"spam"}
    assert "output truncated" in run.text("stderr")
    assert run.verdict["output_dropped"] > 0
    # The cap is per run: the next run prints again.
    assert execute(limited_kernel, LANGUAGES["c"].hello_world).text("stdout") == "hello, world\n"


def test_output_rate_cap() -> None:
    env = {"IDE_OUTPUT_RATE": "4096", "IDE_OUTPUT_LIMIT": "1000000"}
    km, kc = start(runner_spec("bash", env, suffix="-rate"))
    try:
        run = execute(kc, "head -c 100000 /dev/zero | tr '\\0' 'x'\n")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert run.status == "ok"
    assert len(run.text("stdout")) < 100000
    assert "output truncated: printing faster than 4 KiB/s" in run.text("stderr")


def test_interrupt_stops_the_program(c_kernel: BlockingKernelClient) -> None:
    km = c_kernel.parent
    code = (
        "#include <stdio.h>\n#include <unistd.h>\n"
        'int main(void) { puts("started"); fflush(stdout); for (;;) sleep(1); }\n'
    )

    def interrupt_once_started(run: Run) -> None:
        if "started" in run.text("stdout") and km is not None:
            km.interrupt_kernel()

    run = execute(c_kernel, code, on_stream=interrupt_once_started)
    assert run.status == "error"
    assert run.reply["content"]["ename"] == "KeyboardInterrupt"
    assert run.verdict["verdict"] == "interrupted"
    assert execute(c_kernel, LANGUAGES["c"].hello_world).status == "ok"


def test_java_public_class_names_the_file() -> None:
    code = (
        'class Helper { static String hi() { return "hi from helper"; } }\n'
        "public class Greeter {\n    public static void main(String[] args) {\n"
        "        System.out.println(Helper.hi());\n    }\n}\n"
    )
    assert java_main_class(code) == "Greeter"
    assert LANGUAGES["java"].source_name(code) == "Greeter.java"
    km, kc = start(runner_spec("java"))
    try:
        run = execute(kc, code)
        broken = execute(kc, 'public class Broken {\n    void f() { int x = "s"; }\n}\n')
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert run.status == "ok", run.streams
    assert run.text("stdout") == "hi from helper\n"
    assert "Broken.java:2: error" in broken.text("stderr")


def test_ipython_output_capped_per_run() -> None:
    env = {"IDE_OUTPUT_LIMIT": "5000", "IDE_OUTPUT_RATE": "10000000"}
    km, kc = start(_spec("ide-test-ipython-capped", ["-m", "ide_runner.ipython"], env))
    try:
        run = execute(kc, "for i in range(100000):\n    print('line', i)\n")
        again = execute(kc, "print('still here')")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert run.status == "ok"
    assert len(run.text("stdout").encode()) <= 5000 + 200
    assert "output truncated" in run.text()
    assert again.text("stdout") == "still here\n"


def test_ipython_collects_garbage_for_user_code() -> None:
    """The collector is off only while the kernel starts: user code gets it back."""
    km, kc = start(_spec("ide-test-ipython-gc", ["-m", "ide_runner.ipython"]))
    try:
        run = execute(
            kc,
            "import gc\n"
            "class Node:\n    pass\n"
            "a, b = Node(), Node()\na.other, b.other = b, a\ndel a, b\n"
            "print(gc.isenabled(), gc.collect() >= 2, gc.get_freeze_count() > 0)\n",
        )
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert run.status == "ok", run.streams
    assert run.text("stdout") == "True True True\n"


def test_output_gate_size_and_rate() -> None:
    now = [0.0]
    gate = OutputGate(limit=100, rate=40, clock=lambda: now[0])
    assert gate.admit(30) == (30, None)
    allowed, notice = gate.admit(30)
    assert allowed == 10 and notice is not None and "faster than" in notice
    now[0] += 10.0
    assert gate.admit(40) == (40, None)
    allowed, notice = gate.admit(40)
    assert allowed == 0 and notice is None  # rate cut, already told
    now[0] += 10.0
    allowed, notice = gate.admit(40)
    assert allowed == 20 and notice is not None and "more than 100 B" in notice
    assert gate.dropped == 20 + 40 + 20


def test_programs_left_running_are_killed_with_the_run(bash_kernel: BlockingKernelClient) -> None:
    run = execute(bash_kernel, "sleep 300 &\necho $!\n")
    assert run.status == "ok"
    pid = int(run.text("stdout"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return
        if state == "Z":
            return
        time.sleep(0.1)
    pytest.fail(f"the background sleep {pid} outlived its run")


@pytest.mark.parametrize(
    ("language", "code", "where"),
    [
        ("cpp", "#include <iostream>\nint main() {\n    std::cout << x;\n}\n", "main.cpp:3:"),
        ("rust", 'fn main() {\n    let x: i32 = "no";\n}\n', "main.rs:2:"),
    ],
)
def test_compile_errors_name_the_line(language: str, code: str, where: str) -> None:
    km, kc = start(runner_spec(language))
    try:
        run = execute(kc, code)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert run.reply["content"]["ename"] == "CompileError"
    assert where in run.text("stderr")


def test_interrupt_while_waiting_for_input(c_kernel: BlockingKernelClient) -> None:
    km = c_kernel.parent
    code = '#include <stdio.h>\nint main(void) { int n; return scanf("%d", &n) == 1 ? 0 : 4; }\n'

    def interrupt(run: Run) -> None:
        assert km is not None
        km.interrupt_kernel()

    run = execute(c_kernel, code, inputs=[], on_input=interrupt)
    assert run.input_requests == 1
    assert run.reply["content"]["ename"] == "KeyboardInterrupt"
    # The next program gets its own answer, not a stale one.
    run = execute(c_kernel, code.replace("== 1 ? 0 : 4", "== 1 && n == 7 ? 0 : 4"), inputs=["7"])
    assert run.status == "ok"
