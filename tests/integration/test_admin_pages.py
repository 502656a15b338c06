"""Admin pages, the recordings list and audio, the flow editor page and the client portal,
in process against a real app and database (SQLite and PostgreSQL).

Forms are posted the way a browser posts them (urlencoded, with the page's CSRF token);
what they change is read back from the database, not from the page.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from hotline.core.model import AfterHoursAction, Role
from hotline.security import token_digest
from hotline.settings import Settings
from hotline.store import models as m
from hotline.store.db import Database
from tests.integration.world import NOW, World

WAV_HEADER = b"RIFF"


def cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"hotline_session={token}"}


async def form_token(client: httpx.AsyncClient, path: str, token: str) -> str:
    page = await client.get(path, headers=cookie(token))
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text)
    assert found, "the form carries no CSRF token"
    return found.group(1)


def field_error(page: str, name: str) -> str:
    """The text of the error paragraph shown under form field ``name``."""
    found = re.search(rf'<p class="error field-error" id="err-{name}">(.*?)</p>', page, re.S)
    assert found, f"no error shown next to {name}"
    return html.unescape(found.group(1))


async def test_given_roles_and_tenants_when_opening_admin_pages_then_only_editors_of_own_tenant(
    client: httpx.AsyncClient, world: World
) -> None:
    a, b = world.a.tenant_id, world.b.tenant_id
    sup = world.a.tokens[Role.SUPERVISOR]
    page = await client.get(f"/t/{a}/admin/hotlines", headers=cookie(sup))
    assert page.status_code == 200
    assert "alpha line" in page.text and "bravo line" not in page.text
    for key in ("hotlines", "queues", "skills", "users", "topics"):
        listed = await client.get(f"/t/{a}/admin/{key}", headers=cookie(sup))
        assert listed.status_code == 200, key
        assert "bravo" not in listed.text, key
        new = await client.get(f"/t/{a}/admin/{key}/new", headers=cookie(sup))
        assert new.status_code == 200, key
        label = "f-display_name" if key == "users" else "f-name"
        assert 'name="csrf"' in new.text and f'for="{label}"' in new.text, key
    users = await client.get(f"/t/{a}/admin/users", headers=cookie(sup))
    assert "alpha-operator" in users.text and "bravo-operator" not in users.text
    refused = [
        (world.a.tokens[Role.CLIENT], f"/t/{a}/admin/hotlines"),
        (world.a.tokens[Role.OPERATOR], f"/t/{a}/admin/queues"),
        (sup, f"/t/{b}/admin/hotlines"),
        (sup, f"/t/{b}/admin/hotlines/{world.b.ids['hotlines']}"),
        (world.a.tokens[Role.CLIENT], f"/t/{a}/admin/hotlines/{world.a.ids['hotlines']}/flow"),
    ]
    for token, path in refused:
        r = await client.get(path, headers=cookie(token))
        assert r.status_code == 403, path
    # a row of tenant B looked up under tenant A's path is simply not there
    cross = await client.get(
        f"/t/{a}/admin/hotlines/{world.b.ids['hotlines']}", headers=cookie(sup)
    )
    assert cross.status_code == 404
    assert "bravo line" not in cross.text
    admin = await client.get(f"/t/{b}/admin/hotlines", headers=cookie(world.admin_token))
    assert admin.status_code == 200 and "bravo line" in admin.text
    assert (await client.get(f"/t/{a}/admin/nothing", headers=cookie(sup))).status_code == 404


async def test_given_the_queue_form_when_posted_then_the_row_is_created_and_audited(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    a, sup = world.a.tenant_id, world.a.tokens[Role.SUPERVISOR]
    new = f"/t/{a}/admin/queues/new"
    csrf = await form_token(client, new, sup)
    form = {
        "csrf": csrf,
        "hotline_id": str(world.a.ids["hotlines"]),
        "name": "VIP",
        "priority": "5",
        "strategy": "best_skill",
        "skill_requirement": "english >= 5",
        "service_level_target": "0.9",
        "service_level_seconds": "15",
        "short_abandon_seconds": "5",
        "wrap_up_seconds": "45",
        "callback_threshold_seconds": "120",
        "max_wait_seconds": "",
        "overflow_action": "",
        "overflow_target": "",
    }
    r = await client.post(new, data=form, headers=cookie(sup))
    assert r.status_code == 303, r.text
    async with database.system_session() as s:
        queue = (await s.execute(sa.select(m.Queue).where(m.Queue.name == "VIP"))).scalar_one()
        audit = (
            await s.execute(sa.select(m.AuditEntry).where(m.AuditEntry.entity == "queue"))
        ).scalar_one()
    assert r.headers["location"] == f"/t/{a}/admin/queues?saved={queue.id}"
    assert (queue.tenant_id, queue.hotline_id) == (a, world.a.ids["hotlines"])
    assert (queue.priority, queue.strategy.value, queue.skill_requirement) == (
        5,
        "best_skill",
        "english >= 5",
    )
    assert (queue.service_level_target, queue.wrap_up_seconds, queue.max_wait_seconds) == (
        0.9,
        45,
        None,
    )
    assert (audit.action, audit.entity_id, audit.user_id) == (
        "create",
        str(queue.id),
        world.a.user_ids[Role.SUPERVISOR],
    )
    listed = await client.get(r.headers["location"], headers=cookie(sup))
    assert 'id="saved"' in listed.text and "VIP" in listed.text
    # without the page's token nothing is written
    r = await client.post(
        new, data={**form, "csrf": "0" * 64, "name": "Forged"}, headers=cookie(sup)
    )
    assert r.status_code == 403
    # a hotline of another tenant cannot be chosen by editing the form
    r = await client.post(
        new,
        data={**form, "name": "Foreign", "hotline_id": str(world.b.ids["hotlines"])},
        headers=cookie(sup),
    )
    assert r.status_code == 422
    assert "no hotline" in field_error(r.text, "hotline_id")
    async with database.system_session() as s:
        names = set(await s.scalars(sa.select(m.Queue.name)))
    assert "Forged" not in names and "Foreign" not in names


async def test_given_bad_hotline_input_when_posted_then_errors_next_to_fields_and_nothing_changes(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    a, sup = world.a.tenant_id, world.a.tokens[Role.SUPERVISOR]
    edit = f"/t/{a}/admin/hotlines/{world.a.ids['hotlines']}"
    csrf = await form_token(client, edit, sup)
    form = {
        "csrf": csrf,
        "name": "alpha line",
        "numbers": "+74950000001",
        "timezone": "Mars/Olympus",
        "language": "ru",
        "greeting_template": "Привет, я {nobody}",
        "hours_mon": "09:00-25:00",
        "after_hours_action": "voicemail",
        "recording_retention_days": "90",
    }
    r = await client.post(edit, data=form, headers=cookie(sup))
    assert r.status_code == 422
    assert "{nobody}: unknown placeholder" in field_error(r.text, "greeting_template")
    assert "Mars/Olympus" in field_error(r.text, "timezone")
    assert 'value="Привет, я {nobody}"' in html.unescape(r.text)  # the input is kept
    assert 'aria-invalid="true"' in r.text
    # the zone is right now: the hours are checked and their fault shown at the hours
    r = await client.post(
        edit,
        data={**form, "timezone": "Europe/Moscow", "greeting_template": "Добрый день"},
        headers=cookie(sup),
    )
    assert r.status_code == 422
    assert "weekly.mon" in field_error(r.text, "business_hours")
    async with database.system_session() as s:
        row = await s.get(m.Hotline, world.a.ids["hotlines"])
        assert row is not None
        assert (row.timezone, row.business_hours) == ("Europe/Moscow", {})
        assert row.greeting_template.startswith("Здравствуйте")


async def test_given_the_hotline_form_when_greeting_and_hours_saved_then_stored_as_the_api_would(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    a, sup = world.a.tenant_id, world.a.tokens[Role.SUPERVISOR]
    hotline_id = world.a.ids["hotlines"]
    async with database.system_session() as s:
        row = await s.get(m.Hotline, hotline_id)
        assert row is not None
        row.business_hours = {"timezone": "Europe/Moscow", "special_days": {"2026-12-31": []}}
        await s.commit()
    edit = f"/t/{a}/admin/hotlines/{hotline_id}"
    csrf = await form_token(client, edit, sup)
    r = await client.post(
        edit,
        data={
            "csrf": csrf,
            "name": "Альфа",
            "numbers": "+74950000011\n+74950000012",
            "timezone": "Europe/Moscow",
            "language": "ru",
            "greeting_template": "Добрый день, {company}, меня зовут {operator}",
            "hours_mon": "09:00-13:00, 14:00-18:00",
            "hours_sat": "10:00-16:00",
            "holidays": "2027-01-01\n2027-01-07",
            "after_hours_action": "callback",
            "recording_enabled": "on",
            "recording_retention_days": "30",
        },
        headers=cookie(sup),
    )
    assert r.status_code == 303, r.text
    async with database.system_session() as s:
        row = await s.get(m.Hotline, hotline_id)
        assert row is not None
        numbers = sorted(n.number for n in row.numbers)
        assert row.greeting_template == "Добрый день, {company}, меня зовут {operator}"
        assert row.business_hours == {
            "timezone": "Europe/Moscow",
            "weekly": {"mon": ["09:00-13:00", "14:00-18:00"], "sat": ["10:00-16:00"]},
            "holidays": ["2027-01-01", "2027-01-07"],
            "special_days": {"2026-12-31": []},  # not on the form, kept
        }
        assert (row.name, row.after_hours_action.value, row.recording_retention_days) == (
            "Альфа",
            "callback",
            30,
        )
        assert (row.topic_required, row.recording_enabled) == (False, True)
    assert numbers == ["+74950000011", "+74950000012"]
    shown = await client.get(edit, headers=cookie(sup))
    assert 'value="09:00-13:00, 14:00-18:00"' in shown.text


async def test_given_the_user_form_when_an_operator_is_created_then_hotlines_and_skill_levels_set(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    a, sup = world.a.tenant_id, world.a.tokens[Role.SUPERVISOR]
    new = f"/t/{a}/admin/users/new"
    csrf = await form_token(client, new, sup)
    base = {
        "csrf": csrf,
        "login": "vadim",
        "display_name": "Вадим",
        "role": "operator",
        "locale": "ru",
        "active": "on",
        "hotline_ids": str(world.a.ids["hotlines"]),
    }
    r = await client.post(
        new, data={**base, "password": "short", "skill:english": "11"}, headers=cookie(sup)
    )
    assert r.status_code == 422
    assert "at least 8" in field_error(r.text, "password")
    assert "level 11" in field_error(r.text, "skills") or "11" in field_error(r.text, "skills")
    r = await client.post(
        new, data={**base, "password": "long-enough-1", "skill:english": "7"}, headers=cookie(sup)
    )
    assert r.status_code == 303, r.text
    async with database.system_session() as s:
        user = (await s.execute(sa.select(m.User).where(m.User.login == "vadim"))).scalar_one()
        assert (user.tenant_id, user.role, user.display_name) == (a, Role.OPERATOR, "Вадим")
        assert [link.hotline_id for link in user.hotline_links] == [world.a.ids["hotlines"]]
        assert {link.skill.name: link.level for link in user.skill_links} == {"english": 7}
    # editing without a password keeps it; unchecking the hotline removes the assignment
    edit = f"/t/{a}/admin/users/{user.id}"
    csrf = await form_token(client, edit, sup)
    r = await client.post(
        edit,
        data={"csrf": csrf, "display_name": "Вадим П.", "locale": "en", "skill:english": "3"},
        headers=cookie(sup),
    )
    assert r.status_code == 303, r.text
    async with database.system_session() as s:
        again = (await s.execute(sa.select(m.User).where(m.User.login == "vadim"))).scalar_one()
        assert (again.display_name, again.locale, again.active) == ("Вадим П.", "en", False)
        assert again.password_hash == user.password_hash
        assert again.hotline_links == []
        assert {link.skill.name: link.level for link in again.skill_links} == {"english": 3}


async def test_given_a_duplicate_skill_when_posted_then_a_form_error_not_a_500(
    client: httpx.AsyncClient, world: World
) -> None:
    a, sup = world.a.tenant_id, world.a.tokens[Role.SUPERVISOR]
    new = f"/t/{a}/admin/skills/new"
    csrf = await form_token(client, new, sup)
    r = await client.post(
        new, data={"csrf": csrf, "name": "english", "description": ""}, headers=cookie(sup)
    )
    assert r.status_code == 422
    assert 'id="err-_form"' in r.text
    r = await client.post(
        new, data={"csrf": csrf, "name": "English!", "description": ""}, headers=cookie(sup)
    )
    assert r.status_code == 422
    assert "pattern" in field_error(r.text, "name")


# -- recordings ------------------------------------------------------------------------------


async def _recording(
    db: Database, data_dir: Path, tenant_id: int, hotline_id: int, at: dt.datetime, tag: bytes
) -> tuple[int, bytes]:
    path = data_dir / "recordings" / str(tenant_id) / f"{tag.decode()}.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    content = WAV_HEADER + b"-" + tag * 200
    path.write_bytes(content)
    async with db.system_session() as s:
        row = m.Recording(
            tenant_id=tenant_id,
            hotline_id=hotline_id,
            path=str(path),
            started_at=at,
            duration_seconds=65.0,
            channels=2,
            size_bytes=len(content),
        )
        s.add(row)
        await s.commit()
        return row.id, content


async def test_given_recordings_of_two_tenants_when_listed_and_played_then_only_own_and_never_bytes(
    client: httpx.AsyncClient, world: World, database: Database, settings: Settings
) -> None:
    a, b = world.a, world.b
    rec_a, bytes_a = await _recording(
        database, settings.data_dir, a.tenant_id, a.ids["hotlines"], NOW, b"alpha"
    )
    rec_b, bytes_b = await _recording(
        database, settings.data_dir, b.tenant_id, b.ids["hotlines"], NOW, b"bravo"
    )
    for role in (Role.SUPERVISOR, Role.CLIENT):
        token = a.tokens[role]
        page = await client.get(f"/t/{a.tenant_id}/recordings", headers=cookie(token))
        assert page.status_code == 200, role
        assert f"/api/v1/recordings/{rec_a}/audio" in page.text
        assert f"/api/v1/recordings/{rec_b}/audio" not in page.text
        own = await client.get(f"/api/v1/recordings/{rec_a}/audio", headers=cookie(token))
        assert own.status_code == 200 and own.content == bytes_a
        assert own.headers["content-type"] == "audio/wav"
        foreign = await client.get(f"/api/v1/recordings/{rec_b}/audio", headers=cookie(token))
        assert foreign.status_code == 404, role
        assert b"bravo" not in foreign.content
        assert (
            await client.get(f"/t/{b.tenant_id}/recordings", headers=cookie(token))
        ).status_code == 403
    # operators may not hear recordings at all (not even their tenant's)
    op = await client.get(
        f"/api/v1/recordings/{rec_a}/audio", headers=cookie(a.tokens[Role.OPERATOR])
    )
    assert op.status_code == 403 and b"alpha" not in op.content
    # seeking: a Range request gets just those bytes
    part = await client.get(
        f"/api/v1/recordings/{rec_b}/audio",
        headers={**cookie(b.tokens[Role.SUPERVISOR]), "Range": "bytes=0-9"},
    )
    assert part.status_code == 206
    assert part.content == bytes_b[:10]
    # no session at all
    assert (await client.get(f"/api/v1/recordings/{rec_a}/audio")).status_code == 401


async def test_given_a_row_pointing_outside_the_recordings_dir_when_played_then_404(
    client: httpx.AsyncClient, world: World, database: Database, settings: Settings
) -> None:
    secret = settings.data_dir / "secret.txt"
    secret.write_bytes(b"top secret")
    async with database.system_session() as s:
        row = m.Recording(
            tenant_id=world.a.tenant_id,
            hotline_id=world.a.ids["hotlines"],
            path=str(settings.data_dir / "recordings" / ".." / "secret.txt"),
            started_at=NOW,
            duration_seconds=1.0,
            size_bytes=10,
        )
        s.add(row)
        await s.commit()
    r = await client.get(f"/api/v1/recordings/{row.id}/audio", headers=cookie(world.admin_token))
    assert r.status_code == 404
    assert b"top secret" not in r.content


async def test_given_filters_when_listing_recordings_then_hotline_dates_and_operator_narrow(
    client: httpx.AsyncClient, world: World, database: Database, settings: Settings
) -> None:
    a = world.a
    # 2026-11-23 09:00 UTC is 12:00 in Moscow; the day before is 2026-11-22 (Moscow)
    today, _ = await _recording(
        database, settings.data_dir, a.tenant_id, a.ids["hotlines"], NOW, b"t"
    )
    before, _ = await _recording(
        database,
        settings.data_dir,
        a.tenant_id,
        a.ids["hotlines"],
        NOW - dt.timedelta(days=1),
        b"y",
    )
    async with database.system_session() as s:  # today's was answered by the operator
        interaction = await s.get(m.Interaction, a.ids["interactions"])
        assert interaction is not None
        interaction.operator_id = a.user_ids[Role.OPERATOR]
        (await s.get(m.Recording, today)).interaction_id = interaction.id  # type: ignore[union-attr]
        await s.commit()
    sup = cookie(a.tokens[Role.SUPERVISOR])
    base = f"/t/{a.tenant_id}/recordings"

    async def shown(query: str) -> set[int]:
        r = await client.get(f"{base}?{query}", headers=sup)
        assert r.status_code == 200, r.text
        return {int(x) for x in re.findall(r'data-recording="(\d+)"', r.text)}

    assert await shown("") == {today, before}
    assert await shown("date_from=2026-11-23&date_to=2026-11-23") == {today}
    assert await shown("date_to=2026-11-22") == {before}
    assert await shown(f"operator_id={a.user_ids[Role.OPERATOR]}") == {today}
    assert await shown(f"hotline_id={a.ids['hotlines']}") == {today, before}
    api = await client.get(
        "/api/v1/recordings",
        params={"started_from": "2026-11-23T00:00:00+03:00"},
        headers=sup,
    )
    assert [r["id"] for r in api.json()["items"]] == [today]
    bad = await client.get(f"{base}?date_from=23.11.2026", headers=sup)
    assert bad.status_code == 422
    assert field_error(bad.text, "date_from")


# -- flow editor page and portal ---------------------------------------------------------------


async def test_given_the_flow_page_when_opened_then_versions_and_document_shown(
    client: httpx.AsyncClient, world: World
) -> None:
    a, sup = world.a, world.a.tokens[Role.SUPERVISOR]
    path = f"/t/{a.tenant_id}/admin/hotlines/{a.ids['hotlines']}/flow"
    empty = await client.get(path, headers=cookie(sup))
    assert empty.status_code == 200
    assert f"&#34;queue&#34;: {a.ids['queues']}" in empty.text  # the starter flow's queue
    document = {
        "start": "hello",
        "nodes": {"hello": {"type": "queue", "queue": a.ids["queues"]}},
    }
    saved = await client.post(
        f"/api/v1/hotlines/{a.ids['hotlines']}/flows",
        json={"document": document, "comment": "first", "publish": True},
        headers={"Authorization": f"Bearer {sup}"},
    )
    assert saved.status_code == 201, saved.text
    page = await client.get(path, headers=cookie(sup))
    assert 'data-version="1"' in page.text and "first" in page.text
    assert "&#34;hello&#34;" in page.text
    foreign = f"/t/{a.tenant_id}/admin/hotlines/{world.b.ids['hotlines']}/flow"
    assert (await client.get(foreign, headers=cookie(sup))).status_code == 404


@pytest.mark.parametrize("role", [Role.CLIENT, Role.SUPERVISOR])
async def test_given_the_portal_when_opened_then_own_hotlines_only(
    client: httpx.AsyncClient, world: World, role: Role, app_ctx: Any
) -> None:
    app_ctx.clock = lambda: NOW + dt.timedelta(hours=1)  # "today" is the seeded day
    token = world.a.tokens[role]
    page = await client.get(f"/t/{world.a.tenant_id}/portal", headers=cookie(token))
    assert page.status_code == 200
    assert "alpha line" in page.text and "bravo line" not in page.text
    # the seeded interaction arrived today and is still waiting in the queue
    assert re.search(r'data-k="offered">1<', page.text), page.text
    other = await client.get(f"/t/{world.b.tenant_id}/portal", headers=cookie(token))
    assert other.status_code == 403


async def test_given_a_site_supervisor_when_a_recording_is_of_another_hotline_then_not_served(
    client: httpx.AsyncClient, world: World, database: Database, settings: Settings
) -> None:
    a = world.a
    async with database.system_session() as s:
        other = m.Hotline(
            tenant_id=a.tenant_id,
            name="alpha second line",
            timezone="Europe/Moscow",
            greeting_template="{operator}",
            after_hours_action=AfterHoursAction.VOICEMAIL,
            created_at=NOW,
        )
        s.add(other)
        await s.flush()
        site = m.User(
            tenant_id=a.tenant_id,
            login="alpha-site",
            display_name="site",
            role=Role.SUPERVISOR,
            password_hash="x",
            capacity={},
            created_at=NOW,
        )
        site.hotline_links = [m.UserHotline(hotline_id=other.id)]
        s.add(site)
        await s.flush()
        s.add(
            m.ApiToken(
                user_id=site.id,
                token_hash=token_digest("token-site"),
                kind="session",
                created_at=NOW,
                expires_at=NOW + dt.timedelta(days=3650),
            )
        )
        await s.commit()
        other_id = other.id
    main, main_bytes = await _recording(
        database, settings.data_dir, a.tenant_id, a.ids["hotlines"], NOW, b"main"
    )
    mine, mine_bytes = await _recording(
        database, settings.data_dir, a.tenant_id, other_id, NOW, b"mine"
    )
    page = await client.get(f"/t/{a.tenant_id}/recordings", headers=cookie("token-site"))
    assert page.status_code == 200
    assert {int(x) for x in re.findall(r'data-recording="(\d+)"', page.text)} == {mine}
    assert "alpha line" not in page.text  # not even as a filter option
    hidden = await client.get(f"/api/v1/recordings/{main}/audio", headers=cookie("token-site"))
    assert hidden.status_code == 404 and main_bytes not in hidden.content
    own = await client.get(f"/api/v1/recordings/{mine}/audio", headers=cookie("token-site"))
    assert own.status_code == 200 and own.content == mine_bytes
