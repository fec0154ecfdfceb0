"""The server's per-kernel manager: no kernel starts or restarts unsandboxed when it must not.

Every start and restart passes ``_async_pre_start_kernel``, whoever asked for it (the REST API,
a session, the auto-restarter after a death, another extension): it is where the policy holds.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.services.kernels.kernelmanager import ServerKernelManager

from .kernelspecs import IDEKernelSpecManager, is_sandboxed
from .policy import (
    KernelRefused,
    equivalent_language,
    refusal,
    sandbox_required,
    unsandboxed_restart,
)

DEFAULT_CLASS = "jupyter_server.services.kernels.kernelmanager.ServerKernelManager"
CLASS_NAME = f"{__name__}.IDEKernelManager"


class IDEKernelManager(ServerKernelManager):
    """Jupyter Server's kernel manager; a kernel runs sandboxed whenever the sandbox is required."""

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        """Map the kernel's name to its sandboxed equivalent, or refuse it, then start as usual."""
        ksm = self.kernel_spec_manager
        first_start = self.provisioner is None
        if first_start and isinstance(ksm, IDEKernelSpecManager):
            name = ksm.resolve(self.kernel_name)  # the name may still change before a start
            if name != self.kernel_name:
                self.log.info(
                    "Kernel %s runs as %s, its sandboxed equivalent", self.kernel_name, name
                )
                self.kernel_name = name
        if first_start:
            if sandbox_required() and not (self.kernel_spec and is_sandboxed(self.kernel_spec)):
                raise KernelRefused(refusal(self.kernel_name, {}))
        else:
            problem = restart_refusal(self)
            if problem is not None:
                raise KernelRefused(problem)
        result: tuple[list[str], dict[str, Any]] = await super()._async_pre_start_kernel(**kw)
        return result


def restart_refusal(km: Any) -> str | None:
    """Say why a kernel may not restart (None when it may).

    That is a kernel started unsandboxed while no engine answered (auto mode), now that the
    sandbox is required.
    """
    spec = km.kernel_spec
    if not sandbox_required() or (spec is not None and is_sandboxed(spec)):
        return None
    language = equivalent_language(km.kernel_name)
    return unsandboxed_restart(km.kernel_name, f"ide-{language}" if language else None)
