"""The desktop's extras through HTTP, on both databases: the script path stored with the
wrap-up, knowledge-base search with Russian and English stemming (tenant-scoped),
contacts edited by an operator, and callbacks scheduled in the hotline's time zone."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import httpx
import sqlalchemy as sa

from hotline.core.model import Role
from hotline.store import models as m
from hotline.store.db import Database
from hotline.web.pages.desktop_extras import script_paths
from tests.integration.world import NOW, World, auth

SCRIPT_STEPS: dict[str, Any] = {
    "hello": {
        "text": "Вы уже наш клиент?",
        "answers": [{"label": "Да", "next": "order"}, {"label": "Нет", "next": "offer"}],
    },
    "order": {"text": "Назовите номер заказа", "answers": [{"label": "Назвал", "next": None}]},
    "offer": {"text": "Расскажите о скидке", "answers": []},
}


def csrf(token: str) -> dict[str, str]:
    return {"Cookie": f"hotline_session={token}", "X-Requested-With": "fetch"}


async def _branching_script(database: Database, world: World) -> int:
    async with database.system_session() as s:
        script = m.Script(
            tenant_id=world.a.tenant_id,
            hotline_id=world.a.ids["hotlines"],
            name="Продажи",
            start_step="hello",
            steps=SCRIPT_STEPS,
        )
        s.add(script)
        await s.execute(
            sa.update(m.Interaction)
            .where(m.Interaction.id == world.a.ids["interactions"])
            .values(operator_id=world.a.user_ids[Role.OPERATOR])
        )
        await s.commit()
        return script.id


# -- script panel ----------------------------------------------------------------------------


async def test_given_the_desktop_when_opened_then_its_hotlines_scripts_are_in_the_page(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    script_id = await _branching_script(database, world)
    page = await client.get("/desktop", headers=csrf(world.a.tokens[Role.OPERATOR]))
    assert page.status_code == 200
    found = re.search(
        r'<script type="application/json" id="desktop-extras-data">(.*?)</script>', page.text
    )
    assert found is not None
    (hotline,) = json.loads(found.group(1))["hotlines"]
    assert (hotline["id"], hotline["timezone"]) == (world.a.ids["hotlines"], "Europe/Moscow")
    scripts = hotline["scripts"]
    assert [s["id"] for s in scripts] == [world.a.ids["scripts"], script_id]
    assert scripts[1]["steps"]["hello"]["answers"][1] == {"label": "Нет", "next": "offer"}
    assert 'id="script-panel"' in page.text and 'id="kb-q"' in page.text


async def test_given_a_path_through_the_script_when_wrapping_up_then_stored_with_it(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    script_id = await _branching_script(database, world)
    iid = world.a.ids["interactions"]
    path = {"script_id": script_id, "choices": [{"step": "hello", "answer": 0}]}
    path["choices"].append({"step": "order", "answer": 0})
    r = await client.post(
        "/desktop/wrapup",
        json={"interaction_id": iid, "topic_id": world.a.ids["topics"], "script": path},
        headers=csrf(world.a.tokens[Role.OPERATOR]),
    )
    assert r.status_code == 200, r.text
    stored = await script_paths(database, iid)
    assert stored == [
        {
            "script_id": script_id,
            "script": "Продажи",
            "path": [
                {"step": "hello", "answer": 0, "label": "Да"},
                {"step": "order", "answer": 0, "label": "Назвал"},
            ],
        }
    ]
    async with database.system_session() as s:
        row = await s.get(m.Interaction, iid)
        assert row is not None and row.topic_id == world.a.ids["topics"]


async def test_given_a_path_off_the_script_when_wrapping_up_then_422_and_nothing_saved(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    script_id = await _branching_script(database, world)
    iid = world.a.ids["interactions"]
    bad = [
        # "Нет" leads to "offer", not "order"
        (
            {
                "script_id": script_id,
                "choices": [{"step": "hello", "answer": 1}, {"step": "order", "answer": 0}],
            },
            "script.choices[1].step: expected 'offer'",
        ),
        (
            {"script_id": script_id, "choices": [{"step": "hello", "answer": 5}]},
            "choices[0].answer",
        ),
        ({"script_id": script_id, "choices": [{"step": "order", "answer": 0}]}, "expected 'hello'"),
        # the other tenant's script
        ({"script_id": world.b.ids["scripts"], "choices": []}, "script.script_id:"),
    ]
    for path, message in bad:
        r = await client.post(
            "/desktop/wrapup",
            json={"interaction_id": iid, "topic_id": world.a.ids["topics"], "script": path},
            headers=csrf(world.a.tokens[Role.OPERATOR]),
        )
        assert r.status_code == 422, r.text
        assert message in r.json()["message"]
    assert await script_paths(database, iid) == []
    async with database.system_session() as s:
        row = await s.get(m.Interaction, iid)
        assert row is not None and row.topic_id is None


# -- knowledge base --------------------------------------------------------------------------

ARTICLES = [
    ("Условия доставки", "Сроки и стоимость доставки по России.", "ru"),
    ("Оплата", "Оплата курьеру при получении, перед доставкой проверьте товар.", "ru"),
    ("Гарантия", "Гарантийный ремонт в сервисном центре.", "ru"),
    ("Refund policy", "A refund is issued within 14 days of the return.", "en"),
    ("Warranty", "Repairs are free during the first year.", "en"),
]


async def _articles(client: httpx.AsyncClient, world: World) -> dict[str, int]:
    ids = {}
    for title, body, language in ARTICLES:
        r = await client.post(
            "/api/v1/kb-articles",
            json={
                "hotline_id": world.a.ids["hotlines"],
                "title": title,
                "body": body,
                "language": language,
            },
            headers=auth(world.admin_token),
        )
        assert r.status_code == 201, r.text
        ids[title] = r.json()["id"]
    # the other tenant writes about delivery too: never to be seen by tenant A
    r = await client.post(
        "/api/v1/kb-articles",
        json={"hotline_id": world.b.ids["hotlines"], "title": "Доставка", "body": "Доставка B"},
        headers=auth(world.admin_token),
    )
    assert r.status_code == 201, r.text
    ids["other"] = r.json()["id"]
    return ids


async def _search(client: httpx.AsyncClient, token: str, q: str, hotline: int) -> httpx.Response:
    return await client.get(
        "/api/v1/kb-articles/search", params={"q": q, "hotline_id": hotline}, headers=auth(token)
    )


async def test_given_articles_when_searching_inflected_words_then_stems_match(
    client: httpx.AsyncClient, world: World
) -> None:
    ids = await _articles(client, world)
    token, hotline = world.a.tokens[Role.OPERATOR], world.a.ids["hotlines"]
    r = await _search(client, token, "доставка", hotline)
    assert r.status_code == 200, r.text
    hits = r.json()
    # "доставки" (title and body) and "доставкой" both stem to "доставк"
    assert [h["id"] for h in hits["items"]] == [ids["Условия доставки"], ids["Оплата"]]
    assert hits["total"] == 2 and hits["terms"] == ["доставк"]
    assert "доставкой" in hits["items"][1]["snippet"]
    refunds = (await _search(client, token, "Refunds", hotline)).json()
    assert [h["id"] for h in refunds["items"]] == [ids["Refund policy"]]
    # every word must occur: "refund" and "warranty" are in no article together
    assert (await _search(client, token, "refunds warranty", hotline)).json()["total"] == 0
    both = (await _search(client, token, "гарантии ремонта", hotline)).json()
    assert [h["id"] for h in both["items"]] == [ids["Гарантия"]]


async def test_given_another_tenants_hotline_when_searching_then_never_its_articles(
    client: httpx.AsyncClient, world: World
) -> None:
    ids = await _articles(client, world)
    token = world.a.tokens[Role.OPERATOR]
    foreign = await _search(client, token, "доставка", world.b.ids["hotlines"])
    assert foreign.status_code == 422
    assert foreign.json()["message"].startswith("hotline_id:")
    own = (await _search(client, token, "доставка", world.a.ids["hotlines"])).json()
    assert ids["other"] not in [h["id"] for h in own["items"]]
    # the admin sees both tenants, but a search is always one hotline's
    other = (await _search(client, world.admin_token, "доставка", world.b.ids["hotlines"])).json()
    assert [h["id"] for h in other["items"]] == [ids["other"]]


async def test_given_bad_search_input_when_asked_then_422_naming_it(
    client: httpx.AsyncClient, world: World
) -> None:
    token, hotline = world.a.tokens[Role.OPERATOR], world.a.ids["hotlines"]
    empty = await _search(client, token, "?!", hotline)
    assert empty.status_code == 422 and empty.json()["message"].startswith("q:")
    missing = await client.get("/api/v1/kb-articles/search", params={"q": "x"}, headers=auth(token))
    assert missing.status_code == 422
    client_role = await _search(client, world.a.tokens[Role.CLIENT], "x", hotline)
    assert client_role.status_code == 403


async def test_given_an_edited_article_when_searching_again_then_the_new_text_counts(
    client: httpx.AsyncClient, world: World
) -> None:
    ids = await _articles(client, world)
    token, hotline = world.a.tokens[Role.OPERATOR], world.a.ids["hotlines"]
    assert (await _search(client, token, "самовывоз", hotline)).json()["total"] == 0
    r = await client.patch(
        f"/api/v1/kb-articles/{ids['Гарантия']}",
        json={"body": "Самовывозом из пункта выдачи."},
        headers=auth(world.admin_token),
    )
    assert r.status_code == 200, r.text
    hits = (await _search(client, token, "самовывоз", hotline)).json()
    assert [h["id"] for h in hits["items"]] == [ids["Гарантия"]]
    assert (await _search(client, token, "ремонт", hotline)).json()["total"] == 0


# -- contacts and callbacks ------------------------------------------------------------------


async def test_given_an_operator_when_creating_and_editing_a_contact_then_saved(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = csrf(world.a.tokens[Role.OPERATOR])
    r = await client.post(
        "/api/v1/contacts", json={"name": "Ольга", "phones": ["+79161112233"]}, headers=headers
    )
    assert r.status_code == 201, r.text
    contact = r.json()
    assert contact["tenant_id"] == world.a.tenant_id
    r = await client.patch(
        f"/api/v1/contacts/{contact['id']}",
        json={"name": "Ольга Петрова", "notes": "VIP", "vip": True},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["phones"], r.json()["vip"]) == (
        "Ольга Петрова",
        ["+79161112233"],
        True,
    )
    foreign = await client.patch(
        f"/api/v1/contacts/{world.b.ids['contacts']}", json={"name": "x"}, headers=headers
    )
    assert foreign.status_code == 404


def _tomorrow_moscow(hour: int, minute: int) -> dt.datetime:
    # Moscow has been UTC+3 all year since 2014
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)).date() + dt.timedelta(days=1)
    return dt.datetime.combine(tomorrow, dt.time(hour, minute))


async def test_given_a_local_time_when_scheduling_a_callback_then_pending_at_that_instant(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    wall = _tomorrow_moscow(10, 30)
    r = await client.post(
        "/api/v1/callbacks",
        json={
            "hotline_id": world.a.ids["hotlines"],
            "number": "+79990000000",
            "at_local": wall.isoformat(),
            "interaction_id": world.a.ids["interactions"],
        },
        headers=csrf(world.a.tokens[Role.OPERATOR]),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["status"], body["origin"]) == ("pending", "operator")
    # taken from the interaction: its queue and its contact
    assert (body["queue_id"], body["contact_id"]) == (
        world.a.ids["queues"],
        world.a.ids["contacts"],
    )
    async with database.system_session() as s:
        row = await s.get(m.Callback, body["id"])
        assert row is not None and row.not_before is not None
        not_before = row.not_before.replace(tzinfo=row.not_before.tzinfo or dt.UTC)
        assert not_before == (wall - dt.timedelta(hours=3)).replace(tzinfo=dt.UTC)
    listed = await client.get(
        "/api/v1/callbacks",
        params={"hotline_id": world.a.ids["hotlines"], "status": "pending"},
        headers=auth(world.a.tokens[Role.OPERATOR]),
    )
    assert [c["id"] for c in listed.json()["items"]] == [body["id"]]


async def test_given_bad_callback_input_when_scheduling_then_422_naming_the_field(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    headers = csrf(world.a.tokens[Role.OPERATOR])
    hotline = world.a.ids["hotlines"]
    base = {"hotline_id": hotline, "number": "+79990000000"}
    cases = [
        (
            {**base, "at_local": (NOW - dt.timedelta(days=1)).replace(tzinfo=None).isoformat()},
            "at_local: ",
        ),
        ({**base, "at_local": _tomorrow_moscow(9, 0).isoformat() + "+03:00"}, "at_local: "),
        # before year 1 in UTC: out of range, not a server error
        (
            {**base, "at_local": "0001-01-01T00:00:00"},
            "at_local: 0001-01-01T00:00:00 is out of range",
        ),
        (
            {
                **base,
                "hotline_id": world.b.ids["hotlines"],
                "at_local": _tomorrow_moscow(9, 0).isoformat(),
            },
            "hotline_id: ",
        ),
        (
            {
                **base,
                "at_local": _tomorrow_moscow(9, 0).isoformat(),
                "interaction_id": world.b.ids["interactions"],
            },
            "interaction_id: ",
        ),
        (
            {
                **base,
                "at_local": _tomorrow_moscow(9, 0).isoformat(),
                "contact_id": world.b.ids["contacts"],
            },
            "contact_id: ",
        ),
        (
            {
                **base,
                "at_local": _tomorrow_moscow(9, 0).isoformat(),
                "queue_id": world.b.ids["queues"],
            },
            "queue_id: ",
        ),
    ]
    for payload, message in cases:
        r = await client.post("/api/v1/callbacks", json=payload, headers=headers)
        assert r.status_code == 422, (payload, r.text)
        assert r.json()["message"].startswith(message), r.text
    # a wall-clock time inside a daylight-saving gap (Berlin skips 02:00-03:00 on 2027-03-28)
    async with database.system_session() as s:
        await s.execute(
            sa.update(m.Hotline).where(m.Hotline.id == hotline).values(timezone="Europe/Berlin")
        )
        await s.commit()
    gap = await client.post(
        "/api/v1/callbacks", json={**base, "at_local": "2027-03-28T02:30:00"}, headers=headers
    )
    assert gap.status_code == 422
    assert gap.json()["message"] == "at_local: 2027-03-28 02:30 does not exist in Europe/Berlin"
    refused = await client.post(
        "/api/v1/callbacks",
        json={**base, "at_local": "2027-03-28T10:00:00"},
        headers=csrf(world.a.tokens[Role.CLIENT]),
    )
    assert refused.status_code == 403
    async with database.system_session() as s:
        assert await s.scalar(sa.select(sa.func.count()).select_from(m.Callback)) == 0
