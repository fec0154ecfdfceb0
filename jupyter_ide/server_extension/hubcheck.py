"""Whether a JupyterHub config lets anyone sign in (`jupyter ide doctor --hub-config`)."""

from __future__ import annotations

from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

from .checks import CheckResult

OPEN_FIX = (
    "unset JUPYTER_IDE_ALLOW_ALL (deploy/jupyterhub_config.py) and allow people by "
    "organisation, domain, group or name (JUPYTER_IDE_GITHUB_ORGS, JUPYTER_IDE_GOOGLE_DOMAIN, "
    "JUPYTER_IDE_ALLOWED_GROUPS, JUPYTER_IDE_ALLOWED_USERS)"
)


def load_hub_config(path: Path) -> Config:
    """Load a jupyterhub_config.py as JupyterHub does (it reads the same environment)."""
    return PyFileConfigLoader(path.name, path=str(path.parent)).load_config()


def open_sections(config: Config) -> list[str]:
    """Return the authenticator settings that let in everyone the provider signs in."""
    found = []
    for section in sorted(config):
        values = config[section]
        if not section.endswith("Authenticator") or not isinstance(values, Config):
            continue
        if values.get("allow_all") is not True:
            continue
        if section == "GoogleOAuthenticator" and values.get("hosted_domain"):
            continue  # the domain restricts who may sign in
        found.append(f"{section}.allow_all")
    return found


def check_sign_in(path: Path) -> CheckResult:
    """Warn when the hub's sign-in is open to anyone with an account at the provider."""
    try:
        config = load_hub_config(path)
    except (ConfigFileNotFound, OSError) as e:
        detail = f"cannot read {path}: {e}"
        fix = "pass --hub-config=<the hub's jupyterhub_config.py>"
        return CheckResult("sign-in", "missing", detail, fix=fix, required=False)
    opened = open_sections(config)
    if opened:
        return CheckResult(
            "sign-in",
            "broken",
            f"anyone the sign-in provider knows may use this hub ({', '.join(opened)} in {path})",
            fix=OPEN_FIX,
            required=False,
        )
    return CheckResult("sign-in", "ok", f"sign-in is limited to the people {path} allows")
