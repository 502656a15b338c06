"""The operator desktop's rules and figures through HTTP, on both databases: "ready" refused
until the last call's wrap-up is saved where the hotline requires it, the operator's own
KPIs for today (service level of answered calls, sales, leads) with hand-computed values,
and "send offer" e-mailed to a real SMTP server (aiosmtpd), with the tenancy refusals."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from hotline.core.model import Channel, Direction, EventType, Role, RoutingStrategy
from hotline.security import token_digest
from hotline.settings import Settings
from hotline.store import models as m
from hotline.store.db import Database
from tests.integration.test_demo_server import free_port
from tests.integration.test_desktop_extras import csrf
from tests.integration.world import NOW, TenantWorld, World, auth

#: the pages' clock: 15:00 in Moscow, so "today" began at 21:00 UTC the day before
CLOCK = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
DAY_START = dt.datetime(2026, 11, 22, 21, 0, tzinfo=dt.UTC)


@dataclass
class FakeLive:
    """The running center as the state API sees it: states kept in a dict."""

    states: dict[int, tuple[str, str | None]] = field(default_factory=dict)
    calls: list[tuple[int, str]] = field(default_factory=list)

    def operator_state(self, operator_id: int) -> tuple[str, str | None]:
        return self.states.get(operator_id, ("not_ready", "break"))

    def set_operator_state(self, operator_id: int, state: str, reason: str | None) -> None:
        self.calls.append((operator_id, state))
        self.states[operator_id] = (state, reason)

    def call_parties(self, interaction_id: int) -> tuple[int, int | None] | None:
        return None

    def hold(self, interaction_id: int) -> bool:
        return False

    def resume(self, interaction_id: int) -> bool:
        return False

    def hang_up(self, interaction_id: int) -> bool:
        return False

    def transfer_to_queue(self, interaction_id: int, queue_id: int) -> bool:
        return False

    async def reload(self) -> None:
        return None


@pytest.fixture
def live(app_ctx: Any) -> FakeLive:
    fake = FakeLive()
    app_ctx.live = fake
    app_ctx.clock = lambda: CLOCK
    return fake


async def _outcomes(db: Database, world: World) -> dict[str, int]:
    """Outcomes of tenant A's hotline: a sale, a lead and a plain one."""
    async with db.system_session() as s:
        rows = {
            name: m.Topic(
                tenant_id=world.a.tenant_id,
                hotline_id=world.a.ids["hotlines"],
                kind="outcome",
                name=name,
                counts_as=counts,
            )
            for name, counts in (("Продажа", "sale"), ("Лид", "lead"), ("Решено", None))
        }
        s.add_all(rows.values())
        await s.commit()
        return {name: row.id for name, row in rows.items()}


async def _require_wrap_up(db: Database, hotline_id: int, on: bool = True) -> None:
    async with db.system_session() as s:
        await s.execute(
            sa.update(m.Hotline).where(m.Hotline.id == hotline_id).values(topic_required=on)
        )
        await s.commit()


async def _call(
    db: Database,
    tenant_id: int,
    hotline_id: int,
    queue_id: int,
    operator_id: int | None,
    queued: dt.datetime,
    *,
    wait: float,
    talk: float | None = None,
    wrap: float | None = None,
    topic_id: int | None = None,
    outcome_id: int | None = None,
    caller: str = "+79990000001",
    contact_id: int | None = None,
) -> int:
    """One call's row and log: queued, answered by ``operator_id`` after ``wait`` s (or
    abandoned when no operator), talk then wrap-up when given."""
    sec = dt.timedelta(seconds=1)
    async with db.system_session() as s:
        row = m.Interaction(
            tenant_id=tenant_id,
            hotline_id=hotline_id,
            queue_id=queue_id,
            channel=Channel.CALL,
            direction=Direction.INBOUND,
            operator_id=operator_id,
            caller=caller,
            contact_id=contact_id,
            started_at=queued,
            topic_id=topic_id,
            outcome_id=outcome_id,
        )
        s.add(row)
        await s.flush()
        lines: list[tuple[EventType, dt.datetime, dict[str, Any]]] = [
            (EventType.ARRIVED, queued, {}),
            (EventType.QUEUED, queued, {"queue_id": queue_id}),
        ]
        answered = queued + wait * sec
        if operator_id is None:
            lines.append((EventType.ABANDONED, answered, {}))
        else:
            who = {"operator_id": operator_id, "queue_id": queue_id}
            lines.append((EventType.OFFERED, queued + 0.5 * sec, who))
            lines.append((EventType.ANSWERED, answered, who))
            if talk is not None:
                ended = answered + talk * sec
                lines.append((EventType.WRAP_UP_STARTED, ended, {"operator_id": operator_id}))
                if wrap is not None:
                    lines.append(
                        (EventType.COMPLETED, ended + wrap * sec, {**who, "wrap_up": wrap})
                    )
        s.add_all(
            m.InteractionEventRow(
                tenant_id=tenant_id, interaction_id=row.id, seq=i, type=kind, at=at, data=data
            )
            for i, (kind, at, data) in enumerate(lines)
        )
        await s.commit()
        return row.id


