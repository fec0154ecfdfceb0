"""IDEApp: the jupyter-ide Jupyter Server extension and the `jupyter ide` command."""

from __future__ import annotations

import getpass
import os
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.extension.application import ExtensionApp
from tornado.ioloop import IOLoop

from .._version import __version__
from ..ai_handlers.crypto import SecretBox
from ..ai_handlers.handlers import default_handlers as ai_handlers
from ..ai_handlers.keys import KeyStore
from ..ai_handlers.proxy import AIProxy
from ..ai_handlers.settings import AISettings
from ..auth import RoleResolver, undeclared_verbs
from ..auth.courses import CourseDirectory
from ..auth.handlers import default_handlers as auth_handlers
from ..auth.tokens import TokenService, load_or_create_secret
from ..auth.users import IdentityRecorder
from ..cache import Cache, make_cache
from ..classroom.activity_handlers import default_handlers as activity_handlers
from ..classroom.activity_setup import ACTIVITY, ActivitySettings, close_activity, make_activity
from ..classroom.handlers import CLASSROOM
from ..classroom.handlers import default_handlers as classroom_handlers
from ..classroom.live_handlers import LIVE
from ..classroom.live_handlers import default_handlers as live_handlers
from ..classroom.live_setup import LiveSettings, close_live, make_live
from ..classroom.setup import (
    GRADER_SETTING,
    ClassroomSettings,
    close_classroom,
    judge_grader,
    make_classroom,
)
from ..classroom.similarity_handlers import SIMILARITY, close_similarity, make_similarity
from ..classroom.similarity_handlers import default_handlers as similarity_handlers
from ..classroom.similarity_manager import SimilarityChecker
from ..classroom.teaching_handlers import default_handlers as teaching_handlers
from ..classroom.teaching_setup import TEACHING, TeachingSettings, close_teaching, make_teaching
from ..contents_manager import IDEContentsManager
from ..contents_manager.handlers import default_handlers as contents_handlers
from ..contents_manager.volume import VolumeError, attach_volume
from ..contents_manager.volume_handlers import default_handlers as volume_handlers
from ..db import Database, SchemaMismatchError, ensure_schema
from ..debugger.handlers import close_debug
from ..debugger.handlers import default_handlers as debug_handlers
from ..debugger.hubforward import debug_forward_handlers
from ..hubclient.connection import ServiceConnection, ServiceConnectionError, read_connection
from ..hubclient.forward import CLIENT_SETTING, forward_handlers
from ..hubclient.live import live_handlers as live_forward_handlers
from ..hubclient.server import use_service, wrong_client_managers
from ..hubclient.terminals import terminal_handlers
from ..kernels.cli import ImagesApp
from ..kernels.handlers import default_handlers as kernel_handlers
from ..kernels.judge.handlers import default_handlers as judge_handlers
from ..kernels.judge.service import start_judge, stop_judge
from ..kernels.judge.settings import JudgeSettings
from ..kernels.kernels_cli import KernelsApp
from ..kernels.sandbox import SandboxManager
from ..kernels.service import start_sandbox, stop_sandbox
from ..marketplace.handlers import default_handlers as marketplace_handlers
from ..marketplace.setup import attach_marketplace, detach_marketplace
from .cli import DoctorApp, ImportApp, UpgradeDBApp
from .handlers import default_handlers
from .heap import freeze_startup_heap
from .logs import skip_unprinted_levels
from .managers import SERVER_CONFIG, use_ide_managers, wrong_managers
from .settings import IDESettings, data_dir
from .validation import refusal, setting_problems


