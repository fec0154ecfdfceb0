"""The jupyter-ide service under a real JupyterHub: hub tokens and cookies, files per user, roles.

The hub runs deploy/jupyterhub_config.py's service block (managed: the hub starts
`jupyter ide service`); two students, an instructor and an admin call it with hub tokens
scoped to it, as a user makes at /hub/token, and one person signs in with a browser's
redirects through the hub's OAuth and the OpenID Connect provider.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests

from .hubfixture import ACCESS, ServiceHub, browser_sign_in, service_hub
from .s3_server import MotoServer

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

INSTRUCTOR = "custom:ide:instructor"
ADMIN = "custom:ide:admin"


@dataclass
class People:
    """The hub and the people of a class, each with a token for the service."""

    hub: ServiceHub
    student_a: str
    student_b: str
    teacher: str
    admin: str
    tokens: dict[str, str]


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """These tests talk to processes over HTTP: no pytest-jupyter loop."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No in-process server to clean up: the service runs under the hub."""


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory, moto_server: MotoServer) -> Iterator[People]:
    """A hub running the service, with two students, an instructor and an admin."""
    tag = uuid.uuid4().hex[:6]
    a, b, teacher, admin = (f"{who}-{tag}" for who in ("ada", "bob", "tess", "root"))
    extra = {"JUPYTER_IDE_INSTRUCTORS": teacher, "JUPYTER_IDE_ADMINS": admin}
    base = tmp_path_factory.mktemp("service-hub")
    with service_hub(base, moto_server, "managed", extra) as (hub, _env):
        hub.add_user(a, ("course-cs101",))
        hub.add_user(b)
        hub.add_user(teacher, ("course-cs101-instructors",))
        tokens = {
            a: hub.token(a, [ACCESS]),
            b: hub.token(b, [ACCESS]),
            teacher: hub.token(teacher, [ACCESS, INSTRUCTOR]),
            admin: hub.token(admin, [ACCESS, ADMIN]),
        }
        yield People(hub, a, b, teacher, admin, tokens)


def _json(reply: requests.Response) -> dict[str, object]:
    """The reply's JSON body, failing with the reply when it is not JSON."""
    try:
        body = reply.json()
    except ValueError as e:
        raise AssertionError(f"{reply.status_code}: {reply.text[:500]}") from e
    assert isinstance(body, dict), body
    return body


def _save(people: People, who: str, path: str, text: str) -> None:
    """Save a text file as ``who``."""
    model = {"type": "file", "format": "text", "content": text}
    reply = people.hub.call(f"/api/contents/{path}", people.tokens[who], "PUT", model)
    assert reply.status_code in (200, 201), reply.text


def test_each_user_reaches_only_their_own_files(people: People) -> None:
    """Two students with one service: same names, separate files; no route crosses over."""
    hub, a, b = people.hub, people.student_a, people.student_b
    ta, tb = people.tokens[a], people.tokens[b]
    _save(people, a, "notes.txt", "ada's notes")
    _save(people, b, "notes.txt", "bob's notes")
    _save(people, a, "only-ada.txt", "ada's secret, first draft")
    _save(people, a, "only-ada.txt", "ada's secret")

    assert _json(hub.call("/api/contents/notes.txt", ta))["content"] == "ada's notes"
    assert _json(hub.call("/api/contents/notes.txt", tb))["content"] == "bob's notes"
    listed_a = {e["name"] for e in _json(hub.call("/api/contents", ta))["content"]}  # type: ignore[union-attr]
    listed_b = {e["name"] for e in _json(hub.call("/api/contents", tb))["content"]}  # type: ignore[union-attr]
    assert {"notes.txt", "only-ada.txt"} <= listed_a
    assert "only-ada.txt" not in listed_b

    # Bob tries every contents route on Ada's file: it does not exist for him.
    assert hub.call("/api/contents/only-ada.txt", tb).status_code == 404
    assert hub.call("/files/only-ada.txt", tb).status_code == 404
    assert hub.call("/view/only-ada.txt", tb).status_code == 404
    _save(people, a, "checked.txt", "ada's checkpointed text")
    made = hub.call("/api/contents/checked.txt/checkpoints", ta, "POST")
    assert made.status_code == 201, made.text
    assert hub.call("/api/contents/checked.txt/checkpoints", tb).json() == []  # as Jupyter's
    assert hub.call("/api/contents/checked.txt/checkpoints", tb, "POST").status_code == 404
    revert = hub.call("/api/contents/checked.txt/checkpoints/checkpoint", tb, "POST")
    assert revert.status_code == 404
    rename = hub.call("/api/contents/only-ada.txt", tb, "PATCH", {"path": "mine.txt"})
    assert rename.status_code == 404
    copy = hub.call("/api/contents", tb, "POST", {"copy_from": "only-ada.txt"})
    assert copy.status_code == 404
    assert hub.call("/api/contents/only-ada.txt", tb, "DELETE").status_code == 404
    for sneaky in ("..%2F" + a + "%2Fonly-ada.txt", "%2E%2E/only-ada.txt", "/only-ada.txt"):
        assert hub.call(f"/api/contents/{sneaky}", tb).status_code in (400, 404), sneaky

    # Her history: Bob sees no versions of her file and cannot read, restore or drop hers.
    history = _json(hub.call("/ide/api/history?path=only-ada.txt", ta))
    versions = history["versions"]
    assert isinstance(versions, list) and versions, history
    version = versions[0]["id"]
    theirs = hub.call("/ide/api/history?path=only-ada.txt", tb)
    assert theirs.status_code == 404 or (
        _json(theirs)["current"] is None and _json(theirs)["versions"] == []
    ), theirs.text
    assert hub.call(f"/ide/api/history/{version}", tb).status_code == 404
    assert hub.call(f"/ide/api/history/{version}/restore", tb, "POST").status_code == 404
    assert hub.call(f"/ide/api/history/{version}", tb, "DELETE").status_code == 404
    disk = _json(hub.call("/ide/api/workspace/disk?limit=200", tb))
    assert all("only-ada" not in str(found) for found in disk["largest"])  # type: ignore[union-attr]

    # Everything of Ada's is as she left it.
    assert _json(hub.call("/api/contents/only-ada.txt", ta))["content"] == "ada's secret"
    assert hub.call("/files/only-ada.txt", ta).text == "ada's secret"
    assert _json(hub.call(f"/ide/api/history/{version}", ta))["id"] == version
    assert len(hub.call("/api/contents/checked.txt/checkpoints", ta).json()) == 1