async def _a(
    world: World, db: Database, operator_id: int | None, queued: dt.datetime, **kw: Any
) -> int:
    """:func:`_call` on tenant A's hotline (its queue unless ``queue_id`` is given)."""
    return await _call(
        db,
        world.a.tenant_id,
        world.a.ids["hotlines"],
        kw.pop("queue_id", world.a.ids["queues"]),
        operator_id,
        queued,
        **kw,
    )


async def _second_operator(db: Database, world: World, password_hash: str) -> tuple[int, str]:
    """Another operator of tenant A's hotline, with a bearer token."""
    async with db.system_session() as s:
        user = m.User(
            tenant_id=world.a.tenant_id,
            login="alpha-operator-2",
            display_name="Second",
            role=Role.OPERATOR,
            password_hash=password_hash,
            capacity={"call": 1},
            created_at=NOW,
            hotline_links=[m.UserHotline(hotline_id=world.a.ids["hotlines"])],
        )
        s.add(user)
        await s.flush()
        s.add(
            m.ApiToken(
                user_id=user.id,
                token_hash=token_digest("token-alpha-op2"),
                kind="api",
                created_at=NOW,
                expires_at=NOW + dt.timedelta(days=3650),
            )
        )
        await s.commit()
        return user.id, "token-alpha-op2"


# -- ready refused until the wrap-up is saved ------------------------------------------------


async def test_given_a_hotline_requiring_wrap_up_when_the_last_call_has_none_then_ready_is_409(
    client: httpx.AsyncClient, world: World, database: Database, live: FakeLive
) -> None:
    op, token = world.a.user_ids[Role.OPERATOR], world.a.tokens[Role.OPERATOR]
    outcomes = await _outcomes(database, world)
    topic = world.a.ids["topics"]
    at = DAY_START + dt.timedelta(hours=10)
    # an earlier call without a wrap-up, then the last one with a topic but no outcome
    await _a(world, database, op, at, wait=5, talk=60, wrap=10)
    last = await _a(
        world, database, op, at + dt.timedelta(minutes=5), wait=5, talk=60, topic_id=topic
    )
    ready = {"state": "ready"}

    # the hotline does not require it: ready as before
    r = await client.post("/api/v1/agent/state", json=ready, headers=auth(token))
    assert r.status_code == 200, r.text
    live.states[op] = ("not_ready", "break")

    await _require_wrap_up(database, world.a.ids["hotlines"])
    live.calls.clear()
    r = await client.post("/api/v1/agent/state", json=ready, headers=auth(token))
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["error_id"] == "wrap_up_required"
    assert f"interaction {last} from +79990000001" in body["message"]
    assert "has no outcome recorded" in body["message"]
    assert body["details"] == [
        {
            "interaction_id": last,
            "hotline_id": world.a.ids["hotlines"],
            "caller": "+79990000001",
            "missing": ["outcome"],
        }
    ]
    assert live.calls == []  # the center was never asked
    # not ready and offline stay allowed
    r = await client.post("/api/v1/agent/state", json={"state": "offline"}, headers=auth(token))
    assert r.status_code == 200, r.text
    # a supervisor may still put the operator to work
    r = await client.post(
        f"/api/v1/operators/{op}/state",
        json=ready,
        headers=auth(world.a.tokens[Role.SUPERVISOR]),
    )
    assert r.status_code == 200, r.text
    assert live.calls == [(op, "offline"), (op, "ready")]
    live.states[op] = ("wrap_up", None)

    # the wrap-up saved from the desktop (only the last call counts): ready goes through
    r = await client.post(
        "/desktop/wrapup",
        json={"interaction_id": last, "topic_id": topic, "outcome_id": outcomes["Решено"]},
        headers=csrf(token),
    )
    assert r.status_code == 200, r.text
    r = await client.post("/api/v1/agent/state", json=ready, headers=auth(token))
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "ready"


