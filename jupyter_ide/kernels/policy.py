"""Which kernels may run: only sandboxed ones while the sandbox is required.

Notebooks name the kernel they were written with; almost all say ``python3``. While the sandbox
is required (``JUPYTER_IDE_SANDBOX=docker``, or ``auto`` with an engine that answers), a name
with a sandboxed equivalent runs as that equivalent, and any other is refused with a message
that names the kernels there are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from jupyter_client.kernelspec import NoSuchKernel

from .sandbox import SandboxManager

# Common kernel names of other distributions -> the language of our sandboxed kernel.
ALIASES: dict[str, str] = {
    "python": "python",
    "python2": "python",
    "python3": "python",
    "ipython": "python",
    "ipython3": "python",
    "ipykernel": "python",
    "pypy3": "python",
    "c": "c",
    "c++": "cpp",
    "cpp": "cpp",
    "cling": "cpp",
    "xcpp": "cpp",
    "java": "java",
    "ijava": "java",
    "javascript": "javascript",
    "ijavascript": "javascript",
    "jslab": "javascript",
    "node": "javascript",
    "nodejs": "javascript",
    "go": "go",
    "gophernotes": "go",
    "gonb": "go",
    "lgo": "go",
    "rust": "rust",
    "evcxr": "rust",
    "evcxr_jupyter": "rust",
    "bash": "bash",
    "calysto_bash": "bash",
}
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"python\d+(\.\d+)*"), "python"),  # python3.11, python311
    (re.compile(r"conda-(root|base|env-.+)-py"), "python"),  # nb_conda_kernels
    (re.compile(r"xcpp\d+"), "cpp"),  # xeus-cling: xcpp11, xcpp14, xcpp17, xcpp20
    (re.compile(r"cling-cpp\d+"), "cpp"),
)


class KernelRefused(NoSuchKernel):
    """A kernel that may not run here; its message says which ones may."""

    def __init__(self, message: str) -> None:
        """Keep the message (KeyError would show it quoted)."""
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        """Return the message itself."""
        return self.message


def sandbox_required() -> bool:
    """Whether only sandboxed kernels may start now (False when no sandbox is set up)."""
    if not SandboxManager.initialized():
        return False
    return SandboxManager.instance().sandbox_required()


def equivalent_language(kernel_name: str) -> str | None:
    """Return the language of our sandboxed kernel that stands in for ``kernel_name``."""
    name = kernel_name.strip().lower()
    if name in ALIASES:
        return ALIASES[name]
    for pattern, language in PATTERNS:
        if pattern.fullmatch(name):
            return language
    return None


def refusal(kernel_name: str, available: Mapping[str, str]) -> str:
    """Say why ``kernel_name`` cannot run, naming the sandboxed kernels (name -> display)."""
    choices = ", ".join(f"{display} ({name})" for name, display in sorted(available.items()))
    return (
        f"The kernel {kernel_name!r} cannot run here: this server runs code only in sandboxed "
        f"kernels, and {kernel_name!r} has no sandboxed equivalent. "
        + (f"Pick one of: {choices}." if choices else "No sandboxed kernel is installed.")
    )


def unsandboxed_restart(kernel_name: str, instead: str | None) -> str:
    """Say why a kernel started without a sandbox cannot restart now that one is required."""
    return (
        f"This kernel ({kernel_name}) was started without a sandbox, and this server now runs "
        "code only in sandboxed kernels: "
        + (f"change the kernel to {instead}." if instead else "pick a sandboxed kernel.")
    )
