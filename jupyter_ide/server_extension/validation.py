"""Check every setting before the server starts: one line per mistake, naming where it is set."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

from traitlets import TraitError
from traitlets.config import Configurable

from ..ai_handlers.crypto import CRYPT_KEY_FIX, CryptKeyError, parse_keys
from .settings import SANDBOX_MODES, IDESettings

REFUSAL = "jupyter-ide cannot start"
S3_SSE_MODES = ("", "AES256", "aws:kms")

# The settings' traits and the variables they read (see settings.py).
TRAIT_ENV = {
    "db_url": "JUPYTER_IDE_DB_URL",
    "redis_url": "JUPYTER_IDE_REDIS_URL",
    "storage_url": "JUPYTER_IDE_STORAGE_URL",
    "s3_endpoint_url": "JUPYTER_IDE_S3_ENDPOINT_URL",
    "s3_sse": "JUPYTER_IDE_S3_SSE",
    "sandbox": "JUPYTER_IDE_SANDBOX",
    "crypt_key": "JUPYTER_IDE_CRYPT_KEY",
    "ai_pool_url": "JUPYTER_IDE_AI_POOL_URL",
}

# Whole numbers read from the environment by other parts: (variable, smallest value, meaning).
NUMBER_ENV = (
    ("JUPYTER_IDE_QUOTA_BYTES", 0, "bytes of files per user (0: no limit)"),
    ("JUPYTER_IDE_QUOTA_FILES", 0, "files per user (0: no limit)"),
    ("JUPYTER_IDE_JUDGE_WORKERS", 1, "submissions run at once"),
    ("JUPYTER_IDE_WORKSPACE_BYTES", 0, "bytes of a workspace folder on disk (0: the quota)"),
)

# Choices read from the environment by other parts: (variable, choices).
CHOICE_ENV = (("JUPYTER_IDE_WORKSPACE_VOLUME", ("auto", "loop", "sync", "off")),)


@dataclass(frozen=True)
class SettingProblem:
    """One invalid setting: where it is set, what is wrong, and how to fix it."""

    name: str
    problem: str
    fix: str

    def line(self) -> str:
        """Return the one line a person reads: the setting, the problem, the fix."""
        return f"{REFUSAL}: {self.name} {self.problem}. Fix: {self.fix}."


def _where(settings: Configurable, trait: str, environ: Mapping[str, str]) -> str:
    """Name the place a trait's value came from: the config file, else its variable."""
    section = type(settings).__name__
    config = settings.config
    if section in config and trait in config[section]:
        return f"c.{section}.{trait}"
    env = TRAIT_ENV.get(trait, "")
    return env if env and environ.get(env, "").strip() else f"c.{section}.{trait}"


def _db_url(url: str) -> str | None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        backend = make_url(url).get_backend_name()
    except (ArgumentError, ValueError):
        return "is not a database URL"
    if backend not in ("sqlite", "postgresql"):
        return f"uses {backend}://, which jupyter-ide does not support"
    return None


def _redis_url(url: str) -> str | None:
    if not url:
        return None
    from redis.connection import parse_url

    try:
        parse_url(url)  # type: ignore[no-untyped-call]
    except ValueError as e:
        return f"is not a Redis URL ({str(e).rstrip('.')})"
    return None


def _storage_url(url: str) -> str | None:
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        return None if parsed.netloc else "names no bucket"
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost") or not parsed.path.startswith("/"):
            return "is not a file:/// URL of an absolute folder"
        return None
    return f"has the scheme {parsed.scheme + '://' if parsed.scheme else '(none)'}"


def _http_url(url: str) -> str | None:
    if not url:
        return None
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return "is not an http:// or https:// URL"
    return None


def _s3_sse(value: str) -> str | None:
    return None if value in S3_SSE_MODES else f"is {value!r}"


def _crypt_key(keys: str) -> str | None:
    try:
        parse_keys(keys)
    except CryptKeyError as e:
        return f"is not valid: {e}"
    return None