async def test_given_other_tenants_and_operators_calls_when_going_ready_then_only_own_count(
    client: httpx.AsyncClient,
    world: World,
    database: Database,
    live: FakeLive,
    password_hash: str,
) -> None:
    op = world.a.user_ids[Role.OPERATOR]
    other, other_token = await _second_operator(database, world, password_hash)
    await _require_wrap_up(database, world.a.ids["hotlines"])
    await _require_wrap_up(database, world.b.ids["hotlines"])
    at = DAY_START + dt.timedelta(hours=9)
    # tenant A's operator left a call without a wrap-up; nobody else did
    mine = await _a(world, database, op, at, wait=3, talk=30, wrap=5)
    ready = {"state": "ready"}
    r = await client.post("/api/v1/agent/state", json=ready, headers=auth(other_token))
    assert r.status_code == 200, r.text
    r = await client.post(
        "/api/v1/agent/state", json=ready, headers=auth(world.b.tokens[Role.OPERATOR])
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        "/api/v1/agent/state", json=ready, headers=auth(world.a.tokens[Role.OPERATOR])
    )
    assert (r.status_code, r.json()["details"][0]["interaction_id"]) == (409, mine)
    # the call transferred to the second operator is theirs to wrap up from now on
    async with database.system_session() as s:
        await s.execute(
            sa.update(m.Interaction).where(m.Interaction.id == mine).values(operator_id=other)
        )
        await s.commit()
    live.states[other] = ("not_ready", "break")
    r = await client.post(
        "/api/v1/agent/state", json=ready, headers=auth(world.a.tokens[Role.OPERATOR])
    )
    assert r.status_code == 200, r.text
    r = await client.post("/api/v1/agent/state", json=ready, headers=auth(other_token))
    assert r.status_code == 409 and r.json()["details"][0]["interaction_id"] == mine
    # an operator never sets another tenant's operator's state
    r = await client.post(
        f"/api/v1/operators/{world.b.user_ids[Role.OPERATOR]}/state",
        json=ready,
        headers=auth(world.a.tokens[Role.OPERATOR]),
    )
    assert r.status_code == 403


async def test_given_a_hotline_requiring_wrap_up_when_saving_without_outcome_then_422(
    client: httpx.AsyncClient, world: World, database: Database, live: FakeLive
) -> None:
    op, token = world.a.user_ids[Role.OPERATOR], world.a.tokens[Role.OPERATOR]
    await _require_wrap_up(database, world.a.ids["hotlines"])
    iid = await _a(world, database, op, DAY_START + dt.timedelta(hours=8), wait=3, talk=30)
    for payload, fields in (
        ({"topic_id": world.a.ids["topics"]}, ["outcome_id"]),
        ({}, ["topic_id", "outcome_id"]),
    ):
        r = await client.post(
            "/desktop/wrapup", json={"interaction_id": iid, **payload}, headers=csrf(token)
        )
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["message"].startswith(" and ".join(fields) + ": hotline 'alpha line'")
        assert [d["loc"][1] for d in body["details"]] == fields
    async with database.system_session() as s:
        row = await s.get(m.Interaction, iid)
        assert row is not None and (row.topic_id, row.outcome_id) == (None, None)


# -- own KPIs ---------------------------------------------------------------------------------


