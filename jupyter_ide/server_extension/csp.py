"""The Content Security Policy of the /ide page: only our own code runs, nothing leaks out."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# An origin an admin allows images from: scheme, host (a leading "*." for subdomains), port.
_IMAGE_HOST = re.compile(
    r"^https?://(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$",
    re.IGNORECASE,
)
# What a Host header may hold before it is named in connect-src (host, [v6], port).
_REQUEST_HOST = re.compile(r"^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$", re.IGNORECASE)


def check_image_host(value: str) -> str:
    """Return ``value`` as an image origin for the policy, or raise ValueError saying why not."""
    host = value.strip().rstrip("/")
    if not _IMAGE_HOST.match(host):
        raise ValueError(
            f"{value!r} is not an image host: give an origin such as https://images.example.edu "
            "or https://*.example.edu (scheme and host, optional port, no path)"
        )
    return host.lower()


def parse_image_hosts(text: str) -> list[str]:
    """Read image origins from a comma- or space-separated list (an environment variable)."""
    return [check_image_host(part) for part in re.split(r"[\s,]+", text) if part]


def _directives(policy: str) -> dict[str, list[str]]:
    """Split a policy into its directives' names (lower case) and source lists."""
    found: dict[str, list[str]] = {}
    for directive in policy.split(";"):
        words = directive.split()
        if words and words[0].lower() not in found:
            found[words[0].lower()] = words[1:]
    return found


def ide_policy(jupyter_policy: str, request_host: str, image_hosts: Sequence[str]) -> str:
    """Return the /ide page's policy.

    ``jupyter_policy`` is the one Jupyter would send (its default, the admin's
    ``ServerApp.tornado_settings["headers"]``, or JupyterHub's): its ``frame-ancestors`` and
    ``report-uri`` are kept, so embedding works as configured and violations are reported
    where Jupyter reports them; ``'self'`` when it names no frame-ancestors.
    """
    jupyter = _directives(jupyter_policy)
    ancestors = jupyter.get("frame-ancestors") or ["'self'"]
    sockets: list[str] = []
    if _REQUEST_HOST.match(request_host):
        # Kernels and terminals are websockets to this same server.
        sockets = [f"ws://{request_host}", f"wss://{request_host}"]
    directives: list[Iterable[str]] = [
        ["default-src", "'self'"],
        ["script-src", "'self'"],
        # Monaco and xterm.js add <style> elements at run time; content cannot style the IDE
        # (markdown is sanitised without styles, HTML outputs live in sandboxed frames) and
        # styles cannot fetch anything from elsewhere (img-src, font-src).
        ["style-src", "'self'", "'unsafe-inline'"],
        # data: and blob: for plots and images the kernel made; remote ones only if allowed.
        ["img-src", "'self'", "data:", "blob:", *image_hosts],
        ["font-src", "'self'", "data:"],
        ["connect-src", "'self'", *sockets],
        ["worker-src", "'self'"],
        ["frame-src", "'self'"],
        ["object-src", "'none'"],
        ["base-uri", "'none'"],
        ["form-action", "'none'"],
        ["frame-ancestors", *ancestors],
    ]
    if jupyter.get("report-uri"):
        directives.append(["report-uri", *jupyter["report-uri"]])
    return "; ".join(" ".join(d) for d in directives)
