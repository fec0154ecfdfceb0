"""Build the user image: a hub user's server (jupyterhub-singleuser, JupyterLab, jupyter-ide).

``jupyter-ide/singleuser:<version>`` is built in two steps, both FROM our offline-built core
image (Debian packages, no registry). First the Jupyter layer, ``singleuser-jupyter``: the
jupyterhub version of the hub that spawns it, the JupyterLab version installed beside it and
the requirements a wheel of the checkout lists. Then the wheel itself (``pip wheel --no-deps``,
the built /ide assets included), installed without a network. Each image is labelled with a
digest of what it was built from and reused while that is unchanged: a changed checkout costs
a wheel and a second's install, a changed requirement the Jupyter layer (minutes).

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
from email.parser import BytesParser
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
JUPYTER_LAYER = "singleuser-jupyter"  # jupyterhub, JupyterLab and jupyter-ide's requirements
DOCKERFILE = IMAGES_DIR / NAME / "Dockerfile"
JUPYTER_DOCKERFILE = IMAGES_DIR / NAME / "jupyter.Dockerfile"
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


def wheel_requirements(wheel: Path) -> list[str]:
    """Return the wheel's own requirements (its extras' left out), as its metadata lists them."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = BytesParser().parsebytes(archive.read(name))
    listed = metadata.get_all("Requires-Dist") or []
    return sorted(str(r) for r in listed if "extra ==" not in str(r))


def _digest(*parts: str) -> str:
    """Return the sha256 of the parts, in order."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class UserImageBuilder(Builder):
    """Builds (or reuses) the user image on top of the core image it builds (or reuses)."""

    def _reused(self, name: str, tag: str, digest: str) -> tuple[Any | None, BuildResult | None]:
        """Return the image at ``tag``, and a result when its digest says it is up to date."""
        present = self._image(tag)
        if present is not None and not self.force:
            if present.labels.get(DIGEST_LABEL) == digest:
                self.say(name, f"reusing {tag}")
                return present, BuildResult(name, tag, "reused", 0.0, present.attrs.get("Size", 0))
            self.say(name, f"{tag} is out of date; rebuilding")
        return present, None

    def _built(self, name: str, tag: str, present: Any | None, started: float) -> BuildResult:
        """Drop the image the build took ``tag`` from; say and return what was built."""
        image = self.client.images.get(tag)
        if present is not None and present.id != image.id:
            self._replaced.append(present.id)
            self.remove_replaced()
        seconds = time.monotonic() - started
        size = image.attrs.get("Size", 0)
        self.say(name, f"built {tag} in {seconds:.0f} s ({size / 1e6:.0f} MB)")
        return BuildResult(name, tag, "built", seconds, size)

    def build_jupyter_layer(self, requirements: list[str]) -> BuildResult:
        """Build the Jupyter layer (jupyterhub, JupyterLab, ``requirements``), unless up to date."""
        self.build_base()
        core = self.client.images.get(self.tag(CORE))
        pinned = [
            f"jupyterhub=={version('jupyterhub')}",
            f"jupyterlab=={version('jupyterlab')}",
            *requirements,
        ]
        tag = f"{self.repository}/{JUPYTER_LAYER}:{__version__}"
        digest = _digest(*pinned, core.id, JUPYTER_DOCKERFILE.read_text())
        present, reused = self._reused(JUPYTER_LAYER, tag, digest)
        if reused is not None:
            return reused
        with tempfile.TemporaryDirectory(prefix="jupyter-ide-singleuser-") as folder:
            context = Path(folder)
            shutil.copyfile(JUPYTER_DOCKERFILE, context / "Dockerfile")
            (context / "requirements.txt").write_text("\n".join(pinned) + "\n")
            started = time.monotonic()
            self.say(JUPYTER_LAYER, f"building {tag}: {', '.join(pinned[:2])}")
            with self._serving_host_config():
                args = {"CORE_IMAGE": self.tag(CORE)}
                self._docker_build(JUPYTER_LAYER, context, tag, args, digest, None, ROLE_LABEL)
        return self._built(JUPYTER_LAYER, tag, present, started)

    def build_user_image(self, checkout: Path = CHECKOUT) -> BuildResult:
        """Build ``jupyter-ide/singleuser`` from a wheel of ``checkout``, unless up to date."""
        tag = f"{self.repository}/{NAME}:{__version__}"
        with tempfile.TemporaryDirectory(prefix="jupyter-ide-singleuser-") as folder:
            context = Path(folder)
            wheel = build_wheel(checkout, context / "wheels")
            jupyter = self.build_jupyter_layer(wheel_requirements(wheel))
            layer = self.client.images.get(jupyter.tag)
            digest = _digest(wheel_digest(wheel), layer.id, DOCKERFILE.read_text())
            present, reused = self._reused(NAME, tag, digest)
            if reused is not None:
                return reused
            shutil.copyfile(DOCKERFILE, context / "Dockerfile")
            started = time.monotonic()
            self.say(NAME, f"building {tag} from {jupyter.tag}")
            args = {"JUPYTER_IMAGE": jupyter.tag}
            self._docker_build(NAME, context, tag, args, digest, None, ROLE_LABEL)
        return self._built(NAME, tag, present, started)


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
