"""Build the user image: a hub user's server (jupyterhub-singleuser, JupyterLab, jupyter-ide).

``jupyter-ide/singleuser:<version>`` is built FROM our offline-built core image (Debian
packages, no registry), with a wheel of a jupyter-ide checkout (``pip wheel --no-deps``, the
built /ide assets included), the jupyterhub version of the hub that spawns it and the
JupyterLab version installed beside it. The image is labelled with a digest of the wheel's
contents, those versions and the core image; a
present image with the same digest is reused, so the test suite can call `ensure_user_image`
before each run and pay only for the wheel (about a second).

    python -m jupyter_ide.kernels.images.userimage [--force] [CHECKOUT]
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

from ..._version import __version__
from ..image_names import IMAGE_REPOSITORY
from .builder import (
    CORE,
    DIGEST_LABEL,
    IMAGES_DIR,
    Builder,
    BuildResult,
    ImageBuildError,
    Progress,
    docker_client,
)

NAME = "singleuser"
DOCKERFILE = IMAGES_DIR / NAME / "Dockerfile"
ROLE_LABEL = "org.jupyter-ide.role"  # not the sandbox images' language label: no kernel runs here
CHECKOUT = Path(__file__).resolve().parents[3]


def user_image_tag(repository: str = IMAGE_REPOSITORY) -> str:
    """Return the user image's tag, ``<repository>/singleuser:<version>``."""
    return f"{repository}/{NAME}:{__version__}"


def build_wheel(checkout: Path, dest: Path) -> Path:
    """Build a wheel of ``checkout`` (no dependencies, its built /ide assets) into ``dest``."""
    if not (checkout / "pyproject.toml").is_file():
        raise ImageBuildError(f"{checkout} is not a jupyter-ide checkout (no pyproject.toml)")
    if not (checkout / "jupyter_ide" / "static" / "ide" / "index.html").is_file():
        raise ImageBuildError(
            f"the /ide assets of {checkout} are not built: run `make build` there first"
        )
    argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    done = subprocess.run(
        [*argv, "--quiet", "--wheel-dir", str(dest), str(checkout)],
        capture_output=True,
        text=True,
        check=False,
    )
    wheels = sorted(dest.glob("jupyter_ide-*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        raise ImageBuildError(f"pip wheel of {checkout} failed:\n{done.stdout}{done.stderr}")
    return wheels[0]


def wheel_digest(wheel: Path) -> str:
    """Return the sha256 of a wheel's members (names and bytes; zip timestamps left out)."""
    digest = hashlib.sha256()
    with zipfile.ZipFile(wheel) as archive:
        for name in sorted(archive.namelist()):
            digest.update(name.encode() + b"\0" + archive.read(name) + b"\0")
    return digest.hexdigest()


class UserImageBuilder(Builder):
    """Builds (or reuses) the user image on top of the core image it builds (or reuses)."""

    def build_user_image(self, checkout: Path = CHECKOUT) -> BuildResult:
        """Build ``jupyter-ide/singleuser`` from a wheel of ``checkout``, unless up to date."""
        self.build_base()
        core = self.client.images.get(self.tag(CORE))
        hub_version = version("jupyterhub")
        lab_version = version("jupyterlab")
        tag = f"{self.repository}/{NAME}:{__version__}"
        with tempfile.TemporaryDirectory(prefix="jupyter-ide-singleuser-") as folder:
            context = Path(folder)
            wheel = build_wheel(checkout, context / "wheels")
            digest = hashlib.sha256(
                "\0".join(
                    [
                        wheel_digest(wheel),
                        hub_version,
                        lab_version,
                        core.id,
                        DOCKERFILE.read_text(),
                    ]
                ).encode()
            ).hexdigest()
            present = self._image(tag)
            if present is not None and not self.force:
                if present.labels.get(DIGEST_LABEL) == digest:
                    self.say(NAME, f"reusing {tag}")
                    return BuildResult(NAME, tag, "reused", 0.0, present.attrs.get("Size", 0))
                self.say(NAME, f"{tag} is out of date; rebuilding")
            shutil.copyfile(DOCKERFILE, context / "Dockerfile")
            started = time.monotonic()
            self.say(
                NAME,
                f"building {tag} from {self.tag(CORE)}, "
                f"jupyterhub {hub_version}, jupyterlab {lab_version}",
            )
            with self._serving_host_config():
                args = {
                    "CORE_IMAGE": self.tag(CORE),
                    "JUPYTERHUB_VERSION": hub_version,
                    "JUPYTERLAB_VERSION": lab_version,
                }
                self._docker_build(NAME, context, tag, args, digest, None, ROLE_LABEL)
        image = self.client.images.get(tag)
        if present is not None and present.id != image.id:
            self._replaced.append(present.id)
            self.remove_replaced()
        seconds = time.monotonic() - started
        size = image.attrs.get("Size", 0)
        self.say(NAME, f"built {tag} in {seconds:.0f} s ({size / 1e6:.0f} MB)")
        return BuildResult(NAME, tag, "built", seconds, size)


def ensure_user_image(
    checkout: Path = CHECKOUT,
    *,
    force: bool = False,
    progress: Progress = print,
    client: Any | None = None,
) -> BuildResult:
    """Build the user image (and the offline core under it) when missing or out of date."""
    builder = UserImageBuilder(
        client if client is not None else docker_client(),
        offline=True,
        force=force,
        progress=progress,
    )
    return builder.build_user_image(checkout)


def main(argv: list[str] | None = None) -> int:
    """Build the user image from the checkout given (default: this one); say what happened."""
    args = sys.argv[1:] if argv is None else argv
    paths = [a for a in args if not a.startswith("--")]
    checkout = Path(paths[0]).resolve() if paths else CHECKOUT
    try:
        result = ensure_user_image(checkout, force="--force" in args)
    except ImageBuildError as e:
        print(f"user image: {e}", file=sys.stderr)
        return 1
    print(f"{result.tag} {result.state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
