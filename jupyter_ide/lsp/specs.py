"""The language servers jupyter-ide runs, each in the sandbox image of its language.

A spec is what jupyter-lsp's registry holds for a server (display name, languages, MIME
types, ...) plus where it runs here: the image (one of the kernels' images) and the command
inside it. ``status_spec`` gives the spec as jupyter-lsp's /lsp/status shows it, with the
command and environment censored the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPEC_VERSION = 2  # jupyter-lsp's spec and /lsp/status version
# jupyter-lsp's censored fields (specs/utils.py SKIP_JSON_SPEC): never shown to browsers.
CENSORED = {"argv": [""], "debug_argv": [""], "env": {}}

# clangd finds this file above every workspace folder (the workspace is /workspace, the file
# is mounted at /compile_flags.txt); a compile_flags.txt of the student's own is nearer, so
# it wins. No -std: clang picks the file's language from its extension (gnu17 / gnu++17).
COMPILE_FLAGS = "-Wall\n-Wextra\n-I.\n"
COMPILE_FLAGS_INSIDE = "/compile_flags.txt"
# pylsp starts through pylsp_boot.py (jedi in-process, plugins preloaded), given as source.
PYLSP_BOOT = (Path(__file__).parent / "pylsp_boot.py").read_text()


@dataclass(frozen=True)
class ServerSpec:
    """One language server: its registry entry and how it starts in its sandbox."""

    key: str
    language: str  # the image: jupyter-ide/<language>
    argv: tuple[str, ...]
    display_name: str
    languages: tuple[str, ...]
    mime_types: tuple[str, ...]
    extensions: tuple[str, ...] = ()
    home: str = ""
    env: dict[str, str] = field(default_factory=dict)  # extra variables in its container
    compile_flags: bool = False  # mount COMPILE_FLAGS at COMPILE_FLAGS_INSIDE
    via_socket: bool = True  # stdio over a mounted socket (launch.py), else the engine's attach
    requires_documents_on_disk: bool = False  # no shadow files: servers read didOpen text

    def registry_entry(self) -> dict[str, Any]:
        """Return the spec as jupyter-lsp's registry holds it (argv, env, languages, ...)."""
        return {
            "argv": list(self.argv),
            "display_name": self.display_name,
            "env": dict(self.env),
            "languages": list(self.languages),
            "mime_types": list(self.mime_types),
            "version": SPEC_VERSION,
            "urls": {"home": self.home} if self.home else {},
            "install": {"jupyter-ide": "jupyter ide images build --offline"},
            "requires_documents_on_disk": self.requires_documents_on_disk,
            "extend": [],
            "config_schema": {},
            "in_sandbox": True,
            "sandbox_image_language": self.language,
            "file_extensions": list(self.extensions),
        }

    def status_spec(self) -> dict[str, Any]:
        """Return the spec as /lsp/status shows it (jupyter-lsp's censored_spec)."""
        entry = self.registry_entry()
        return {k: CENSORED.get(k, v) for k, v in entry.items()}


DEFAULT_SPECS: tuple[ServerSpec, ...] = (
    ServerSpec(
        key="pylsp",
        language="python",
        argv=("python", "-I", "-c", PYLSP_BOOT),
        display_name="python-lsp-server (pylsp), sandboxed",
        languages=("python",),
        mime_types=("text/python", "text/x-ipython"),
        extensions=(".py",),
        home="https://github.com/python-lsp/python-lsp-server",
    ),
    ServerSpec(
        key="clangd",
        language="cpp",
        argv=("clangd", "--background-index=false", "--log=error", "--pch-storage=memory"),
        display_name="clangd, sandboxed",
        languages=("c", "cpp", "c++", "objective-c"),
        mime_types=("text/x-csrc", "text/x-c", "text/x-c++src", "text/x-objectivec"),
        extensions=(".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh"),
        home="https://clangd.llvm.org",
        compile_flags=True,
    ),
    ServerSpec(
        key="typescript-language-server",
        language="javascript",
        argv=("typescript-language-server", "--stdio"),
        display_name="typescript-language-server, sandboxed",
        languages=("javascript", "typescript", "javascriptreact", "typescriptreact"),
        mime_types=(
            "application/typescript",
            "text/typescript-jsx",
            "text/javascript",
            "text/ecmascript",
            "application/javascript",
            "application/x-javascript",
            "text/jsx",
        ),
        extensions=(".js", ".mjs", ".cjs", ".ts", ".jsx", ".tsx"),
        home="https://github.com/typescript-language-server/typescript-language-server",
    ),
    ServerSpec(
        key="gopls",
        language="go",
        argv=("gopls",),
        display_name="gopls, sandboxed",
        languages=("go",),
        mime_types=("text/x-go",),
        extensions=(".go",),
        home="https://pkg.go.dev/golang.org/x/tools/gopls",
        env={"GOFLAGS": "-mod=mod", "GOPROXY": "off", "GOTOOLCHAIN": "local"},
    ),
    ServerSpec(
        key="bash-language-server",
        language="bash",
        argv=("bash-language-server", "start"),
        display_name="bash-language-server, sandboxed",
        languages=("bash", "sh", "shell", "shellscript"),
        mime_types=("text/x-sh", "application/x-sh"),
        extensions=(".sh", ".bash"),
        home="https://github.com/bash-lsp/bash-language-server",
    ),
)


def default_specs() -> dict[str, ServerSpec]:
    """Return the built-in servers by key."""
    return {spec.key: spec for spec in DEFAULT_SPECS}
