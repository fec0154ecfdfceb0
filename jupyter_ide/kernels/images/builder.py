"""Build the sandbox images: base (offline: from debootstrap) then one layer per language.

Images are tagged ``jupyter-ide/<name>:<package version>`` and labelled with a digest of
their build context (Dockerfile, runner sources, parent image); an image whose tag and digest
are present is reused, so a rebuild with nothing changed takes no time, and ``force`` rebuilds
through Docker's layer cache (seconds when nothing changed).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..._version import __version__
from ..image_names import IMAGE_REPOSITORY, image_for
from . import hostconfig, hostserver

BASE = "base"
CORE = "core"  # the base without the runner (its Dockerfile's "core" stage)
LANGUAGES = ("python", "c", "cpp", "java", "javascript", "go", "rust", "bash")
LANGUAGE_LABEL = "org.jupyter-ide.language"
DIGEST_LABEL = "org.jupyter-ide.build-digest"
VERSION_LABEL = "org.jupyter-ide.version"
ROOTFS_REPOSITORY = f"{IMAGE_REPOSITORY}/rootfs"
REGISTRY_BASE = "debian:bookworm-slim"
IMAGES_DIR = Path(__file__).parent
RUNNER_DIR = IMAGES_DIR.parent / "runner"
TAIL_LINES = 40
STEP_WIDTH = 110
DEFAULT_JOBS = 2

NO_ENGINE = (
    "cannot reach the Docker engine ({error}). Start it (as root: `dockerd &`, or "
    "`scripts/services.sh docker` in a source checkout), or point DOCKER_HOST at one."
)

Progress = Callable[[str], None]


class ImageBuildError(RuntimeError):
    """An image could not be built; the message says why and what to do."""


@dataclass(frozen=True)
class BuildResult:
    """What happened to one image."""

    name: str
    tag: str
    state: str  # "built" or "reused"
    seconds: float
    size: int


def image_tag(name: str) -> str:
    """Return the tag of an image (a language, or the base)."""
    return image_for(name)


def rootfs_tag() -> str:
    """Return the tag of the debootstrapped Debian root filesystem (offline builds)."""
    return f"{ROOTFS_REPOSITORY}:{hostconfig.DEBIAN_SUITE}-{__version__}"


def docker_client() -> Any:
    """Return a Docker SDK client for an engine that answers, or say how to start one."""
    import docker
    from docker.errors import DockerException

    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except DockerException as e:
        raise ImageBuildError(NO_ENGINE.format(error=e)) from e
    return client


def _context_files(name: str) -> Iterator[tuple[str, Path]]:
    """Yield (path in the build context, source file) of an image's own files."""
    folder = IMAGES_DIR / (BASE if name == CORE else name)
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            yield str(path.relative_to(folder)), path
    if name == BASE:
        for path in sorted(RUNNER_DIR.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                yield f"ide_runner/{path.relative_to(RUNNER_DIR)}", path


def context_digest(name: str, parents: Iterable[str]) -> str:
    """Return the digest of what an image is built from (its files and its parent images)."""
    digest = hashlib.sha256(f"{name}\0{' '.join(parents)}\0{__version__}\0".encode())
    for relative, path in _context_files(name):
        digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class Builder:
    """Builds the base and language images against one Docker engine."""

    def __init__(
        self,
        client: Any,
        *,
        offline: bool = False,
        force: bool = False,
        refresh_base: bool = False,
        progress: Progress = print,
        verbose: bool = False,
        repository: str = IMAGE_REPOSITORY,
        no_cache: bool = False,
    ) -> None:
        """Remember how to build; nothing happens before `build`.

        ``repository`` names the images (``<repository>/<name>:<version>``); tests build
        under another one so as not to replace the images servers use. ``no_cache`` runs
        every step again instead of taking Docker's cached layers.
        """
        self.client = client
        self.repository = repository
        self.no_cache = no_cache
        self._host_config = ""  # IDE_HOST_CONFIG while `build` runs
        self.offline = offline
        self.force = force
        self.refresh_base = refresh_base
        self.verbose = verbose
        self._progress = progress
        self._lock = threading.Lock()
        self._replaced: list[str] = []  # ids of images a build took the tag from

    def tag(self, name: str) -> str:
        """Return the tag of an image this builder makes (a language, the base or the core)."""
        if self.repository == IMAGE_REPOSITORY:
            return image_tag(name)
        return f"{self.repository}/{name}:{__version__}"

    def say(self, name: str, message: str) -> None:
        """Print one progress line, prefixed with the image's name."""
        with self._lock:
            self._progress(f"[images] {name}: {message}")

    def _image(self, tag: str) -> Any | None:
        from docker.errors import ImageNotFound

        try:
            return self.client.images.get(tag)
        except ImageNotFound:
            return None

    def build(self, names: Iterable[str], jobs: int = DEFAULT_JOBS) -> list[BuildResult]:
        """Build (or reuse) the base, then the given language images, ``jobs`` at a time."""
        languages = list(dict.fromkeys(names))
        unknown = [n for n in languages if n not in LANGUAGES]
        if unknown:
            known = ", ".join(LANGUAGES)
            raise ImageBuildError(f"unknown language(s) {', '.join(unknown)}; known: {known}")
        with self._serving_host_config():
            return self._build(languages, jobs)

    @contextlib.contextmanager
    def _serving_host_config(self) -> Iterator[None]:
        """Serve the host's apt sources, pip config and CA bundle to the build steps."""
        from ...server_extension.settings import data_dir

        with tempfile.TemporaryDirectory(prefix="jupyter-ide-host-") as folder:
            names = hostconfig.write_served_files(Path(folder))
            files = {name: Path(folder, name).read_bytes() for name in names}
        with hostserver.serve(files, hostserver.build_token(data_dir())) as url:
            self._host_config = url
            try:
                yield
            finally:
                self._host_config = ""

    def _build(self, languages: list[str], jobs: int) -> list[BuildResult]:
        results = self.build_base()
        args = {"BASE_IMAGE": self.tag(BASE), "CORE_IMAGE": self.tag(CORE)}
        parents = [self.client.images.get(tag).id for tag in args.values()]
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [pool.submit(self._build_one, name, args, parents) for name in languages]
            errors: list[str] = []
            for future in futures:
                try:
                    results.append(future.result())
                except ImageBuildError as e:
                    errors.append(str(e))
        if errors:
            raise ImageBuildError("\n".join(errors))
        self.remove_replaced()
        return results

    def remove_replaced(self) -> None:
        """Remove the images that rebuilt tags replaced (children first), unless still in use."""
        from docker.errors import APIError

        for image_id in reversed(self._replaced):
            try:
                self.client.images.remove(image_id, noprune=False)
            except APIError:
                continue  # a container still uses it, or another tag holds it
        self._replaced.clear()

    def build_base(self) -> list[BuildResult]:
        """Build (or reuse) jupyter-ide/core and /base, from the debootstrapped rootfs offline."""
        parent = self.ensure_rootfs() if self.offline else REGISTRY_BASE
        present = self._image(parent)
        parents = [present.id if present is not None else parent]
        args = {"BASE_IMAGE": parent}
        return [
            self._build_one(CORE, args, parents, target="core"),
            self._build_one(BASE, args, parents),
        ]

    def ensure_rootfs(self) -> str:
        """Return the tag of the Debian rootfs image, debootstrapping it when missing."""
        tag = rootfs_tag()
        present = self._image(tag)
        if present is not None and not self.refresh_base:
            self.say("rootfs", f"reusing {tag}")
            return tag
        if present is not None:
            self._replaced.append(present.id)
        debootstrap = shutil.which("debootstrap")
        if debootstrap is None:
            raise ImageBuildError(
                "the offline build makes the base image from Debian packages with debootstrap, "
                "which is not installed: apt-get install debootstrap"
            )
        if os.geteuid() != 0:
            raise ImageBuildError(
                "the offline build runs debootstrap, which needs root: run "
                "`jupyter ide images build --offline` as root, or build without --offline "
                f"where {REGISTRY_BASE} can be pulled"
            )
        mirror = hostconfig.debian_mirror()
        started = time.monotonic()
        self.say("rootfs", f"debootstrap --variant=minbase {hostconfig.DEBIAN_SUITE} ({mirror})")
        with tempfile.TemporaryDirectory(prefix="jupyter-ide-rootfs-") as work:
            root = Path(work, "rootfs")
            argv = [debootstrap, "--variant=minbase", hostconfig.DEBIAN_SUITE, str(root), mirror]
            self._run_logged("rootfs", argv)
            # debootstrap writes the mirror into sources.list and its log: keep no credentials.
            (root / "etc" / "apt" / "sources.list").write_text(
                f"deb {hostconfig.without_credentials(mirror)} {hostconfig.DEBIAN_SUITE} main\n"
            )
            (root / "var" / "log" / "bootstrap.log").unlink(missing_ok=True)
            for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
                for path in (root / leftover).glob("*"):
                    if path.is_file():
                        path.unlink()
            self.say("rootfs", f"importing as {tag}")
            self._import(root, tag)
        self.say("rootfs", f"ready in {time.monotonic() - started:.0f} s")
        return tag

    def _run_logged(self, name: str, argv: list[str]) -> None:
        tail: deque[str] = deque(maxlen=TAIL_LINES)
        with subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                line = line.rstrip()
                tail.append(line)
                if self.verbose or line.startswith(("I: Retrieving Release", "I: Base system")):
                    self.say(name, line)
        if proc.returncode != 0:
            shown = "\n".join(tail)
            raise ImageBuildError(f"{name}: {argv[0]} failed (exit {proc.returncode}):\n{shown}")

    def _import(self, root: Path, tag: str) -> None:
        repository, _, version = tag.rpartition(":")
        with subprocess.Popen(
            ["tar", "--numeric-owner", "-C", str(root), "-c", "."], stdout=subprocess.PIPE
        ) as tar:
            assert tar.stdout is not None
            stream = tar.stdout
            chunks = iter(lambda: stream.read(1 << 20), b"")
            self.client.api.import_image_from_data(chunks, repository=repository, tag=version)
        if tar.returncode != 0:
            raise ImageBuildError(f"rootfs: tar of {root} failed (exit {tar.returncode})")

    def _build_one(
        self, name: str, args: dict[str, str], parents: list[str], target: str | None = None
    ) -> BuildResult:
        tag = self.tag(name)
        digest = context_digest(name, parents)
        present = self._image(tag)
        if present is not None and not self.force:
            if present.labels.get(DIGEST_LABEL) == digest:
                self.say(name, f"reusing {tag}")
                return BuildResult(name, tag, "reused", 0.0, present.attrs.get("Size", 0))
            self.say(name, f"{tag} is out of date; rebuilding")
        started = time.monotonic()
        self.say(name, f"building {tag} from {' and '.join(sorted(set(args.values())))}")
        with tempfile.TemporaryDirectory(prefix=f"jupyter-ide-{name}-") as context:
            self._write_context(name, Path(context))
            self._docker_build(name, Path(context), tag, args, digest, target)
        image = self.client.images.get(tag)
        if present is not None and present.id != image.id:
            with self._lock:
                self._replaced.append(present.id)
        seconds = time.monotonic() - started
        size = image.attrs.get("Size", 0)
        self.say(name, f"built {tag} in {seconds:.0f} s ({size / 1e6:.0f} MB)")
        return BuildResult(name, tag, "built", seconds, size)

    def _write_context(self, name: str, context: Path) -> None:
        for relative, path in _context_files(name):
            target = context / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)

    def _docker_build(
        self,
        name: str,
        context: Path,
        tag: str,
        args: dict[str, str],
        digest: str,
        target: str | None,
        kind_label: str = LANGUAGE_LABEL,
    ) -> None:
        """Run one docker build with the host's network and pip config; stream its steps.

        The image is labelled with its digest, this version and ``kind_label`` = ``name``.
        """
        tail: deque[str] = deque(maxlen=TAIL_LINES)
        stream = self.client.api.build(
            path=str(context),
            tag=tag,
            target=target,
            buildargs={
                **args,
                "IDE_HOST_CONFIG": self._host_config,
                **hostconfig.proxy_build_args(),
            },
            network_mode="host",
            labels={
                DIGEST_LABEL: digest,
                kind_label: name,
                VERSION_LABEL: __version__,
            },
            rm=True,
            forcerm=True,
            nocache=self.no_cache,
            pull=False,
            decode=True,
        )
        for chunk in stream:
            if "error" in chunk:
                shown = "\n".join(tail)
                hint = ""
                if name in (CORE, BASE) and not self.offline:
                    hint = (
                        f"\n(the base starts from {REGISTRY_BASE}; where no image registry can "
                        "be reached, build with --offline)"
                    )
                error = chunk["error"].strip()
                raise ImageBuildError(f"{name}: docker build failed: {error}\n{shown}{hint}")
            for line in str(chunk.get("stream", "")).splitlines():
                line = line.rstrip()
                if not line:
                    continue
                tail.append(line)
                if self.verbose or line.startswith("Step "):
                    self.say(name, line[:STEP_WIDTH])


def build(
    languages: Iterable[str] | None = None,
    *,
    offline: bool = False,
    force: bool = False,
    refresh_base: bool = False,
    jobs: int = DEFAULT_JOBS,
    progress: Progress = print,
    verbose: bool = False,
    client: Any | None = None,
) -> list[BuildResult]:
    """Build (or reuse) the base image and the given language images (all by default)."""
    builder = Builder(
        client if client is not None else docker_client(),
        offline=offline,
        force=force,
        refresh_base=refresh_base,
        progress=progress,
        verbose=verbose,
    )
    return builder.build(LANGUAGES if languages is None else languages, jobs=jobs)
