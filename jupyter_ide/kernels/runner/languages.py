"""The languages the sandbox runs: source file, compile and run argv (shared with the judge).

Argv templates are tuples of strings with three placeholders, filled by `Language.argv`:
``{dir}`` the build directory (absolute), ``{source}`` the source file name and ``{main}`` the
program's entry name (Java's main class; the file stem elsewhere). The compile step runs with
the build directory as its working directory, so compiler messages name ``main.c:3:5``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_JAVA_PUBLIC = re.compile(
    r"\bpublic\s+(?:(?:final|abstract|sealed|non-sealed|strictfp|static)\s+)*"
    r"(?:class|interface|enum|record)\s+([A-Za-z_$][\w$]*)"
)
_JAVA_TYPE = re.compile(r"\b(?:class|interface|enum|record)\s+([A-Za-z_$][\w$]*)")
_JAVA_MAIN = re.compile(r"\bstatic\s+(?:final\s+)?void\s+main\s*\(")
_JAVA_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)


@dataclass(frozen=True)
class Language:
    """How one language's program is compiled and run."""

    key: str
    display_name: str
    source: str
    compile: tuple[str, ...] | None
    run: tuple[str, ...]
    version: tuple[str, ...]
    language_info: dict[str, str] = field(default_factory=dict)
    hello_world: str = ""
    stderr_sample: str = ""
    # C stdio: stdin unbuffered, stdout line-buffered (glibc flushes a prompt before a read).
    stdio_line_buffered: bool = False

    def source_name(self, code: str) -> str:
        """Return the file name a cell's code is saved under (Java: its public class)."""
        if self.key == "java":
            return f"{java_main_class(code)}.java"
        return self.source

    def main_name(self, code: str) -> str:
        """Return the program's entry name (Java: the class holding main)."""
        if self.key == "java":
            return java_main_class(code, entry=True)
        return self.source.rsplit(".", 1)[0]

    def argv(self, template: tuple[str, ...], directory: str, code: str) -> list[str]:
        """Fill a compile or run argv template for one program."""
        values = {
            "dir": directory,
            "source": self.source_name(code),
            "main": self.main_name(code),
        }
        return [part.format(**values) for part in template]


def java_main_class(code: str, *, entry: bool = False) -> str:
    """Return the public class of a Java cell (or, for ``entry``, the class with ``main``)."""
    text = _JAVA_COMMENTS.sub(" ", code)
    public = _JAVA_PUBLIC.search(text)
    if public and not entry:
        return public.group(1)
    main = _JAVA_MAIN.search(text)
    if main:
        owners = [m for m in _JAVA_TYPE.finditer(text, 0, main.start())]
        if owners:
            return owners[-1].group(1)
    if public:
        return public.group(1)
    return "Main"


def _info(name: str, ext: str, mime: str, lexer: str, mode: str) -> dict[str, str]:
    return {
        "name": name,
        "file_extension": ext,
        "mimetype": mime,
        "pygments_lexer": lexer,
        "codemirror_mode": mode,
    }


_C_FLAGS = ("-O2", "-Wall", "-fdiagnostics-color=never")

LANGUAGES: dict[str, Language] = {
    "python": Language(
        key="python",
        display_name="Python",
        source="main.py",
        compile=None,
        run=("python", "-u", "{dir}/{source}"),
        version=("python", "--version"),
        language_info=_info("python", ".py", "text/x-python", "ipython3", "python"),
        hello_world='print("hello, world")',
        stderr_sample='import sys; print("oops", file=sys.stderr)',
    ),
    "c": Language(
        key="c",
        display_name="C (GCC)",
        source="main.c",
        compile=("gcc", "-std=gnu17", *_C_FLAGS, "-o", "main", "{source}", "-lm"),
        run=("{dir}/main",),
        version=("gcc", "--version"),
        language_info=_info("c", ".c", "text/x-csrc", "c", "text/x-csrc"),
        hello_world='#include <stdio.h>\nint main(void) { puts("hello, world"); return 0; }\n',
        stderr_sample='#include <stdio.h>\nint main(void) { fputs("oops\\n", stderr); }\n',
        stdio_line_buffered=True,
    ),
    "cpp": Language(
        key="cpp",
        display_name="C++ (GCC)",
        source="main.cpp",
        compile=("g++", "-std=gnu++17", *_C_FLAGS, "-o", "main", "{source}"),
        run=("{dir}/main",),
        version=("g++", "--version"),
        language_info=_info("c++", ".cpp", "text/x-c++src", "cpp", "text/x-c++src"),
        hello_world=(
            '#include <iostream>\nint main() { std::cout << "hello, world" << std::endl; }\n'
        ),
        stderr_sample='#include <iostream>\nint main() { std::cerr << "oops" << std::endl; }\n',
        stdio_line_buffered=True,
    ),
    "java": Language(
        key="java",
        display_name="Java (OpenJDK)",
        source="Main.java",
        compile=("javac", "-encoding", "UTF-8", "-d", ".", "{source}"),
        run=("java", "-cp", "{dir}", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "{main}"),
        version=("java", "-version"),
        language_info=_info("java", ".java", "text/x-java", "java", "text/x-java"),
        hello_world=(
            "public class Main {\n    public static void main(String[] args) {\n"
            '        System.out.println("hello, world");\n    }\n}\n'
        ),
        stderr_sample=(
            "public class Main {\n    public static void main(String[] args) {\n"
            '        System.err.println("oops");\n    }\n}\n'
        ),
    ),
    "javascript": Language(
        key="javascript",
        display_name="JavaScript (Node.js)",
        source="main.js",
        compile=None,
        run=("node", "{dir}/{source}"),
        version=("node", "--version"),
        language_info=_info("javascript", ".js", "text/javascript", "javascript", "javascript"),
        hello_world='console.log("hello, world");\n',
        stderr_sample='console.error("oops");\n',
    ),
    "go": Language(
        key="go",
        display_name="Go",
        source="main.go",
        compile=("go", "build", "-o", "main", "{source}"),
        run=("{dir}/main",),
        version=("go", "version"),
        language_info=_info("go", ".go", "text/x-go", "go", "text/x-go"),
        hello_world=(
            'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("hello, world")\n}\n'
        ),
        stderr_sample=(
            'package main\n\nimport (\n\t"fmt"\n\t"os"\n)\n\n'
            'func main() {\n\tfmt.Fprintln(os.Stderr, "oops")\n}\n'
        ),
    ),
    "rust": Language(
        key="rust",
        display_name="Rust",
        source="main.rs",
        compile=("rustc", "--edition=2021", "-C", "debuginfo=0", "-o", "main", "{source}"),
        run=("{dir}/main",),
        version=("rustc", "--version"),
        language_info=_info("rust", ".rs", "text/x-rustsrc", "rust", "rust"),
        hello_world='fn main() {\n    println!("hello, world");\n}\n',
        stderr_sample='fn main() {\n    eprintln!("oops");\n}\n',
    ),
    "bash": Language(
        key="bash",
        display_name="Bash",
        source="main.sh",
        compile=None,
        run=("bash", "{dir}/{source}"),
        version=("bash", "--version"),
        language_info=_info("bash", ".sh", "text/x-sh", "bash", "shell"),
        hello_world='echo "hello, world"\n',
        stderr_sample='echo "oops" >&2\n',
    ),
}

RUNNER_LANGUAGES = tuple(key for key in LANGUAGES if key != "python")
