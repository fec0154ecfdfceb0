"""The language-server bridge's pure parts: URI mapping both ways, open documents' text."""

from __future__ import annotations

import json

from jupyter_ide.lsp.documents import OpenDocuments, apply_change
from jupyter_ide.lsp.uris import RootMap, file_uri


def test_uris_map_both_ways_values_and_keys() -> None:
    """Strings under the browser's root become /workspace ones and back; others stay."""
    roots = RootMap("file:///srv/users/ada%20b/ws")
    message = {
        "params": {
            "rootUri": "file:///srv/users/ada%20b/ws",
            "rootPath": "/srv/users/ada b/ws",
            "textDocument": {"uri": "file:///srv/users/ada%20b/ws/src/a.py"},
            "changes": {"file:///srv/users/ada%20b/ws/b.py": []},
            "other": "file:///srv/users/ada%20b/wsx/c.py",  # a sibling folder, not under it
            "stdlib": "file:///usr/lib/python3.11/os.py",
        }
    }
    inside = roots.to_inside(message)["params"]
    assert inside["rootUri"] == "file:///workspace"
    assert inside["rootPath"] == "/workspace"
    assert inside["textDocument"]["uri"] == "file:///workspace/src/a.py"
    assert list(inside["changes"]) == ["file:///workspace/b.py"]
    assert inside["other"] == "file:///srv/users/ada%20b/wsx/c.py"
    assert inside["stdlib"] == "file:///usr/lib/python3.11/os.py"
    assert roots.to_outside({"params": inside}) == message
    assert file_uri("/srv/users/ada b/ws/") == "file:///srv/users/ada%20b/ws"


def test_raw_text_is_rewritten_as_the_parsed_message() -> None:
    """The server's JSON text, rewritten without parsing, equals the parsed rewrite."""
    roots = RootMap(file_uri("/srv/users/zoë/ws"))
    message = {
        "uri": "file:///workspace/a.py",
        "root": "file:///workspace",
        "path": "/workspace/b.py",
        "changes": {"file:///workspace/c.py": [{"newText": "see file:///workspace/x"}]},
        "sibling": "file:///workspacex/d.py",
        "other": "/usr/lib/os.py",
    }
    for text in (json.dumps(message), json.dumps(message).replace("/", "\\/")):
        assert json.loads(roots.text_to_outside(text)) == roots.to_outside(message)


def test_incremental_edits_apply_in_utf16_units() -> None:
    """Ranges count UTF-16 code units: an emoji before the edit counts two."""
    text = "a = '\U0001f600'\nb = 1\n"
    changed = apply_change(
        text,
        {
            "range": {"start": {"line": 0, "character": 7}, "end": {"line": 0, "character": 8}},
            "text": "!",
        },
    )
    assert changed == "a = '\U0001f600!\nb = 1\n"
    changed = apply_change(
        changed,
        {
            "range": {"start": {"line": 1, "character": 4}, "end": {"line": 1, "character": 5}},
            "text": "22",
        },
    )
    assert changed.splitlines()[1] == "b = 22"
    assert apply_change(changed, {"text": "whole"}) == "whole"


def test_open_documents_follow_open_change_close() -> None:
    """A restarted server is given each open document's current text and version."""
    docs = OpenDocuments()
    uri = "file:///workspace/a.py"
    docs.note(
        {
            "method": "textDocument/didOpen",
            "params": {
                "textDocument": {
                    "uri": uri,
                    "languageId": "python",
                    "version": 1,
                    "text": "x = 1\n",
                }
            },
        }
    )
    docs.note(
        {
            "method": "textDocument/didChange",
            "params": {
                "textDocument": {"uri": uri, "version": 2},
                "contentChanges": [
                    {
                        "range": {
                            "start": {"line": 0, "character": 4},
                            "end": {"line": 0, "character": 5},
                        },
                        "text": "42",
                    }
                ],
            },
        }
    )
    (reopen,) = docs.reopen()
    assert reopen["params"]["textDocument"] == {
        "uri": uri,
        "languageId": "python",
        "version": 2,
        "text": "x = 42\n",
    }
    docs.note({"method": "textDocument/didClose", "params": {"textDocument": {"uri": uri}}})
    assert docs.reopen() == []
