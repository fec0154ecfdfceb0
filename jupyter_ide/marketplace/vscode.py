"""Declarative VS Code packages (.vsix, npm): themes, snippets, grammars; never code."""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import ScanError

# The folder a package's files sit in: .vsix keeps them under extension/, npm under package/.
ROOTS = ("extension/", "package/")
DECLARATIVE = frozenset({"themes", "snippets", "grammars", "languages"})
CODE_FILES = (".js", ".mjs", ".cjs", ".wasm", ".node", ".exe", ".dll", ".so", ".dylib")
CATEGORY = {"themes": "themes", "snippets": "snippets", "grammars": "languages"}


def find_root(files: dict[str, bytes]) -> str | None:
    """Return the folder of the package's VS Code package.json, or None."""
    for root in ROOTS:
        if f"{root}package.json" in files:
            return root
    return None


def _name(text: str) -> str:
    """Turn an npm or VS Code package name into a store name (``@a/b-theme`` -> ``a-b-theme``)."""
    cleaned = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return cleaned[:64].strip("-") or "package"


def _path(root: str, value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ScanError(f"package.json: {what} has no path")
    return root + value.removeprefix("./")


def to_manifest(files: dict[str, bytes], root: str, namespace: str) -> dict[str, Any]:
    """Return our manifest for a declarative VS Code package; refuse anything with code."""
    try:
        package = json.loads(files[f"{root}package.json"].decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ScanError(f"package.json is not valid JSON: {e}") from e
    if not isinstance(package, dict):
        raise ScanError("package.json is not a JSON object")
    engines = package.get("engines")
    if not isinstance(engines, dict) or "vscode" not in engines:
        raise ScanError("package.json has no engines.vscode: this is not a VS Code extension")
    for field in ("main", "browser"):
        if package.get(field):
            raise ScanError(
                f"this VS Code extension has code ({field}: {package[field]!r}); only "
                "declarative packages (colour themes, snippets, TextMate grammars) install, "
                "and their code would never run here"
            )
    if package.get("activationEvents"):
        raise ScanError(
            "this VS Code extension declares activationEvents, so it runs code; only "
            "declarative packages (colour themes, snippets, TextMate grammars) install"
        )
    code = sorted(name for name in files if name.lower().endswith(CODE_FILES))
    if code:
        raise ScanError(
            f"this VS Code package contains code files ({', '.join(code[:3])}); only "
            "declarative packages (colour themes, snippets, TextMate grammars) install"
        )
    contributes = package.get("contributes") or {}
    if not isinstance(contributes, dict):
        raise ScanError("package.json: contributes is not an object")
    other = sorted(set(contributes) - DECLARATIVE)
    if other:
        raise ScanError(
            f"this VS Code extension contributes {', '.join(other)}; only colour themes, "
            "snippets, TextMate grammars and languages install without code"
        )
    ours: dict[str, list[dict[str, Any]]] = {}
    for item in contributes.get("themes") or []:
        theme: dict[str, Any] = {"label": str(item.get("label") or item.get("id") or "theme")[:255]}
        if item.get("uiTheme") in ("vs", "vs-dark", "hc-black", "hc-light"):
            theme["uiTheme"] = item["uiTheme"]
        theme["path"] = _path(root, item.get("path"), "a theme")
        ours.setdefault("themes", []).append(theme)
    for item in contributes.get("snippets") or []:
        path = _path(root, item.get("path"), "a snippet file")
        language = str(item.get("language") or "plaintext")[:64]
        ours.setdefault("snippets", []).append({"language": language, "path": path})
    for item in contributes.get("grammars") or []:
        if not item.get("scopeName"):
            raise ScanError("package.json: a grammar has no scopeName")
        grammar: dict[str, Any] = {"scopeName": str(item["scopeName"])[:255]}
        if item.get("language"):
            grammar["language"] = str(item["language"])[:64]
        grammar["path"] = _path(root, item.get("path"), "a grammar")
        ours.setdefault("grammars", []).append(grammar)
    for item in contributes.get("languages") or []:
        entry: dict[str, Any] = {"id": str(item.get("id", ""))[:64]}
        for key in ("aliases", "extensions"):
            values = [v for v in item.get(key) or [] if isinstance(v, str)]
            if values:
                entry[key] = [v[:64] for v in values[:20]]
        if item.get("configuration"):
            entry["configuration"] = _path(root, item["configuration"], "a language")
        ours.setdefault("languages", []).append(entry)
    if not (ours.get("themes") or ours.get("snippets") or ours.get("grammars")):
        raise ScanError("this VS Code package contributes no theme, snippet or grammar")
    name = str(package.get("name") or "")
    display = package.get("displayName") or name
    category = next(CATEGORY[k] for k in ("themes", "snippets", "grammars") if k in ours)
    manifest: dict[str, Any] = {
        "name": _name(name),
        "publisher": namespace,
        "version": str(package.get("version", "")),
        "displayName": str(display)[:255] or _name(name),
        "description": str(package.get("description") or "")[:2000],
        "category": category,
        "kind": "vscode",
        "permissions": [],
        "engines": {"jupyter-ide": "*"},
        "contributes": ours,
    }
    keywords = [k[:64] for k in package.get("keywords") or [] if isinstance(k, str)]
    if keywords:
        manifest["keywords"] = keywords[:20]
    return manifest