async def _kpi_day(database: Database, world: World, password_hash: str) -> dict[str, int]:
    """Calls of today and yesterday; the expected figures are worked out in the test."""
    op = world.a.user_ids[Role.OPERATOR]
    outcomes = await _outcomes(database, world)
    topic = world.a.ids["topics"]
    async with database.system_session() as s:
        slow = m.Queue(
            tenant_id=world.a.tenant_id,
            hotline_id=world.a.ids["hotlines"],
            name="Slow",
            strategy=RoutingStrategy.LONGEST_IDLE,
            service_level_target=0.8,
            service_level_seconds=30,
            short_abandon_seconds=5,
            wrap_up_seconds=30,
            callback_threshold_seconds=180,
            max_wait_seconds=None,
        )
        s.add(slow)
        await s.commit()
        slow_id = slow.id
    other, _ = await _second_operator(database, world, password_hash)
    h = dt.timedelta(hours=1)
    t0 = DAY_START + 9 * h
    sale, lead, solved = outcomes["Продажа"], outcomes["Лид"], outcomes["Решено"]
    ids = {
        # Main (T = 20 s): 10 s wait, within; 100 s talk + 20 s wrap-up; a sale
        "sale": await _a(
            world, database, op, t0, wait=10, talk=100, wrap=20, topic_id=topic, outcome_id=sale
        ),
        # Main: 25 s > 20 s, not within; 200 + 40; a lead
        "lead": await _a(
            world,
            database,
            op,
            t0 + h,
            wait=25,
            talk=200,
            wrap=40,
            topic_id=topic,
            outcome_id=lead,
        ),
        # Slow (T = 30 s): 25 s is within there; 60 + 10; a plain outcome
        "solved": await _a(
            world,
            database,
            op,
            t0 + 2 * h,
            wait=25,
            talk=60,
            wrap=10,
            queue_id=slow_id,
            topic_id=topic,
            outcome_id=solved,
        ),
        # Main: exactly 20 s is within (wait <= T); still talking, so not handled yet
        "talking": await _a(world, database, op, t0 + 3 * h, wait=20),
    }
    # none of these count for the operator: another operator's sale, an abandoned call,
    # yesterday's sale, and tenant B's call
    await _a(world, database, other, t0, wait=1, talk=10, wrap=1, outcome_id=sale)
    await _a(world, database, None, t0, wait=40)
    await _a(world, database, op, DAY_START - h, wait=1, talk=10, wrap=1, outcome_id=sale)
    await _call(
        database,
        world.b.tenant_id,
        world.b.ids["hotlines"],
        world.b.ids["queues"],
        world.b.user_ids[Role.OPERATOR],
        t0,
        wait=1,
        talk=10,
        wrap=1,
    )
    return {**ids, "sale_outcome": sale, "topic": topic}


async def test_given_todays_calls_when_asking_own_kpis_then_hand_computed_figures(
    client: httpx.AsyncClient,
    world: World,
    database: Database,
    live: FakeLive,
    password_hash: str,
) -> None:
    await _kpi_day(database, world, password_hash)
    r = await client.get("/desktop/kpis", headers=csrf(world.a.tokens[Role.OPERATOR]))
    assert r.status_code == 200, r.text
    kpis = r.json()
    # answered: sale, lead, solved, talking = 4; within their queue's T: sale (10 <= 20),
    # solved (25 <= 30), talking (20 <= 20) = 3; handled: the three with a wrap-up, AHT
    # ((100 + 20) + (200 + 40) + (60 + 10)) / 3 = 430 / 3
    assert kpis == {
        "handled": 3,
        "aht": pytest.approx(430 / 3),
        "answered": 4,
        "answered_within": 3,
        "sl_answered": 0.75,
        "sales": 1,
        "leads": 1,
    }
    page = await client.get("/desktop", headers=csrf(world.a.tokens[Role.OPERATOR]))
    assert page.status_code == 200
    shown = dict(re.findall(r'<dd id="kpi-(sl|sales|leads)">([^<]*)</dd>', page.text))
    assert shown == {"sl": "75 %", "sales": "1", "leads": "1"}
    # tenant B's operator has a day of their own: one answered call, within, no outcome
    b = await client.get("/desktop/kpis", headers=csrf(world.b.tokens[Role.OPERATOR]))
    assert (b.json()["answered"], b.json()["sl_answered"], b.json()["sales"]) == (1, 1.0, 0)
    # not an operator: no desktop figures
    sup = await client.get("/desktop/kpis", headers=csrf(world.a.tokens[Role.SUPERVISOR]))
    assert sup.status_code == 403


