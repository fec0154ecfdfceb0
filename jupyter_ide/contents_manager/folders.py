"""Which index a workspace folder belongs to: a folder per storage, a marker per workspace.

Workspace folders live under ``<workspaces_root>/<storage key>/<user>/<workspace>``, where the
storage key is a digest of the database and blob store the server uses, so servers with other
storage on the same data dir (``make test`` beside ``make run``, two hubs) never share one.
Beside each folder, out of the kernels' reach, ``<workspace>~index.json`` names the index
(database, store, workspace row) the folder mirrors. A folder whose marker names another
index (a fresh database at the same URL), or that holds files but no marker, is emptied into a
folder beside it (``<workspace>~foreign-<time>``, kept for the admin), never imported.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url

from ..db import Database
from ..db.models import Workspace

log = logging.getLogger(__name__)

# "~" never survives the name sanitising below, so these names cannot be a user's folder.
MARKER_SUFFIX = "~index.json"
ASIDE_INFIX = "~foreign-"


def safe_name(text: str) -> str:
    """Return ``text`` as one folder name: letters, digits, ``-_.`` and ``_`` for the rest."""
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in text) or "_"
    return "_" + name if name in (".", "..") else name


def database_identity(url: str) -> str:
    """Return the database URL without its password (the same database, any credentials)."""
    return make_url(url).set(password=None).render_as_string(hide_password=False)


def storage_key(database: str, storage: str, endpoint: str = "") -> str:
    """Return a short digest naming one (database, blob store) pair."""
    text = "\n".join((database_identity(database), storage, endpoint))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Marker:
    """The index a workspace folder mirrors."""

    database: str
    storage: str
    workspace_id: int
    workspace_created: str


async def marker_for(db: Database, storage: str, workspace_id: int) -> Marker:
    """Return the marker of ``workspace_id`` in ``db`` (its row's creation time included)."""
    async with db.session() as session:
        created = (
            await session.execute(select(Workspace.created_at).where(Workspace.id == workspace_id))
        ).scalar_one()
    return Marker(database_identity(db.url), storage, workspace_id, created.isoformat())


def marker_path(folder: Path) -> Path:
    """Where the marker of ``folder`` is kept (beside it, outside what kernels see)."""
    return folder.parent / f"{folder.name}{MARKER_SUFFIX}"


def read_marker(folder: Path) -> Marker | None:
    """Return the marker of ``folder``, or None when it has none (or an unreadable one)."""
    try:
        raw = json.loads(marker_path(folder).read_text(encoding="utf-8"))
        return Marker(
            str(raw["database"]),
            str(raw["storage"]),
            int(raw["workspace_id"]),
            str(raw["workspace_created"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_marker(folder: Path, marker: Marker) -> None:
    path = marker_path(folder)
    temp = path.parent / f".{path.name}.{uuid.uuid4().hex}"
    temp.write_text(json.dumps(asdict(marker), indent=1) + "\n", encoding="utf-8")
    os.replace(temp, path)


def _has_entries(folder: Path) -> bool:
    try:
        with os.scandir(folder) as entries:
            return any(True for _ in entries)
    except FileNotFoundError:
        return False


def _move_entries(folder: Path, aside: Path) -> None:
    """Move everything in ``folder`` into the new folder ``aside``.

    ``folder`` itself stays, so kernels that already mount it (the warm pool starts before the
    first request) see the emptied folder, not the old files.
    """
    aside.mkdir()
    with os.scandir(folder) as entries:
        names = [entry.name for entry in entries]
    for name in names:
        os.rename(folder / name, aside / name)


def claim(folder: Path, marker: Marker) -> Path | None:
    """Make ``folder`` this index's; return where the files of another index were moved."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    found = read_marker(folder)
    if found == marker:
        return None
    folder.mkdir(exist_ok=True)
    aside = None
    if found is not None or _has_entries(folder):
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        aside = folder.parent / f"{folder.name}{ASIDE_INFIX}{stamp}-{uuid.uuid4().hex[:6]}"
        _move_entries(folder, aside)
        log.warning(
            "Workspace folder %s held files of another index (%s); moved them to %s and "
            "did not import them",
            folder,
            "its marker names " + found.database if found else "it has no marker",
            aside,
        )
    _write_marker(folder, marker)
    return aside
