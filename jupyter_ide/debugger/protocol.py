"""What a browser may send on a debug socket: the start message and allowed DAP requests."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

MAX_SOURCE = 512 * 1024  # characters of the program's source
SOURCE_DIR = "/tmp/ide-debug"  # noqa: S108 - inside the sandbox, a tmpfs of the container's
PROGRAM = f"{SOURCE_DIR}/main"
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,99}")
SUFFIXES = {"c": (".c",), "cpp": (".cpp", ".cc", ".cxx", ".c++", ".C")}
# The DAP requests a debugging client needs; anything else is answered with an error.
ALLOWED = frozenset(
    {
        "initialize",
        "launch",
        "setBreakpoints",
        "setFunctionBreakpoints",
        "setExceptionBreakpoints",
        "configurationDone",
        "threads",
        "stackTrace",
        "scopes",
        "variables",
        "evaluate",
        "continue",
        "next",
        "stepIn",
        "stepOut",
        "pause",
        "source",
        "disconnect",
        "terminate",
    }
)
# lldb's default disables ASLR through personality(), which the sandbox's seccomp profile
# refuses: the program runs with ASLR on instead, and nothing of the profile is loosened.
INIT_COMMANDS = ["settings set target.disable-aslr false"]


class BadMessage(ValueError):
    """A message a person can read about why the browser's message was refused."""


@dataclass(frozen=True)
class Start:
    """The first message: the program's file name and source."""

    name: str
    source: str

    @property
    def path(self) -> str:
        """Where the source is compiled inside the sandbox (frames name this path)."""
        return f"{SOURCE_DIR}/{self.name}"


def parse_json(message: str | bytes) -> dict[str, Any]:
    """Parse one text frame as a JSON object."""
    if isinstance(message, bytes):
        raise BadMessage("Send text frames (JSON), not binary ones")
    try:
        parsed = json.loads(message)
    except ValueError as e:
        raise BadMessage("The message is not JSON") from e
    if not isinstance(parsed, dict):
        raise BadMessage("The message is not a JSON object")
    return parsed


def parse_start(message: dict[str, Any], language: str) -> Start:
    """Check the start message: {"type": "start", "name": "main.c", "source": "..."}."""
    if message.get("type") != "start":
        raise BadMessage('The first message must be {"type": "start", "name": ..., "source": ...}')
    name, source = message.get("name"), message.get("source")
    if not isinstance(name, str) or not NAME.fullmatch(name) or ".." in name:
        raise BadMessage("name must be a plain file name such as main.c (no folders)")
    if not name.endswith(SUFFIXES[language]):
        raise BadMessage(f"A {language} program's name ends with {', '.join(SUFFIXES[language])}")
    if not isinstance(source, str):
        raise BadMessage("source must be the program's text")
    if len(source) > MAX_SOURCE:
        raise BadMessage(f"The source is longer than {MAX_SOURCE} characters")
    return Start(name, source)


def check_request(message: dict[str, Any]) -> dict[str, Any]:
    """Return the DAP request to pass on (launch's arguments fixed here), or raise BadMessage."""
    if message.get("type") != "request" or not isinstance(message.get("seq"), int):
        raise BadMessage("Only DAP requests (type 'request' with an integer seq) may be sent")
    command = message.get("command")
    if command not in ALLOWED:
        raise BadMessage(f"The debugger does not take {command!r} here")
    arguments = message.get("arguments", {})
    if not isinstance(arguments, dict):
        raise BadMessage("arguments must be an object")
    if command == "launch":
        # The program is the one compiled here; nothing else can be launched.
        arguments = {
            "program": PROGRAM,
            "cwd": "/workspace",
            "stopOnEntry": bool(arguments.get("stopOnEntry", False)),
            "disableASLR": False,
            "initCommands": INIT_COMMANDS,
        }
    return {**message, "arguments": arguments}


def error_response(request: dict[str, Any], text: str) -> dict[str, Any]:
    """Return a DAP error response to ``request``."""
    return {
        "seq": 0,
        "type": "response",
        "request_seq": request.get("seq", 0),
        "command": request.get("command", ""),
        "success": False,
        "message": text,
    }


def event(name: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return a DAP event made by the server."""
    return {"seq": 0, "type": "event", "event": name, "body": body or {}}