async def _save_talking_as_a_sale(
    client: httpx.AsyncClient, world: World, ids: dict[str, int]
) -> httpx.Response:
    """The operator's desktop saves the :func:`_kpi_day` call still talking as a sale."""
    return await client.post(
        "/desktop/wrapup",
        json={
            "interaction_id": ids["talking"],
            "topic_id": ids["topic"],
            "outcome_id": ids["sale_outcome"],
        },
        headers=csrf(world.a.tokens[Role.OPERATOR]),
    )


async def test_given_a_wrap_up_saved_as_a_sale_when_answered_then_the_figures_follow(
    client: httpx.AsyncClient,
    world: World,
    database: Database,
    live: FakeLive,
    password_hash: str,
) -> None:
    ids = await _kpi_day(database, world, password_hash)
    r = await _save_talking_as_a_sale(client, world, ids)
    assert r.status_code == 200, r.text
    kpis = r.json()["kpis"]
    assert (kpis["sales"], kpis["leads"], kpis["answered"], kpis["handled"]) == (2, 1, 4, 3)
    # the same sale saved again is one sale: an interaction counts once
    again = await _save_talking_as_a_sale(client, world, ids)
    assert again.json()["kpis"]["sales"] == 2


async def test_given_no_calls_today_when_asking_own_kpis_then_ratios_are_null(
    client: httpx.AsyncClient, world: World, live: FakeLive
) -> None:
    r = await client.get("/desktop/kpis", headers=csrf(world.a.tokens[Role.OPERATOR]))
    assert r.json() == {
        "handled": 0,
        "aht": None,
        "answered": 0,
        "answered_within": 0,
        "sl_answered": None,
        "sales": 0,
        "leads": 0,
    }
    page = await client.get("/desktop", headers=csrf(world.a.tokens[Role.OPERATOR]))
    assert '<dd id="kpi-sl">—</dd>' in page.text


# -- send offer -------------------------------------------------------------------------------


class Inbox:
    """An aiosmtpd handler keeping what it receives; ``refuse`` names refused addresses."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self.refuse = refuse

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def inbox(settings: Settings) -> Iterator[Inbox]:
    """A mail server the app's settings point at (the same object as ``app_ctx.settings``)."""
    handler = Inbox(frozenset({"gone@example.com"}))
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.smtp_host = "127.0.0.1"
    settings.smtp_port = controller.port
    settings.smtp_sender = "offers@alpha.example"
    try:
        yield handler
    finally:
        controller.stop()


def _template(side: TenantWorld, name: str, subject: str, body: str, **kw: Any) -> m.OfferTemplate:
    """An offer template on ``side``'s hotline."""
    return m.OfferTemplate(
        tenant_id=side.tenant_id,
        hotline_id=side.ids["hotlines"],
        name=name,
        subject=subject,
        body=body,
        **kw,
    )


async def _templates(db: Database, world: World) -> dict[str, int]:
    async with db.system_session() as s:
        rows = {
            "ru": _template(
                world.a,
                "Скидка",
                "{company}: скидка для {name}",
                "Здравствуйте, {name}!\nВаша скидка 10 %. {{промокод}}\n{operator}",
                language="ru",
            ),
            "other": _template(world.b, "B", "B", "B"),
            "inactive": _template(world.a, "Old", "Old", "Old", active=False),
            "broken": _template(world.a, "Broken", "Hi {name.__class__}", "x"),
        }
        s.add_all(rows.values())
        await s.execute(
            sa.update(m.Contact)
            .where(m.Contact.id == world.a.ids["contacts"])
            .values(name="Пётр Сидоров", emails=["petr@example.com", "gone@example.com"])
        )
        await s.commit()
        return {k: v.id for k, v in rows.items()}


async def _offered_call(db: Database, world: World) -> int:
    """A call of the world's caller answered by tenant A's operator (contact by number)."""
    return await _a(
        world,
        db,
        world.a.user_ids[Role.OPERATOR],
        DAY_START + dt.timedelta(hours=11),
        wait=2,
        caller="+79990000000",
    )


