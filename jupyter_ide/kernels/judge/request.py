"""Parse and check one submission's JSON as Judge0 does: {field: [messages]} for each problem."""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
import shlex
import zipfile
from dataclasses import dataclass, field
from typing import Any

from .languages import JUDGE_LANGUAGES, MULTI_FILE_ID, JudgeLanguage
from .settings import JudgeSettings

MAX_OPTION_CHARS = 512
_UNSAFE_OPTION_CHARS = re.compile(r"[$&;<>|`]")

Errors = dict[str, list[str]]


@dataclass(frozen=True)
class Limits:
    """The limits one submission runs under (Judge0 units: seconds and KB)."""

    cpu_time_limit: float
    cpu_extra_time: float
    wall_time_limit: float
    memory_limit: int
    stack_limit: int
    max_processes_and_or_threads: int
    max_file_size: int
    number_of_runs: int
    enable_per_process_and_thread_time_limit: bool
    enable_per_process_and_thread_memory_limit: bool
    redirect_stderr_to_stdout: bool
    enable_network: bool = False


@dataclass(frozen=True)
class SubmissionRequest:
    """A checked submission: decoded text as bytes, the language and the limits."""

    language: JudgeLanguage
    source_code: bytes
    stdin: bytes
    expected_output: bytes | None
    compiler_options: str
    command_line_arguments: str
    additional_files: bytes | None  # the zip's bytes
    limits: Limits
    extra: dict[str, Any] = field(default_factory=dict)

    def compiler_option_list(self) -> list[str]:
        """Split the compiler options like a shell, without its special characters."""
        return _split(self.compiler_options)

    def argument_list(self) -> list[str]:
        """Split the command line arguments like a shell, without its special characters."""
        return _split(self.command_line_arguments)


def _split(text: str) -> list[str]:
    try:
        return shlex.split(_UNSAFE_OPTION_CHARS.sub("", text))
    except ValueError:
        return _UNSAFE_OPTION_CHARS.sub("", text).split()


class _Checker:
    """Collects Judge0-style errors while reading the fields."""

    def __init__(self, body: dict[str, Any], base64_encoded: bool, settings: JudgeSettings):
        self.body = body
        self.b64 = base64_encoded
        self.settings = settings
        self.errors: Errors = {}

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def text(self, name: str, limit: int, *, encoded: bool | None = None) -> bytes | None:
        value = self.body.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(name, "must be a string")
            return None
        if self.b64 if encoded is None else encoded:
            try:
                data = base64.b64decode(value.encode("ascii"), validate=False)
                # Judge0 accepts newlines inside base64 (Ruby's decoder); anything else is refused.
                base64.b64decode(re.sub(r"\s+", "", value).encode("ascii"), validate=True)
            except (binascii.Error, ValueError, UnicodeEncodeError):
                self.fail(name, "is not valid base64")
                return None
        else:
            try:
                data = value.encode("utf-8")
            except UnicodeEncodeError:
                self.fail(name, "cannot be converted to UTF-8, use base64_encoded=true")
                return None
        if len(data) > limit:
            self.fail(name, f"is too long (maximum is {limit} bytes, got {len(data)})")
            return None
        return data

    def number(self, name: str, default: float, maximum: float, *, integer: bool) -> float:
        value = self.body.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            self.fail(name, "is not a number")
            return default
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(name, "is not a number")
            return default
        if not math.isfinite(number):
            self.fail(name, "is not a number")
            return default
        if integer and number != int(number):
            self.fail(name, "must be an integer")
            return default
        if number < 0 or (integer and number < 1 and name != "max_file_size"):
            self.fail(name, f"must be greater than or equal to {0 if not integer else 1}")
            return default
        if number > maximum:
            shown = int(maximum) if float(maximum).is_integer() else maximum
            self.fail(name, f"must be less than or equal to {shown}")
            return default
        return number

    def flag(self, name: str, default: bool, allowed: bool = True) -> bool:
        value = self.body.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(name, "must be true or false")
            return default
        if value and not allowed and value != default:
            self.fail(name, f"setting {name} is not allowed")
            return default
        return value

    def option(self, name: str, enabled: bool) -> str:
        value = self.body.get(name)
        if value is None or value == "":
            return ""
        if not isinstance(value, str):
            self.fail(name, "must be a string")
            return ""
        if not enabled:
            self.fail(name, f"setting {name} is not allowed")
            return ""
        if len(value) > MAX_OPTION_CHARS:
            self.fail(name, f"is too long (maximum is {MAX_OPTION_CHARS} characters)")
            return ""
        return value


def _language(check: _Checker) -> JudgeLanguage | None:
    raw = check.body.get("language_id")
    if raw is None or raw == "":
        check.fail("language_id", "can't be blank")
        return None
    if isinstance(raw, bool) or not (
        isinstance(raw, int) or (isinstance(raw, str) and raw.strip().isdigit())
    ):
        check.fail("language_id", "is not a number")
        return None
    language = JUDGE_LANGUAGES.get(int(raw))
    if language is None:
        check.fail("language_id", f"language with id {int(raw)} doesn't exist")
    return language


