"""Logging in and out: passwords (argon2id), bearer tokens, the page-session cookie and its
CSRF rule, throttling of failed logins, expired and revoked tokens, inactive users.

The world's users all have the password ``secret-pass`` (see ``conftest.password_hash``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from sqlalchemy import select

from hotline.core.model import Role
from hotline.security import token_digest
from hotline.store import models as m
from hotline.store.db import Database
from hotline.web.api.deps import ApiContext
from tests.integration.world import World, auth

PASSWORD = "secret-pass"
SUPERVISOR = "alpha-supervisor"
LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"


async def _login(
    client: httpx.AsyncClient, login: str, password: str, **extra: Any
) -> httpx.Response:
    return await client.post(LOGIN, json={"login": login, "password": password, **extra})


def _cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"hotline_session={token}"}


async def test_given_right_password_when_logging_in_then_bearer_token_opens_me(
    client: httpx.AsyncClient, app_ctx: ApiContext, world: World
) -> None:
    response = await _login(client, SUPERVISOR, PASSWORD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["user"]["login"] == SUPERVISOR
    assert not {"password", "password_hash"} & body["user"].keys()
    assert "set-cookie" not in response.headers  # an API token is not a page session
    expires = dt.datetime.fromisoformat(body["expires_at"])
    ttl = dt.timedelta(seconds=app_ctx.settings.api_token_ttl_seconds)
    assert abs(expires - (dt.datetime.now(dt.UTC) + ttl)) < dt.timedelta(minutes=5)

    me = await client.get(ME, headers=auth(body["token"]))
    assert me.status_code == 200, me.text
    assert (me.json()["id"], me.json()["role"]) == (world.a.user_ids[Role.SUPERVISOR], "supervisor")
    assert (await client.get(ME, headers=auth(body["token"] + "x"))).status_code == 401


async def test_given_wrong_password_or_unknown_login_when_logging_in_then_same_401(
    client: httpx.AsyncClient, world: World
) -> None:
    wrong = await _login(client, SUPERVISOR, "not-the-password")
    unknown = await _login(client, "nobody-here", PASSWORD)
    for response in (wrong, unknown):
        assert response.status_code == 401, response.text
        assert response.json()["error_id"] == "bad_credentials"
        assert "token" not in response.json()
    # the answer does not tell which logins exist
    assert wrong.json()["message"] == unknown.json()["message"]


async def test_given_three_failures_when_logging_in_again_then_429_until_the_window_passes(
    client: httpx.AsyncClient, app_ctx: ApiContext, world: World
) -> None:
    clock = [1000.0]
    app_ctx.monotonic = lambda: clock[0]  # the limiter's window is told in this clock
    for _ in range(3):  # settings fixture: login_max_failures=3
        assert (await _login(client, SUPERVISOR, "guess")).status_code == 401
    throttled = await _login(client, SUPERVISOR, "guess")
    assert throttled.status_code == 429, throttled.text
    assert throttled.json()["error_id"] == "too_many_attempts"
    retry_after = int(throttled.headers["Retry-After"])
    assert 1 <= retry_after <= app_ctx.settings.login_window_seconds + 1
    # while throttled even the right password is refused, so guessing cannot go on
    right = await _login(client, SUPERVISOR, PASSWORD)
    assert (right.status_code, right.json()["error_id"]) == (429, "too_many_attempts")

    clock[0] += retry_after
    assert (await _login(client, SUPERVISOR, PASSWORD)).status_code == 200


async def test_given_failures_spread_over_logins_when_one_address_sprays_then_429(
    client: httpx.AsyncClient, app_ctx: ApiContext, world: World
) -> None:
    """Password spraying: few guesses per login, many logins, one client address."""
    app_ctx.monotonic = lambda: 5000.0
    for i in range(6):  # settings fixture: login_address_max_failures=6
        assert (await _login(client, f"user-{i}", "guess")).status_code == 401
    throttled = await _login(client, "user-x", "guess")
    assert throttled.status_code == 429, throttled.text
    # the address is throttled even for an account nobody guessed at
    assert (await _login(client, SUPERVISOR, PASSWORD)).status_code == 429


async def test_given_two_failures_when_logging_in_right_then_not_throttled(
    client: httpx.AsyncClient, world: World
) -> None:
    """Positive control for the throttle: below the limit the right password works."""
    for _ in range(2):
        assert (await _login(client, SUPERVISOR, "guess")).status_code == 401
    assert (await _login(client, SUPERVISOR, PASSWORD)).status_code == 200


async def test_given_session_login_when_using_the_cookie_then_httponly_strict_and_csrf_checked(
    client: httpx.AsyncClient, app_ctx: ApiContext, world: World
) -> None:
    response = await _login(client, SUPERVISOR, PASSWORD, kind="session")
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    (set_cookie,) = response.headers.get_list("set-cookie")
    parts = [part.strip() for part in set_cookie.split(";")]
    attributes = {part.split("=")[0].lower(): part for part in parts}
    assert attributes["hotline_session"] == f"hotline_session={token}"
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "samesite=strict"
    assert attributes["path"] == "Path=/"
    assert attributes["max-age"] == f"Max-Age={app_ctx.settings.session_ttl_seconds}"
    client.cookies.clear()  # each request below carries exactly the credentials it names

    me = await client.get(ME, headers=_cookie(token))
    assert me.status_code == 200, me.text
    assert me.json()["login"] == SUPERVISOR

    contact = {"name": "Walk-in"}
    bare = await client.post("/api/v1/contacts", json=contact, headers=_cookie(token))
    assert bare.status_code == 403, bare.text
    assert "X-Requested-With" in bare.json()["message"]
    with_header = await client.post(
        "/api/v1/contacts", json=contact,
        headers={**_cookie(token), "X-Requested-With": "XMLHttpRequest"},
    )  # fmt: skip
    assert with_header.status_code == 201, with_header.text
    # the header is a cookie rule only: a bearer token needs none
    bearer = await client.post("/api/v1/contacts", json=contact, headers=auth(token))
    assert bearer.status_code == 201, bearer.text

    logout = await client.post("/api/v1/auth/logout", headers=_cookie(token))
    assert logout.status_code == 403  # logging out by cookie is a write too
    logout = await client.post(
        "/api/v1/auth/logout", headers={**_cookie(token), "X-Requested-With": "XMLHttpRequest"}
    )
    assert logout.status_code == 204
    assert 'hotline_session=""' in logout.headers["set-cookie"]  # the browser drops it
    assert (await client.get(ME, headers=_cookie(token))).status_code == 401


async def test_given_logout_when_reusing_the_token_then_401_and_other_tokens_still_work(
    client: httpx.AsyncClient, world: World
) -> None:
    token = (await _login(client, SUPERVISOR, PASSWORD)).json()["token"]
    assert (await client.get(ME, headers=auth(token))).status_code == 200
    assert (await client.post("/api/v1/auth/logout", headers=auth(token))).status_code == 204
    revoked = await client.get(ME, headers=auth(token))
    assert (revoked.status_code, revoked.json()["error_id"]) == (401, "unauthorized")
    assert revoked.headers["www-authenticate"] == "Bearer"
    # only that token: the same user's other token is untouched
    assert (await client.get(ME, headers=auth(world.a.tokens[Role.SUPERVISOR]))).status_code == 200


async def test_given_expired_token_when_calling_then_401(
    client: httpx.AsyncClient, database: Database, world: World
) -> None:
    now = dt.datetime.now(dt.UTC)
    async with database.system_session() as s:
        for token, expires in (
            ("expired-token", now - dt.timedelta(seconds=1)),
            ("fresh-token", now + dt.timedelta(hours=1)),
        ):
            s.add(m.ApiToken(user_id=world.a.user_ids[Role.SUPERVISOR], kind="api",
                             token_hash=token_digest(token), created_at=now - dt.timedelta(days=1),
                             expires_at=expires))  # fmt: skip
        await s.commit()
    expired = await client.get(ME, headers=auth("expired-token"))
    assert (expired.status_code, expired.json()["error_id"]) == (401, "unauthorized")
    assert (await client.get(ME, headers=auth("fresh-token"))).status_code == 200


async def test_given_inactive_user_when_logging_in_then_401_and_their_tokens_stop(
    client: httpx.AsyncClient, world: World
) -> None:
    supervisor = auth(world.a.tokens[Role.SUPERVISOR])
    operator_token = world.a.tokens[Role.OPERATOR]
    assert (await client.get(ME, headers=auth(operator_token))).status_code == 200
    assert (await _login(client, "alpha-operator", PASSWORD)).status_code == 200

    deactivated = await client.patch(
        f"/api/v1/users/{world.a.user_ids[Role.OPERATOR]}",
        json={"active": False},
        headers=supervisor,
    )
    assert deactivated.status_code == 200, deactivated.text
    refused = await _login(client, "alpha-operator", PASSWORD)
    assert (refused.status_code, refused.json()["error_id"]) == (401, "bad_credentials")
    assert (await client.get(ME, headers=auth(operator_token))).status_code == 401


async def test_given_user_created_over_api_when_stored_then_argon2id_hash_and_password_changes(
    client: httpx.AsyncClient, database: Database, world: World
) -> None:
    supervisor = auth(world.a.tokens[Role.SUPERVISOR])
    created = await client.post(
        "/api/v1/users",
        json={"login": "new-operator", "display_name": "New", "role": "operator",
              "password": "first-pass-1"},
        headers=supervisor,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    async with database.system_session() as s:
        stored = (await s.execute(select(m.User.password_hash).where(
            m.User.login == "new-operator"))).scalar_one()  # fmt: skip
    assert stored.startswith("$argon2id$")
    assert "first-pass-1" not in stored
    assert (await _login(client, "new-operator", "first-pass-1")).status_code == 200

    changed = await client.patch(
        f"/api/v1/users/{created.json()['id']}",
        json={"password": "second-pass-2"},
        headers=supervisor,
    )
    assert changed.status_code == 200, changed.text
    assert (await _login(client, "new-operator", "first-pass-1")).status_code == 401
    assert (await _login(client, "new-operator", "second-pass-2")).status_code == 200
    short = await client.patch(
        f"/api/v1/users/{created.json()['id']}", json={"password": "short"}, headers=supervisor
    )
    assert (short.status_code, short.json()["error_id"]) == (422, "validation_error")
    assert "password" in short.json()["message"]
