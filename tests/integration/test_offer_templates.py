"""Offer e-mail templates ("send offer" on the desktop) as a CRUD resource and an admin
page, on SQLite and PostgreSQL: created, listed, changed and deleted through the API and
the page, each write audited; a placeholder the sender would refuse is refused when saved,
named at its field; another tenant's rows are 404, operators read only their hotlines'
templates and write none, clients neither read nor write."""

from __future__ import annotations

import html
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from hotline.core.model import AfterHoursAction, Role
from hotline.store import models as m
from hotline.store.db import Database
from tests.integration.page_helpers import supervisor_form
from tests.integration.test_admin_pages import cookie, field_error
from tests.integration.world import NOW, World, auth

URL = "/api/v1/offer-templates"
SUBJECT = "{company}: скидка для {name}"
BODY = "Здравствуйте, {name}!\nВаш промокод {{NEW10}}.\n{operator}, {hotline}"


def _body(hotline_id: int, **extra: Any) -> dict[str, Any]:
    return {"hotline_id": hotline_id, "name": "Скидка", "subject": SUBJECT, "body": BODY} | extra


async def _rows(db: Database) -> list[m.OfferTemplate]:
    async with db.system_session() as s:
        return list(await s.scalars(sa.select(m.OfferTemplate).order_by(m.OfferTemplate.id)))


async def _audit(db: Database) -> list[tuple[str, str | None]]:
    async with db.system_session() as s:
        rows = await s.execute(
            sa.select(m.AuditEntry.action, m.AuditEntry.entity_id)
            .where(m.AuditEntry.entity == "offer template")
            .order_by(m.AuditEntry.id)
        )
        return [(action, entity_id) for action, entity_id in rows]


async def _second_hotline(db: Database, tenant_id: int) -> int:
    """A hotline of tenant A that its operator does not work on."""
    async with db.system_session() as s:
        row = m.Hotline(
            tenant_id=tenant_id,
            name="alpha second line",
            timezone="Europe/Moscow",
            language="ru",
            greeting_template="Здравствуйте, {company}",
            business_hours={},
            after_hours_action=AfterHoursAction.VOICEMAIL,
            created_at=NOW,
        )
        s.add(row)
        await s.commit()
        return row.id


# -- the API -----------------------------------------------------------------------------------


