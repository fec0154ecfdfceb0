"""Checks of every dependency, shared by `jupyter ide doctor` and /ide/api/health."""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlparse
from urllib.request import url2pathname

if TYPE_CHECKING:
    from ..cache import Cache
    from ..contents_manager.volume import WorkspaceVolume
    from ..db import Database
    from .settings import IDESettings

State = Literal["ok", "off", "missing", "broken"]

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "ide"
IMAGE_LABEL = "org.jupyter-ide.language"
DOCKER_TIMEOUT = 3.0


@dataclass(frozen=True)
class CheckResult:
    """The state of one dependency, with the exact fix when it is not ok."""

    name: str
    state: State
    detail: str
    fix: str = ""
    required: bool = True

    @property
    def failed(self) -> bool:
        """Return True when a required dependency is missing or broken."""
        return self.required and self.state in ("missing", "broken")

    def as_json(self) -> dict[str, str | bool]:
        """Return the result as a JSON-able dict."""
        return asdict(self)


def check_frontend(static_dir: Path = STATIC_DIR) -> CheckResult:
    """Check that the /ide app has been built into the package."""
    if (static_dir / "index.html").is_file():
        return CheckResult("frontend", "ok", f"/ide app built ({static_dir.name}/index.html)")
    return CheckResult(
        "frontend",
        "broken",
        "the /ide app is not built",
        fix="run `make build` (or `pip install .`, which builds it with npm)",
    )


async def check_database(db: Database, *, verify_schema: bool = True) -> CheckResult:
    """Check that the database answers and, optionally, that its schema matches."""
    from ..db import SchemaState, head_revision, schema_state

    try:
        await db.ping()
    except Exception as e:
        fix = (
            "start PostgreSQL or correct JUPYTER_IDE_DB_URL"
            if db.backend == "postgresql"
            else "check that the data dir is writable or set JUPYTER_IDE_DB_URL"
        )
        return CheckResult("database", "broken", f"{db.safe_url}: {e}", fix=fix)
    if not verify_schema:
        return CheckResult("database", "ok", f"{db.backend} {db.safe_url}")
    state = await asyncio.to_thread(schema_state, db.url)
    head = head_revision()
    if state is SchemaState.CURRENT:
        return CheckResult("database", "ok", f"{db.backend} {db.safe_url} (schema {head})")
    if state is SchemaState.FRESH:
        return CheckResult(
            "database",
            "missing",
            f"{db.safe_url} has no tables yet",
            fix="run `jupyter ide upgrade-db` (the server also creates them on first start)",
        )
    if state is SchemaState.BEHIND:
        return CheckResult(
            "database",
            "broken",
            f"{db.safe_url}: schema is older than {head}",
            fix="run `jupyter ide upgrade-db`",
        )
    return CheckResult(
        "database",
        "broken",
        f"{db.safe_url}: schema is not one this version knows ({state.name.lower()})",
        fix="upgrade jupyter-ide, or run `jupyter ide upgrade-db` on an unversioned database",
    )


async def check_cache(cache: Cache) -> CheckResult:
    """Check that the cache answers."""
    try:
        alive = await cache.ping()
    except Exception as e:
        alive, error = False, str(e)
    else:
        error = "no answer to PING"
    if alive:
        return CheckResult("cache", "ok", cache.describe())
    return CheckResult(
        "cache",
        "broken",
        f"{cache.describe()}: {error}",
        fix="start redis-server, or unset JUPYTER_IDE_REDIS_URL to use the in-process cache",
    )


def check_storage(settings: IDESettings) -> CheckResult:
    """Check that the blob store can be written (S3 is only named here; see probe_storage)."""
    url = settings.storage_url
    if url.startswith("s3://"):
        where = f" at {settings.s3_endpoint_url}" if settings.s3_endpoint_url else ""
        return CheckResult("storage", "ok", f"S3 {url}{where}")
    path = Path(url2pathname(urlparse(url).path))
    probe = path if path.exists() else _nearest_existing(path)
    if not os.access(probe, os.W_OK):
        return CheckResult(
            "storage",
            "broken",
            f"{path} is not writable",
            fix=f"make {probe} writable or set JUPYTER_IDE_STORAGE_URL",
        )
    if not path.exists():
        return CheckResult("storage", "ok", f"local folder {path} (created on first use)")
    return CheckResult("storage", "ok", f"local folder {path}")