class IDEApp(ExtensionApp):
    """The browser IDE at /ide, served by Jupyter Server."""

    name = "ide"
    app_name = "jupyter-ide"
    description = "An AI-assisted, multi-language browser IDE for classrooms and JupyterHub."
    version = __version__
    extension_url = "/ide"
    default_url = "/ide"
    load_other_extensions = True
    classes = [
        IDESettings,
        RoleResolver,
        CourseDirectory,
        AISettings,
        SandboxManager,
        JudgeSettings,
        ClassroomSettings,
        TeachingSettings,
        ActivitySettings,
        LiveSettings,
        SimilarityChecker,
    ]
    # Other launchers get the same managers when the extension links (managers.py).
    serverapp_config = dict(SERVER_CONFIG)
    subcommands = {
        "doctor": (DoctorApp, DoctorApp.description),
        "upgrade-db": (UpgradeDBApp, UpgradeDBApp.description),
        "import": (ImportApp, ImportApp.description),
        "kernels": (KernelsApp, KernelsApp.description),
        "images": (ImagesApp, ImagesApp.description),
        "service": ("jupyter_ide.service.app.ServiceCommand", "Run as a JupyterHub service"),
        "judge-worker": (
            "jupyter_ide.kernels.judge.worker_app.JudgeWorkerApp",
            "Run judge submissions from the shared Redis queue (no HTTP)",
        ),
    }

    ide_settings: IDESettings | None = None
    db: Database | None = None
    cache: Cache | None = None
    # Set in a hub user's server whose files, kernels and APIs are the service's (hubclient/).
    service: ServiceConnection | None = None

    def read_service_connection(self) -> ServiceConnection | None:
        """Return the jupyter-ide service this server is a client of (None: it serves itself)."""
        try:
            return read_connection(os.environ)
        except ServiceConnectionError as e:
            raise SystemExit(f"jupyter-ide cannot start: {e}") from e

    def _link_jupyter_server_extension(self, serverapp: Any) -> None:
        """Link to the server: refuse invalid settings (one line each), set the IDE's managers.

        Linking is the one step of every launcher that comes after the config is read and
        before the server makes its managers (ExtensionApp has no public hook there).

        SystemExit passes through Jupyter Server's catch-all around extension linking, so the
        server process exits however it was launched (jupyter ide, jupyter server, jupyter lab,
        jupyterhub-singleuser) instead of running without the IDE.
        """
        super()._link_jupyter_server_extension(serverapp)
        problems = setting_problems(lambda: IDESettings(parent=self))
        if problems:
            raise SystemExit(refusal(problems))
        self.service = self.read_service_connection()
        if self.service is not None:
            chosen = use_service(serverapp, self.service)
        else:
            chosen = use_ide_managers(serverapp)
        self.log.debug("jupyter-ide set the server's %s", ", ".join(chosen) or "nothing")

    def initialize_settings(self) -> None:
        """Check the server's managers; open the database (refusing a schema mismatch), cache."""
        if self.serverapp is not None:
            skip_unprinted_levels(self.serverapp.log)
            check = wrong_client_managers if self.service is not None else wrong_managers
            wrong = check(self.serverapp)
            if wrong:
                raise SystemExit("\n".join(wrong))
        self.ide_settings = IDESettings(parent=self)
        if self.service is not None:
            self._use_service(self.service)
            return
        url = self.ide_settings.db_url
        try:
            ensure_schema(url)
        except SchemaMismatchError as e:
            self.log.critical("%s", e)
            # SystemExit passes through Jupyter Server's catch-all around extension loading.
            raise SystemExit(f"jupyter-ide refuses to start: {e}") from e
        self.db = Database(url)
        self.cache = make_cache(self.ide_settings.redis_url)
        self.log.info(
            "jupyter-ide %s: database %s, cache %s, sandbox %s",
            __version__,
            self.db.safe_url,
            self.cache.describe(),
            self.ide_settings.sandbox,
        )
        secret = load_or_create_secret(data_dir() / "token_signing_secret")
        self.settings.update(
            jupyter_ide_roles=RoleResolver(parent=self),
            jupyter_ide_tokens=TokenService(self.db, secret),
            jupyter_ide_courses=(courses := CourseDirectory(self.db, parent=self)),
            jupyter_ide_users=IdentityRecorder(self.db, courses),
            jupyter_ide_ai=AIProxy(
                AISettings(parent=self),
                self.db,
                self.cache,
                KeyStore(self.db, SecretBox(self.ide_settings.crypt_key)),
            ),
            jupyter_ide_settings=self.ide_settings,
            jupyter_ide_db=self.db,
            jupyter_ide_cache=self.cache,
        )
        self._attach_contents()
        self.settings["jupyter_ide_sandbox"] = start_sandbox(
            self, self.ide_settings.sandbox, server_owner(), self.ide_settings.redis_url
        )
        self.settings["jupyter_ide_judge"] = start_judge(
            self, self.db, self.cache, self.settings["jupyter_ide_sandbox"]
        )
        self._start_classroom()
        attach_marketplace(self)
        if self.ide_settings.freeze_startup_heap:
            IOLoop.current().add_callback(freeze_startup_heap)

    def _use_service(self, service: ServiceConnection) -> None:
        """Set a hub user's server up: no database, cache or sandbox here; the service has them."""
        assert self.serverapp is not None and self.ide_settings is not None
        self.settings.update(
            jupyter_ide_roles=RoleResolver(parent=self),
            jupyter_ide_settings=self.ide_settings,
            **{CLIENT_SETTING: getattr(self.serverapp.contents_manager, "client", None)},
        )
        IOLoop.current().add_callback(self._offer_service_terminals)
        self.log.info(
            "jupyter-ide %s: a hub user's server; files, kernels and the IDE's APIs are the "
            "jupyter-ide service's at %s",
            __version__,
            service.url,
        )

    def _offer_service_terminals(self) -> None:
        """Say terminals are available: Jupyter's terminals API is here, the service's.

        JupyterLab and /ide offer terminals when this web setting is true. It is set once every
        extension has loaded: jupyter_server_terminals sets it false as it loads, Jupyter's own
        terminals being off in a hub user's server (hubclient/terminals.py serves the API).
        """
        assert self.serverapp is not None
        self.serverapp.web_app.settings["terminals_available"] = True

    def _start_classroom(self) -> None:
        """Set up assignments and grading: the judge's Grader, workspaces by content hash."""
        assert self.serverapp is not None and self.db is not None
        grader = judge_grader(self.settings.get("jupyter_ide_judge"))
        self.settings[GRADER_SETTING] = grader
        cm = self.serverapp.contents_manager
        if isinstance(cm, IDEContentsManager):
            self.settings[CLASSROOM] = make_classroom(self.db, cm, grader, self)
            self.settings[TEACHING] = make_teaching(
                self.settings[CLASSROOM], self.settings.get("jupyter_ide_ai"), self
            )
            self.settings[SIMILARITY] = make_similarity(self.settings[CLASSROOM].assignments, self)
            self.settings[ACTIVITY] = make_activity(self.settings[CLASSROOM], self)
            self.settings[LIVE] = make_live(
                self.settings[CLASSROOM],
                self,
                self.ide_settings.redis_url if self.ide_settings else "",
            )

    def _attach_contents(self) -> None:
        """Share the database with our contents manager; start kernels in its workspace dir."""
        serverapp = self.serverapp
        assert serverapp is not None
        cm = serverapp.contents_manager
        if isinstance(cm, IDEContentsManager):
            cm.db = self.db
            try:  # cap the folder before it is filled and before any kernel mounts it
                attach_volume(cm, serverapp.kernel_manager)
            except VolumeError as e:
                raise SystemExit(f"jupyter-ide refuses to start: {e}") from e
            cm.workspace_dir.mkdir(parents=True, exist_ok=True)
            serverapp.kernel_manager.root_dir = str(cm.workspace_dir)

    def initialize_handlers(self) -> None:
        """Register the extension's routes, refusing any verb without a declared permission."""
        if self.service is not None:  # the page here; its APIs answered by the service
            page = [r for r in default_handlers() if not r[0].startswith("/ide/api/")]
            self.handlers.extend(
                page
                + live_forward_handlers()
                + debug_forward_handlers()
                + forward_handlers()
                + terminal_handlers()
            )
            return
        routes = default_handlers() + auth_handlers + ai_handlers + kernel_handlers
        routes += contents_handlers + volume_handlers + similarity_handlers
        routes += judge_handlers + classroom_handlers + teaching_handlers + live_handlers
        routes += marketplace_handlers + activity_handlers + debug_handlers()
        missing = undeclared_verbs(handler for _, handler, _ in routes)
        if missing:
            raise SystemExit(
                "jupyter-ide refuses to start: these handler verbs declare no permission "
                f"(@requires): {', '.join(missing)}"
            )
        self.handlers.extend(routes)

    async def stop_extension(self) -> None:
        """Shut kernels down, remove warm ones; close the volume, database pool and cache."""
        await self._shut_kernels_down()
        if self.serverapp is not None:  # debug sessions' sandboxes (C/C++ under lldb)
            await close_debug(self.serverapp.web_app.settings)
        cm = self.serverapp.contents_manager if self.serverapp is not None else None
        if self.service is not None:  # the kernels and files are the service's to keep
            client = self.settings.get(CLIENT_SETTING)
            if client is not None:
                client.close()
            return
        if isinstance(cm, IDEContentsManager):
            await cm.stop_timers()  # no scan of a folder whose volume is going away
            await cm.volume.close()  # first: nothing that may hang below keeps it mounted
        await close_similarity(self.settings.get(SIMILARITY))
        await close_live(self.settings.get(LIVE))
        await close_activity(self.settings.get(ACTIVITY))
        await close_teaching(self.settings.get(TEACHING))
        await close_classroom(self.settings.get(CLASSROOM))
        await detach_marketplace(self.settings)
        await stop_judge(self.settings.get("jupyter_ide_judge"))
        await stop_sandbox()
        if isinstance(cm, IDEContentsManager):
            await cm.close()
        ai: AIProxy | None = self.settings.get("jupyter_ide_ai")
        if ai is not None:
            await ai.aclose()
        if self.cache is not None:
            await self.cache.close()
        if self.db is not None:
            await self.db.dispose()

    async def _shut_kernels_down(self) -> None:
        """End kernels and terminals while their workspace is still there to sync to.

        Jupyter Server shuts kernels down only after its extensions have stopped, when the
        workspace volume is gone: a kernel's final sync would then fail and stop the shutdown.
        """
        if self.serverapp is None:
            return
        kernels = self.serverapp.kernel_manager
        if kernels is not None and kernels.list_kernel_ids():
            try:
                await ensure_async(kernels.shutdown_all())
            except Exception as e:  # the rest must still stop
                self.log.warning("Could not shut every kernel down: %s", e)
        # Terminals too (their last sync): the terminals app may stop after this one.
        terminals = self.serverapp.web_app.settings.get("terminal_manager")
        if terminals is not None and getattr(terminals, "terminals", None):
            try:
                await terminals.terminate_all()
            except Exception as e:
                self.log.warning("Could not end every terminal: %s", e)


def server_owner() -> str:
    """Return the user this server belongs to: the hub's user, else the account running it."""
    return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()


def main(argv: list[str] | None = None, **kwargs: Any) -> None:
    """Run `jupyter ide`."""
    IDEApp.launch_instance(argv, **kwargs)
