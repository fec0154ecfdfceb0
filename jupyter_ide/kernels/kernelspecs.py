"""The eight ide-* kernelspecs: served by the server, installed by `jupyter ide kernels install`."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager
from traitlets import default

from ..server_extension.settings import data_dir
from .image_names import image_for

PROVISIONER_NAME = "ide-docker-provisioner"


@dataclass(frozen=True)
class Language:
    """One language the IDE runs: how its kernelspec looks."""

    key: str
    display: str
    mimetype: str
    extension: str
    pygments: str


LANGUAGES: tuple[Language, ...] = (
    Language("python", "Python 3", "text/x-python", ".py", "python"),
    Language("c", "C", "text/x-csrc", ".c", "c"),
    Language("cpp", "C++", "text/x-c++src", ".cpp", "cpp"),
    Language("java", "Java", "text/x-java", ".java", "java"),
    Language("javascript", "JavaScript (Node.js)", "text/javascript", ".js", "javascript"),
    Language("go", "Go", "text/x-go", ".go", "go"),
    Language("rust", "Rust", "text/x-rust", ".rs", "rust"),
    Language("bash", "Bash", "text/x-sh", ".sh", "bash"),
)


def spec_name(language: str) -> str:
    """Return the kernelspec name of a language: ide-<language>."""
    return f"ide-{language}"


def sandbox_argv(language: str) -> list[str]:
    """Return the kernel command inside the sandbox image."""
    if language == "python":
        return ["python", "-m", "ide_runner.ipython", "-f", "{connection_file}"]
    return ["python", "-m", "ide_runner", "--language", language, "-f", "{connection_file}"]


def kernelspec(language: Language, limits: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the kernel.json of one language."""
    return {
        "argv": sandbox_argv(language.key),
        "display_name": f"{language.display} (sandbox)",
        "language": language.key,
        "interrupt_mode": "signal",
        "env": {},
        "metadata": {
            "kernel_provisioner": {
                "provisioner_name": PROVISIONER_NAME,
                "config": {
                    "image": image_for(language.key),
                    "language": language.key,
                    "limits": dict(limits or {}),
                },
            },
            "jupyter_ide": {
                "extension": language.extension,
                "mimetype": language.mimetype,
                "pygments_lexer": language.pygments,
            },
        },
    }


def write_kernelspecs(root: Path) -> dict[str, Path]:
    """Write every ide-* kernelspec under ``root``; return name -> folder."""
    written = {}
    for language in LANGUAGES:
        folder = root / spec_name(language.key)
        folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(kernelspec(language), indent=2, sort_keys=True) + "\n"
        target = folder / "kernel.json"
        if not target.exists() or target.read_text() != text:
            with tempfile.NamedTemporaryFile("w", dir=folder, delete=False) as tmp:
                tmp.write(text)
            Path(tmp.name).replace(target)
        written[spec_name(language.key)] = folder
    return written


def served_kernels_dir() -> Path:
    """Return the folder the server serves its ide-* kernelspecs from."""
    return data_dir() / "kernelspecs"


class IDEKernelSpecManager(KernelSpecManager):
    """Jupyter's kernelspecs plus the eight ide-* sandbox kernelspecs."""

    @default("kernel_dirs")
    def _default_kernel_dirs(self) -> list[str]:
        dirs: list[str] = list(super()._kernel_dirs_default())
        served = served_kernels_dir()
        write_kernelspecs(served)
        return [*dirs, str(served)]


def install_kernelspecs(user: bool, prefix: str | None) -> list[str]:
    """Install the ide-* kernelspecs where Jupyter finds them; return their paths."""
    manager = KernelSpecManager()
    with tempfile.TemporaryDirectory() as tmp:
        folders = write_kernelspecs(Path(tmp))
        return [
            manager.install_kernel_spec(str(folder), name, user=user, prefix=prefix)
            for name, folder in folders.items()
        ]
