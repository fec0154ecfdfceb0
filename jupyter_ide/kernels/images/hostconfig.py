"""The host's package-mirror settings, served to the build steps that need them.

Nothing here is committed: apt sources (Debian entries only), pip's index settings and the CA
bundle are read from the machine that builds, so images reach the same mirrors it does. They
may hold credentials, so they never enter a build context or a layer: the builder serves them
on loopback while it builds (hostserver.py) and each step fetches and removes them
(base/host-config.sh).
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DEBIAN_SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
MIRROR_ENV = "JUPYTER_IDE_DEBIAN_MIRROR"
APT_DIR = Path("/etc/apt")
CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")
# Inside bench/peer_images' build stage: where write_host_context's pip/ is copied.
PIP_DIR_IN_BUILD = "/tmp/ide-pip"  # noqa: S108 (a path inside the build stage)
# Inside a build step (base/host-config.sh): where the served files are fetched to.
HOST_DIR_IN_BUILD = "/tmp/ide-host"  # noqa: S108 (a path inside the build step)
SOURCES_FILE = "ide-host.sources"
PIP_FILE = "pip.conf"
CA_FILE = "ca-certificates.crt"
_PIP_KEYS = ("index-url", "extra-index-url", "trusted-host", "timeout", "retries", "proxy")
_PIP_ENV = {
    "PIP_INDEX_URL": "index-url",
    "PIP_EXTRA_INDEX_URL": "extra-index-url",
    "PIP_TRUSTED_HOST": "trusted-host",
    "PIP_DEFAULT_TIMEOUT": "timeout",
    "PIP_TIMEOUT": "timeout",
    "PIP_RETRIES": "retries",
    "PIP_PROXY": "proxy",
}
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


@dataclass(frozen=True)
class AptSource:
    """One Debian apt source: ``deb URI SUITE COMPONENTS`` (signed-by kept)."""

    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]
    signed_by: str = ""

    def deb822(self) -> str:
        """Return the entry in the deb822 format of sources.list.d/*.sources."""
        lines = [
            "Types: deb",
            f"URIs: {self.uri}",
            f"Suites: {' '.join(self.suites)}",
            f"Components: {' '.join(self.components)}",
        ]
        if self.signed_by:
            lines.append(f"Signed-By: {self.signed_by}")
        return "\n".join(lines) + "\n"


def _debian_entry(uri: str, suites: list[str], comps: list[str], signed_by: str) -> bool:
    if not uri or not suites or not comps:
        return False
    if not all(s.split("-")[0] == DEBIAN_SUITE or s.startswith(DEBIAN_SUITE) for s in suites):
        return False
    return not signed_by or "debian-archive-keyring" in signed_by


def _deb822(text: str) -> list[AptSource]:
    found = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = ""
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0].isspace() and key:
                fields[key] += " " + line.strip()
                continue
            key, _, value = line.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split():
            continue
        if fields.get("enabled", "yes").lower() == "no":
            continue
        suites, comps = fields.get("suites", "").split(), fields.get("components", "").split()
        signed_by = fields.get("signed-by", "")
        for uri in fields.get("uris", "").split():
            if _debian_entry(uri, suites, comps, signed_by):
                found.append(AptSource(uri, tuple(suites), tuple(comps), signed_by))
    return found


def _one_line(text: str) -> list[AptSource]:
    found = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line.startswith("deb "):
            continue
        options = ""
        match = re.match(r"deb\s+\[([^\]]*)\]\s+(.*)", line)
        rest = match.group(2) if match else line[4:]
        if match:
            options = match.group(1)
        parts = rest.split()
        if len(parts) < 3:
            continue
        signed = re.search(r"signed-by=(\S+)", options)
        signed_by = signed.group(1) if signed else ""
        if _debian_entry(parts[0], [parts[1]], parts[2:], signed_by):
            found.append(AptSource(parts[0], (parts[1],), tuple(parts[2:]), signed_by))
    return found


def debian_sources(apt_dir: Path = APT_DIR) -> list[AptSource]:
    """Return the host's enabled Debian bookworm apt sources."""
    sources: list[AptSource] = []
    files = [apt_dir / "sources.list"]
    parts = apt_dir / "sources.list.d"
    if parts.is_dir():
        files += sorted(parts.iterdir())
    for path in files:
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError):
            continue
        if path.name.endswith(".sources"):
            sources += _deb822(text)
        elif path.name.endswith(".list"):
            sources += _one_line(text)
    return sources


def debian_mirror(apt_dir: Path = APT_DIR) -> str:
    """Return debootstrap's mirror: $JUPYTER_IDE_DEBIAN_MIRROR, the host's, or Debian's."""
    configured = os.environ.get(MIRROR_ENV, "").strip()
    if configured:
        return configured
    for source in debian_sources(apt_dir):
        if DEBIAN_SUITE in source.suites:
            return source.uri
    return DEFAULT_MIRROR


def without_credentials(uri: str) -> str:
    """Return ``uri`` without a user name or password in it."""
    parts = urlsplit(uri)
    if "@" not in parts.netloc:
        return uri
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _local(value: str) -> bool:
    return value.startswith(("file:", "/", ".", "~"))


def pip_settings(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Return the host's pip index settings that work from inside a build (no local paths)."""
    env = dict(os.environ) if environ is None else environ
    files = [
        Path("/etc/pip.conf"),
        Path("/etc/xdg/pip/pip.conf"),
        Path.home() / ".pip" / "pip.conf",
        Path.home() / ".config" / "pip" / "pip.conf",
    ]
    if env.get("PIP_CONFIG_FILE"):
        files.append(Path(env["PIP_CONFIG_FILE"]))
    settings: dict[str, str] = {}
    for path in files:
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(path)
        except (OSError, configparser.Error):
            continue
        for section in ("global", "install"):
            if parser.has_section(section):
                for key in _PIP_KEYS:
                    if parser.has_option(section, key):
                        settings[key] = parser.get(section, key)
    for var, key in _PIP_ENV.items():
        if env.get(var):
            settings[key] = env[var]
    for key in ("index-url", "extra-index-url"):
        if key in settings:
            kept = [v for v in settings[key].split() if not _local(v)]
            if kept:
                settings[key] = " ".join(kept)
            else:
                del settings[key]
    return settings


def ca_bundle(environ: dict[str, str] | None = None) -> Path | None:
    """Return the host's CA bundle (pip's configured one first)."""
    env = dict(os.environ) if environ is None else environ
    candidates = [env.get(v, "") for v in ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")]
    for path in [*candidates, *CA_BUNDLES]:
        if path and Path(path).is_file():
            return Path(path)
    return None


def _pip_conf(bundle_path: str | None) -> str:
    settings = pip_settings()
    if bundle_path:
        settings["cert"] = bundle_path
    lines = ["[global]", *(f"{key} = {value}" for key, value in sorted(settings.items()))]
    return "\n".join(lines) + "\n"


def write_served_files(dest: Path) -> list[str]:
    """Write the files build steps fetch from the builder (apt sources, pip.conf, CA bundle)."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    sources = debian_sources()
    if sources:
        (dest / SOURCES_FILE).write_text("\n".join(s.deb822() for s in sources))
        written.append(SOURCES_FILE)
    bundle = ca_bundle()
    if bundle is not None:
        shutil.copyfile(bundle, dest / CA_FILE)
        written.append(CA_FILE)
    cert = f"{HOST_DIR_IN_BUILD}/{CA_FILE}" if bundle is not None else None
    (dest / PIP_FILE).write_text(_pip_conf(cert))
    written.append(PIP_FILE)
    return written


def write_host_context(dest: Path) -> None:
    """Write host/pip/ (pip.conf + CA bundle) for a build stage that never reaches the image.

    For bench/peer_images, whose pip install happens in a discarded stage. The sandbox images
    fetch these files from the builder instead (write_served_files).
    """
    pip = dest / "pip"
    pip.mkdir(parents=True)
    bundle = ca_bundle()
    if bundle is not None:
        shutil.copyfile(bundle, pip / CA_FILE)
    cert = f"{PIP_DIR_IN_BUILD}/{CA_FILE}" if bundle is not None else None
    (pip / PIP_FILE).write_text(_pip_conf(cert))


def proxy_build_args(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Return the proxy variables Docker passes to builds without keeping them in the image."""
    env = dict(os.environ) if environ is None else environ
    return {var: env[var] for var in PROXY_VARS if env.get(var)}
