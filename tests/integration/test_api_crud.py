"""The CRUD API end to end, on SQLite and PostgreSQL: every resource created, read, listed,
changed and deleted by an admin and by a tenant's supervisor; each write audited; bad input
refused with a 422 that names the field; unknown ids 404; duplicates 409; pages that add up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from hotline.core.model import EventType, Role
from hotline.store import models as m
from hotline.store.db import Database
from tests.integration.world import NOW, World, auth

HOURS = {"weekly": {"mon": ["09:00-18:00"], "fri": ["09:00-16:00"]}, "holidays": ["2027-01-01"]}
GREETING = "Добрый день, {company}, меня зовут {operator}"
PASSWORD = "operator-pass-1"
#: the audit ``entity`` of each resource path
ENTITY = {
    "tenants": "tenant", "hotlines": "hotline", "queues": "queue", "skills": "skill",
    "users": "user", "topics": "topic", "scripts": "script",
    "kb-articles": "knowledge-base article", "contacts": "contact",
}  # fmt: skip
UNKNOWN_ID = 999_999


@dataclass
class Caller:
    """Who calls: their headers, the ``tenant_id`` they must name when creating (admins
    only) and their user id, to find their audit entries."""

    headers: dict[str, str]
    owner: dict[str, int]
    user_id: int


async def _admin_id(database: Database) -> int:
    async with database.system_session() as s:
        found = await s.execute(select(m.User.id).where(m.User.role == Role.ADMIN))
        return int(found.scalar_one())


async def _caller(database: Database, world: World, name: str) -> Caller:
    if name == "admin":
        return Caller(
            auth(world.admin_token), {"tenant_id": world.a.tenant_id}, await _admin_id(database)
        )
    return Caller(auth(world.a.tokens[Role.SUPERVISOR]), {}, world.a.user_ids[Role.SUPERVISOR])


async def _audit(database: Database, **where: Any) -> list[m.AuditEntry]:
    async with database.system_session() as s:
        query = select(m.AuditEntry).filter_by(**where).order_by(m.AuditEntry.id)
        return list((await s.execute(query)).scalars())


async def _count(database: Database, model: type[m.Base]) -> int:
    async with database.system_session() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def _created(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    response = await client.post(f"/api/v1/{path}", json=body, headers=headers)
    assert response.status_code == 201, (path, response.text)
    created: dict[str, Any] = response.json()
    return created


# -- the full life cycle of each resource -----------------------------------------------------

#: (path, body of the POST from the ids created so far, body of the PATCH)
Body = Callable[[Caller, dict[str, int]], dict[str, Any]]
LIFE_CYCLE: list[tuple[str, Body, dict[str, Any]]] = [
    (
        "hotlines",
        lambda c, ids: {**c.owner, "name": "Support", "timezone": "Europe/Moscow",
                        "numbers": ["+74957770001", "+74957770002"], "business_hours": HOURS,
                        "greeting_template": GREETING, "language": "en"},
        # one number kept, one dropped, one added
        {"name": "Support (24/7)", "numbers": ["+74957770002", "+74957770003"]},
    ),
    (
        "queues",
        lambda c, ids: {"hotline_id": ids["hotlines"], "name": "Sales"},
        {"priority": 5, "overflow_action": "voicemail", "max_wait_seconds": 600},
    ),
    (
        "skills",
        lambda c, ids: {**c.owner, "name": "german", "description": "Deutsch"},
        {"description": "German, written and spoken"},
    ),
    (
        "users",
        lambda c, ids: {**c.owner, "login": "olga", "display_name": "Olga", "role": "operator",
                        "password": PASSWORD, "hotline_ids": [ids["hotlines"]],
                        "skills": {"english": 7}},
        {"display_name": "Olga P.", "skills": {"english": 9, "german": 4},
         "password": "another-pass-2"},
    ),
    (
        "topics",
        lambda c, ids: {"hotline_id": ids["hotlines"], "kind": "outcome", "name": "Sale",
                        "counts_as": "sale"},
        {"active": False},
    ),
    (
        "scripts",
        lambda c, ids: {
            "hotline_id": ids["hotlines"], "name": "Order or return", "start_step": "hello",
            "steps": {
                "hello": {"text": "Order or return?",
                          "answers": [{"label": "Order", "next": "order"},
                                      {"label": "Return", "next": "ret"}]},
                "order": {"text": "What would you like?", "answers": []},
                "ret": {"text": "Do you have the receipt?",
                        "answers": [{"label": "Yes", "next": None}]},
            },
        },
        {"name": "Orders and returns"},
    ),
    (
        "kb-articles",
        lambda c, ids: {"hotline_id": ids["hotlines"], "title": "Returns", "body": "14 days.",
                        "language": "en", "tags": ["returns"]},
        {"body": "30 days since 2027.", "tags": ["returns", "policy"]},
    ),
    (
        "contacts",
        lambda c, ids: {**c.owner, "name": "Ivan", "phones": ["+79991234567"],
                        "emails": ["ivan@example.com"], "custom_fields": {"tier": "gold"}},
        {"vip": True, "notes": "prefers e-mail"},
    ),
]  # fmt: skip


@pytest.mark.parametrize("caller_name", ["admin", "supervisor"])
async def test_given_caller_when_each_resource_is_created_read_changed_deleted_then_all_audited(
    client: httpx.AsyncClient, database: Database, world: World, caller_name: str
) -> None:
    c = await _caller(database, world, caller_name)
    ids: dict[str, int] = {}
    rows: dict[str, dict[str, Any]] = {}
    for path, body, _patch in LIFE_CYCLE:
        row = await _created(client, path, body(c, ids), c.headers)
        assert row["tenant_id"] == world.a.tenant_id, (path, row)
        ids[path], rows[path] = row["id"], row
        got = await client.get(f"/api/v1/{path}/{row['id']}", headers=c.headers)
        assert got.status_code == 200, (path, got.text)
        assert got.json() == row, path
        listed = await client.get(f"/api/v1/{path}", params={"limit": 500}, headers=c.headers)
        assert listed.status_code == 200, (path, listed.text)
        assert row["id"] in {item["id"] for item in listed.json()["items"]}, path

    # what each create stored and derived
    hotline = rows["hotlines"]
    assert hotline["numbers"] == ["+74957770001", "+74957770002"]
    assert hotline["business_hours"] == {**HOURS, "timezone": "Europe/Moscow"}
    assert hotline["greeting_template"] == GREETING
    queue = rows["queues"]
    assert (queue["callback_threshold_seconds"], queue["service_level_target"],
            queue["service_level_seconds"]) == (180, 0.8, 20)  # fmt: skip
    assert (queue["strategy"], queue["overflow_action"]) == ("longest_idle", None)
    user = rows["users"]
    assert (user["hotline_ids"], user["skills"]) == ([ids["hotlines"]], {"english": 7})
    assert not {"password", "password_hash"} & user.keys()
    assert PASSWORD not in str(user)
    assert rows["scripts"]["steps"]["hello"]["answers"][1] == {"label": "Return", "next": "ret"}
    assert rows["contacts"]["custom_fields"] == {"tier": "gold"}

    # the operator created over the API can log in with the password given
    login = await client.post("/api/v1/auth/login", json={"login": "olga", "password": PASSWORD})
    assert login.status_code == 200, login.text
    assert login.json()["user"]["id"] == user["id"]

    for path, _body, patch in LIFE_CYCLE:
        response = await client.patch(f"/api/v1/{path}/{ids[path]}", json=patch, headers=c.headers)
        assert response.status_code == 200, (path, response.text)
        changed = response.json()
        for key, value in patch.items():
            if key != "password":
                assert changed[key] == value, (path, key, changed[key])
        unchanged = {k: v for k, v in rows[path].items() if k not in patch}
        if path == "kb-articles":
            unchanged.pop("updated_at")
        assert {k: changed[k] for k in unchanged} == unchanged, path
        assert "password" not in changed

    for path, _body, _patch in reversed(LIFE_CYCLE):
        response = await client.delete(f"/api/v1/{path}/{ids[path]}", headers=c.headers)
        assert response.status_code == 204, (path, response.text)
        gone = await client.get(f"/api/v1/{path}/{ids[path]}", headers=c.headers)
        assert gone.status_code == 404, (path, gone.text)
        assert gone.json()["error_id"] == "not_found"

    entries = await _audit(database, user_id=c.user_id)
    assert {(e.action, e.entity, e.entity_id) for e in entries} == {
        (action, ENTITY[path], str(ids[path]))
        for path, _body, _patch in LIFE_CYCLE
        for action in ("create", "update", "delete")
    }
    assert {e.tenant_id for e in entries} == {world.a.tenant_id}
    for path, _body, patch in LIFE_CYCLE:  # the fields changed, the password never named
        update = next(e for e in entries if e.entity == ENTITY[path] and e.action == "update")
        assert update.details == {"fields": sorted(k for k in patch if k != "password")}, path


async def test_given_admin_when_tenant_is_created_changed_deleted_then_audited_and_gone(
    client: httpx.AsyncClient, database: Database, world: World
) -> None:
    admin = auth(world.admin_token)
    tenant = await _created(client, "tenants", {"name": "Gamma", "slug": "gamma"}, admin)
    assert (tenant["name"], tenant["slug"]) == ("Gamma", "gamma")
    listed = (await client.get("/api/v1/tenants", headers=admin)).json()
    assert listed["total"] == 3
    assert tenant["id"] in {t["id"] for t in listed["items"]}

    changed = await client.patch(
        f"/api/v1/tenants/{tenant['id']}", json={"name": "Gamma Ltd"}, headers=admin
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["slug"]) == ("Gamma Ltd", "gamma")

    # a supervisor reads only their own tenant and changes none
    supervisor = auth(world.a.tokens[Role.SUPERVISOR])
    own = (await client.get("/api/v1/tenants", headers=supervisor)).json()
    assert [t["id"] for t in own["items"]] == [world.a.tenant_id]
    refused = [
        await client.post(
            "/api/v1/tenants", json={"name": "Delta", "slug": "delta"}, headers=supervisor
        ),
        await client.patch(
            f"/api/v1/tenants/{world.a.tenant_id}", json={"name": "Mine"}, headers=supervisor
        ),
        await client.delete(f"/api/v1/tenants/{world.a.tenant_id}", headers=supervisor),
    ]
    assert [(r.status_code, r.json()["error_id"]) for r in refused] == [(403, "forbidden")] * 3

    deleted = await client.delete(f"/api/v1/tenants/{tenant['id']}", headers=admin)
    assert deleted.status_code == 204
    gone = await client.get(f"/api/v1/tenants/{tenant['id']}", headers=admin)
    assert (gone.status_code, gone.json()["error_id"]) == (404, "not_found")

    entries = await _audit(database, entity="tenant")
    assert [(e.action, e.entity_id) for e in entries] == [
        ("create", str(tenant["id"])),
        ("update", str(tenant["id"])),
        ("delete", str(tenant["id"])),
    ]
    assert entries[1].details == {"fields": ["name"]}


async def test_given_null_for_a_required_field_when_patching_then_it_is_left_as_it_was(
    client: httpx.AsyncClient, world: World
) -> None:
    """PATCH semantics: ``null`` for a column that cannot be empty means "leave it"; it was a
    409 (NOT NULL) for hotlines and a 500 for knowledge-base tags (JSON ``null`` stored)."""
    supervisor = auth(world.a.tokens[Role.SUPERVISOR])
    nulls = {
        "hotlines": {"name": None, "timezone": None, "language": None, "numbers": None,
                     "after_hours_action": None, "greeting_template": None},
        "kb-articles": {"tags": None, "title": None, "body": None, "language": None},
        "queues": {"name": None, "priority": None, "strategy": None},
        "contacts": {"name": None, "phones": None, "custom_fields": None},
    }  # fmt: skip
    for path, body in nulls.items():
        url = f"/api/v1/{path}/{world.a.ids[path]}"
        before = (await client.get(url, headers=supervisor)).json()
        response = await client.patch(url, json=body, headers=supervisor)
        assert response.status_code == 200, (path, response.text)
        after = (await client.get(url, headers=supervisor)).json()
        assert {k: after[k] for k in body} == {k: before[k] for k in body}, path


# -- refusals ---------------------------------------------------------------------------------


async def test_given_bad_input_when_writing_then_422_names_the_field_and_nothing_is_written(
    client: httpx.AsyncClient, database: Database, world: World
) -> None:
    admin = auth(world.admin_token)
    tid, hid = world.a.tenant_id, world.a.ids["hotlines"]
    line = {"tenant_id": tid, "name": "New line", "timezone": "Europe/Moscow"}
    bad_hours = {"weekly": {"mon": ["25:00-18:00"]}}
    step = {"text": "Hi", "answers": [{"label": "On", "next": "nowhere"}]}
    operator = {
        "tenant_id": tid,
        "login": "petr",
        "display_name": "Petr",
        "role": "operator",
        "password": PASSWORD,
    }
    cases: list[tuple[str, str, dict[str, Any], tuple[str, ...]]] = [
        ("POST", "hotlines", {**line, "timezone": "Mars/Olympus_Mons"},
         ("timezone", "Mars/Olympus_Mons")),
        ("POST", "hotlines", {**line, "business_hours": bad_hours},
         ("business_hours", "25:00-18:00")),
        ("PATCH", f"hotlines/{hid}", {"business_hours": bad_hours},
         ("business_hours", "25:00-18:00")),
        ("POST", "hotlines", {**line, "greeting_template": "Hello {foo}"},
         ("greeting_template", "{foo}")),
        ("PATCH", f"hotlines/{hid}", {"greeting_template": "I am {operator.__class__}"},
         ("greeting_template", "{operator.__class__}")),
        ("POST", "hotlines", {**line, "numbers": ["+74951234567", "+74951234567"]},
         ("numbers", "repeat")),
        ("POST", "hotlines", {**line, "name": "Line\x00one"}, ("name", "NUL")),
        ("PATCH", f"topics/{world.a.ids['topics']}", {"name": "a\x00"}, ("name", "NUL")),
        ("POST", "scripts", {"hotline_id": hid, "name": "S", "start_step": "hello",
                             "steps": {"hello": step}},
         ("steps.hello.answers[0].next", "'nowhere'")),
        ("POST", "users", {**operator, "skills": {"english": 11}}, ("skills", "11")),
        ("PATCH", f"users/{world.a.ids['users']}", {"skills": {"english": 11}},
         ("skills", "11")),
        ("POST", "queues", {"hotline_id": hid, "name": "Q", "colour": "red"}, ("colour",)),
        ("POST", "queues", {"hotline_id": hid, "name": "Q", "overflow_action": "queue"},
         ("overflow_target",)),
        ("PATCH", f"queues/{world.a.ids['queues']}", {"overflow_action": "external"},
         ("overflow_target",)),
    ]  # fmt: skip
    tables = (m.Hotline, m.HotlineNumber, m.Queue, m.Script, m.User, m.AuditEntry)
    before = [await _count(database, t) for t in tables]
    hotline_before = (await client.get(f"/api/v1/hotlines/{hid}", headers=admin)).json()
    for method, path, body, named in cases:
        response = await client.request(method, f"/api/v1/{path}", json=body, headers=admin)
        assert response.status_code == 422, (method, path, response.text)
        error = response.json()
        assert error["error_id"] == "validation_error", (method, path, error)
        for text in named:
            assert text in error["message"], (method, path, text, error["message"])
    assert [await _count(database, t) for t in tables] == before
    assert (await client.get(f"/api/v1/hotlines/{hid}", headers=admin)).json() == hotline_before


async def test_given_unknown_ids_when_reading_changing_deleting_then_404_not_found(
    client: httpx.AsyncClient, world: World
) -> None:
    admin = auth(world.admin_token)
    for path in (*ENTITY, "interactions"):
        url = f"/api/v1/{path}/{UNKNOWN_ID}"
        methods = ("GET",) if path == "interactions" else ("GET", "PATCH", "DELETE")
        for method in methods:
            body = {} if method == "PATCH" else None
            response = await client.request(method, url, json=body, headers=admin)
            assert response.status_code == 404, (method, url, response.text)
            assert response.json()["error_id"] == "not_found", (method, url)
            assert str(UNKNOWN_ID) in response.json()["message"]
    # ids beyond the column are refused before the database sees them; contacts have 64 bits
    too_big = await client.get(f"/api/v1/hotlines/{2**31}", headers=admin)
    assert (too_big.status_code, too_big.json()["error_id"]) == (422, "validation_error")
    big_contact = await client.get(f"/api/v1/contacts/{2**31}", headers=admin)
    assert (big_contact.status_code, big_contact.json()["error_id"]) == (404, "not_found")


async def test_given_existing_slug_login_skill_or_number_when_creating_again_then_409_conflict(
    client: httpx.AsyncClient, database: Database, world: World
) -> None:
    admin = auth(world.admin_token)
    supervisor = auth(world.a.tokens[Role.SUPERVISOR])
    taken_number = (
        await client.get(f"/api/v1/hotlines/{world.a.ids['hotlines']}", headers=admin)
    ).json()["numbers"][0]
    attempts: list[tuple[str, str, dict[str, Any], dict[str, str]]] = [
        ("POST", "tenants", {"name": "Alpha again", "slug": "alpha"}, admin),
        ("POST", "users", {"login": "alpha-operator", "display_name": "Twin", "role": "operator",
                           "password": PASSWORD}, supervisor),
        ("POST", "skills", {"name": "english"}, supervisor),
        ("POST", "hotlines", {"name": "Twin line", "timezone": "Europe/Moscow",
                              "numbers": [taken_number]}, supervisor),
        # another tenant's hotline cannot take the number either: numbers are global
        ("PATCH", f"hotlines/{world.b.ids['hotlines']}", {"numbers": [taken_number]}, admin),
    ]  # fmt: skip
    audit_before = await _count(database, m.AuditEntry)
    for method, path, body, headers in attempts:
        response = await client.request(method, f"/api/v1/{path}", json=body, headers=headers)
        assert response.status_code == 409, (method, path, response.text)
        assert response.json()["error_id"] == "conflict", (method, path)
    assert await _count(database, m.AuditEntry) == audit_before
    b_line = await client.get(f"/api/v1/hotlines/{world.b.ids['hotlines']}", headers=admin)
    assert taken_number not in b_line.json()["numbers"]


# -- interactions and pages -------------------------------------------------------------------


async def test_given_interaction_events_stored_out_of_order_when_read_then_log_is_in_sequence(
    client: httpx.AsyncClient, database: Database, world: World
) -> None:
    interaction_id = world.a.ids["interactions"]
    later = [
        (4, EventType.COMPLETED, 95), (3, EventType.WRAP_UP_STARTED, 80),
        (2, EventType.ANSWERED, 12),
    ]  # fmt: skip
    async with database.system_session() as s:
        for seq, kind, second in later:  # inserted last-first: ids run against seq
            s.add(m.InteractionEventRow(
                tenant_id=world.a.tenant_id, interaction_id=interaction_id, seq=seq, type=kind,
                at=NOW + dt.timedelta(seconds=second), data={"operator_id": 7},
            ))  # fmt: skip
            await s.flush()
        await s.commit()

    for role in (Role.SUPERVISOR, Role.OPERATOR, Role.CLIENT):
        headers = auth(world.a.tokens[role])
        listed = await client.get("/api/v1/interactions", headers=headers)
        assert listed.status_code == 200, (role, listed.text)
        assert [i["id"] for i in listed.json()["items"]] == [interaction_id], role
        assert listed.json()["total"] == 1
        got = await client.get(f"/api/v1/interactions/{interaction_id}", headers=headers)
        assert got.status_code == 200, (role, got.text)
        events = got.json()["events"]
        assert [(e["seq"], e["type"]) for e in events] == [
            (0, "arrived"), (1, "queued"), (2, "answered"), (3, "wrap_up_started"),
            (4, "completed"),
        ], role  # fmt: skip
        assert events[1]["data"] == {"queue_id": world.a.ids["queues"]}
        assert got.json()["caller"] == "+79990000000"

    supervisor = auth(world.a.tokens[Role.SUPERVISOR])
    params = {"started_from": "2026-11-23T12:00:00+03:00", "started_to": "2026-11-23T12:00:01Z"}
    window = await client.get("/api/v1/interactions", params=params, headers=supervisor)
    assert window.json()["total"] == 1  # 09:00 UTC is 12:00 in Moscow: inclusive lower bound
    params["started_from"] = "2026-11-23T09:00:01+00:00"
    assert (await client.get("/api/v1/interactions", params=params,
                             headers=supervisor)).json()["total"] == 0  # fmt: skip
    naive = await client.get(
        "/api/v1/interactions", params={"started_from": "2026-11-23T09:00"}, headers=supervisor
    )
    assert (naive.status_code, naive.json()["error_id"]) == (422, "validation_error")
    assert "started_from" in naive.json()["message"]


async def test_given_more_rows_than_a_page_when_paging_then_limit_offset_total_add_up(
    client: httpx.AsyncClient, database: Database, world: World
) -> None:
    async with database.system_session() as s:
        s.add_all(
            m.Contact(tenant_id=world.a.tenant_id, name=f"Contact {i}", created_at=NOW)
            for i in range(7)
        )
        await s.commit()
    supervisor = auth(world.a.tokens[Role.SUPERVISOR])
    seen: list[int] = []
    for offset in (0, 3, 6, 9):
        page = await client.get(
            "/api/v1/contacts", params={"limit": 3, "offset": offset}, headers=supervisor
        )
        assert page.status_code == 200, page.text
        body = page.json()
        assert (body["total"], body["limit"], body["offset"]) == (8, 3, offset)
        assert len(body["items"]) == min(3, max(0, 8 - offset)), offset
        seen += [item["id"] for item in body["items"]]
    assert seen == sorted(seen)
    assert len(set(seen)) == 8  # every row once, none twice
    everything = await client.get("/api/v1/contacts", headers=auth(world.admin_token))
    assert everything.json()["total"] == 9  # the admin sees tenant B's contact as well
    for params in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"limit": "many"}):
        refused = await client.get("/api/v1/contacts", params=params, headers=supervisor)
        assert refused.status_code == 422, (params, refused.text)
        assert refused.json()["error_id"] == "validation_error"


async def test_given_a_supervisor_when_deactivating_their_own_account_then_422_and_still_logged_in(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = auth(world.a.tokens[Role.SUPERVISOR])
    own = world.a.user_ids[Role.SUPERVISOR]
    response = await client.patch(f"/api/v1/users/{own}", json={"active": False}, headers=headers)
    assert response.status_code == 422, response.text
    assert "active" in response.json()["message"]
    me = await client.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 200 and me.json()["active"] is True
    # another user of the tenant may still be switched off (and back on) by them
    operator = world.a.user_ids[Role.OPERATOR]
    off = await client.patch(f"/api/v1/users/{operator}", json={"active": False}, headers=headers)
    assert off.status_code == 200 and off.json()["active"] is False
    on = await client.patch(f"/api/v1/users/{operator}", json={"active": True}, headers=headers)
    assert on.status_code == 200 and on.json()["active"] is True