# trait -> (check returning the problem or None, the fix)
CHECKS: dict[str, tuple[Callable[[str], str | None], str]] = {
    "db_url": (_db_url, "use sqlite:////absolute/path/ide.db or postgresql+psycopg://user@host/db"),
    "redis_url": (
        _redis_url,
        "use redis://host:6379/0 (or rediss://, unix://), or leave it empty for the in-process "
        "cache",
    ),
    "storage_url": (_storage_url, "use s3://bucket/prefix or file:///absolute/folder"),
    "s3_endpoint_url": (_http_url, "use the S3 API's address, such as http://minio:9000"),
    "s3_sse": (_s3_sse, "use AES256 or aws:kms, or leave it empty for the bucket's default"),
    "crypt_key": (_crypt_key, CRYPT_KEY_FIX),
    "ai_pool_url": (_http_url, "use the pool's OpenAI-compatible address, such as http://host/v1"),
}
SANDBOX_FIX = f"use one of {', '.join(SANDBOX_MODES)}"
_TRAIT_IN_ERROR = re.compile(r"The '(\w+)' trait")


def _env_problems(environ: Mapping[str, str]) -> list[SettingProblem]:
    problems = []
    for name, choices in CHOICE_ENV:
        value = environ.get(name, "").strip()
        if value and value.lower() not in choices:
            fix = f"use one of {', '.join(choices)}, or unset {name}"
            problems.append(SettingProblem(name, f"is {value[:40]!r}", fix))
    for name, smallest, meaning in NUMBER_ENV:
        value = environ.get(name, "").strip()
        if value and (not value.isdigit() or int(value) < smallest):
            problems.append(
                SettingProblem(
                    name,
                    f"must be a whole number of {meaning}, not {value[:40]!r}",
                    f"write digits only ({smallest} or more), or unset {name}",
                )
            )
    return problems


def _trait_problem(
    settings: IDESettings, trait: str, environ: Mapping[str, str]
) -> SettingProblem | None:
    """Check one trait; a value its type refuses is checked as the variable wrote it."""
    check, fix = CHECKS[trait]
    problem: str | None
    try:
        value = str(getattr(settings, trait))
    except TraitError:
        value = environ.get(TRAIT_ENV[trait], "")
        problem = check(value.strip()) or "is not allowed here"
    else:
        problem = check(value.strip())
    return SettingProblem(_where(settings, trait, environ), problem, fix) if problem else None


def setting_problems(
    make_settings: Callable[[], IDESettings], environ: Mapping[str, str] | None = None
) -> list[SettingProblem]:
    """Return every invalid setting (an empty list when all are usable)."""
    env = os.environ if environ is None else environ
    problems = _env_problems(env)
    try:
        settings = make_settings()
    except TraitError as e:  # a config file value the trait refuses
        found = _TRAIT_IN_ERROR.search(str(e))
        trait = found.group(1) if found else "?"
        fix = SANDBOX_FIX if trait == "sandbox" else CHECKS.get(trait, (None, "correct it"))[1]
        return [SettingProblem(f"c.IDESettings.{trait}", "is refused by its type", fix), *problems]
    for trait in CHECKS:
        problem = _trait_problem(settings, trait, env)
        if problem is not None:
            problems.append(problem)
    try:
        settings.sandbox  # noqa: B018 - reading the trait validates the variable
    except TraitError:
        value = env.get("JUPYTER_IDE_SANDBOX", "").strip()
        problems.append(SettingProblem("JUPYTER_IDE_SANDBOX", f"is {value[:40]!r}", SANDBOX_FIX))
    try:
        settings.allowed_image_hosts  # noqa: B018 - reading the trait validates the variable
    except TraitError as e:
        why = str(e).split(": ", 1)[-1].rstrip(".")
        fix = "list origins such as https://upload.wikimedia.org, or unset it"
        problems.append(SettingProblem("JUPYTER_IDE_IMAGE_HOSTS", f"is not valid: {why}", fix))
    return problems


def refusal(problems: list[SettingProblem]) -> str:
    """Return the message the server exits with: one line per invalid setting."""
    return "\n".join(problem.line() for problem in problems)
