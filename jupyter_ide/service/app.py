"""`jupyter ide service`: jupyter-ide as a JupyterHub service, for every user of the hub.

The same extension as `jupyter ide`, served by a Jupyter Server configured from the
environment a hub gives its services (hubenv.py): it listens at JUPYTERHUB_SERVICE_URL under
JUPYTERHUB_SERVICE_PREFIX, signs every request in with the caller's hub token or OAuth cookie
(identity.py), serves each caller their own files (contents.py), runs each caller's
kernels in sandboxes through Jupyter's gateway protocol (kernels.py) and their terminals'
shells in sandboxes too (terminals.py). Only this process holds
the database, Redis, S3, crypt and AI settings and the container engine; user servers hold
their own hub token.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import signal
import sys
import threading
from typing import Any

from jupyter_core.application import JupyterApp
from traitlets import default

from ..auth.users import IdentityRecorder
from ..lsp.handlers import MANAGER_SETTING as LSP_SETTING
from ..lsp.handlers import default_handlers as lsp_routes
from ..lsp.manager import LspManager
from ..server_extension.app import IDEApp
from ..server_extension.managers import KERNEL_CHANNELS, KERNEL_SPEC_MANAGER
from ..server_extension.settings import IDESettings
from .contents import CallerSettings, UserContentsManagers
from .hubenv import HubEnvironment, HubEnvironmentError, read_hub_environment
from .kernel_handlers import KERNELS_STATE
from .kernel_handlers import default_handlers as kernel_routes
from .kernels import ServiceKernelManager, setup_kernels
from .terminals import ServiceTerminals
from .terminals import default_handlers as terminal_routes

PACKAGE = "jupyter_ide.service"
DESCRIPTION = (
    "Run jupyter-ide as a JupyterHub service: every hub user with its access scope, their own "
    "files, roles from the hub's custom:ide:* scopes."
)

# The service's server: the managers that make it multi-user, and nothing else loaded.
SERVICE_SERVER_CONFIG: dict[str, Any] = {
    "contents_manager_class": f"{PACKAGE}.contents.UserContentsManagers",
    "identity_provider_class": f"{PACKAGE}.identity.ServiceIdentityProvider",
    "authorizer_class": f"{PACKAGE}.identity.ServiceAuthorizer",
    "kernel_spec_manager_class": KERNEL_SPEC_MANAGER,
    "kernel_manager_class": f"{PACKAGE}.kernels.ServiceKernelManager",
    "session_manager_class": f"{PACKAGE}.sessions.ServiceSessionManager",
    "kernel_websocket_connection_class": KERNEL_CHANNELS,
}


def configure_server(serverapp: Any, hub: HubEnvironment) -> None:
    """Set what the hub decides (address, prefix) and what a shared service needs."""
    serverapp.ip = hub.ip
    serverapp.port = hub.port
    serverapp.port_retries = 0  # the hub's proxy routes to exactly this port
    serverapp.base_url = hub.base_url
    serverapp.allow_remote_access = True  # requests arrive through the hub's proxy
    serverapp.trust_xheaders = True
    serverapp.open_browser = False
    serverapp.answer_yes = True  # the hub stops it with signals, nobody answers a prompt
    # Infrastructure, like the hub that starts it (root in a container, say): no user's code
    # runs in this process, and mounting workspace volumes needs root.
    serverapp.allow_root = True
    serverapp.allow_unauthenticated_access = False
    # Not Jupyter's terminals extension: each caller's own, in sandboxes (terminals.py).
    serverapp.terminals_enabled = False
    for trait, value in SERVICE_SERVER_CONFIG.items():
        setattr(serverapp, trait, value)
    if not {"cookie_secret", "cookie_secret_file"} & set(serverapp.config.get("ServerApp", {})):
        # Not a file of each replica's own: every replica must read the others' cookies.
        serverapp.cookie_secret = hub.cookie_secret()


class IDEServiceApp(IDEApp):
    """The jupyter-ide extension run as a multi-user JupyterHub service."""

    description = DESCRIPTION
    # Only this extension: the stock one (IDEApp) and terminals stay out of the service.
    serverapp_config = {**SERVICE_SERVER_CONFIG, "jpserver_extensions": {PACKAGE: True}}
    load_other_extensions = False
    subcommands: dict[str, Any] = {}

    hub: HubEnvironment | None = None

    def read_hub_user(self) -> None:
        """Never a hub user's server: the service is what those servers call."""
        return None

    def read_service_connection(self) -> None:
        """Never a client of a service: this is the service."""
        return None

    @default("open_browser")
    def _default_open_browser(self) -> bool:
        return False  # a service: the hub's users reach it through the hub

    @classmethod
    def get_extension_package(cls) -> str:
        """Return the package whose extension points name this app (not the stock one's)."""
        return PACKAGE

    def _link_jupyter_server_extension(self, serverapp: Any) -> None:
        """Read the hub's environment (refusing to start without it), then set the server up."""
        if importlib.util.find_spec("jupyterhub") is None:
            raise SystemExit(
                "jupyter ide service cannot start: it signs users in with JupyterHub's own "
                "code; install it beside jupyter-ide (pip install jupyterhub)"
            )
        try:
            self.hub = read_hub_environment(os.environ)
        except HubEnvironmentError as e:
            raise SystemExit(str(e)) from e
        super()._link_jupyter_server_extension(serverapp)
        configure_server(serverapp, self.hub)
        # Students' code runs here only in sandboxes: never beside the service's secrets.
        if IDESettings(parent=self).sandbox == "local":
            raise SystemExit(
                "jupyter ide service cannot start: JUPYTER_IDE_SANDBOX=local would run "
                "students' code in the service itself, beside every secret it holds; set it "
                "to docker (auto means docker here)"
            )
        self.config.IDESettings.sandbox = "docker"

    def initialize_settings(self) -> None:
        """Set the extension up as for one user, then for many: users, files per caller."""
        super().initialize_settings()
        assert self.db is not None
        # Many users: no single owner whose OAuth identity the hub passed to this process.
        self.settings["jupyter_ide_users"] = IdentityRecorder(
            self.db, self.settings["jupyter_ide_courses"], owner=""
        )
        serverapp = self.serverapp
        assert serverapp is not None
        # Handlers read the contents, kernel and terminal managers from here: the caller's own.
        serverapp.web_app.settings = CallerSettings(serverapp.web_app.settings)
        self.settings[KERNELS_STATE] = setup_kernels(
            serverapp, self.settings["jupyter_ide_sandbox"]
        )
        contents = serverapp.contents_manager
        assert isinstance(contents, UserContentsManagers)  # _attach_contents checked it
        self.settings["terminal_manager"] = ServiceTerminals(contents, parent=self, log=self.log)
        # As in jupyterhub-singleuser: tornado's own XSRF check runs before sign-in, when the
        # hub's check (which skips token-signed requests) cannot know the caller yet; Jupyter
        # Server checks every non-GET request after sign-in anyway.
        self.settings["xsrf_cookies"] = False  # (these settings are copied into the web app's)
        # The hub stops a managed service with SIGINT first. Without a terminal Jupyter Server
        # leaves SIGINT to Python, whose KeyboardInterrupt ends the loop with no clean-up:
        # every user's kernel containers (and hand-off mounts) would outlive the service. As
        # jupyterhub-singleuser does, SIGINT stops the server as SIGTERM does.
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, serverapp._signal_stop)

    def initialize_handlers(self) -> None:
        """Register the extension's routes, the gateway's ahead of them."""
        super().initialize_handlers()
        self.handlers[:0] = kernel_routes + terminal_routes(self.settings["terminal_manager"])
        self.handlers[:0] = lsp_routes()  # each caller's language servers, in their sandboxes

    async def stop_extension(self) -> None:
        """End every user's kernels and terminals first (containers, mounts), then the rest."""
        serverapp = self.serverapp
        terminals = self.settings.get("terminal_manager")
        if isinstance(terminals, ServiceTerminals):
            try:
                await terminals.terminate_all()
            except Exception as e:  # the rest must still stop
                self.log.warning("Could not end every terminal: %s", e)
        lsp = serverapp.web_app.settings.get(LSP_SETTING) if serverapp is not None else None
        if isinstance(lsp, LspManager):
            await lsp.stop_all()
        kernels = serverapp.kernel_manager if serverapp is not None else None
        if isinstance(kernels, ServiceKernelManager):
            try:
                await kernels.shutdown_all(now=True)
            except Exception as e:  # the rest must still stop
                self.log.warning("Could not shut every kernel down: %s", e)
        await super().stop_extension()
        sandbox = self.settings.get("jupyter_ide_sandbox")
        if sandbox is not None and sandbox.handoff is not None:
            await asyncio.to_thread(sandbox.handoff.close)

    def _attach_contents(self) -> None:
        """Share the database with the users' managers; nothing is opened before a request."""
        serverapp = self.serverapp
        assert serverapp is not None
        cm = serverapp.contents_manager
        if not isinstance(cm, UserContentsManagers):
            raise SystemExit(
                "jupyter ide service cannot start: c.ServerApp.contents_manager_class must be "
                f"{SERVICE_SERVER_CONFIG['contents_manager_class']} (each user's own files)"
            )
        cm.db = self.db


class ServiceCommand(JupyterApp):
    """`jupyter ide service [--Class.trait=value ...]`: start the service."""

    name = "jupyter-ide-service"
    description = DESCRIPTION

    def initialize(self, argv: Any = None) -> None:
        """Keep the arguments for the server, which parses them."""
        self.server_argv = list(argv if argv is not None else sys.argv[1:])

    def start(self) -> None:
        """Run the service until the hub (or a signal) stops it."""
        type(self).clear_instance()  # the server is the process's one application
        IDEServiceApp.launch_instance(self.server_argv)  # type: ignore[no-untyped-call]


def main(argv: list[str] | None = None) -> None:
    """Run `jupyter ide service` (also `python -m jupyter_ide.service`)."""
    IDEServiceApp.launch_instance(argv)  # type: ignore[no-untyped-call]
