"""Setting a hub user's server up as the service's client, and checking it runs that way."""

from __future__ import annotations

from typing import Any

from .connection import ServiceConnection, client_server_config, gateway_config


def _configured(serverapp: Any, section: str) -> Any:
    """Return the settings the server's config names explicitly in ``section``."""
    return serverapp.config[section] if section in serverapp.config else {}


def use_service(serverapp: Any, connection: ServiceConnection) -> list[str]:
    """Point the server's files, kernels and terminals at the service; return what was set.

    Settings the config names explicitly are left alone (and checked at load time).
    """
    chosen = []
    explicit = _configured(serverapp, "ServerApp")
    for trait, value in client_server_config(connection).items():
        if trait not in explicit:
            setattr(serverapp, trait, value)
            chosen.append(trait)
    # GatewayClient is made after linking, from the server's config: ours is read there.
    gateway = serverapp.config.GatewayClient
    for trait, value in gateway_config(connection).items():
        if trait not in gateway:
            gateway[trait] = value
            chosen.append(f"GatewayClient.{trait}")
    return chosen


def wrong_client_managers(serverapp: Any) -> list[str]:
    """Return one line per way the server would not use the service for files or kernels."""
    from .contents import ServiceContentsManager

    wrong = []
    if not isinstance(serverapp.contents_manager, ServiceContentsManager):
        wrong.append(
            "jupyter-ide cannot start: JUPYTER_IDE_SERVICE_URL is set, so this hub user's "
            "files are the service's, but c.ServerApp.contents_manager_class is "
            f"{type(serverapp.contents_manager).__name__}. Fix: remove that setting."
        )
    if not serverapp.gateway_config.gateway_enabled:
        wrong.append(
            "jupyter-ide cannot start: JUPYTER_IDE_SERVICE_URL is set, so this hub user's "
            "kernels run in the service's sandboxes, but c.GatewayClient.url is empty. Fix: "
            "remove that setting."
        )
    return wrong
