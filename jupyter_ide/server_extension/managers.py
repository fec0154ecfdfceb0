"""The Jupyter Server managers the IDE needs, and a check that the server runs with them.

The package's jupyter-config file (installed into ``<prefix>/etc/jupyter``) enables the
extension for every server of the environment; a ``jupyter_server_config.d`` file can only
enable extensions, so the extension sets the managers itself when it is linked, before the
server makes them. That way `jupyter server`, `jupyter lab` and `jupyterhub-singleuser` get
them as `jupyter ide` does. A setting the config names explicitly is left alone, and a server
left without one of them is refused at load time, naming the setting.
"""

from __future__ import annotations

from typing import Any

CONTENTS_MANAGER = "jupyter_ide.contents_manager.IDEContentsManager"
IDENTITY_PROVIDER = "jupyter_ide.auth.identity.IDEIdentityProvider"
KERNEL_SPEC_MANAGER = "jupyter_ide.kernels.kernelspecs.IDEKernelSpecManager"
KERNEL_CHANNELS = "jupyter_ide.kernels.websocket.NoDelayChannels"
KERNEL_MANAGER = "jupyter_ide.kernels.culling.ClientActivityCulling"

SERVER_CONFIG = {
    "contents_manager_class": CONTENTS_MANAGER,
    "identity_provider_class": IDENTITY_PROVIDER,
    "kernel_spec_manager_class": KERNEL_SPEC_MANAGER,
    # Each kernel message reaches the browser at once (no 40 ms Nagle delay): websocket.py.
    "kernel_websocket_connection_class": KERNEL_CHANNELS,
    # Idle kernels are culled by what clients do, not by what the kernel prints: culling.py.
    "kernel_manager_class": KERNEL_MANAGER,
}


def use_ide_managers(serverapp: Any) -> list[str]:
    """Give the server the IDE's managers where its config names none; return those set."""
    configured = serverapp.config.ServerApp if "ServerApp" in serverapp.config else {}
    chosen = [trait for trait in SERVER_CONFIG if trait not in configured]
    from jupyter_server.gateway.gateway_client import GatewayClient

    gateway = GatewayClient.instance(parent=serverapp)
    if "kernel_manager_class" in chosen and gateway.gateway_enabled:
        chosen.remove("kernel_manager_class")  # a gateway's kernels: Jupyter's gateway manager
    for trait in chosen:
        setattr(serverapp, trait, SERVER_CONFIG[trait])
    return chosen


def _is_hub_identity(provider: object) -> bool:
    """Whether ``provider`` is jupyterhub-singleuser's own (which signs users in via the hub)."""
    return any(
        cls.__name__ == "JupyterHubIdentityProvider" and cls.__module__.startswith("jupyterhub.")
        for cls in type(provider).__mro__
    )


def _name(obj: object) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def wrong_managers(serverapp: Any) -> list[str]:
    """Return one line per manager the server runs that is not (a subclass of) the IDE's."""
    from ..auth.identity import IDEIdentityProvider
    from ..contents_manager import IDEContentsManager
    from ..kernels.kernelspecs import IDEKernelSpecManager

    found = [
        ("contents_manager_class", serverapp.contents_manager, IDEContentsManager),
        ("kernel_spec_manager_class", serverapp.kernel_spec_manager, IDEKernelSpecManager),
    ]
    provider = serverapp.identity_provider
    if not _is_hub_identity(provider):
        found.append(("identity_provider_class", provider, IDEIdentityProvider))
    return [
        f"jupyter-ide cannot start: c.ServerApp.{setting} is {_name(instance)}, so the IDE's "
        f"files, sandboxed kernels or sign-in would be missing. Fix: remove that setting, or "
        f"set c.ServerApp.{setting} = {SERVER_CONFIG[setting]!r} (or a subclass of it)."
        for setting, instance, wanted in found
        if not isinstance(instance, wanted)
    ]
