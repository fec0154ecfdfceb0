"""The extension runtime's message API: which permission each call needs, and the decision.

An extension in its sandboxed frame reaches the IDE only by messages ``{method, params}``.
Before the IDE acts on one, it asks `decide` (here, or through
POST /ide/api/marketplace/installs/<name>/calls) with the user's install as the store lists
it. Deny by default: an unknown method, a disabled install, an undeclared permission, a
permission the user revoked are refused; a sensitive permission declared but not granted yet
is a prompt (the user may refuse it); parameters are checked before any grant counts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import PurePosixPath
from typing import Any

from .manifest import SENSITIVE

# method -> the permission it needs. Events an extension subscribes to are methods too.
METHODS: dict[str, str] = {
    "editor.getText": "editor.read",
    "editor.getSelection": "editor.read",
    "editor.changed": "editor.read",
    "editor.setText": "editor.write",
    "editor.insert": "editor.write",
    "workspace.readFile": "workspace.read",
    "workspace.list": "workspace.read",
    "workspace.changed": "workspace.read",
    "workspace.writeFile": "workspace.write",
    "run.code": "run.code",
    "ai.chat": "ai.use",
    "panel.setText": "ui.panel",
    "statusbar.set": "ui.statusbar",
    "commands.register": "ui.command",
    "command": "ui.command",
    "settings.get": "settings",
    "settings.set": "settings",
}
MAX_TEXT = 1_000_000
MAX_STATUS = 200


@dataclass(frozen=True)
class Decision:
    """What the IDE does with a call: allow, prompt (ask the user first) or deny."""

    decision: str
    permission: str | None
    reason: str

    def as_json(self) -> dict[str, Any]:
        """Return the decision as the API sends it."""
        return asdict(self)


def _deny(reason: str, permission: str | None = None) -> Decision:
    return Decision("deny", permission, reason)


def _params_problem(method: str, params: Any) -> str | None:
    """Return why the parameters are unacceptable, or None."""
    if not isinstance(params, dict):
        return "params is a JSON object"
    if method.startswith("workspace.") and method != "workspace.changed":
        path = params.get("path", "" if method == "workspace.list" else None)
        if not isinstance(path, str):
            return "path is a string"
        if path.startswith("/") or "\\" in path or ".." in PurePosixPath(path).parts:
            return "path is relative to the workspace, without '..'"
    for key in ("text", "source", "content", "prompt"):
        value = params.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > MAX_TEXT):
            return f"{key} is a string of at most {MAX_TEXT} characters"
    if method == "statusbar.set":
        text = params.get("text")
        if not isinstance(text, str) or len(text) > MAX_STATUS:
            return f"text is a string of at most {MAX_STATUS} characters"
    return None


def decide(install: dict[str, Any], method: Any, params: Any = None) -> Decision:
    """Decide a call of ``method`` by the extension of ``install`` (a store listing entry)."""
    if not isinstance(method, str) or method not in METHODS:
        return _deny(f"unknown method {method!r}")
    permission = METHODS[method]
    if not install.get("enabled"):
        return _deny(install.get("notice") or "the extension is disabled", permission)
    problem = _params_problem(method, {} if params is None else params)
    if problem:
        return _deny(f"bad parameters for {method}: {problem}", permission)
    if permission not in install.get("permissions", []):
        return _deny(f"the extension did not declare {permission}", permission)
    if permission in install.get("granted", []):
        return Decision("allow", permission, "granted")
    if permission in SENSITIVE:
        return Decision("prompt", permission, f"ask the user to allow {permission}")
    return _deny(f"{permission} is not granted", permission)
