"""Two tenants with one of everything, and a bearer token for every role of each.

Used by the tenancy matrix and the API tests; tokens are inserted directly (logging in
through argon2 for every user would only slow the tests down; login has its own tests).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from hotline.core.model import (
    AfterHoursAction,
    Channel,
    Direction,
    EventType,
    Role,
    RoutingStrategy,
)
from hotline.security import token_digest
from hotline.store import models as m
from hotline.store.db import Database

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
#: every CRUD resource path and the key of its row in ``TenantWorld.ids``
RESOURCES = (
    "hotlines",
    "queues",
    "skills",
    "users",
    "topics",
    "scripts",
    "kb-articles",
    "contacts",
    "interactions",
)


@dataclass
class TenantWorld:
    tenant_id: int
    ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[Role, str] = field(default_factory=dict)
    user_ids: dict[Role, int] = field(default_factory=dict)


@dataclass
class World:
    admin_token: str
    a: TenantWorld
    b: TenantWorld


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _tenant(db: Database, slug: str, password_hash: str) -> TenantWorld:
    async with db.system_session() as s:
        tenant = m.Tenant(name=f"Tenant {slug}", slug=slug, created_at=NOW)
        s.add(tenant)
        await s.flush()
        hotline = m.Hotline(
            tenant_id=tenant.id,
            name=f"{slug} line",
            timezone="Europe/Moscow",
            language="ru",
            greeting_template="Здравствуйте, меня зовут {operator}, компания {company}",
            business_hours={},
            after_hours_action=AfterHoursAction.VOICEMAIL,
            created_at=NOW,
        )
        hotline.numbers = [m.HotlineNumber(number=f"+7495{tenant.id:07d}")]
        skill = m.Skill(tenant_id=tenant.id, name="english", description="")
        contact = m.Contact(
            tenant_id=tenant.id, name="Caller", phones=["+79990000000"], created_at=NOW
        )
        s.add_all([hotline, skill, contact])
        await s.flush()
        queue = m.Queue(
            tenant_id=tenant.id,
            hotline_id=hotline.id,
            name="Main",
            strategy=RoutingStrategy.LONGEST_IDLE,
            service_level_target=0.8,
            service_level_seconds=20,
            short_abandon_seconds=5,
            wrap_up_seconds=30,
            callback_threshold_seconds=180,
            max_wait_seconds=None,
        )
        topic = m.Topic(tenant_id=tenant.id, hotline_id=hotline.id, kind="topic", name="Order")
        script = m.Script(
            tenant_id=tenant.id,
            hotline_id=hotline.id,
            name="Greeting",
            start_step="hello",
            steps={"hello": {"text": "Hi", "answers": []}},
        )
        article = m.KbArticle(
            tenant_id=tenant.id,
            hotline_id=hotline.id,
            title="Returns",
            body="How returns work",
            language="en",
            tags=[],
            updated_at=NOW,
        )
        s.add_all([queue, topic, script, article])
        await s.flush()
        interaction = m.Interaction(
            tenant_id=tenant.id,
            hotline_id=hotline.id,
            queue_id=queue.id,
            channel=Channel.CALL,
            direction=Direction.INBOUND,
            contact_id=contact.id,
            source="+74950000000",
            caller="+79990000000",
            started_at=NOW,
        )
        s.add(interaction)
        await s.flush()
        s.add_all(
            [
                m.InteractionEventRow(
                    tenant_id=tenant.id,
                    interaction_id=interaction.id,
                    seq=0,
                    type=EventType.ARRIVED,
                    at=NOW,
                ),
                m.InteractionEventRow(
                    tenant_id=tenant.id,
                    interaction_id=interaction.id,
                    seq=1,
                    type=EventType.QUEUED,
                    at=NOW,
                    data={"queue_id": queue.id},
                ),
            ]
        )
        world = TenantWorld(tenant_id=tenant.id)
        for role in (Role.SUPERVISOR, Role.OPERATOR, Role.CLIENT):
            user = m.User(
                tenant_id=tenant.id,
                login=f"{slug}-{role.value}",
                display_name=role.value,
                role=role,
                password_hash=password_hash,
                capacity={"call": 1},
                created_at=NOW,
            )
            if role is Role.OPERATOR:
                user.hotline_links = [m.UserHotline(hotline_id=hotline.id)]
            s.add(user)
            await s.flush()
            token = f"token-{slug}-{role.value}"
            s.add(
                m.ApiToken(
                    user_id=user.id,
                    token_hash=token_digest(token),
                    kind="api",
                    created_at=NOW,
                    expires_at=NOW + dt.timedelta(days=3650),
                )
            )
            world.tokens[role] = token
            world.user_ids[role] = user.id
        await s.commit()
        world.ids = {
            "hotlines": hotline.id,
            "queues": queue.id,
            "skills": skill.id,
            "users": world.user_ids[Role.OPERATOR],
            "topics": topic.id,
            "scripts": script.id,
            "kb-articles": article.id,
            "contacts": contact.id,
            "interactions": interaction.id,
        }
        return world


async def seed_world(db: Database, password_hash: str) -> World:
    a = await _tenant(db, "alpha", password_hash)
    b = await _tenant(db, "bravo", password_hash)
    async with db.system_session() as s:
        admin = m.User(
            tenant_id=None,
            login="root-admin",
            display_name="Admin",
            role=Role.ADMIN,
            password_hash=password_hash,
            capacity={},
            created_at=NOW,
        )
        s.add(admin)
        await s.flush()
        s.add(
            m.ApiToken(
                user_id=admin.id,
                token_hash=token_digest("token-admin"),
                kind="api",
                created_at=NOW,
                expires_at=NOW + dt.timedelta(days=3650),
            )
        )
        await s.commit()
    return World(admin_token="token-admin", a=a, b=b)
