"""The language servers' extension point: ours replace jupyter-lsp's routes.

jupyterlab installs jupyter-lsp, whose extension would start language servers on the host
as the server's user. This app keeps it from loading and serves the same routes with the
servers in sandboxes (or, in a hub user's server, passed on to the jupyter-ide service).
"""

from __future__ import annotations

from typing import Any

from jupyter_server.extension.application import ExtensionApp

from ..auth import undeclared_verbs
from ..hubclient.forward import CLIENT_SETTING
from .handlers import MANAGER_SETTING, default_handlers
from .manager import LspManager
from .uris import file_uri

STOCK = "jupyter_lsp"


class IDELspApp(ExtensionApp):
    """jupyter-lsp's protocol, each language server in a sandbox of the caller's."""

    name = "jupyter_ide_lsp"
    load_other_extensions = True

    def _link_jupyter_server_extension(self, serverapp: Any) -> None:
        """Keep jupyter-lsp from loading: it would run language servers on the host."""
        stock = serverapp.extension_manager.extensions.get(STOCK)
        if stock is not None and stock.enabled:
            stock.enabled = False
            serverapp.log.info("%s: jupyter-ide serves /lsp with sandboxed servers instead", STOCK)
        super()._link_jupyter_server_extension(serverapp)

    def initialize_handlers(self) -> None:
        """Register /lsp/status and /lsp/ws (here, or passed on to the hub's service)."""
        assert self.serverapp is not None
        settings = self.serverapp.web_app.settings
        if settings.get(CLIENT_SETTING) is not None:
            from ..hubclient.lsp import lsp_handlers

            routes = lsp_handlers()
        else:
            routes = default_handlers()
        missing = undeclared_verbs(handler for _, handler, _ in routes)
        if missing:
            raise SystemExit(
                "jupyter-ide refuses to start: these handler verbs declare no permission "
                f"(@requires): {', '.join(missing)}"
            )
        self.handlers.extend(routes)
        # JupyterLab's own LSP reads its root from the page config, as jupyter-lsp sets it.
        root = getattr(self.serverapp.contents_manager, "root_dir", "") or ""
        workspace = getattr(self.serverapp.contents_manager, "workspace_dir", None)
        if workspace is not None:
            root = str(workspace)
        if root:
            page_config = settings.setdefault("page_config_data", {})
            page_config.setdefault("rootUri", file_uri(root))
            page_config.setdefault("virtualDocumentsUri", file_uri(root) + "/.virtual_documents")

    async def stop_extension(self) -> None:
        """Remove every language server's container."""
        assert self.serverapp is not None
        manager = self.serverapp.web_app.settings.get(MANAGER_SETTING)
        if isinstance(manager, LspManager):
            await manager.stop_all()