async def test_given_a_supervisor_when_creating_listing_editing_and_deleting_then_the_db_follows(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    a = world.a
    sup = auth(a.tokens[Role.SUPERVISOR])
    r = await client.post(URL, json=_body(a.ids["hotlines"]), headers=sup)
    assert r.status_code == 201, r.text
    created = r.json()
    tid = created["id"]
    assert created == {
        "id": tid,
        "tenant_id": a.tenant_id,
        "hotline_id": a.ids["hotlines"],
        "name": "Скидка",
        "language": "ru",
        "subject": SUBJECT,
        "body": BODY,
        "active": True,
    }
    listed = await client.get(URL, params={"hotline_id": a.ids["hotlines"]}, headers=sup)
    assert listed.status_code == 200
    assert (listed.json()["total"], listed.json()["items"]) == (1, [created])
    assert (await client.get(f"{URL}/{tid}", headers=sup)).json() == created

    r = await client.patch(
        f"{URL}/{tid}",
        json={"language": "en", "subject": "{company}: a discount", "active": False},
        headers=sup,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["language"], r.json()["subject"], r.json()["active"]) == (
        "en",
        "{company}: a discount",
        False,
    )
    (row,) = await _rows(database)
    assert (row.tenant_id, row.language, row.body, row.active) == (a.tenant_id, "en", BODY, False)

    assert (await client.delete(f"{URL}/{tid}", headers=sup)).status_code == 204
    assert await _rows(database) == []
    assert (await client.get(f"{URL}/{tid}", headers=sup)).status_code == 404
    assert await _audit(database) == [
        ("create", str(tid)),
        ("update", str(tid)),
        ("delete", str(tid)),
    ]


@pytest.mark.parametrize(
    ("field", "text", "words"),
    [
        ("subject", "{name.__class__}", "{name.__class__}: not a placeholder"),
        ("body", "Привет, {0}", "{0}: not a placeholder"),
        ("body", "{name!r}", "{name!r}: not a placeholder"),
        ("body", "{unknown}", "allowed: {company}, {hotline}, {name}, {operator}"),
        ("subject", "скидка {name", "unbalanced braces"),
        ("body", "   ", "must not be empty"),
    ],
)
async def test_given_a_placeholder_the_sender_refuses_when_saved_then_422_names_the_field(
    client: httpx.AsyncClient, world: World, database: Database, field: str, text: str, words: str
) -> None:
    a = world.a
    sup = auth(a.tokens[Role.SUPERVISOR])
    r = await client.post(URL, json=_body(a.ids["hotlines"], **{field: text}), headers=sup)
    assert r.status_code == 422, r.text
    (problem,) = r.json()["details"]
    assert problem["loc"][-1] == field and words in problem["msg"], problem
    assert await _rows(database) == []
    # and the same check when a saved template is changed
    tid = (await client.post(URL, json=_body(a.ids["hotlines"]), headers=sup)).json()["id"]
    r = await client.patch(f"{URL}/{tid}", json={field: text}, headers=sup)
    assert r.status_code == 422 and words in r.json()["details"][0]["msg"]
    (row,) = await _rows(database)
    assert (row.subject, row.body) == (SUBJECT, BODY)


async def test_given_tenants_and_roles_when_using_templates_then_scoped_to_tenant_and_hotlines(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    a, b = world.a, world.b
    own = (
        await client.post(
            URL, json=_body(a.ids["hotlines"]), headers=auth(a.tokens[Role.SUPERVISOR])
        )
    ).json()
    other_line = await _second_hotline(database, a.tenant_id)
    off_line = (
        await client.post(
            URL,
            json=_body(other_line, name="Другая линия"),
            headers=auth(a.tokens[Role.SUPERVISOR]),
        )
    ).json()
    # an admin names the hotline, and with it the tenant
    r = await client.post(
        URL, json=_body(b.ids["hotlines"], name="B"), headers=auth(world.admin_token)
    )
    assert r.status_code == 201, r.text
    foreign = r.json()
    assert foreign["tenant_id"] == b.tenant_id

    # another tenant's supervisor: not there
    b_sup = auth(b.tokens[Role.SUPERVISOR])
    listed = await client.get(URL, headers=b_sup)
    assert [t["id"] for t in listed.json()["items"]] == [foreign["id"]]
    assert (await client.get(f"{URL}/{own['id']}", headers=b_sup)).status_code == 404
    r = await client.patch(f"{URL}/{own['id']}", json={"name": "x"}, headers=b_sup)
    assert r.status_code == 404
    assert (await client.delete(f"{URL}/{own['id']}", headers=b_sup)).status_code == 404
    # nor can they put a template on our hotline
    r = await client.post(URL, json=_body(a.ids["hotlines"]), headers=b_sup)
    assert r.status_code == 422 and r.json()["details"][0]["loc"][-1] == "hotline_id"

    # the operator reads the templates of their hotline only, and writes none
    op = auth(a.tokens[Role.OPERATOR])
    listed = await client.get(URL, headers=op)
    assert listed.status_code == 200
    assert [t["id"] for t in listed.json()["items"]] == [own["id"]]
    assert (await client.get(f"{URL}/{own['id']}", headers=op)).status_code == 200
    assert (await client.get(f"{URL}/{off_line['id']}", headers=op)).status_code == 404
    assert (await client.post(URL, json=_body(a.ids["hotlines"]), headers=op)).status_code == 403
    r = await client.patch(f"{URL}/{own['id']}", json={"name": "x"}, headers=op)
    assert r.status_code == 403
    assert (await client.delete(f"{URL}/{own['id']}", headers=op)).status_code == 403

    # the client: neither
    cl = auth(a.tokens[Role.CLIENT])
    assert (await client.get(URL, headers=cl)).status_code == 403
    assert (await client.get(f"{URL}/{own['id']}", headers=cl)).status_code == 403
    assert (await client.post(URL, json=_body(a.ids["hotlines"]), headers=cl)).status_code == 403
    assert (await client.delete(f"{URL}/{own['id']}", headers=cl)).status_code == 403

    rows = await _rows(database)
    assert [(t.id, t.name) for t in rows] == [
        (own["id"], "Скидка"),
        (off_line["id"], "Другая линия"),
        (foreign["id"], "B"),
    ]
    admin = await client.get(URL, headers=auth(world.admin_token))
    assert admin.json()["total"] == 3


# -- the admin page ----------------------------------------------------------------------------


async def test_given_the_offers_page_when_a_template_is_created_edited_and_deleted_then_the_db_follows(  # noqa: E501
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    a, sup = world.a, world.a.tokens[Role.SUPERVISOR]
    new = await supervisor_form(client, world, "offers/new")
    page = await client.get(f"{new.url}?hotline_id={a.ids['hotlines']}", headers=cookie(sup))
    assert page.status_code == 200
    assert "{name} — имя контакта" in page.text and "Текст письма" in page.text
    form = {
        "hotline_id": str(a.ids["hotlines"]),
        "name": "Скидка",
        "language": "ru",
        "subject": SUBJECT,
        "body": BODY.replace("\n", "\r\n"),  # as browsers send a textarea
        "active": "on",
    }
    r = await new.post(form)
    assert r.status_code == 303, r.text
    (row,) = await _rows(database)
    assert (row.tenant_id, row.hotline_id, row.subject, row.body, row.active) == (
        a.tenant_id,
        a.ids["hotlines"],
        SUBJECT,
        BODY,
        True,
    )
    listed = await client.get(
        f"/t/{a.tenant_id}/admin/offers?hotline_id={a.ids['hotlines']}", headers=cookie(sup)
    )
    assert f'data-id="{row.id}"' in listed.text and "{company}: скидка для {name}" in listed.text
    hotlines = await client.get(f"/t/{a.tenant_id}/admin/hotlines", headers=cookie(sup))
    assert f"/admin/offers?hotline_id={a.ids['hotlines']}" in hotlines.text

    edit = f"/t/{a.tenant_id}/admin/offers/{row.id}"
    shown = await client.get(edit, headers=cookie(sup))
    assert "Ваш промокод {{NEW10}}." in shown.text
    changed = {"name": "Discount", "language": "en", "subject": "Hello {name}"}
    r = await new.post(changed | {"body": "Dear {name},"}, url=edit)
    assert r.status_code == 303, r.text
    (row,) = await _rows(database)
    assert (row.name, row.language, row.subject, row.body, row.active) == (
        "Discount",
        "en",
        "Hello {name}",
        "Dear {name},",
        False,  # the box left unticked
    )
    r = await new.post({}, url=f"{edit}/delete")
    assert r.status_code == 303
    assert await _rows(database) == []
    assert [action for action, _ in await _audit(database)] == ["create", "update", "delete"]


async def test_given_an_unknown_placeholder_on_the_page_when_saved_then_named_at_its_field(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    a, sup = world.a, world.a.tokens[Role.SUPERVISOR]
    new = await supervisor_form(client, world, "offers/new")
    form = {
        "hotline_id": str(a.ids["hotlines"]),
        "name": "Скидка",
        "language": "ru",
        "subject": "Скидка для {client}",
        "body": "{name.__init__.__globals__}",
    }
    r = await new.post(form)
    assert r.status_code == 422
    assert field_error(r.text, "subject").startswith("{client}: not a placeholder (allowed: ")
    assert "{name.__init__.__globals__}: not a placeholder" in field_error(r.text, "body")
    assert 'value="Скидка для {client}"' in r.text  # what was typed is shown again
    assert await _rows(database) == []
    # emptied on edit: an error, not "leave it as it was"
    r = await client.post(URL, json=_body(a.ids["hotlines"]), headers=auth(sup))
    edit = f"/t/{a.tenant_id}/admin/offers/{r.json()['id']}"
    r = await new.post(form | {"subject": "Hi", "body": ""}, url=edit)
    assert r.status_code == 422
    assert "must not be empty" in field_error(r.text, "body")
    (row,) = await _rows(database)
    assert (row.subject, row.body) == (SUBJECT, BODY)


@pytest.mark.parametrize(
    ("locale", "texts"),
    [
        ("ru", ("Шаблоны писем", "Тема письма", "Текст письма")),
        ("en", ("E-mail templates", "Subject", "E-mail text", "{name} — the contact's name")),
    ],
)
async def test_given_roles_and_locales_when_opening_the_offers_page_then_editors_in_their_language(
    client: httpx.AsyncClient, world: World, database: Database, locale: str, texts: tuple[str, ...]
) -> None:
    a = world.a
    async with database.system_session() as s:
        user = await s.get(m.User, a.user_ids[Role.SUPERVISOR])
        assert user is not None
        user.locale = locale
        await s.commit()
    page = await client.get(
        f"/t/{a.tenant_id}/admin/offers/new", headers=cookie(a.tokens[Role.SUPERVISOR])
    )
    assert page.status_code == 200
    for text in texts:
        assert text in html.unescape(page.text), text
    assert "adm." not in page.text and '"f.' not in page.text  # no key left untranslated
    for token in (a.tokens[Role.OPERATOR], a.tokens[Role.CLIENT]):
        for path in ("", "/new"):
            r = await client.get(f"/t/{a.tenant_id}/admin/offers{path}", headers=cookie(token))
            assert r.status_code == 403, path
    r = await client.get(
        f"/t/{world.b.tenant_id}/admin/offers", headers=cookie(a.tokens[Role.SUPERVISOR])
    )
    assert r.status_code == 403
