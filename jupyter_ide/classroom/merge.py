"""A student's merge of a re-released starter file with their own edits.

When a newer version of a starter file is released and the student had changed their copy,
release keeps their file (never an overwrite) and lists it in the copy's ``kept``. Here the
student reads the three versions (what they were given, theirs now, the new one) and settles
the file: keep theirs, take the new one, or save a merge they edited. Settling writes the
file first and then moves the copy's base to the new version, so a failed write leaves both
the file and the notice as they were.
"""

from __future__ import annotations

import json
from typing import Any

from ..auth.permissions import Role
from ..db.models import AssignmentCopy
from .manager import AssignmentManager, ClassroomError, student_folder

CHOICES = ("theirs", "new", "merged")


def _text(data: bytes, what: str) -> str:
    """Return a file's bytes as text, or refuse (binary files are not merged here)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ClassroomError(
            409, f"{what} is not text, so it cannot be merged here; take the new one or keep yours"
        ) from e


async def _kept(
    manager: AssignmentManager, course_name: str, name: str, path: Any, user: str, role: Role
) -> tuple[str, str, str, str, int, int]:
    """Return (folder, path, base hash, new hash, size, version) of a file the caller may merge."""
    if not isinstance(path, str) or not path:
        raise ClassroomError(400, "Missing field: path (a file of the assignment)")
    async with manager.db.session() as session:
        course, found, _ = await manager.open_for(session, course_name, name, user, role)
        uid = await manager.user_id(session, user)
        copy = await session.get(AssignmentCopy, (found.id, uid))
        kept = dict(copy.kept) if copy is not None else {}
        given = dict(copy.files) if copy is not None else {}
    entry = found.files.get(path)
    if path not in kept or entry is None:
        # The path is not echoed: it may be any text the caller chose.
        raise ClassroomError(404, f"{name} has no file of yours waiting to be merged there")
    folder = student_folder(course.name, found.name)
    return folder, path, str(given.get(path) or ""), str(entry[0]), int(entry[1]), found.version


async def merge_view(
    manager: AssignmentManager, course_name: str, name: str, path: Any, user: str, role: Role
) -> dict[str, Any]:
    """Return the three versions of a kept file: base (as given), theirs (now), new."""
    folder, path, base_hash, new_hash, _, version = await _kept(
        manager, course_name, name, path, user, role
    )
    full = f"{folder}/{path}"
    theirs_hash = (await manager.files.current(user, [full])).get(full)
    if theirs_hash is None:
        raise ClassroomError(409, f"{path} is no longer in {folder}; take the new one instead")
    files = manager.files
    base = None
    if base_hash:
        try:
            base = _text(await files.read(base_hash), f"{path} as you were given it")
        except ClassroomError:
            raise
        except Exception:  # an old blob that is gone: the two-way view still works
            manager.log.warning("Base of %s for %s is unreadable", full, user)
    return {
        "path": path,
        "folder": folder,
        "version": version,
        "base": base,
        "theirs": _text(await files.read(theirs_hash), f"Your {path}"),
        "theirs_hash": theirs_hash,
        "new": _text(await files.read(new_hash), f"The new {path}"),
    }


async def resolve(
    manager: AssignmentManager, course_name: str, name: str, body: Any, user: str, role: Role
) -> dict[str, Any]:
    """Settle a kept file as the student chose; the notice drops it."""
    if not isinstance(body, dict):
        raise ClassroomError(400, "The body must be a JSON object")
    choice = body.get("choice")
    if choice not in CHOICES:
        raise ClassroomError(400, f"choice must be one of {', '.join(CHOICES)}")
    content = body.get("content")
    if choice == "merged":
        if not isinstance(content, str):
            raise ClassroomError(400, "Missing field: content (the merged text)")
        if len(content.encode("utf-8")) > manager.max_bytes:
            raise ClassroomError(413, f"The merged file is larger than {manager.max_bytes} bytes")
    path = body.get("path")
    if choice == "merged" and isinstance(path, str) and path.endswith(".ipynb"):
        try:
            json.loads(str(content))
        except ValueError as e:
            raise ClassroomError(400, f"The merged notebook is not valid JSON: {e}") from e
    expected = body.get("theirs_hash")
    if expected is not None and not isinstance(expected, str):
        raise ClassroomError(400, "theirs_hash is the hash the merge view gave")
    folder, path, _, new_hash, new_size, version = await _kept(
        manager, course_name, name, path, user, role
    )
    full = f"{folder}/{path}"
    now = (await manager.files.current(user, [full])).get(full)
    if expected is not None and now != expected:
        raise ClassroomError(
            409, f"{path} changed since you opened the merge; open it again to see the change"
        )
    written = False
    if choice == "new" and now != new_hash:
        await manager.files.write(user, full, new_hash, new_size, "merge")
        written = True
    elif choice == "merged" and isinstance(content, str):
        content_hash, size = await manager.files.put(content.encode("utf-8"), user)
        if content_hash != now:
            await manager.files.write(user, full, content_hash, size, "merge")
            written = True
    async with manager.db.session() as session:
        uid = await manager.user_id(session, user)
        course = await manager.course(session, course_name)
        found = await manager.assignment(session, course, name)
        copy = await session.get(AssignmentCopy, (found.id, uid))
        if copy is None:  # only a concurrent course change could get here
            raise ClassroomError(409, f"Your copy of {name} is gone; get it again")
        given, kept = dict(copy.files), dict(copy.kept)
        given[path] = new_hash  # the base of later releases: the version merged with
        kept.pop(path, None)
        copy.files, copy.kept = given, kept
    manager.log.info("%s settled %s of %s/%s: %s", user, path, course_name, name, choice)
    return {
        "path": path,
        "folder": folder,
        "choice": choice,
        "version": version,
        "written": written,
        "kept": sorted(kept),
    }
