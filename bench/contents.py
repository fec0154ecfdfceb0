"""Contents manager: jupyter-ide's checked manager against Jupyter's stock one, same disk."""

from __future__ import annotations

import asyncio
import base64
import platform
import tempfile
from pathlib import Path
from typing import Any

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager

from jupyter_ide.contents_manager import IDEContentsManager

from .stats import print_table, time_async

ROUNDS = 300
TEXT = "x = 1\n" * 200
NOTEBOOK = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {},
    "cells": [
        {
            "cell_type": "code",
            "id": f"c{i}",
            "source": f"print({i})",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
        }
        for i in range(50)
    ],
}
CHUNK = base64.b64encode(b"b" * 256 * 1024).decode()


async def _measure(manager: Any) -> dict[str, list[float]]:
    """Time the common operations on one manager."""

    async def save_text(i: int) -> None:
        await manager.save({"type": "file", "format": "text", "content": TEXT}, f"f{i % 20}.py")

    async def get_text(i: int) -> None:
        await manager.get(f"f{i % 20}.py")

    async def save_notebook(i: int) -> None:
        await manager.save({"type": "notebook", "content": NOTEBOOK}, f"n{i % 10}.ipynb")

    async def upload_1mb_in_chunks(i: int) -> None:
        for number in (1, 2, 3, -1):
            model = {"type": "file", "format": "base64", "content": CHUNK, "chunk": number}
            await manager.save(model, f"up{i % 5}.bin")

    async def list_folder(i: int) -> None:
        await manager.get("")

    return {
        "save 1 KB text": await time_async(save_text, ROUNDS),
        "get 1 KB text": await time_async(get_text, ROUNDS),
        "save 50-cell notebook": await time_async(save_notebook, ROUNDS),
        "upload 1 MB in 4 chunks": await time_async(upload_1mb_in_chunks, ROUNDS // 5),
        "list a 35-entry folder": await time_async(list_folder, ROUNDS),
    }


async def main() -> None:
    """Run both managers on fresh temp dirs and print the table."""
    results: dict[str, dict[str, list[float]]] = {}
    peers = {
        "jupyter AsyncLargeFileManager": AsyncLargeFileManager,
        "jupyter-ide": IDEContentsManager,
    }
    for peer, cls in peers.items():
        with tempfile.TemporaryDirectory() as root:
            manager = cls(root_dir=str(Path(root)))
            for operation, values in (await _measure(manager)).items():
                results.setdefault(operation, {})[peer] = values
    print_table(
        f"contents manager, {ROUNDS} rounds, {platform.machine()} {platform.python_version()}",
        results,
        baseline="jupyter AsyncLargeFileManager",
    )


if __name__ == "__main__":
    asyncio.run(main())