def _zip(check: _Checker, data: bytes | None) -> bytes | None:
    """Check that additional_files is a zip whose contents fit the extract limit."""
    if data is None:
        return None
    limit = check.settings.max_extract_size * 1024
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(info.file_size for info in archive.infolist())
            bad = archive.testzip() if total <= limit else None
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError):
        check.fail("additional_files", "is not a valid zip archive")
        return None
    if total > limit:
        check.fail("additional_files", f"unzip to more than {check.settings.max_extract_size} KB")
        return None
    if bad is not None:
        check.fail("additional_files", f"has a damaged member: {bad}")
        return None
    return data


def parse_submission(
    body: Any, base64_encoded: bool, settings: JudgeSettings
) -> tuple[SubmissionRequest | None, Errors]:
    """Check one submission; return it, or the errors in Judge0's shape."""
    if not isinstance(body, dict):
        return None, {"submission": ["must be a JSON object"]}
    s = settings
    check = _Checker(body, base64_encoded, s)
    language = _language(check)
    source = check.text("source_code", s.max_source_bytes)
    stdin = check.text("stdin", s.max_stdin_bytes)
    expected = check.text("expected_output", s.max_stdin_bytes)
    files_b64 = check.text("additional_files", s.max_request_bytes, encoded=True)
    if files_b64 is not None and not s.enable_additional_files:
        check.fail("additional_files", "sending additional files is not allowed")
    files = _zip(check, files_b64)
    if language is not None:
        if language.id == MULTI_FILE_ID:
            if source:
                check.fail("source_code", "must be empty for a multi-file program")
            if files is None and "additional_files" not in check.errors:
                check.fail("additional_files", "can't be blank for a multi-file program")
        elif not source and "source_code" not in check.errors:
            check.fail("source_code", "can't be blank")
    if body.get("callback_url"):
        check.fail("callback_url", "callbacks are not supported by this server")
    limits = Limits(
        cpu_time_limit=check.number(
            "cpu_time_limit", s.cpu_time_limit, s.max_cpu_time_limit, integer=False
        ),
        cpu_extra_time=check.number(
            "cpu_extra_time", s.cpu_extra_time, s.max_cpu_extra_time, integer=False
        ),
        wall_time_limit=check.number(
            "wall_time_limit", s.wall_time_limit, s.max_wall_time_limit, integer=False
        ),
        memory_limit=int(
            check.number("memory_limit", s.memory_limit, s.max_memory_limit, integer=False)
        ),
        stack_limit=int(
            check.number("stack_limit", s.stack_limit, s.max_stack_limit, integer=True)
        ),
        max_processes_and_or_threads=int(
            check.number(
                "max_processes_and_or_threads",
                s.max_processes_and_or_threads,
                s.max_max_processes_and_or_threads,
                integer=True,
            )
        ),
        max_file_size=int(
            check.number("max_file_size", s.max_file_size, s.max_max_file_size, integer=True)
        ),
        number_of_runs=int(
            check.number("number_of_runs", s.number_of_runs, s.max_number_of_runs, integer=True)
        ),
        enable_per_process_and_thread_time_limit=check.flag(
            "enable_per_process_and_thread_time_limit",
            s.enable_per_process_and_thread_time_limit,
            s.allow_enable_per_process_and_thread_time_limit,
        ),
        enable_per_process_and_thread_memory_limit=check.flag(
            "enable_per_process_and_thread_memory_limit",
            s.enable_per_process_and_thread_memory_limit,
            s.allow_enable_per_process_and_thread_memory_limit,
        ),
        redirect_stderr_to_stdout=check.flag(
            "redirect_stderr_to_stdout", s.redirect_stderr_to_stdout
        ),
        enable_network=check.flag("enable_network", False, s.allow_enable_network),
    )
    if limits.memory_limit < 1024 and "memory_limit" not in check.errors:
        check.fail("memory_limit", "must be greater than or equal to 1024")
    if limits.wall_time_limit <= 0 and "wall_time_limit" not in check.errors:
        check.fail("wall_time_limit", "must be greater than 0")
    if limits.cpu_time_limit <= 0 and "cpu_time_limit" not in check.errors:
        check.fail("cpu_time_limit", "must be greater than 0")
    compiler_options = check.option("compiler_options", s.enable_compiler_options)
    arguments = check.option("command_line_arguments", s.enable_command_line_arguments)
    if check.errors or language is None:
        return None, check.errors
    request = SubmissionRequest(
        language=language,
        source_code=source or b"",
        stdin=stdin or b"",
        expected_output=expected,
        compiler_options=compiler_options,
        command_line_arguments=arguments,
        additional_files=files,
        limits=limits,
    )
    return request, {}
