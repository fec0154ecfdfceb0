"""Build the deployment image that deploy/docker-compose.yml runs, with no image registry.

One image serves every compose service: the hub, the jupyter-ide service, judge workers and
the data stores. ``jupyter-ide/stack-base:<version>`` is built FROM the user image's Jupyter
layer (``userimage``: our offline core image, jupyterhub, JupyterLab, jupyter-ide's
requirements) and adds Debian's PostgreSQL, Redis and Node.js, JupyterHub's proxy (the
checkout's tests/hub peers), DockerSpawner, OAuthenticator and moto's S3 server.
``jupyter-ide/stack:<version>`` is that base with a wheel of the checkout installed (the user
image's own last step). Each is labelled with a digest of what it was built from and reused
while that is unchanged, so a changed checkout costs a wheel and a second's install.

    python -m jupyter_ide.kernels.images.stackimage [--force] [CHECKOUT]
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

from ..._version import __version__
from ..image_names import IMAGE_REPOSITORY
from .builder import IMAGES_DIR, BuildResult, ImageBuildError, docker_client
from .userimage import (
    CHECKOUT,
    ROLE_LABEL,
    UserImageBuilder,
    build_wheel,
    wheel_digest,
    wheel_requirements,
)
from .userimage import (
    DOCKERFILE as WHEEL_DOCKERFILE,
)

NAME = "stack"
BASE_NAME = "stack-base"  # everything but the checkout's wheel
DOCKERFILE = IMAGES_DIR / NAME / "Dockerfile"
REQUIREMENTS = ("dockerspawner", "oauthenticator", "moto")


def stack_image_tag(repository: str = IMAGE_REPOSITORY) -> str:
    """Return the deployment image's tag, ``<repository>/stack:<version>``."""
    return f"{repository}/{NAME}:{__version__}"


def pinned_requirements() -> list[str]:
    """Return the stack's own requirements at the versions this environment runs."""
    pins = [f"{name}=={version(name)}" for name in REQUIREMENTS]
    return [pin.replace("moto==", "moto[server]==") for pin in pins]


def proxy_modules(checkout: Path) -> Path:
    """Return the checkout's installed tests/hub peers (configurable-http-proxy inside)."""
    modules = checkout / "tests" / "hub" / "node_modules"
    if not (modules / "configurable-http-proxy").is_dir():
        raise ImageBuildError(f"{modules} has no configurable-http-proxy: run `npm ci` there")
    return modules


class StackImageBuilder(UserImageBuilder):
    """Builds (or reuses) the deployment image on the user image it builds (or reuses)."""

    def build_stack_base(self, checkout: Path, requirements: list[str]) -> BuildResult:
        """Build ``jupyter-ide/stack-base`` on the Jupyter layer, unless up to date."""
        modules = proxy_modules(checkout)
        jupyter = self.build_jupyter_layer(requirements)
        layer = self.client.images.get(jupyter.tag)
        pins = pinned_requirements()
        lock = hashlib.sha256((modules.parent / "package-lock.json").read_bytes()).hexdigest()
        digest = _digest(layer.id, DOCKERFILE.read_text(), *pins, lock)
        tag = f"{self.repository}/{BASE_NAME}:{__version__}"
        present, reused = self._reused(BASE_NAME, tag, digest)
        if reused is not None:
            return reused
        with tempfile.TemporaryDirectory(prefix="jupyter-ide-stack-") as folder:
            context = Path(folder)
            shutil.copyfile(DOCKERFILE, context / "Dockerfile")
            (context / "requirements.txt").write_text("\n".join(pins) + "\n")
            shutil.copytree(modules, context / "node_modules", symlinks=True)
            started = time.monotonic()
            self.say(BASE_NAME, f"building {tag} from {jupyter.tag}")
            with self._serving_host_config():
                args = {"JUPYTER_IMAGE": jupyter.tag}
                self._docker_build(BASE_NAME, context, tag, args, digest, None, ROLE_LABEL)
        return self._built(BASE_NAME, tag, present, started)

    def build_stack_image(self, checkout: Path = CHECKOUT) -> BuildResult:
        """Build ``jupyter-ide/stack``: the base with a wheel of ``checkout``, unless up to date."""
        tag = f"{self.repository}/{NAME}:{__version__}"
        with tempfile.TemporaryDirectory(prefix="jupyter-ide-stack-") as folder:
            context = Path(folder)
            wheel = build_wheel(checkout, context / "wheels")
            base = self.build_stack_base(checkout, wheel_requirements(wheel))
            layer = self.client.images.get(base.tag)
            digest = _digest(wheel_digest(wheel), layer.id, WHEEL_DOCKERFILE.read_text())
            present, reused = self._reused(NAME, tag, digest)
            if reused is not None:
                return reused
            shutil.copyfile(WHEEL_DOCKERFILE, context / "Dockerfile")
            started = time.monotonic()
            self.say(NAME, f"building {tag} from {base.tag}")
            args = {"JUPYTER_IMAGE": base.tag}
            self._docker_build(NAME, context, tag, args, digest, None, ROLE_LABEL)
        return self._built(NAME, tag, present, started)


def _digest(*parts: str) -> str:
    """Return the sha256 of the parts, in order."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def ensure_stack_image(
    checkout: Path = CHECKOUT, *, force: bool = False, client: Any | None = None
) -> BuildResult:
    """Build the deployment image (and the images under it) when missing or out of date."""
    builder = StackImageBuilder(
        client if client is not None else docker_client(), offline=True, force=force
    )
    return builder.build_stack_image(checkout)


def main(argv: list[str] | None = None) -> int:
    """Build the deployment image from the checkout given (default: this one)."""
    args = sys.argv[1:] if argv is None else argv
    paths = [a for a in args if not a.startswith("--")]
    checkout = Path(paths[0]).resolve() if paths else CHECKOUT
    started = time.monotonic()
    try:
        result = ensure_stack_image(checkout, force="--force" in args)
    except ImageBuildError as e:
        print(f"stack image: {e}", file=sys.stderr)
        return 1
    print(f"{result.tag} {result.state} ({time.monotonic() - started:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
