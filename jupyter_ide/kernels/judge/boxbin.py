"""Build judge-box (box/judge_box.c) once as a static binary.

It is built with the host's C compiler or in the C sandbox image, into the judge's data
folder (one folder per source hash).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import docker

from ..image_names import image_for
from ..profile import BindMount, SandboxLimits, SandboxSpec, container_options

log = logging.getLogger(__name__)

SOURCE = Path(__file__).parent / "box" / "judge_box.c"
BINARY_NAME = "judge-box"
BUILD_TIMEOUT = 120


class BoxBuildError(RuntimeError):
    """judge-box could not be built."""


def box_binary(bin_root: Path, client: docker.DockerClient | None = None) -> Path:
    """Return the path of judge-box for the current source, building it when missing."""
    source = SOURCE.read_bytes()
    folder = bin_root / hashlib.sha256(source).hexdigest()[:16]
    target = folder / BINARY_NAME
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    staging = folder / f".build-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        shutil.copyfile(SOURCE, staging / "judge_box.c")
        if not _build_on_host(staging) and not _build_in_image(staging, client):
            raise BoxBuildError(
                "Cannot build judge-box: no C compiler with static libc on this host and the "
                f"{image_for('c')} image did not build it (jupyter ide images build)."
            )
        built = staging / BINARY_NAME
        built.chmod(0o755)
        os.replace(built, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _build_on_host(staging: Path) -> bool:
    """Compile with the host's cc; False when there is none or it fails."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return False
    done = subprocess.run(
        [
            compiler,
            "-static",
            "-O2",
            "-o",
            str(staging / BINARY_NAME),
            str(staging / "judge_box.c"),
        ],
        capture_output=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        log.info("judge-box: host build failed: %s", done.stderr.decode(errors="replace")[-500:])
    return done.returncode == 0


def _build_in_image(staging: Path, client: docker.DockerClient | None) -> bool:
    """Compile inside the C sandbox image (hardened profile), writing to the staging folder."""
    if client is None:
        return False
    if os.geteuid() == 0:
        os.chown(staging, 1000, 1000)
    # At a fixed path: the host path may cross a folder the sandbox user cannot enter (/root).
    inside = "/build"
    spec = SandboxSpec(
        image=image_for("c"),
        command=["gcc", "-static", "-O2", "-o", f"{inside}/{BINARY_NAME}", f"{inside}/judge_box.c"],
        limits=SandboxLimits(time_limit=BUILD_TIMEOUT),
        mounts=(BindMount(staging, target=inside),),
        working_dir="/tmp",  # noqa: S108 - inside the container
    )
    container = client.containers.create(**container_options(spec))
    try:
        container.start()
        result = container.wait(timeout=BUILD_TIMEOUT)
        return int(result.get("StatusCode", 1)) == 0 and (staging / BINARY_NAME).exists()
    except docker.errors.DockerException as e:
        log.warning("judge-box: build in the C image failed: %s", e)
        return False
    finally:
        container.remove(force=True)
