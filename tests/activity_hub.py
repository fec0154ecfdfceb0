"""A hub with the jupyter-ide service, a course and its people, for the activity tests."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from jupyter_ide.db.urls import sync_url

from .hubfixture import ACCESS, ServiceHub, service_hub
from .s3_server import MotoServer

INSTRUCTOR = "custom:ide:instructor"


@dataclass
class Lab:
    """The hub, tokens by person, the course's name and the service's database."""

    hub: ServiceHub
    course: str
    tokens: dict[str, str] = field(default_factory=dict)
    people: dict[str, str] = field(default_factory=dict)  # short name -> hub user name
    db: Engine | None = None

    def call(
        self,
        who: str,
        method: str,
        path: str,
        body: Any = None,
        course: str | None = None,
        raw: bytes | None = None,
        params: dict[str, str] | None = None,
    ) -> requests.Response:
        """Call the service as ``who`` (X-IDE-Course when ``course``)."""
        headers = {"Authorization": f"token {self.tokens[who]}"}
        if course:
            headers["X-IDE-Course"] = course
        if raw is None and body is not None:
            raw = requests.models.complexjson.dumps(body).encode()
        return requests.request(
            method,
            f"{self.hub.service_url}{path}",
            headers=headers,
            data=raw,
            params=params,
            timeout=120,
        )

    def ok(self, who: str, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        """Call and insist on a 2xx; return the JSON (None for no content)."""
        reply = self.call(who, method, path, body, **kw)
        assert 200 <= reply.status_code < 300, (who, method, path, reply.status_code, reply.text)
        return reply.json() if reply.content else None

    def save(self, who: str, path: str, content: str) -> Any:
        """Save a text file through the service's contents API."""
        parent = path.rpartition("/")[0]
        if parent:
            done = ""
            for part in parent.split("/"):
                done = f"{done}/{part}" if done else part
                self.call(who, "PUT", f"/api/contents/{done}", {"type": "directory"})
        body = {"type": "file", "format": "text", "content": content}
        return self.ok(who, "PUT", f"/api/contents/{path}", body)

    def run(self, who: str, source: str, course: str | None = None) -> dict[str, Any]:
        """Run Python through the judge (waiting for the verdict)."""
        reply = self.call(
            who,
            "POST",
            "/ide/api/judge/submissions",
            {"language_id": 71, "source_code": source, "wall_time_limit": 20},
            course=course or self.course,
            params={"wait": "true", "fields": "*"},
        )
        assert reply.status_code == 201, reply.text
        result: dict[str, Any] = reply.json()
        return result

    def rows(self, query: str, **params: Any) -> list[Any]:
        """Rows of a SQL query on the service's database."""
        assert self.db is not None
        with self.db.connect() as conn:
            return list(conn.execute(text(query), params).all())

    def change(self, statement: str, **params: Any) -> None:
        """Run a data-changing SQL statement on the service's database (committed)."""
        assert self.db is not None
        with self.db.begin() as conn:
            conn.execute(text(statement), params)

    def wait_graded(self, who: str, assignment: str, sid: int) -> dict[str, Any]:
        """Wait until a submission is graded (or failed)."""
        deadline = time.monotonic() + 300
        while True:
            seen = self.ok(
                who,
                "GET",
                f"/ide/api/courses/{self.course}/assignments/{assignment}/submissions/{sid}",
            )
            if seen["status"] in ("graded", "error"):
                return dict(seen)
            assert time.monotonic() < deadline, seen
            time.sleep(0.5)


@contextmanager
def lab_hub(
    base: Path,
    moto: MotoServer,
    students: list[str],
    instructors: list[str],
    others: dict[str, str] | None = None,
    more_env: dict[str, str] | None = None,
) -> Iterator[Lab]:
    """A hub running the service; ``students`` and ``instructors`` in one course.

    ``others`` maps more people to a second course they teach (their own course's name);
    ``more_env`` adds to the service's environment.
    """
    tag = uuid.uuid4().hex[:6]
    course = f"lab{tag}"
    teachers = ",".join([*instructors, *(others or {})])
    service_env = {"JUPYTER_IDE_INSTRUCTORS": teachers, **(more_env or {})}
    with service_hub(base, moto, "managed", service_env) as (hub, env):
        lab = Lab(hub, course)
        people = [(n, (f"course-{course}",), [ACCESS]) for n in students]
        people += [
            (n, (f"course-{course}-instructors",), [ACCESS, INSTRUCTOR]) for n in instructors
        ]
        people += [
            (n, (f"course-{theirs}-instructors",), [ACCESS, INSTRUCTOR])
            for n, theirs in (others or {}).items()
        ]
        for group in {g for _, groups, _ in people for g in groups}:  # before any member joins
            hub.hub_api("POST", f"/groups/{group}")

        def join(person: tuple[str, tuple[str, ...], list[str]]) -> None:
            name, groups, scopes = person
            hub.add_user(name, groups)
            lab.tokens[name] = hub.token(name, scopes)
            lab.ok(name, "GET", "/ide/api/courses")  # signing in makes them course members

        # The first sign-in creates the course: alone, as two first sign-ins at once race to
        # create it and the loser's membership is not recorded (see the report of this work).
        join(people[0])
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(join, people[1:]))
        lab.db = create_engine(sync_url(env["JUPYTER_IDE_DB_URL"]), poolclass=NullPool)
        try:
            yield lab
        finally:
            lab.db.dispose()