def test_concurrent_callers_each_get_their_own_files(people: People) -> None:
    """Interleaved requests of two students (through the proxy's shared connections) never mix."""
    hub, a, b = people.hub, people.student_a, people.student_b
    _save(people, a, "mine.txt", "written by ada")
    _save(people, b, "mine.txt", "written by bob")

    def read(who: str) -> tuple[str, str]:
        reply = hub.call("/api/contents/mine.txt", people.tokens[who])
        return who, str(_json(reply)["content"])

    with ThreadPoolExecutor(max_workers=12) as pool:
        seen = list(pool.map(read, [a, b] * 40))
    expected = {a: "written by ada", b: "written by bob"}
    assert [content for _, content in seen] == [expected[who] for who, _ in seen]


@pytest.mark.parametrize(
    ("who", "scopes", "role", "checks"),
    [
        ("student_a", [ACCESS], "student", 403),
        ("teacher", [ACCESS, INSTRUCTOR], "instructor", 403),
        ("teacher", [ACCESS], "student", 403),  # a token without the scope grants no more
        ("admin", [ACCESS, ADMIN], "admin", 200),
    ],
)
def test_roles_come_from_the_tokens_scopes(
    people: People, who: str, scopes: list[str], role: str, checks: int
) -> None:
    """The role is what the hub's custom:ide:* scopes on the caller's token say."""
    name = getattr(people, who)
    token = people.hub.token(name, scopes)
    me = _json(people.hub.call("/ide/api/auth/me", token))
    assert (me["name"], me["role"]) == (name, role)
    assert people.hub.call("/ide/api/admin/checks", token).status_code == checks


def test_a_student_cannot_mint_an_instructors_token(people: People) -> None:
    """The hub grants a custom scope only to those who hold it."""
    with pytest.raises(AssertionError, match=r"403|400"):
        people.hub.token(people.student_a, [ACCESS, INSTRUCTOR])


def test_tokens_that_sign_nobody_in_are_refused(people: People) -> None:
    """No, forged, expired, other-service and service tokens: refused, saying why."""
    hub, a = people.hub, people.student_a
    assert hub.call("/api/contents", people.tokens[a], scheme="Bearer").status_code == 200

    assert hub.call("/api/contents", None).status_code == 403
    assert hub.call("/ide/api/auth/me", None).status_code == 403

    forged = hub.call("/api/contents", "f" * 32)
    assert forged.status_code == 401
    assert "forged, expired or revoked" in _json(forged)["message"]  # type: ignore[operator]

    page = hub.call("/ide", "f" * 32)  # a page, not an API: the same answer, not a crash
    assert page.status_code == 401, page.text[:300]
    assert "forged, expired or revoked" in page.text

    expiring = hub.token(a, [ACCESS], expires_in=1)
    time.sleep(2.5)
    expired = hub.call("/api/contents", expiring)
    assert expired.status_code == 401, expired.text

    elsewhere = hub.call("/api/contents", hub.token(a, ["access:services!service=other"]))
    assert elsewhere.status_code == 403
    assert ACCESS in str(_json(elsewhere)["message"])

    service = hub.call("/api/contents", hub.other_token)
    assert service.status_code == 403
    assert "service 'other'" in str(_json(service)["message"])
    assert hub.call("/api/contents", hub.admin_token).status_code == 403

    # Writes with a refused token fail the same way (not as a missing XSRF cookie).
    put = hub.call("/api/contents/x.txt", "f" * 32, "PUT", {"type": "file", "format": "text"})
    assert put.status_code == 401


