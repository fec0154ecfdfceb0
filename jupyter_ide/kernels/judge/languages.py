"""The judge's languages: Judge0 CE's ids, mapped onto the sandbox images and runner commands."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from ..runner.languages import LANGUAGES, Language

MULTI_FILE_ID = 89
VERSIONS_DIR = "/opt/ide/versions"  # where each image records its toolchain's version


@dataclass(frozen=True)
class JudgeLanguage:
    """One language of the API: its Judge0 CE id, name template and runner language."""

    id: int
    key: str  # the runner's language key (image), or "multi" for id 89
    name_template: str  # "C (GCC {version})"
    runner: Language | None  # None for multi-file programs

    def name(self, version: str) -> str:
        """Return the public name, with the toolchain's version when known."""
        if not version:
            for gap in (" ({version})", " {version}", "{version}"):
                template = self.name_template.replace(gap, "")
                if template != self.name_template:
                    return template
            return self.name_template
        return self.name_template.format(version=version)

    @property
    def compiled(self) -> bool:
        """Whether programs in this language have a compile step."""
        return self.runner is None or self.runner.compile is not None

    def source_file(self, code: str = "") -> str:
        """Return the file the source code is saved as."""
        if self.runner is None:
            return ""
        return self.runner.source_name(code) if code else self.runner.source

    def compile_cmd(self) -> str | None:
        """Return the compile command as Judge0 shows it (``%s``: the compiler options)."""
        if self.runner is None:
            return "/bin/bash compile"
        if self.runner.compile is None:
            return None
        return shlex.join(_with_options(self.runner.compile, "%s", self.runner.source))

    def run_cmd(self) -> str:
        """Return the run command as Judge0 shows it."""
        if self.runner is None:
            return "/bin/bash run"
        return shlex.join(self.runner.argv(self.runner.run, ".", ""))


def _with_options(template: tuple[str, ...], options: str, source: str) -> list[str]:
    """Insert the options right before the source file (works for gcc, javac, rustc, go)."""
    parts = [p.replace("{source}", source) for p in template]
    at = next((i for i, p in enumerate(template) if "{source}" in p), len(template))
    return [*parts[:at], options, *parts[at:]]


def compile_argv(language: Language, code: str, options: list[str]) -> list[str]:
    """Return the compile argv of one program with the user's compiler options."""
    assert language.compile is not None
    template = language.compile
    at = next((i for i, p in enumerate(template) if "{source}" in p), len(template))
    head = language.argv(template[:at], ".", code)
    tail = language.argv(template[at:], ".", code)
    return [*head, *options, *tail]


def run_argv(language: Language, directory: str, code: str, arguments: list[str]) -> list[str]:
    """Return the run argv of one program living in ``directory``."""
    return [*language.argv(language.run, directory, code), *arguments]


JUDGE_LANGUAGES: dict[int, JudgeLanguage] = {
    lang.id: lang
    for lang in (
        JudgeLanguage(46, "bash", "Bash ({version})", LANGUAGES["bash"]),
        JudgeLanguage(50, "c", "C (GCC {version})", LANGUAGES["c"]),
        JudgeLanguage(54, "cpp", "C++ (GCC {version})", LANGUAGES["cpp"]),
        JudgeLanguage(60, "go", "Go ({version})", LANGUAGES["go"]),
        JudgeLanguage(62, "java", "Java (OpenJDK {version})", LANGUAGES["java"]),
        JudgeLanguage(63, "javascript", "JavaScript (Node.js {version})", LANGUAGES["javascript"]),
        JudgeLanguage(71, "python", "Python ({version})", LANGUAGES["python"]),
        JudgeLanguage(73, "rust", "Rust ({version})", LANGUAGES["rust"]),
        JudgeLanguage(MULTI_FILE_ID, "multi", "Multi-file program", None),
    )
}
