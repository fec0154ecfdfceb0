"""No sandbox image holds the build host's apt sources, pip config or CA bundle, in any layer.

They may carry a mirror's credentials, and every student's kernel runs in these images. One
test builds the base and the bash image through the builder under a test name, with canary
credentials in the host's apt sources, pip config and CA bundle, and scans every layer of
what was built (file names and bytes, and the image history); the other scans every layer of
the images `make test` built for the files the builder used to leave behind.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import subprocess
import tarfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

import pytest
from docker.errors import DockerException

from jupyter_ide.kernels.image_names import image_for
from jupyter_ide.kernels.images import hostconfig, hostserver
from jupyter_ide.kernels.images.builder import (
    BASE,
    CORE,
    LANGUAGES,
    Builder,
    ImageBuildError,
    docker_client,
    rootfs_tag,
)
from jupyter_ide.kernels.images.hostconfig import AptSource

# Paths where host configuration was (or could be) put during a build.
HOST_CONFIG_PATHS = (
    "tmp/ide-host/",
    "tmp/ide-apt/",
    "tmp/ide-pip/",
    "etc/apt/sources.list.d/ide-host.sources",
    "etc/pip.conf",
)


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    """A Docker SDK client for the engine (`make test` starts it)."""
    try:
        client = docker_client()
    except ImageBuildError as e:
        pytest.fail(str(e))
    yield client
    client.close()


def _saved_layers(tags: list[str]) -> Iterator[tuple[str, IO[bytes] | None, str]]:
    """Yield (layer, file object or None, path) for every entry of every layer of ``tags``.

    Also yields the images' config JSON (their history) as ("config", file, name).
    """
    docker = shutil.which("docker")
    if docker is None:
        pytest.fail("the docker command is missing: install Debian's docker.io")
    with subprocess.Popen([docker, "save", *tags], stdout=subprocess.PIPE) as saving:
        assert saving.stdout is not None
        with tarfile.open(fileobj=saving.stdout, mode="r|") as outer:
            for member in outer:
                if not member.isfile():
                    continue
                data = outer.extractfile(member)
                assert data is not None
                if member.name.endswith(".json"):
                    yield "config", data, member.name
                    continue
                try:
                    layer = tarfile.open(fileobj=data, mode="r|")
                except tarfile.ReadError:
                    continue
                with layer:
                    for entry in layer:
                        yield (
                            member.name,
                            layer.extractfile(entry) if entry.isfile() else None,
                            (entry.name),
                        )
    assert saving.returncode == 0, f"docker save {' '.join(tags)} failed"


def _leaks(tags: list[str], canaries: list[bytes]) -> list[str]:
    """Return every layer entry at a host-config path or holding a canary."""
    found = []
    for layer, data, path in _saved_layers(tags):
        bare = path.removeprefix("./")
        hidden = bare.rsplit("/", 1)[-1].startswith(".wh.")  # a whiteout hides, holds nothing
        if not hidden and any(
            bare.startswith(p) or bare == p.rstrip("/") for p in HOST_CONFIG_PATHS
        ):
            found.append(f"{layer}: {bare}")
        if data is not None and canaries:
            body = data.read()
            for canary in canaries:
                if canary in body:
                    found.append(f"{layer}: {bare} holds {canary.decode()}")
    return found


@pytest.mark.timeout(1800)
def test_a_build_leaves_no_host_config_in_any_layer(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built through the builder with canary credentials: none of them reaches a layer."""
    secret = secrets.token_hex(12)
    canaries = [f"apt-{secret}".encode(), f"pip-{secret}".encode(), f"ca-{secret}".encode()]
    host = hostconfig.debian_sources() or [
        AptSource(hostconfig.DEFAULT_MIRROR, (hostconfig.DEBIAN_SUITE,), ("main",))
    ]
    # The host's own mirrors, reached with a user name and password (mirrors ignore them).
    with_credentials = [
        replace(s, uri=s.uri.replace("://", f"://ide:apt-{secret}@", 1)) for s in host
    ]
    monkeypatch.setattr(hostconfig, "debian_sources", lambda *a: with_credentials)
    monkeypatch.setenv("PIP_TRUSTED_HOST", f"pip-{secret}.invalid")
    bundle = hostconfig.ca_bundle()
    assert bundle is not None, "the host has no CA bundle to test with"
    marked = tmp_path / "ca.crt"
    marked.write_bytes(bundle.read_bytes() + f"\n# ca-{secret}\n".encode())
    monkeypatch.setenv("PIP_CERT", str(marked))
    if engine.images.list(name=rootfs_tag()) == []:
        pytest.fail(f"{rootfs_tag()} is missing: run `jupyter ide images build --offline`")

    served: list[str] = []
    serve_file = hostserver._Handler.do_GET

    def recording(handler: Any) -> None:
        served.append(handler.path.rsplit("/", 1)[-1])
        serve_file(handler)

    monkeypatch.setattr(hostserver._Handler, "do_GET", recording)
    repository = f"jupyter-ide-test-{secret[:8]}"
    # Every step runs anew: a layer cached from another build would prove nothing.
    builder = Builder(
        engine, offline=True, progress=lambda line: None, repository=repository, no_cache=True
    )
    tags = [builder.tag(name) for name in (CORE, BASE, "bash")]
    try:
        builder.build(["bash"], jobs=1)
        # The steps did fetch the served files: the apt sources, pip's config, the CA bundle.
        assert {"ide-host.sources", "pip.conf", "ca-certificates.crt"} <= set(served), served
        assert _leaks(tags, canaries) == []
    finally:
        for tag in reversed(tags):
            with contextlib.suppress(DockerException):  # the tag may not have been made
                engine.images.remove(tag, force=True)


