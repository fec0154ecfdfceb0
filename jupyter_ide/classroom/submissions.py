"""Submissions: append-only snapshots by content hash, the rate limit, reopening, views."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.permissions import Role
from ..db import User
from ..db.models import Assignment, AssignmentCopy, AssignmentSubmission
from .export import results_json
from .manager import AssignmentManager, ClassroomError, iso, student_folder
from .scoring import past_cutoff, score, shown


class Submissions:
    """Submit, list, reopen and read submissions; the grading queue is told of new ones."""

    def __init__(self, assignments: AssignmentManager) -> None:
        """Work beside the assignment manager (same database and workspace files)."""
        self.assignments = assignments
        self.db = assignments.db
        self.files = assignments.files
        self.enqueue: Any = None  # set by the grading queue: called with each new id

    async def submit(self, course_name: str, name: str, user: str, role: Role) -> dict[str, Any]:
        """Snapshot the student's copy of the assignment; 429 past the submission limit."""
        async with self.db.session() as session:
            course, found, _ = await self.assignments.open_for(
                session, course_name, name, user, role
            )
            uid = await self.assignments.user_id(session, user)
            deadline = await self.assignments.deadline_of(session, found, uid)
            if await session.get(AssignmentCopy, (found.id, uid)) is None:
                raise ClassroomError(409, f"Fetch {name} first: you have no copy of it yet")
        now = datetime.now(timezone.utc)
        if past_cutoff(now, deadline, found.cutoff_hours):
            raise ClassroomError(403, f"{name} closed: the cut-off after your deadline has passed")
        snapshot = await self.files.folder(user, student_folder(course.name, name))
        if not snapshot:
            raise ClassroomError(
                400, f"Your folder {student_folder(course.name, name)} holds no files to submit"
            )
        limit = self.assignments
        if (
            len(snapshot) > limit.max_files
            or sum(s for _, s in snapshot.values()) > limit.max_bytes
        ):
            raise ClassroomError(
                413, f"A submission holds at most {limit.max_files} files, {limit.max_bytes} bytes"
            )
        async with self.db.session() as session:
            # Write first: the copy row's lock (PostgreSQL) or the write lock (SQLite) makes
            # the count and the insert one step per student.
            touched = await session.execute(
                update(AssignmentCopy)
                .where(AssignmentCopy.assignment_id == found.id, AssignmentCopy.user_id == uid)
                .values(version=AssignmentCopy.version)
            )
            if not touched.rowcount:  # type: ignore[attr-defined]
                raise ClassroomError(409, f"Fetch {name} first: you have no copy of it yet")
            await self._check_rate(session, found, uid, now)
            row = AssignmentSubmission(
                assignment_id=found.id,
                user_id=uid,
                created_at=datetime.now(timezone.utc),
                files={p: [h, s] for p, (h, s) in snapshot.items()},
                manual={},
                results=[],
            )
            session.add(row)
            await session.flush()
            submission_id = row.id
            view = self._student(found, row, deadline, user)
        if self.enqueue is not None:
            self.enqueue(submission_id)
        return view

    async def _check_rate(
        self, session: AsyncSession, found: Assignment, uid: int, now: datetime
    ) -> None:
        """Raise 429 with Retry-After when the student used up the window's submissions."""
        if not found.max_submissions:
            return
        since = now - timedelta(seconds=found.window_seconds)
        recent = (
            await session.execute(
                select(func.count(), func.min(AssignmentSubmission.created_at)).where(
                    AssignmentSubmission.assignment_id == found.id,
                    AssignmentSubmission.user_id == uid,
                    AssignmentSubmission.created_at > since,
                )
            )
        ).one()
        count, oldest = int(recent[0]), recent[1]
        if count < found.max_submissions:
            return
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=timezone.utc)
        wait = (oldest + timedelta(seconds=found.window_seconds) - now).total_seconds()
        seconds = max(1, math.ceil(wait))
        raise ClassroomError(
            429,
            f"You may submit {found.name} {found.max_submissions} times per "
            f"{found.window_seconds} s; try again in {seconds} s",
            {"Retry-After": str(seconds)},
        )

    async def _owned(
        self, session: AsyncSession, found: Assignment, submission_id: str, user: str, member: str
    ) -> tuple[AssignmentSubmission, str]:
        """Return a submission of this assignment and its student's name.

        A student reaches only their own; anyone else's is a 404, as a missing one.
        """
        if not submission_id.isdigit() or len(submission_id) > 18:
            raise ClassroomError(400, "A submission id is a number")
        row = await session.get(AssignmentSubmission, int(submission_id))
        owner = None if row is None else await session.get(User, row.user_id)
        if row is None or owner is None or row.assignment_id != found.id:
            raise ClassroomError(404, f"No submission {submission_id} of {found.name}")
        if member != "instructor" and owner.name != user:
            raise ClassroomError(404, f"No submission {submission_id} of {found.name}")
        return row, owner.name

    async def listing(
        self, course_name: str, name: str, user: str, role: Role, student: str = ""
    ) -> list[dict[str, Any]]:
        """Return submissions, newest first: a student's own, or (instructors) everyone's."""
        async with self.db.session() as session:
            _, found, member = await self.assignments.open_for(
                session, course_name, name, user, role
            )
            query = (
                select(AssignmentSubmission, User.name)
                .join(User, User.id == AssignmentSubmission.user_id)
                .where(AssignmentSubmission.assignment_id == found.id)
                .order_by(AssignmentSubmission.id.desc())
            )
            if member != "instructor":
                query = query.where(User.name == user)
            elif student:
                query = query.where(User.name == student)
            rows = (await session.execute(query)).all()
            if member == "instructor":
                return [self._instructor(row, owner) for row, owner in rows]
            uid = await self.assignments.user_id(session, user)
            deadline = await self.assignments.deadline_of(session, found, uid)
            return [self._student(found, row, deadline, user) for row, _ in rows]

    async def get(
        self, course_name: str, name: str, submission_id: str, user: str, role: Role
    ) -> dict[str, Any]:
        """Return one submission as the caller may see it."""
        async with self.db.session() as session:
            _, found, member = await self.assignments.open_for(
                session, course_name, name, user, role
            )
            row, owner = await self._owned(session, found, submission_id, user, member)
            if member == "instructor":
                return self._instructor(row, owner)
            deadline = await self.assignments.deadline_of(session, found, row.user_id)
            return self._student(found, row, deadline, user)

    async def file(
        self, course_name: str, name: str, submission_id: str, path: str, user: str, role: Role
    ) -> bytes:
        """Return one file of a submission (its student's or an instructor's to read)."""
        async with self.db.session() as session:
            _, found, member = await self.assignments.open_for(
                session, course_name, name, user, role
            )
            row, _ = await self._owned(session, found, submission_id, user, member)
        entry = row.files.get(path)
        if entry is None:
            raise ClassroomError(404, f"Submission {submission_id} has no file {path!r}")
        return await self.files.read(entry[0])

    async def reopen(
        self, course_name: str, name: str, submission_id: str, user: str, role: Role
    ) -> dict[str, Any]:
        """Put a submission's files back in the student's own copy (what it replaces is kept)."""
        async with self.db.session() as session:
            course, found, _ = await self.assignments.open_for(
                session, course_name, name, user, role
            )
            row, owner = await self._owned(session, found, submission_id, user, "student")
        folder = student_folder(course.name, name)
        for path, (content_hash, size) in sorted(row.files.items()):
            await self.files.write(owner, f"{folder}/{path}", content_hash, size, "reopen")
        return {"folder": folder, "restored": sorted(row.files), "submission": row.id}

    # -- views ----------------------------------------------------------------------------------

    def _instructor(self, row: AssignmentSubmission, owner: str) -> dict[str, Any]:
        """Return everything about a submission."""
        return {
            "id": row.id,
            "student": owner,
            "created_at": iso(row.created_at),
            "files": sorted(row.files),
            "status": row.status,
            "grade_runs": row.grade_runs,
            "graded_at": iso(row.graded_at),
            "error": row.error,
            "results": row.results,
            "manual": row.manual,
            "deadline": iso(row.deadline),
            "late_days": row.late_days,
            "penalty_percent": row.penalty_percent,
            "score": row.score,
            "max_score": row.max_score,
        }

    def _student(
        self, found: Assignment, row: AssignmentSubmission, deadline: datetime | None, user: str
    ) -> dict[str, Any]:
        """Return what a student may see of their submission (visibility rules applied)."""
        now = datetime.now(timezone.utc)
        published = found.feedback_published_at is not None
        results = [
            {k: r.get(k) for k in ("name", "score", "max_score", "status", "output", "visibility")}
            for r in row.results
            if shown(r["visibility"], now, deadline, published)
        ]
        view: dict[str, Any] = {
            "id": row.id,
            "student": user,
            "created_at": iso(row.created_at),
            "files": sorted(row.files),
            "status": row.status,
            "error": "Grading failed; your instructor can see why." if row.error else None,
            "results": results,
            "visible_score": sum(r["score"] for r in results),
            "visible_max_score": sum(r["max_score"] for r in results),
            "late_days": row.late_days,
            "penalty_percent": row.penalty_percent,
            "feedback": None,
        }
        if published:
            view["feedback"] = {
                "score": row.score,
                "max_score": row.max_score,
                # Named items only where the name may be shown: never a hidden test's.
                "manual": {
                    item: points
                    for item, points in row.manual.get("points", {}).items()
                    if item in {r["name"] for r in results}
                    or item in {i["name"] for i in found.rubric}
                },
                "comments": row.manual.get("comments", []),
            }
        return view

    # -- scores ---------------------------------------------------------------------------------

    @staticmethod
    def apply_score(
        row: AssignmentSubmission, found: Assignment, deadline: datetime | None
    ) -> None:
        """Set the submission's lateness and score under ``deadline`` (manual points win)."""
        result = score(
            row.results,
            row.manual.get("points", {}),
            found.rubric,
            row.created_at,
            deadline,
            found.late_penalty_percent,
            found.cutoff_hours,
        )
        row.deadline = deadline
        row.late_days, row.penalty_percent = result.late_days, result.penalty_percent
        row.score, row.max_score = result.score, result.max_score

    async def rescore(self, assignment_id: int) -> int:
        """Recompute every graded submission's score under today's deadlines."""
        count = 0
        async with self.db.session() as session:
            found = await session.get(Assignment, assignment_id)
            if found is None:
                return 0
            rows = (
                await session.execute(
                    select(AssignmentSubmission).where(
                        AssignmentSubmission.assignment_id == assignment_id,
                        AssignmentSubmission.status == "graded",
                    )
                )
            ).scalars()
            for row in rows:
                self.apply_score(
                    row, found, await self.assignments.deadline_of(session, found, row.user_id)
                )
                count += 1
        return count

    async def set_manual(
        self, course_name: str, name: str, submission_id: str, body: Any, user: str, role: Role
    ) -> dict[str, Any]:
        """Set manual points per rubric item or test, and line comments; they survive regrading."""
        if not isinstance(body, dict) or set(body) - {"points", "comments"}:
            raise ClassroomError(400, "The body is {points: {item: number}, comments: [...]}")
        async with self.db.session() as session:
            course, found, _ = await self.assignments.open_for(
                session, course_name, name, user, role
            )
            await self.assignments.teaching(session, course, user, role)
            row, owner = await self._owned(session, found, submission_id, user, "instructor")
            manual = dict(row.manual)
            if "points" in body:
                manual["points"] = self._check_points(found, body["points"])
            if "comments" in body:
                manual["comments"] = self._check_comments(row, body["comments"], user)
            row.manual = manual
            if row.status == "graded":
                self.apply_score(
                    row, found, await self.assignments.deadline_of(session, found, row.user_id)
                )
            return self._instructor(row, owner)

    @staticmethod
    def _check_points(found: Assignment, points: Any) -> dict[str, float]:
        if not isinstance(points, dict):
            raise ClassroomError(400, "points is an object: {rubric item or test name: number}")
        limits = {t["name"]: float(t["points"]) for t in found.spec.get("tests", [])}
        limits.update({i["name"]: float(i["points"]) for i in found.rubric})
        out = {}
        for item, value in points.items():
            if item not in limits:
                raise ClassroomError(400, f"{item!r} is neither a rubric item nor a test")
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ClassroomError(400, f"points for {item!r} must be a number")
            if not 0 <= value <= limits[item]:
                raise ClassroomError(400, f"points for {item!r} must be 0 to {limits[item]:g}")
            out[item] = float(value)
        return out

    @staticmethod
    def _check_comments(row: AssignmentSubmission, comments: Any, by: str) -> list[dict[str, Any]]:
        if not isinstance(comments, list) or len(comments) > 1000:
            raise ClassroomError(400, "comments is a list of {path, line, text}")
        out = []
        for c in comments:
            if not isinstance(c, dict) or not isinstance(c.get("text"), str):
                raise ClassroomError(400, "each comment is {path, line, text}")
            if c.get("path") not in row.files:
                raise ClassroomError(400, f"comment on {c.get('path')!r}: no such submitted file")
            line = c.get("line")
            if isinstance(line, bool) or not isinstance(line, int) or line < 1:
                raise ClassroomError(400, "a comment's line is a number from 1")
            if len(c["text"]) > 10_000:
                raise ClassroomError(400, "a comment is at most 10000 characters")
            out.append({"path": c["path"], "line": line, "text": c["text"], "by": by})
        return out

    async def results_json(
        self, course_name: str, name: str, submission_id: str, user: str, role: Role
    ) -> dict[str, Any]:
        """Return a submission's grade as Gradescope's results.json (instructors)."""
        async with self.db.session() as session:
            course, found, _ = await self.assignments.open_for(
                session, course_name, name, user, role
            )
            await self.assignments.teaching(session, course, user, role)
            row, _ = await self._owned(session, found, submission_id, user, "instructor")
        if row.status != "graded":
            raise ClassroomError(
                409, f"Submission {submission_id} is not graded yet ({row.status})"
            )
        return results_json(row.results, row.manual.get("points", {}), row.score, row.max_score)
