"""The eight ide-* kernelspecs: served by the server, installed by `jupyter ide kernels install`."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from traitlets import TraitError, default

from ..server_extension.settings import data_dir
from .image_names import image_for
from .policy import KernelRefused, equivalent_language, refusal, sandbox_required

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
    metadata: dict[str, Any] = {
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
    }
    if language.key == "python":
        # ipykernel's own kernel.json says so: JupyterLab enables its debugger (the bug icon)
        # only for kernelspecs whose metadata has "debugger": true.
        metadata["debugger"] = True
    return {
        "argv": sandbox_argv(language.key),
        "display_name": f"{language.display} (sandbox)",
        "language": language.key,
        "interrupt_mode": "signal",
        "env": {},
        "metadata": metadata,
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


def is_sandboxed(spec: KernelSpec) -> bool:
    """Whether a kernelspec runs in our sandbox (it names our provisioner)."""
    provisioner = (spec.metadata or {}).get("kernel_provisioner") or {}
    return bool(provisioner.get("provisioner_name") == PROVISIONER_NAME)


class IDEKernelSpecManager(KernelSpecManager):
    """Jupyter's kernelspecs plus the eight ide-* sandbox kernelspecs.

    While the sandbox is required only sandboxed kernelspecs exist: the others are neither
    listed nor found, and ``resolve`` maps common names (python3, xcpp17, …) to their
    sandboxed equivalents.
    """

    @default("kernel_dirs")
    def _default_kernel_dirs(self) -> list[str]:
        dirs: list[str] = list(super()._kernel_dirs_default())
        served = served_kernels_dir()
        write_kernelspecs(served)
        return [*dirs, str(served)]

    def find_kernel_specs(self) -> dict[str, str]:
        """Return name -> folder of the kernelspecs that may run now."""
        specs: dict[str, str] = super().find_kernel_specs()
        if not sandbox_required():
            return specs
        return {name: folder for name, folder in specs.items() if self._sandboxed_at(folder)}

    def _sandboxed_at(self, folder: str) -> bool:
        """Whether the kernelspec in ``folder`` is a sandboxed one (unreadable ones are not)."""
        try:
            return is_sandboxed(self.kernel_spec_class.from_resource_dir(folder))
        except (OSError, ValueError, TraitError):
            return False

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        """Return a kernelspec; while the sandbox is required, only a sandboxed one."""
        spec: KernelSpec = super().get_kernel_spec(kernel_name)
        if sandbox_required() and not is_sandboxed(spec):
            raise KernelRefused(refusal(kernel_name, self.sandboxed_choices()))
        return spec

    def sandboxed_choices(self) -> dict[str, str]:
        """Return name -> display name of the sandboxed kernelspecs."""
        choices = {}
        for name, folder in super().find_kernel_specs().items():
            try:
                spec = self.kernel_spec_class.from_resource_dir(folder)
            except (OSError, ValueError, TraitError):
                continue
            if is_sandboxed(spec):
                choices[name] = spec.display_name
        return choices

    def resolve(self, kernel_name: str) -> str:
        """Return the kernelspec to start for ``kernel_name``, or raise KernelRefused.

        Without a required sandbox every name is itself.
        """
        if not sandbox_required():
            return kernel_name
        choices = self.sandboxed_choices()
        if kernel_name.lower() in choices:
            return kernel_name.lower()
        language = equivalent_language(kernel_name)
        if language is not None and spec_name(language) in choices:
            return spec_name(language)
        raise KernelRefused(refusal(kernel_name, choices))


def install_kernelspecs(user: bool, prefix: str | None) -> list[str]:
    """Install the ide-* kernelspecs where Jupyter finds them; return their paths."""
    manager = KernelSpecManager()
    with tempfile.TemporaryDirectory() as tmp:
        folders = write_kernelspecs(Path(tmp))
        return [
            manager.install_kernel_spec(str(folder), name, user=user, prefix=prefix)
            for name, folder in folders.items()
        ]