async def probe_storage(settings: IDESettings) -> CheckResult:
    """Probe an S3 bucket (reachable, writable; versioning and encryption reported)."""
    if not settings.storage_url.startswith("s3://"):
        return check_storage(settings)
    from ..contents_manager.blobstore import make_blob_store

    store = make_blob_store(
        settings.storage_url,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        sse=settings.s3_sse,
        kms_key_id=settings.s3_kms_key_id,
    )
    try:
        report = await store.check()
    finally:
        await store.close()
    details = ", ".join(f"{k}: {v}" for k, v in report.details.items())
    where = store.describe()
    if not report.reachable:
        return CheckResult(
            "storage",
            "broken",
            f"{report.problem}",
            fix="check the bucket name, JUPYTER_IDE_S3_ENDPOINT_URL and the AWS_* credentials",
        )
    if not report.writable:
        return CheckResult(
            "storage",
            "broken",
            f"{where}: {report.problem} ({details})",
            fix="grant s3:PutObject and s3:DeleteObject on the bucket to these credentials",
        )
    return CheckResult("storage", "ok", f"{where} ({details})")


def _nearest_existing(path: Path) -> Path:
    """Return the closest existing ancestor of ``path``."""
    for parent in path.parents:
        if parent.exists():
            return parent
    return Path("/")


def _docker_ping() -> str:
    """Ping the Docker engine; return its version or raise."""
    import docker

    client = docker.from_env(timeout=int(DOCKER_TIMEOUT))
    try:
        client.ping()
        return str(client.version().get("Version", "?"))
    finally:
        client.close()


async def check_docker(settings: IDESettings) -> CheckResult:
    """Check that a Docker engine answers."""
    required = settings.sandbox == "docker"
    try:
        version = await asyncio.wait_for(asyncio.to_thread(_docker_ping), DOCKER_TIMEOUT + 1)
    except Exception as e:
        reason = str(e) or type(e).__name__
        return CheckResult(
            "docker",
            "missing",
            f"no Docker engine answers ({reason[:200]})",
            fix="install Debian's docker.io and start dockerd, or set DOCKER_HOST",
            required=required,
        )
    return CheckResult("docker", "ok", f"Docker engine {version}", required=required)


def _list_images() -> list[str]:
    """Return the tags of the sandbox images the engine holds."""
    import docker

    client = docker.from_env(timeout=int(DOCKER_TIMEOUT))
    try:
        images = client.images.list(filters={"label": IMAGE_LABEL})
        return sorted(tag for image in images for tag in image.tags)
    finally:
        client.close()


async def check_images(settings: IDESettings, docker_state: CheckResult) -> CheckResult:
    """Check that the sandbox images are present in the engine."""
    required = settings.sandbox == "docker"
    if docker_state.state != "ok":
        return CheckResult(
            "images",
            "missing",
            "no Docker engine to hold images",
            fix=docker_state.fix,
            required=required,
        )
    try:
        tags = await asyncio.wait_for(asyncio.to_thread(_list_images), DOCKER_TIMEOUT + 1)
    except Exception as e:
        return CheckResult("images", "broken", f"cannot list images: {e}", required=required)
    if not tags:
        return CheckResult(
            "images",
            "missing",
            "no jupyter-ide sandbox images are built",
            fix="run `jupyter ide images build --offline`",
            required=required,
        )
    return CheckResult("images", "ok", ", ".join(tags), required=required)


