"""jupyter_kernel_test, the Jupyter project's kernel conformance suite, for all eight sandboxes.

Each class starts its kernel through our Docker provisioner (tests/kernel_host.py) and runs
the suite's tests with the samples that apply to its language; tests whose samples do not
apply (completion in C, say) are removed from the class rather than skipped.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, ClassVar

import jupyter_kernel_test

from jupyter_ide.kernels.runner.languages import LANGUAGES as RUNNER_LANGUAGES

from .kernel_host import KernelHost, require_images


class SandboxKernelTests(jupyter_kernel_test.KernelTests):
    """The conformance suite against one ide-* kernel in its sandbox."""

    __test__ = False  # the base: only its language subclasses run
    host: ClassVar[KernelHost]
    language_key = ""
    _workspace: ClassVar[tempfile.TemporaryDirectory[str]]

    @classmethod
    def setUpClass(cls) -> None:
        """Start the kernel in a Docker sandbox with a fresh workspace."""
        require_images(cls.language_key)
        cls._workspace = tempfile.TemporaryDirectory()
        workspace = Path(cls._workspace.name)
        workspace.chmod(0o777)
        cls.host = KernelHost(workspace)
        cls.km = cls.host.start(cls.kernel_name)  # type: ignore[assignment]
        cls.kc = cls.host.client(cls.km)  # type: ignore[arg-type]

    @classmethod
    def tearDownClass(cls) -> None:
        """Stop the kernel and remove its container."""
        cls.kc.stop_channels()
        cls.host.close()
        cls._workspace.cleanup()


def _runner_class(key: str, **samples: Any) -> type[SandboxKernelTests]:
    """A conformance class for a runner language, keeping only the tests that apply."""
    lang = RUNNER_LANGUAGES[key]
    attrs: dict[str, Any] = {
        "__test__": True,
        "kernel_name": f"ide-{key}",
        "language_key": key,
        "language_name": lang.language_info["name"],
        "file_extension": lang.language_info["file_extension"],
        "code_hello_world": lang.hello_world,
        "code_stderr": lang.stderr_sample,
        **samples,
        # A runner cell is a whole program: no completion, inspection, pager or history.
        "test_completion": None,
        "test_inspect": None,
        "test_pager": None,
        "test_history": None,
        "test_is_complete": None,
        "test_execute_result": None,
        "test_display_data": None,
        "test_clear_output": None,
    }
    return type(f"Test{key.capitalize()}Sandbox", (SandboxKernelTests,), attrs)


class TestPythonSandbox(SandboxKernelTests):
    """ipykernel in the python sandbox: the whole suite."""

    __test__ = True
    kernel_name = "ide-python"
    language_key = "python"
    language_name = "python"
    file_extension = ".py"
    code_hello_world = "print('hello, world')"
    code_stderr = "import sys; print('test', file=sys.stderr)"
    completion_samples: ClassVar[list[dict[str, Any]]] = [
        {"text": "zi", "matches": {"zip"}},
    ]
    complete_code_samples: ClassVar[list[str]] = [
        "1",
        "print('hello, world')",
        "def f(x):\n  return x*2\n\n\n",
    ]
    incomplete_code_samples: ClassVar[list[str]] = ["print('''hello", "def f(x):\n  x*2"]
    invalid_code_samples: ClassVar[list[str]] = ["import = 7q"]
    code_page_something = "zip?"
    code_generate_error = "raise ValueError('boom')"
    code_execute_result: ClassVar[list[dict[str, str]]] = [{"code": "1+2+3", "result": "6"}]
    code_display_data: ClassVar[list[dict[str, str]]] = [
        {
            "code": "from IPython.display import HTML, display; display(HTML('<b>test</b>'))",
            "mime": "text/html",
        },
    ]
    code_history_pattern = "1?2*"
    supported_history_operations = ("tail", "search")
    code_inspect_sample = "zip"
    code_clear_output = "from IPython.display import clear_output; clear_output()"


TestCSandbox = _runner_class("c", code_generate_error="int main(void) { return 3; }\n")
TestCppSandbox = _runner_class("cpp", code_generate_error="int main() { return 3; }\n")
TestJavaSandbox = _runner_class(
    "java",
    code_generate_error=(
        "public class Main {\n  public static void main(String[] a) { System.exit(3); }\n}\n"
    ),
)
TestJavascriptSandbox = _runner_class("javascript", code_generate_error="process.exit(3);\n")
TestGoSandbox = _runner_class(
    "go", code_generate_error='package main\nimport "os"\nfunc main() { os.Exit(3) }\n'
)
TestRustSandbox = _runner_class(
    "rust", code_generate_error="fn main() { std::process::exit(3); }\n"
)
TestBashSandbox = _runner_class("bash", code_generate_error="exit 3\n")
