"""The HTML pages in process: login form, landing per role, tenant and role checks (403),
the wrap-up endpoint's checks.  The browser-level flow is in ``tests/e2e``."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from hotline.core.model import Role
from hotline.store import models as m
from hotline.store.db import Database
from tests.integration.world import World

PASSWORD = "secret-pass"


def cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"hotline_session={token}"}


async def test_given_no_session_when_opening_a_page_then_sent_to_the_login_form(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/", "/desktop", "/t/1/wallboard", "/t/1/reports"):
        r = await client.get(path)
        assert r.status_code == 303, path
        assert r.headers["location"] == f"/login?next={path}"
    form = await client.get("/login")
    assert form.status_code == 200
    assert 'name="password"' in form.text and 'type="password"' in form.text


async def test_given_the_login_form_when_submitted_then_cookie_and_safe_redirect(
    client: httpx.AsyncClient, world: World
) -> None:
    bad = await client.post("/login", data={"login": "alpha-supervisor", "password": "nope"})
    assert bad.status_code == 401
    assert "Неверный логин или пароль" in bad.text
    assert "set-cookie" not in bad.headers
    for target, expected in (("/t/1/reports", "/t/1/reports"), ("//evil.example/x", "/")):
        r = await client.post(
            "/login",
            data={"login": "alpha-supervisor", "password": PASSWORD, "next": target},
        )
        assert r.status_code == 303
        assert r.headers["location"] == expected
        set_cookie = r.headers["set-cookie"].lower()
        assert "hotline_session=" in set_cookie
        assert "httponly" in set_cookie and "samesite=strict" in set_cookie
    client.cookies.clear()


@pytest.mark.parametrize(
    ("role", "where"),
    [
        (Role.OPERATOR, "/desktop"),
        (Role.SUPERVISOR, "/t/{tenant}/wallboard"),
        (Role.CLIENT, "/t/{tenant}/reports"),
    ],
)
async def test_given_a_role_when_landing_then_its_own_page(
    client: httpx.AsyncClient, world: World, role: Role, where: str
) -> None:
    r = await client.get("/", headers=cookie(world.a.tokens[role]))
    assert r.status_code == 303
    assert r.headers["location"] == where.format(tenant=world.a.tenant_id)
    page = await client.get(r.headers["location"], headers=cookie(world.a.tokens[role]))
    assert page.status_code == 200


async def test_given_tenant_pages_when_another_tenant_or_role_asks_then_403(
    client: httpx.AsyncClient, world: World
) -> None:
    a, b = world.a.tenant_id, world.b.tenant_id
    refused = [
        (world.a.tokens[Role.CLIENT], f"/t/{b}/reports"),
        (world.a.tokens[Role.CLIENT], f"/t/{a}/wallboard"),
        (world.a.tokens[Role.SUPERVISOR], f"/t/{b}/wallboard"),
        (world.a.tokens[Role.SUPERVISOR], "/desktop"),
        (world.a.tokens[Role.OPERATOR], f"/t/{a}/wallboard"),
        (world.a.tokens[Role.OPERATOR], f"/t/{a}/reports"),
    ]
    for token, path in refused:
        r = await client.get(path, headers=cookie(token))
        assert r.status_code == 403, path
        assert "Доступ запрещён" in r.text
    for path in (f"/t/{a}/wallboard", f"/t/{b}/wallboard", f"/t/{b}/reports"):
        r = await client.get(path, headers=cookie(world.admin_token))
        assert r.status_code == 200, path


async def test_given_client_reports_when_opened_then_todays_queue_rows(
    client: httpx.AsyncClient, world: World
) -> None:
    r = await client.get(
        f"/t/{world.a.tenant_id}/reports", headers=cookie(world.a.tokens[Role.CLIENT])
    )
    assert r.status_code == 200
    assert f'data-queue="{world.a.ids["queues"]}"' in r.text
    assert f'data-queue="{world.b.ids["queues"]}"' not in r.text


async def test_given_wrap_up_when_posted_wrongly_then_refused_with_reasons(
    client: httpx.AsyncClient, world: World
) -> None:
    body = {"interaction_id": world.b.ids["interactions"], "topic_id": world.b.ids["topics"]}
    operator = cookie(world.a.tokens[Role.OPERATOR])
    no_header = await client.post("/desktop/wrapup", json=body, headers=operator)
    assert no_header.status_code == 403
    assert "X-Requested-With" in no_header.json()["message"]
    csrf = {**operator, "X-Requested-With": "fetch"}
    foreign = await client.post("/desktop/wrapup", json=body, headers=csrf)
    assert foreign.status_code == 404
    # the world's own interaction was never answered by this operator: not theirs either
    own = {"interaction_id": world.a.ids["interactions"], "topic_id": world.a.ids["topics"]}
    assert (await client.post("/desktop/wrapup", json=own, headers=csrf)).status_code == 404
    supervisor = {**cookie(world.a.tokens[Role.SUPERVISOR]), "X-Requested-With": "fetch"}
    assert (await client.post("/desktop/wrapup", json=own, headers=supervisor)).status_code == 403


async def test_given_static_assets_when_fetched_then_served(client: httpx.AsyncClient) -> None:
    for name in ("app.css", "live.js", "desktop.js", "wallboard.js"):
        r = await client.get(f"/static/{name}")
        assert r.status_code == 200, name
        assert len(r.content) > 100


async def test_given_their_interaction_when_wrapping_up_then_stored_and_kinds_checked(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    iid = world.a.ids["interactions"]
    async with database.system_session() as s:
        await s.execute(
            sa.update(m.Interaction)
            .where(m.Interaction.id == iid)
            .values(operator_id=world.a.user_ids[Role.OPERATOR])
        )
        await s.commit()
    csrf = {**cookie(world.a.tokens[Role.OPERATOR]), "X-Requested-With": "fetch"}
    # a topic id given as the outcome: refused, naming the field
    wrong = await client.post(
        "/desktop/wrapup",
        json={"interaction_id": iid, "outcome_id": world.a.ids["topics"]},
        headers=csrf,
    )
    assert wrong.status_code == 422
    assert wrong.json()["message"].startswith("outcome_id:")
    ok = await client.post(
        "/desktop/wrapup",
        json={"interaction_id": iid, "topic_id": world.a.ids["topics"], "notes": "перезвонить"},
        headers=csrf,
    )
    assert ok.status_code == 200, ok.text
    async with database.system_session() as s:
        row = await s.get(m.Interaction, iid)
        assert row is not None
        assert (row.topic_id, row.outcome_id, row.notes) == (
            world.a.ids["topics"],
            None,
            "перезвонить",
        )


async def test_given_an_english_speaking_operator_when_the_desktop_opens_then_in_english(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    async with database.system_session() as s:
        await s.execute(
            sa.update(m.User)
            .where(m.User.id == world.a.user_ids[Role.OPERATOR])
            .values(locale="en")
        )
        await s.commit()
    page = await client.get("/desktop", headers=cookie(world.a.tokens[Role.OPERATOR]))
    assert page.status_code == 200
    assert '<html lang="en">' in page.text
    assert "Operator desktop" in page.text and "Рабочее место" not in page.text
    # the hotline's topics are there for the wrap-up picker
    assert '"Order"' in page.text