def test_a_browser_signs_in_through_the_hubs_oauth(people: People) -> None:
    """/ide redirects to the hub's OAuth; the cookie it ends with works, with Jupyter's XSRF."""
    hub = people.hub
    anonymous = hub.call("/ide", None)
    assert anonymous.status_code == 302
    assert "/hub/api/oauth2/authorize" in anonymous.headers["Location"]
    assert "client_id=service-ide" in anonymous.headers["Location"]

    name = f"cara-{uuid.uuid4().hex[:6]}"
    browser = requests.Session()
    page = browser_sign_in(browser, f"{hub.service_url}/ide", name)
    assert page.status_code == 200, page.text[:500]
    assert page.url == f"{hub.service_url}/ide", page.url
    config = re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', page.text, re.S)
    assert config is not None, page.text[:500]
    assert json.loads(config.group(1))["userName"] == name

    me = browser.get(f"{hub.service_url}/ide/api/auth/me", timeout=30)
    assert me.status_code == 200 and me.json()["name"] == name, me.text
    model = {"type": "file", "format": "text", "content": "from the browser"}
    url = f"{hub.service_url}/api/contents/browser.txt"
    without = browser.put(url, json=model, timeout=30)
    assert without.status_code == 403, without.text
    xsrf = next(c.value for c in browser.cookies if c.name == "_xsrf" and "services" in c.path)
    saved = browser.put(url, json=model, headers={"X-XSRFToken": xsrf}, timeout=30)
    assert saved.status_code == 201, saved.text
    # The browser's file is that person's: the students' tokens do not reach it.
    assert hub.call("/api/contents/browser.txt", people.tokens[people.student_a]).status_code == 404
    mine = hub.call("/api/contents/browser.txt", hub.token(name, [ACCESS]))
    assert _json(mine)["content"] == "from the browser"


def test_the_extensions_apis_serve_each_caller(people: People) -> None:
    """Courses, AI usage, the judge, tokens and health work per user; kernels are not here."""
    hub, a, b = people.hub, people.student_a, people.student_b
    ta, tb, tt = people.tokens[a], people.tokens[b], people.tokens[people.teacher]

    courses = _json(hub.call("/ide/api/courses", ta))["courses"]
    assert [(c["name"], c["my_role"]) for c in courses] == [("cs101", "student")]  # type: ignore[union-attr,index]
    assert _json(hub.call("/ide/api/courses", tb))["courses"] == []
    taught = _json(hub.call("/ide/api/courses", tt))["courses"]
    assert [(c["name"], c["my_role"]) for c in taught] == [("cs101", "instructor")]  # type: ignore[union-attr,index]

    issued = hub.call("/ide/api/auth/token", ta, "POST", {})
    assert issued.status_code == 409
    assert hub.call("/ide/api/health", ta).status_code == 200

    chat = {"model": "echo", "messages": [{"role": "user", "content": "hello pool"}]}
    answer = hub.call("/ide/api/ai/v1/chat/completions", ta, "POST", chat)
    assert answer.status_code == 200, answer.text
    assert "hello pool" in answer.text
    used_a = hub.call("/ide/api/ai/usage", ta)
    used_b = hub.call("/ide/api/ai/usage", tb)
    assert used_a.status_code == used_b.status_code == 200, (used_a.text, used_b.text)
    assert a in used_a.text and "hello" not in used_b.text and a not in used_b.text

    # Keys are the caller's own, encrypted with the crypt key only the service holds.
    stored = hub.call("/ide/api/ai/keys/openai", ta, "PUT", {"api_key": "sk-ada-own-key"})
    assert stored.status_code == 200, stored.text

    def providers(token: str) -> list[object]:
        keys = _json(hub.call("/ide/api/ai/keys", token))["keys"]
        assert isinstance(keys, list)
        return [k["provider"] for k in keys]

    assert providers(ta) == ["openai"] and providers(tb) == []
    assert hub.call("/ide/api/ai/keys/openai", tb, "DELETE").status_code == 404
    assert providers(ta) == ["openai"]

    run = {
        "language_id": 71,
        "source_code": base64.b64encode(b"print('judged', 6 * 7)").decode(),
    }
    submitted = hub.call(
        "/ide/api/judge/submissions?base64_encoded=true&wait=true", ta, "POST", run
    )
    assert submitted.status_code == 201, submitted.text
    result = _json(submitted)
    assert base64.b64decode(str(result["stdout"])) == b"judged 42\n", result
    token = result["token"]
    assert hub.call(f"/ide/api/judge/submissions/{token}", ta).status_code == 200
    assert hub.call(f"/ide/api/judge/submissions/{token}", tb).status_code == 404

    # Kernels, sessions and terminals are each caller's own (tests/test_service_kernels.py,
    # tests/e2e/test_service_ide.py, tests/test_service_terminals.py); the server's own
    # controls belong to nobody.
    assert hub.call("/api/terminals", ta).json() == []
    assert hub.call("/api/sessions", ta).json() == []
    for method, path in [
        ("POST", "/api/shutdown"),
        ("GET", "/api/config/notebook"),
    ]:
        assert hub.call(path, ta, method, {} if method == "POST" else None).status_code in (
            403,
            404,
        ), (method, path)
    assert hub.call("/api/contents", ta).status_code == 200  # still up
