"""The terminals extension point: ours replaces jupyter_server_terminals' routes."""

from __future__ import annotations

from typing import Any

from jupyter_server_terminals.app import TerminalsExtensionApp
from jupyter_server_terminals.terminalmanager import TerminalManager
from traitlets import Type

from ..auth import undeclared_verbs
from .handlers import default_handlers
from .manager import IDETerminalManager

STOCK = "jupyter_server_terminals"


class IDETerminalsApp(TerminalsExtensionApp):
    """Jupyter's terminals (same manager, shell and culling) with jupyter-ide's handlers."""

    name = "jupyter_ide_terminals"

    terminal_manager_class = Type(
        default_value=IDETerminalManager,
        klass=TerminalManager,
        help="The terminal manager class (jupyter-ide's: new terminals open in the workspace).",
    ).tag(config=True)

    def _link_jupyter_server_extension(self, serverapp: Any) -> None:
        """Keep the stock extension from loading: its websocket has no auth decorator."""
        stock = serverapp.extension_manager.extensions.get(STOCK)
        if stock is not None and stock.enabled:
            stock.enabled = False
            serverapp.log.info("%s: jupyter-ide serves the terminal routes instead", STOCK)
        super()._link_jupyter_server_extension(serverapp)

    def initialize_handlers(self) -> None:
        """Register our terminal routes, refusing any verb without a declared permission."""
        if not self.serverapp or not self.serverapp.terminals_enabled:
            super().initialize_handlers()  # records that terminals are off
            return
        if not isinstance(self.terminal_manager, IDETerminalManager):
            raise SystemExit(
                "jupyter-ide refuses to start: IDETerminalsApp.terminal_manager_class must be "
                "IDETerminalManager or a subclass (it checks where terminals open)"
            )
        routes = default_handlers(self.terminal_manager)
        missing = undeclared_verbs(handler for _, handler, _ in routes)
        if missing:
            raise SystemExit(
                "jupyter-ide refuses to start: these handler verbs declare no permission "
                f"(@requires): {', '.join(missing)}"
            )
        self.handlers.extend(routes)
        web_settings = self.serverapp.web_app.settings
        web_settings["terminal_manager"] = self.terminal_manager
        web_settings["terminals_available"] = self.settings["terminals_available"]

    async def stop_extension(self) -> None:
        """End every terminal at server stop, removing the sandboxed ones' containers.

        The stock app's cleanup never runs (its ``terminals_available`` stays False).
        """
        manager = getattr(self, "terminal_manager", None)
        if isinstance(manager, IDETerminalManager) and manager.terminals:
            self.log.info("Ending %d terminal(s)", len(manager.terminals))
            await manager.terminate_all()
