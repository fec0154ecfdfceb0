"""Files made once at start-up (the signing secret, the server id) when servers race."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from jupyter_ide.auth.tokens import load_or_create_secret
from jupyter_ide.server_extension.create_once import create_once

from .racing import at_once


def test_racing_servers_share_one_signing_secret(tmp_path: Path) -> None:
    """Twenty servers starting at once: one secret for all, mode 0600, nothing left aside."""
    path = tmp_path / "data" / "token_signing_secret"
    found = at_once(lambda: load_or_create_secret(path))
    assert len(set(found)) == 1 and len(found[0]) >= 32 and path.read_bytes() == found[0]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["token_signing_secret"]


def test_an_existing_file_is_kept(tmp_path: Path) -> None:
    """A file already there is read, never replaced."""
    path = tmp_path / "kept"
    path.write_bytes(b"first")
    assert create_once(path, b"second") == b"first"
    assert path.read_bytes() == b"first"


def test_a_short_secret_is_a_clear_error(tmp_path: Path) -> None:
    """A truncated secret file is refused with what to do about it."""
    path = tmp_path / "token_signing_secret"
    path.write_bytes(b"short")
    with pytest.raises(ValueError, match="delete it"):
        load_or_create_secret(path)
