"""The installation admin's tenants pages and the tenant switcher, in process against a
real app and database (SQLite and PostgreSQL).

Forms are posted the way a browser posts them (urlencoded, with the page's CSRF token);
what they change is read back from the database, not from the page.
"""

from __future__ import annotations

import html
import re

import httpx
import sqlalchemy as sa

from hotline.core.model import Role
from hotline.store import models as m
from hotline.store.db import Database
from tests.integration.test_admin_pages import cookie, field_error, form_token
from tests.integration.world import World

SWITCH = 'id="tenant-switch"'


def _row(page: str, tenant_id: int) -> dict[str, str]:
    """The cells of the tenants list row of ``tenant_id``, by their ``data-k``."""
    found = re.search(rf'<tr data-id="{tenant_id}"[^>]*>(.*?)</tr>', page, re.S)
    assert found, f"no row for tenant {tenant_id}"
    cells = re.findall(r'<td data-k="(\w+)"[^>]*>(.*?)</td>', found.group(1), re.S)
    return {k: re.sub(r"<[^>]+>", "", html.unescape(v)).strip() for k, v in cells}


async def test_given_the_admin_when_creating_and_renaming_a_tenant_then_stored_and_audited(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    admin = world.admin_token
    listed = await client.get("/admin/tenants", headers=cookie(admin))
    assert listed.status_code == 200
    # the seeded tenants: one hotline each; one operator each (supervisor, client not counted)
    assert _row(listed.text, world.a.tenant_id) == {
        "name": "Tenant alpha",
        "slug": "alpha",
        "hotlines": "1",
        "operators": "1",
    }
    new = "/admin/tenants/new"
    csrf = await form_token(client, new, admin)
    r = await client.post(
        new, data={"csrf": csrf, "name": "ООО Ромашка", "slug": "romashka"}, headers=cookie(admin)
    )
    assert r.status_code == 303, r.text
    async with database.system_session() as s:
        tenant = (
            await s.execute(sa.select(m.Tenant).where(m.Tenant.slug == "romashka"))
        ).scalar_one()
        created = (
            await s.execute(
                sa.select(m.AuditEntry).where(
                    m.AuditEntry.entity == "tenant", m.AuditEntry.action == "create"
                )
            )
        ).scalar_one()
        admin_id = await s.scalar(sa.select(m.User.id).where(m.User.login == "root-admin"))
    assert r.headers["location"] == f"/admin/tenants?saved={tenant.id}"
    assert tenant.name == "ООО Ромашка"
    assert (created.entity_id, created.tenant_id, created.user_id) == (
        str(tenant.id),
        tenant.id,
        admin_id,
    )
    listed = await client.get(r.headers["location"], headers=cookie(admin))
    assert 'id="saved"' in listed.text
    assert _row(listed.text, tenant.id) == {
        "name": "ООО Ромашка",
        "slug": "romashka",
        "hotlines": "0",
        "operators": "0",
    }
    assert f'href="/t/{tenant.id}/admin/hotlines"' in listed.text
    # the edit form: the name changes, the slug is shown but not offered for change
    edit = f"/admin/tenants/{tenant.id}"
    form = await client.get(edit, headers=cookie(admin))
    assert 'id="f-name"' in form.text and 'name="slug"' not in form.text
    assert '<code id="f-slug">romashka</code>' in form.text
    csrf = await form_token(client, edit, admin)
    r = await client.post(
        edit, data={"csrf": csrf, "name": "АО Ромашка", "slug": "hijack"}, headers=cookie(admin)
    )
    assert r.status_code == 303, r.text
    # an emptied name is the schema's error at the field, and nothing changes
    r = await client.post(edit, data={"csrf": csrf, "name": " "}, headers=cookie(admin))
    assert r.status_code == 422
    assert field_error(r.text, "name")
    # without the page's token nothing is written
    r = await client.post(edit, data={"csrf": "0" * 64, "name": "Forged"}, headers=cookie(admin))
    assert r.status_code == 403
    async with database.system_session() as s:
        row = await s.get(m.Tenant, tenant.id)
        assert row is not None
        assert (row.name, row.slug) == ("АО Ромашка", "romashka")
        updated = (
            await s.execute(
                sa.select(m.AuditEntry).where(
                    m.AuditEntry.entity == "tenant", m.AuditEntry.action == "update"
                )
            )
        ).scalar_one()
    assert (updated.entity_id, updated.details) == (str(tenant.id), {"fields": ["name"]})
    assert (await client.get("/admin/tenants/999999", headers=cookie(admin))).status_code == 404


async def test_given_a_taken_slug_when_a_tenant_is_created_then_the_error_is_at_the_slug(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    admin = world.admin_token
    new = "/admin/tenants/new"
    csrf = await form_token(client, new, admin)
    r = await client.post(
        new, data={"csrf": csrf, "name": "Alpha again", "slug": "alpha"}, headers=cookie(admin)
    )
    assert r.status_code == 422
    assert "другой компании" in field_error(r.text, "slug")
    assert 'value="Alpha again"' in r.text  # the input is kept
    # a slug the schema refuses is shown at the same field
    r = await client.post(
        new, data={"csrf": csrf, "name": "Bad", "slug": "Не латиница"}, headers=cookie(admin)
    )
    assert r.status_code == 422
    assert "pattern" in field_error(r.text, "slug")
    async with database.system_session() as s:
        names = set(await s.scalars(sa.select(m.Tenant.name)))
    assert names == {"Tenant alpha", "Tenant bravo"}


async def test_given_other_roles_when_opening_the_tenants_pages_then_403(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    a = world.a
    for role in (Role.SUPERVISOR, Role.CLIENT, Role.OPERATOR):
        token = a.tokens[role]
        for path in (
            "/admin/tenants",
            "/admin/tenants/new",
            f"/admin/tenants/{a.tenant_id}",
            f"/admin/tenants/switch?tenant_id={world.b.tenant_id}",
        ):
            r = await client.get(path, headers=cookie(token))
            assert r.status_code == 403, (role, path)
    # a supervisor's own token on a tenant post does not pass the role check either
    csrf = await form_token(
        client, f"/t/{a.tenant_id}/admin/hotlines/new", a.tokens[Role.SUPERVISOR]
    )
    r = await client.post(
        "/admin/tenants/new",
        data={"csrf": csrf, "name": "Mine", "slug": "mine"},
        headers=cookie(a.tokens[Role.SUPERVISOR]),
    )
    assert r.status_code == 403
    async with database.system_session() as s:
        assert await s.scalar(sa.select(sa.func.count()).select_from(m.Tenant)) == 2
    r = await client.get("/admin/tenants")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


async def test_given_the_switcher_when_shown_then_only_to_admins_and_it_keeps_the_section(
    client: httpx.AsyncClient, world: World
) -> None:
    a, b = world.a.tenant_id, world.b.tenant_id
    admin = await client.get(f"/t/{a}/admin/queues", headers=cookie(world.admin_token))
    assert admin.status_code == 200
    assert SWITCH in admin.text and 'href="/admin/tenants"' in admin.text
    assert f'<option value="{a}" selected>Tenant alpha</option>' in admin.text
    assert f'<option value="{b}">Tenant bravo</option>' in admin.text
    assert 'name="section" value="queues"' in admin.text
    sup = await client.get(f"/t/{a}/admin/queues", headers=cookie(world.a.tokens[Role.SUPERVISOR]))
    assert sup.status_code == 200
    assert SWITCH not in sup.text and "/admin/tenants" not in sup.text
    assert "Tenant bravo" not in sup.text
    # switching: to the same section of the chosen tenant; its hotlines when none is given
    switch = "/admin/tenants/switch"
    r = await client.get(
        f"{switch}?tenant_id={b}&section=queues", headers=cookie(world.admin_token)
    )
    assert (r.status_code, r.headers["location"]) == (303, f"/t/{b}/admin/queues")
    r = await client.get(f"{switch}?tenant_id={b}", headers=cookie(world.admin_token))
    assert (r.status_code, r.headers["location"]) == (303, f"/t/{b}/admin/hotlines")
    r = await client.get(
        f"{switch}?tenant_id={b}&section=../../x", headers=cookie(world.admin_token)
    )
    assert r.headers["location"] == f"/t/{b}/admin/hotlines"
    for bad in ("999999", "x", ""):
        r = await client.get(f"{switch}?tenant_id={bad}", headers=cookie(world.admin_token))
        assert r.status_code == 404, bad
    # the tenants list page itself offers the switcher too, with nothing chosen
    listed = await client.get("/admin/tenants", headers=cookie(world.admin_token))
    assert SWITCH in listed.text and "selected disabled" in listed.text


async def test_given_the_wallboard_when_an_admin_opens_it_then_the_way_to_other_tenants_is_there(
    client: httpx.AsyncClient, world: World
) -> None:
    a = world.a.tenant_id
    admin = await client.get(f"/t/{a}/wallboard", headers=cookie(world.admin_token))
    assert admin.status_code == 200 and 'id="nav-tenants"' in admin.text
    sup = await client.get(f"/t/{a}/wallboard", headers=cookie(world.a.tokens[Role.SUPERVISOR]))
    assert sup.status_code == 200 and 'id="nav-tenants"' not in sup.text