async def _audit(db: Database, iid: int) -> list[dict[str, Any]]:
    async with db.system_session() as s:
        rows = await s.scalars(
            sa.select(m.AuditEntry.details)
            .where(
                m.AuditEntry.action == "offer_sent",
                m.AuditEntry.entity == "interaction",
                m.AuditEntry.entity_id == str(iid),
            )
            .order_by(m.AuditEntry.id)
        )
        return list(rows)


def _offer_url(iid: int) -> str:
    return f"/api/v1/interactions/{iid}/send-offer"


async def test_given_a_recognised_contact_when_sending_an_offer_then_mailed_and_audited(
    client: httpx.AsyncClient, world: World, database: Database, live: FakeLive, inbox: Inbox
) -> None:
    templates = await _templates(database, world)
    iid = await _offered_call(database, world)
    r = await client.post(
        _offer_url(iid),
        json={"template_id": templates["ru"]},
        headers=csrf(world.a.tokens[Role.OPERATOR]),
    )
    assert r.status_code == 200, r.text
    sent = r.json()
    assert (sent["to"], sent["contact_id"]) == ("petr@example.com", world.a.ids["contacts"])
    assert sent["subject"] == "Tenant alpha: скидка для Пётр Сидоров"
    ((sender, to, raw),) = inbox.received
    assert (sender, to) == ("offers@alpha.example", ["petr@example.com"])
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == "Tenant alpha: скидка для Пётр Сидоров"
    assert message["To"] == "Пётр Сидоров <petr@example.com>"
    body = message.get_body(("plain",))
    assert body is not None
    assert body.get_content().splitlines() == [
        "Здравствуйте, Пётр Сидоров!",
        "Ваша скидка 10 %. {промокод}",  # {{ }} are literal braces
        "operator",  # the operator's display name
    ]
    assert await _audit(database, iid) == [
        {
            "template_id": templates["ru"],
            "template": "Скидка",
            "contact_id": world.a.ids["contacts"],
            "to": "petr@example.com",
            "message_id": sent["message_id"],
        }
    ]
    # another of the contact's addresses may be picked; a stranger's may not
    r = await client.post(
        _offer_url(iid),
        json={"template_id": templates["ru"], "email": "someone@example.com"},
        headers=csrf(world.a.tokens[Role.OPERATOR]),
    )
    assert r.status_code == 422 and r.json()["message"].startswith("email: ")
    assert len(inbox.received) == 1


async def test_given_send_offer_when_not_allowed_then_refused_and_nothing_sent(
    client: httpx.AsyncClient,
    world: World,
    database: Database,
    live: FakeLive,
    inbox: Inbox,
    password_hash: str,
) -> None:
    templates = await _templates(database, world)
    iid = await _offered_call(database, world)
    _, other_token = await _second_operator(database, world, password_hash)
    body = {"template_id": templates["ru"]}
    cases = [
        # another tenant's operator and supervisor: the interaction does not exist for them
        (auth(world.b.tokens[Role.OPERATOR]), body, 404, "not_found"),
        (auth(world.b.tokens[Role.SUPERVISOR]), body, 404, "not_found"),
        # the same tenant's operator it was never offered to
        (auth(other_token), body, 403, "forbidden"),
        # clients never write to contacts
        (auth(world.a.tokens[Role.CLIENT]), body, 403, "forbidden"),
        # templates of another tenant, inactive, or unknown
        (auth(world.a.tokens[Role.OPERATOR]), {"template_id": templates["other"]}, 422, None),
        (auth(world.a.tokens[Role.OPERATOR]), {"template_id": templates["inactive"]}, 422, None),
        (auth(world.a.tokens[Role.OPERATOR]), {"template_id": 999_999}, 422, None),
        # the administrator's template is broken: said so, not a server error
        (auth(world.a.tokens[Role.OPERATOR]), {"template_id": templates["broken"]}, 409, None),
    ]
    for headers, payload, status, error_id in cases:
        r = await client.post(_offer_url(iid), json=payload, headers=headers)
        assert r.status_code == status, (payload, r.text)
        if error_id is not None:
            assert r.json()["error_id"] == error_id
    assert inbox.received == []
    assert await _audit(database, iid) == []
    # the tenant's supervisor may send it (a supervisor is not limited to offered calls)
    r = await client.post(_offer_url(iid), json=body, headers=auth(world.a.tokens[Role.SUPERVISOR]))
    assert r.status_code == 200, r.text
    # an operator it was offered to, though another answered it, may send it too
    async with database.system_session() as s:
        await s.execute(
            sa.update(m.Interaction)
            .where(m.Interaction.id == iid)
            .values(operator_id=world.a.user_ids[Role.SUPERVISOR])
        )
        await s.commit()
    r = await client.post(_offer_url(iid), json=body, headers=auth(world.a.tokens[Role.OPERATOR]))
    assert r.status_code == 200, r.text
    assert len(inbox.received) == 2


