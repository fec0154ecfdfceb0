"""The extension manifest: its JSON Schema (shipped beside this module) and its checks."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from .errors import ScanError

SCHEMA_PATH = Path(__file__).resolve().parent / "manifest.schema.json"
MANIFEST_NAME = "manifest.json"
MAX_MANIFEST_BYTES = 256 * 1024

PERMISSIONS = (
    "editor.read",
    "editor.write",
    "workspace.read",
    "workspace.write",
    "run.code",
    "ai.use",
    "ui.panel",
    "ui.statusbar",
    "ui.command",
    "settings",
)
# Asked for at first use, with a prompt the user can refuse.
SENSITIVE = frozenset({"workspace.write", "run.code", "ai.use"})
# What each contribution needs to show itself: a manifest must declare it.
CONTRIBUTION_NEEDS = {
    "panels": "ui.panel",
    "statusBarItems": "ui.statusbar",
    "commands": "ui.command",
}


@functools.cache
def validator() -> Draft202012Validator:
    """Return the manifest schema's validator (the schema itself checked once)."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _where(path: Any) -> str:
    """Name a place in the manifest: ``contributes.themes[0].path``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the manifest"


def parse_manifest(data: bytes) -> dict[str, Any]:
    """Return the manifest in ``data`` when it is valid; ScanError naming the problem if not."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise ScanError(f"manifest.json is over {MAX_MANIFEST_BYTES // 1024} KiB")
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ScanError(f"manifest.json is not valid JSON: {e}") from e
    check_manifest(manifest)
    return manifest  # type: ignore[no-any-return]


def check_manifest(manifest: Any) -> None:
    """Raise ScanError with the first schema violation, or an undeclared contribution."""
    errors = sorted(validator().iter_errors(manifest), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise ScanError(
            f"manifest.json is invalid at {_where(first.absolute_path)}: {first.message}{more}"
        )
    declared = set(manifest.get("permissions", []))
    for kind, needed in CONTRIBUTION_NEEDS.items():
        if manifest.get("contributes", {}).get(kind) and needed not in declared:
            raise ScanError(f"manifest.json contributes {kind} but does not declare {needed!r}")


def referenced_paths(manifest: dict[str, Any]) -> list[str]:
    """Every file the manifest names (main, icon, contributed files): each must be packed."""
    paths = [manifest[key] for key in ("main", "icon") if key in manifest]
    for items in manifest.get("contributes", {}).values():
        paths += [item["path"] for item in items if "path" in item]
        paths += [item["icon"] for item in items if "icon" in item]
    return [p.removeprefix("./") for p in paths]


def full_name(manifest: dict[str, Any]) -> str:
    """Return ``<publisher>.<name>``, the store's name of the extension."""
    return f"{manifest['publisher']}.{manifest['name']}"
