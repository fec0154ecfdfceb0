"""An identity provider for servers a test launches: the students named in the environment.

``--ServerApp.identity_provider_class=tests.judge_identity.StudentsIdentity`` (with the repo
on PYTHONPATH) signs in ``Authorization: token test-user-<name>`` for each name listed in
JUPYTER_IDE_TEST_STUDENTS (comma-separated) as a student. No tests here.
"""

from __future__ import annotations

import os
from typing import ClassVar

from .test_ai_common import HubLikeIdentity

ENV = "JUPYTER_IDE_TEST_STUDENTS"


class StudentsIdentity(HubLikeIdentity):
    """HubLikeIdentity whose users are the students the environment names."""

    USERS: ClassVar[dict[str, str]] = {
        name.strip(): "student" for name in os.environ.get(ENV, "").split(",") if name.strip()
    }