def check_sandbox(settings: IDESettings, docker_state: CheckResult) -> CheckResult:
    """Say whether kernels run in Docker sandboxes, and with which limits."""
    engine_ok = docker_state.state == "ok"
    if settings.sandbox == "local":
        return CheckResult(
            "sandbox",
            "off",
            "local kernels: code is not sandboxed (JUPYTER_IDE_SANDBOX=local)",
            fix="set JUPYTER_IDE_SANDBOX=auto or docker and start a Docker engine",
            required=False,
        )
    if engine_ok:
        return CheckResult(
            "sandbox",
            "ok",
            f"kernels run in Docker sandboxes ({settings.sandbox}): network none, non-root, "
            "read-only root, CPU/memory/pids/time limits",
            required=settings.sandbox == "docker",
        )
    if settings.sandbox == "docker":
        return CheckResult(
            "sandbox",
            "broken",
            "JUPYTER_IDE_SANDBOX=docker, but no Docker engine answers: kernels cannot start",
            fix=docker_state.fix,
        )
    return CheckResult(
        "sandbox",
        "off",
        "local kernels: code is not sandboxed (no Docker engine answers)",
        fix=docker_state.fix,
        required=False,
    )


def check_ai(settings: IDESettings) -> CheckResult:
    """Report which AI providers are configured."""
    providers = settings.ai_providers()
    if not providers:
        return CheckResult(
            "ai",
            "off",
            "no provider configured",
            fix="set OPENAI_API_KEY, GEMINI_API_KEY or JUPYTER_IDE_AI_POOL_URL",
            required=False,
        )
    return CheckResult(
        "ai",
        "off",
        f"credentials found for {', '.join(providers)}; the AI proxy is not part of this build",
        required=False,
    )


# -- the workspace folder's size cap (contents_manager/volume.py) ------------------------------

WORKSPACE_FIX = (
    "run the server as root with /dev/loop-control, util-linux and e2fsprogs (each user's "
    "folder becomes a loop-mounted volume), or mount a size-limited file system at each "
    "user's workspace folder"
)


def workspace_result(volume: WorkspaceVolume) -> CheckResult:
    """Say how this server's workspace folder is capped and whether it is full."""
    state = volume.state()
    detail = volume.describe_text(state)
    if state.mechanism == "off":
        fix = "set WorkspaceVolume.mode (JUPYTER_IDE_WORKSPACE_VOLUME) to auto"
        return CheckResult("workspace", "off", detail, fix=fix, required=False)
    if state.full:
        detail = (
            f"Workspace full: {detail}. Delete files you do not need (GET "
            "/ide/api/workspace/disk lists what takes the space, written by code or not)"
        )
        fix = "delete files in the workspace"
        return CheckResult("workspace", "broken", detail, fix=fix, required=False)
    if state.mechanism == "sync":
        return CheckResult("workspace", "off", detail, fix=WORKSPACE_FIX, required=False)
    return CheckResult("workspace", "ok", detail, required=False)


async def probe_workspace_volume(settings: IDESettings) -> CheckResult:
    """Check that workspace folders can be capped here, mounting a small volume to be sure."""
    import tempfile

    from ..contents_manager import loopfs
    from ..contents_manager.index import human_size
    from ..contents_manager.volume import WorkspaceVolume, loop_unavailable

    volume = WorkspaceVolume(parent=settings)
    mode = volume.mode
    cap = human_size(volume.size_bytes) if volume.size_bytes else "the user's quota"
    required = mode == "loop"
    if mode == "off":
        return CheckResult(
            "workspace",
            "off",
            "workspace size not capped: WorkspaceVolume.mode is off (code can fill the disk)",
            fix="set WorkspaceVolume.mode (JUPYTER_IDE_WORKSPACE_VOLUME) to auto",
            required=False,
        )
    why = "WorkspaceVolume.mode is sync" if mode == "sync" else loop_unavailable()
    if not why:
        workdir = Path(tempfile.mkdtemp(prefix="jupyter-ide-volume-probe-"))
        try:
            await asyncio.to_thread(loopfs.probe, workdir)
        except (loopfs.LoopError, OSError) as e:
            why = f"a test volume could not be mounted ({e})"
        finally:
            await asyncio.to_thread(shutil.rmtree, workdir, True)
    if not why:
        return CheckResult(
            "workspace",
            "ok",
            f"each user's workspace folder is a loop-mounted ext4 volume of {cap}: code in "
            "kernels gets 'No space left on device' past it (a test volume mounted)",
            required=required,
        )
    return CheckResult(
        "workspace",
        "broken" if required else "off",
        f"workspace size not capped by the filesystem: {why}. The server measures each "
        f"folder and stops the user's kernels when it grows past {cap}",
        fix=WORKSPACE_FIX,
        required=required,
    )
