"""The documents a client has open, kept so a restarted server can be given them again.

Text is kept as LSP sends it: whole (``didOpen``, full ``didChange``) or as edits whose
ranges count lines and UTF-16 code units, applied here the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class OpenDocument:
    """One open document: its URI, language, version and current text."""

    uri: str
    language_id: str
    version: int
    text: str

    def did_open(self) -> dict[str, Any]:
        """Return the ``textDocument/didOpen`` notification that opens it as it is now."""
        return {
            "jsonrpc": "2.0",
            "method": "textDocument/didOpen",
            "params": {
                "textDocument": {
                    "uri": self.uri,
                    "languageId": self.language_id,
                    "version": self.version,
                    "text": self.text,
                }
            },
        }


def _offset(text: str, position: dict[str, Any]) -> int:
    """Return the index in ``text`` of an LSP position (line, UTF-16 character)."""
    line, character = int(position.get("line", 0)), int(position.get("character", 0))
    start = 0
    for _ in range(line):
        newline = text.find("\n", start)
        if newline < 0:
            return len(text)
        start = newline + 1
    end = text.find("\n", start)
    end = len(text) if end < 0 else end
    units = text[start:end].encode("utf-16-le")[: 2 * max(character, 0)]
    return start + len(units.decode("utf-16-le", "ignore"))


def apply_change(text: str, change: dict[str, Any]) -> str:
    """Return ``text`` after one ``TextDocumentContentChangeEvent``."""
    new = str(change.get("text", ""))
    edit = change.get("range")
    if not isinstance(edit, dict):
        return new
    start = _offset(text, edit.get("start") or {})
    end = _offset(text, edit.get("end") or {})
    return text[:start] + new + text[max(start, end) :]


class OpenDocuments:
    """Every document one session's clients have open, by URI (as the server names it)."""

    def __init__(self) -> None:
        """Start with none."""
        self.documents: dict[str, OpenDocument] = {}

    def note(self, message: dict[str, Any]) -> None:
        """Follow a client notification: didOpen, didChange, didClose (others ignored)."""
        method = message.get("method")
        params = message.get("params")
        if not isinstance(params, dict):
            return
        doc = params.get("textDocument")
        if not isinstance(doc, dict) or not isinstance(doc.get("uri"), str):
            return
        uri = doc["uri"]
        if method == "textDocument/didOpen":
            self.documents[uri] = OpenDocument(
                uri,
                str(doc.get("languageId", "")),
                int(doc.get("version") or 0),
                str(doc.get("text", "")),
            )
        elif method == "textDocument/didChange" and uri in self.documents:
            current = self.documents[uri]
            for change in params.get("contentChanges") or []:
                if isinstance(change, dict):
                    current.text = apply_change(current.text, change)
            if isinstance(doc.get("version"), int):
                current.version = doc["version"]
        elif method == "textDocument/didClose":
            self.documents.pop(uri, None)

    def reopen(self) -> list[dict[str, Any]]:
        """Return the didOpen notifications that give a new server every open document."""
        return [doc.did_open() for doc in self.documents.values()]
