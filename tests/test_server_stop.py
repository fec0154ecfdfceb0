"""A server started the README's way stops on SIGTERM with kernels running (issue #19).

Jupyter Server shuts kernels down after its extensions have stopped; a kernel's last
workspace sync then found the volume gone, the shutdown raised, and the server never
exited until it was killed.
"""

from __future__ import annotations

import asyncio
import re

from .kernel_host import require_images
from .launch import launch
from .test_kernels_as_users import _cell


def test_sigterm_stops_a_server_with_a_running_kernel_and_removes_its_sandbox() -> None:
    """SIGTERM: the kernel is shut down (and synced) first, then the process exits cleanly."""
    require_images("python")
    with launch(env={"JUPYTER_IDE_SANDBOX": "docker"}) as server:
        started = server.fetch("POST", "api/kernels", {"name": "ide-python"})
        assert started.status == 201, (started.status, started.text, server.log()[-3000:])
        printed = asyncio.run(_cell(server, started.body["id"], "print(6 * 7)"))
        assert printed.strip() == "42", server.log()[-3000:]
    assert not server.killed, f"the server ignored SIGTERM:\n{server.final_log[-3000:]}"
    after_signal = server.final_log.split("received signal 15", 1)[-1]
    assert not re.search(r"Traceback|\[E ", after_signal), after_signal[-3000:]
    assert re.search(r"Kernel shutdown: " + started.body["id"], after_signal), after_signal
