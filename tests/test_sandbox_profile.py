"""The hardened profile and the limits policy, checked without starting containers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyter_ide.kernels.kernelspecs import (
    LANGUAGES,
    PROVISIONER_NAME,
    install_kernelspecs,
    kernelspec,
)
from jupyter_ide.kernels.profile import (
    BindMount,
    SandboxLimits,
    SandboxSpec,
    allowed_env,
    container_options,
)
from jupyter_ide.kernels.sandbox import SandboxManager

MIB = 1024 * 1024


@pytest.fixture
def manager() -> SandboxManager:
    """A fresh sandbox manager (no engine contacted)."""
    SandboxManager.clear_instance()
    yield SandboxManager.instance(mode="docker")
    SandboxManager.clear_instance()


def test_seed_defaults_are_one_cpu_512_mb_30_s() -> None:
    limits = SandboxLimits()
    assert (limits.cpus, limits.memory_bytes, limits.time_limit) == (1.0, 512 * MIB, 30.0)


def test_a_kernelspec_request_is_capped_by_the_admin_maximum(manager: SandboxManager) -> None:
    manager.max_limits = {"time_limit": 60, "memory_bytes": 1024 * MIB}
    limits = manager.limits_for({"time_limit": 3600, "memory_bytes": 8192 * MIB, "cpus": 0.5})
    assert limits.time_limit == 60
    assert limits.memory_bytes == 1024 * MIB
    assert limits.cpus == 0.5


def test_server_defaults_apply_before_the_kernelspec(manager: SandboxManager) -> None:
    manager.default_limits = {"time_limit": 10}
    assert manager.limits_for({}).time_limit == 10
    assert manager.limits_for({"time_limit": 20}).time_limit == 20


@pytest.mark.parametrize("bad", [{"memory": 5}, {"time_limit": 0}, {"cpus": -1}, {"pids": "many"}])
def test_unknown_or_non_positive_limits_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        SandboxLimits().with_overrides(bad)


def test_the_optional_runtime_reaches_the_container(manager: SandboxManager) -> None:
    manager.runtime = "runsc"
    options = container_options(
        SandboxSpec(image="img", command=["true"], limits=manager.limits_for({}))
    )
    assert options["runtime"] == "runsc"
    manager.runtime = ""
    options = container_options(SandboxSpec("img", ["true"], limits=manager.limits_for({})))
    assert "runtime" not in options


def test_container_options_are_the_hardened_profile(tmp_path: Path) -> None:
    limits = SandboxLimits(memory_bytes=256 * MIB, pids=64, cpus=0.5)
    spec = SandboxSpec(
        image="img",
        command=["python"],
        limits=limits,
        env={"LANG": "C.UTF-8", "AWS_SECRET_ACCESS_KEY": "x", "PATH": "/evil"},
        mounts=(BindMount(tmp_path),),
    )
    options = container_options(spec)
    assert options["network_mode"] == "none"
    assert options["network_disabled"] is True
    assert options["cap_drop"] == ["ALL"]
    assert options["security_opt"] == ["no-new-privileges:true"]
    assert options["read_only"] is True
    assert options["mem_limit"] == options["memswap_limit"] == 256 * MIB
    assert options["pids_limit"] == 64
    assert options["nano_cpus"] == 500_000_000
    assert {u["Name"]: u["Soft"] for u in options["ulimits"]}["core"] == 0
    assert set(options["tmpfs"]) == {"/tmp", "/dev/shm", "/home/sandbox"}
    assert "noexec" in options["tmpfs"]["/dev/shm"]
    assert options["user"].split(":")[0] != "0"
    assert options["environment"] == {"HOME": "/home/sandbox", "LANG": "C.UTF-8"}
    assert options["mounts"][0]["Source"] == options["mounts"][0]["Target"] == str(tmp_path)


def test_only_allowlisted_variables_pass() -> None:
    env = {"LANG": "C", "JUPYTER_IDE_CRYPT_KEY": "k", "OPENAI_API_KEY": "k", "HOME": "/root"}
    assert allowed_env(env) == {"LANG": "C"}


def test_each_kernelspec_names_the_provisioner_and_its_image() -> None:
    for language in LANGUAGES:
        spec = kernelspec(language)
        provisioner = spec["metadata"]["kernel_provisioner"]
        assert provisioner["provisioner_name"] == PROVISIONER_NAME
        assert provisioner["config"]["language"] == language.key
        assert "{connection_file}" in spec["argv"]


def test_kernels_install_writes_eight_kernelspecs(tmp_path: Path) -> None:
    paths = install_kernelspecs(user=False, prefix=str(tmp_path))
    names = sorted(Path(p).name for p in paths)
    assert names == sorted(f"ide-{lang.key}" for lang in LANGUAGES)
    spec = json.loads((tmp_path / "share/jupyter/kernels/ide-rust/kernel.json").read_text())
    assert spec["language"] == "rust"