async def test_given_no_one_to_write_to_when_sending_an_offer_then_409_saying_why(
    client: httpx.AsyncClient, world: World, database: Database, live: FakeLive, inbox: Inbox
) -> None:
    templates = await _templates(database, world)
    token = world.a.tokens[Role.OPERATOR]
    body = {"template_id": templates["ru"]}
    stranger = await _a(
        world, database, world.a.user_ids[Role.OPERATOR], DAY_START, wait=1, caller="+79161110000"
    )
    r = await client.post(_offer_url(stranger), json=body, headers=auth(token))
    assert (r.status_code, r.json()["error_id"]) == (409, "no_contact")
    assert "+79161110000 is not a known contact" in r.json()["message"]
    iid = await _offered_call(database, world)
    async with database.system_session() as s:
        await s.execute(
            sa.update(m.Contact).where(m.Contact.id == world.a.ids["contacts"]).values(emails=[])
        )
        await s.commit()
    r = await client.post(_offer_url(iid), json=body, headers=auth(token))
    assert (r.status_code, r.json()["error_id"]) == (409, "contact_has_no_email")
    assert f"contact {world.a.ids['contacts']} (Пётр Сидоров) has no e-mail" in r.json()["message"]
    assert inbox.received == []


async def test_given_the_mail_server_refuses_or_is_down_when_sending_then_an_error_not_a_hang(
    client: httpx.AsyncClient,
    world: World,
    database: Database,
    live: FakeLive,
    inbox: Inbox,
    settings: Settings,
) -> None:
    templates = await _templates(database, world)
    iid = await _offered_call(database, world)
    token = world.a.tokens[Role.OPERATOR]
    r = await client.post(
        _offer_url(iid),
        json={"template_id": templates["ru"], "email": "gone@example.com"},
        headers=auth(token),
    )
    assert (r.status_code, r.json()["error_id"]) == (502, "mail_refused")
    assert "refused gone@example.com" in r.json()["message"]

    body = {"template_id": templates["ru"]}
    # nothing listens on the port: refused at once
    settings.smtp_port = free_port()
    r = await client.post(_offer_url(iid), json=body, headers=auth(token))
    assert (r.status_code, r.json()["error_id"]) == (503, "mail_unavailable")
    assert "cannot reach the mail server 127.0.0.1:" in r.json()["message"]

    # a server that accepts the connection and never says a word: the timeout answers
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        settings.smtp_port = silent.getsockname()[1]
        settings.smtp_timeout_seconds = 0.5
        started = time.monotonic()
        r = await client.post(_offer_url(iid), json=body, headers=auth(token))
        took = time.monotonic() - started
    assert (r.status_code, r.json()["error_id"]) == (503, "mail_unavailable")
    assert 0.4 < took < 5, took
    assert inbox.received == [] and await _audit(database, iid) == []


async def test_given_offer_templates_when_the_desktop_opens_then_its_hotlines_templates_are_there(
    client: httpx.AsyncClient, world: World, database: Database, live: FakeLive
) -> None:
    templates = await _templates(database, world)
    page = await client.get("/desktop", headers=csrf(world.a.tokens[Role.OPERATOR]))
    found = re.search(
        r'<script type="application/json" id="desktop-extras-data">(.*?)</script>', page.text
    )
    assert found is not None
    (hotline,) = json.loads(found.group(1))["hotlines"]
    assert hotline["offers"] == [
        {"id": templates["ru"], "name": "Скидка", "language": "ru"},
        {"id": templates["broken"], "name": "Broken", "language": "ru"},
    ]
    assert 'id="offer-mail-send"' in page.text and 'id="ready-error"' in page.text