def test_the_suites_images_hold_no_host_config(engine: Any) -> None:
    """Every layer of the images `make test` built is free of the host's config files."""
    tags = [image_for(name) for name in (CORE, BASE, *LANGUAGES)]
    missing = [tag for tag in tags if not engine.images.list(name=tag)]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: run `jupyter ide images build --offline`")
    assert _leaks(tags, []) == []


def test_the_served_files_need_the_token_and_hold_no_local_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only /<token>/<name> answers; pip's bundle path is the one the build step uses."""
    monkeypatch.setenv("PIP_CERT", str(tmp_path / "ca.crt"))
    (tmp_path / "ca.crt").write_text("certs")
    names = hostconfig.write_served_files(tmp_path / "served")
    files = {name: (tmp_path / "served" / name).read_bytes() for name in names}
    assert (
        f"cert = {hostconfig.HOST_DIR_IN_BUILD}/ca-certificates.crt" in files["pip.conf"].decode()
    )
    token = hostserver.build_token(tmp_path / "data")
    assert hostserver.build_token(tmp_path / "data") == token
    assert (tmp_path / "data" / hostserver.TOKEN_FILE).stat().st_mode & 0o077 == 0
    with hostserver.serve(files, token) as url:
        assert url.startswith("http://127.0.0.1:") and url.endswith(f"/{token}")
        with urllib.request.urlopen(f"{url}/ca-certificates.crt") as reply:
            assert reply.read() == b"certs"
        for wrong in (url.rsplit("/", 1)[0] + "/other/pip.conf", f"{url}/../pip.conf", url):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(wrong)
            assert refused.value.code == 404
            refused.value.close()


def test_credentials_are_taken_out_of_a_mirror_address() -> None:
    """debootstrap's sources.list keeps the mirror without its user and password."""
    assert (
        hostconfig.without_credentials("https://ide:s3cret@mirror.example/debian")
        == "https://mirror.example/debian"
    )
    assert hostconfig.without_credentials("http://deb.debian.org/debian") == (
        "http://deb.debian.org/debian"
    )
