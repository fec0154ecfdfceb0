"""Take secrets out of text before it is kept: API keys, tokens, passwords, private keys."""

from __future__ import annotations

import re

MASK = "[REDACTED]"

_TOKENS = re.compile(
    "|".join(
        [
            r"\bsk-[A-Za-z0-9_\-]{16,}",  # OpenAI and similar ("sk-proj-…", "sk-ant-…")
            r"\bAIza[0-9A-Za-z_\-]{30,}",  # Google API keys
            r"\bgh[pousr]_[A-Za-z0-9]{30,}",  # GitHub tokens
            r"\bgithub_pat_[A-Za-z0-9_]{20,}",
            r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",  # AWS access key ids
            r"\bxox[abposr]-[A-Za-z0-9-]{10,}",  # Slack
            r"\bglpat-[A-Za-z0-9_\-]{20,}",  # GitLab
            r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",  # JWTs
            r"\b[Bb]earer\s+[A-Za-z0-9._~+/=\-]{12,}",
        ]
    )
)
_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.DOTALL
)
# name = value, name: value, "name": "value" for names that say they hold a secret.
_ASSIGNED = re.compile(
    r"(?i)(\b[\w.-]*(?:password|passwd|pwd|passphrase|secret|api[_-]?key|apikey|token|"
    r"access[_-]?key|private[_-]?key|credentials?)[\"']?\s*(?:=|:|=>)\s*)"
    r"(\"[^\"\n]*\"|'[^'\n]*'|[^\s,;\"'}\])]+)"
)
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]+:)([^@\s/]+)(@)")


def redact(text: str, *known: str | None) -> str:
    """Return ``text`` with secret-looking parts and each ``known`` secret masked."""
    for secret in known:
        if secret:
            text = text.replace(secret, MASK)
    text = _PRIVATE_KEY.sub(MASK, text)
    text = _URL_PASSWORD.sub(lambda m: m.group(1) + MASK + m.group(3), text)
    text = _ASSIGNED.sub(lambda m: m.group(1) + MASK, text)
    return _TOKENS.sub(MASK, text)
