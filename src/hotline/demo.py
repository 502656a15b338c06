"""The demo installation that ``hotline demo`` seeds (DESIGN.md §4).

One tenant, «Матрёшка», with two hotlines that between them show each part of the model:

* «Виртуальный секретарь» — an outsourced secretary: Mon–Fri 09:00–18:00 Moscow time, the
  New Year holidays off, queues «Бухгалтерия» and «Отдел кадров» routed on skills.
* "Matryoshka Shop support" — every day 08:00–22:00, an English queue (``english >= 5``),
  a female line (``female``) and a general Russian queue.

The secretary requires a topic and an outcome for every call before the operator goes
ready (``topic_required``); each hotline has offer e-mail templates (the shop a Russian
and an English one) that operators send from the desktop.

Users: ``admin`` (the installation), ``supervisor`` and ``client`` (the tenant), and six
operators with skills, some serving both hotlines.

Seeding is idempotent, keyed on the tenant slug ``matryoshka``:

Rule 1: no such tenant yet → everything is created; each demo user gets ``password`` or,
        when it is ``None``, a random one; the plaintexts are returned.
Rule 2: the tenant exists and ``password`` is given → only the passwords of the demo users
        that still exist are reset to it (and returned); the data is left as it is, so a
        restart never wipes what someone configured while trying the demo.
Rule 3: the tenant exists and ``password`` is ``None`` → nothing changes and ``{}`` is
        returned: random passwords are shown once, at first seeding, and a restart must not
        silently lock people out by rotating them.
Rule 4: no tenant but a demo login is already taken (say ``hotline user add admin`` ran
        first) → :class:`DemoError`, nothing is written; seeding never takes over a user it
        did not create.
"""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.flows.demo import shop_flow, virtual_secretary_flow
from hotline.core.model import (
    DEFAULT_CALLBACK_THRESHOLD_SECONDS,
    DEFAULT_SERVICE_LEVEL_SECONDS,
    DEFAULT_SERVICE_LEVEL_TARGET,
    AfterHoursAction,
    Role,
    RoutingStrategy,
)
from hotline.security import hash_password, random_password
from hotline.store import models as m
from hotline.store.db import Database
from hotline.telephony.registrar import SIP_REALM
from hotline.telephony.sip.digest import ha1 as sip_ha1
from hotline.users import DEFAULT_OPERATOR_CAPACITY, validate_password

TENANT_SLUG = "matryoshka"
TENANT_NAME = "Матрёшка"


class DemoError(RuntimeError):
    """The demo cannot be seeded into this database; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class DemoUser:
    login: str
    display_name: str
    role: Role
    locale: str = "ru"
    #: skill name -> level 1..10 (operators only)
    skills: dict[str, int] = field(default_factory=dict)
    #: keys of :data:`HOTLINES` the operator serves
    hotlines: tuple[str, ...] = ()


SKILLS: dict[str, str] = {
    "russian": "Русский язык",
    "english": "English",
    "female": "Женский голос (для линий, где клиенты просят оператора-женщину)",
    "accounting": "Бухгалтерия: зарплата, справки, налоги",
    "hr": "Кадры: отпуска, больничные, приём и увольнение",
    "tech_support": "Техническая поддержка интернет-магазина",
}

#: Ordered: admin, the tenant's supervisor and client, then the operators.
USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "Администратор", Role.ADMIN),
    DemoUser("supervisor", "Светлана Петрова (супервизор)", Role.SUPERVISOR),
    DemoUser("client", "Клиент «Матрёшка»", Role.CLIENT),
    DemoUser(
        "vadim",
        "Вадим",
        Role.OPERATOR,
        skills={"russian": 10, "accounting": 8, "hr": 5, "tech_support": 6, "english": 4},
        hotlines=("secretary", "shop"),
    ),
    DemoUser(
        "olga",
        "Ольга",
        Role.OPERATOR,
        skills={"russian": 10, "female": 10, "hr": 9, "accounting": 5},
        hotlines=("secretary",),
    ),
    DemoUser(
        "anna",
        "Анна",
        Role.OPERATOR,
        skills={"russian": 10, "female": 10, "english": 6, "tech_support": 7},
        hotlines=("secretary", "shop"),
    ),
    DemoUser(
        "ivan",
        "Иван",
        Role.OPERATOR,
        skills={"russian": 10, "tech_support": 9, "english": 3},
        hotlines=("shop",),
    ),
    DemoUser(
        "maria",
        "Мария",
        Role.OPERATOR,
        skills={"russian": 9, "female": 10, "accounting": 7, "hr": 6, "english": 5},
        hotlines=("secretary", "shop"),
    ),
    DemoUser(
        "john",
        "John",
        Role.OPERATOR,
        locale="en",
        skills={"english": 9, "russian": 3, "tech_support": 6},
        hotlines=("shop",),
    ),
)
LOGINS: tuple[str, ...] = tuple(u.login for u in USERS)

_WORKDAYS = ("mon", "tue", "wed", "thu", "fri")
_DAYS = (*_WORKDAYS, "sat", "sun")
#: Russia's New Year holidays and Christmas (Labour Code art. 112): 1–8 January.
_NEW_YEAR_2027 = [(date(2027, 1, 1) + timedelta(days=i)).isoformat() for i in range(8)]


def _queue(name: str, requirement: str = "", priority: int = 0) -> dict[str, Any]:
    return {
        "name": name,
        "skill_requirement": requirement,
        "priority": priority,
        "strategy": RoutingStrategy.LONGEST_IDLE,
        "service_level_target": DEFAULT_SERVICE_LEVEL_TARGET,
        "service_level_seconds": DEFAULT_SERVICE_LEVEL_SECONDS,
        "short_abandon_seconds": 5,
        "wrap_up_seconds": 30,
        "callback_threshold_seconds": DEFAULT_CALLBACK_THRESHOLD_SECONDS,
        "max_wait_seconds": None,
    }


def _step(text: str, *answers: tuple[str, str | None]) -> dict[str, Any]:
    return {"text": text, "answers": [{"label": label, "next": nxt} for label, nxt in answers]}


#: Everything hotline-owned, keyed by a short name used in :attr:`DemoUser.hotlines`.
HOTLINES: dict[str, dict[str, Any]] = {
    "secretary": {
        "name": "Виртуальный секретарь",
        "timezone": "Europe/Moscow",
        "language": "ru",
        "greeting_template": "Здравствуйте, меня зовут {operator}, компания {company}",
        "after_hours_action": AfterHoursAction.VOICEMAIL,
        "topic_required": True,
        "numbers": ["100", "+74950000001"],
        "business_hours": {
            "timezone": "Europe/Moscow",
            "weekly": {d: ["09:00-18:00"] if d in _WORKDAYS else [] for d in _DAYS},
            "holidays": _NEW_YEAR_2027,
            "special_days": {},
        },
        "queues": [_queue("Бухгалтерия", "accounting"), _queue("Отдел кадров", "hr")],
        "topics": ["Зарплата", "Отпуск", "Больничный", "Справки"],
        "outcomes": [("Решено", None), ("Перезвонить", None), ("Передано специалисту", None)],
        "script": {
            "name": "Входящий звонок",
            "start_step": "greet",
            "steps": {
                "greet": _step(
                    "Здравствуйте, меня зовут {operator}, компания {company}. Чем могу помочь?",
                    ("Вопрос по зарплате", "salary"),
                    ("Отпуск", "vacation"),
                    ("Другое", "other"),
                ),
                "salary": _step(
                    "Уточните табельный номер и месяц. Зарплата выплачивается 10 и 25 числа.",
                    ("Не пришёл расчётный листок", "to_accounting"),
                    ("Вопрос решён", "close"),
                ),
                "vacation": _step(
                    "Заявление на отпуск подаётся не позднее чем за 14 дней. Нужен бланк?",
                    ("Да, отправить бланк", "send_form"),
                    ("Нет, вопрос решён", "close"),
                ),
                "to_accounting": _step(
                    "Переведите звонок в очередь «Бухгалтерия».", ("Переведено", None)
                ),
                "send_form": _step(
                    "Уточните e-mail и отправьте бланк заявления на отпуск.",
                    ("Отправлено", "close"),
                ),
                "other": _step(
                    "Запишите вопрос в карточку и пообещайте перезвонить в течение дня.",
                    ("Записано", "close"),
                ),
                "close": _step("Спасибо за звонок! Хорошего дня.", ("Завершить", None)),
            },
        },
        "offers": [
            (
                "Бланк заявления на отпуск",
                "ru",
                "{company}: бланк заявления на отпуск",
                "Здравствуйте, {name}!\n\nКак мы договорились по телефону, вот как оформить "
                "отпуск: заявление подаётся в отдел кадров не позднее чем за 14 дней до его "
                "начала, отпускные выплачиваются за 3 дня.\n\nС уважением,\n{operator}, "
                "{company}",
            ),
        ],
        "articles": [
            (
                "ru",
                "График выплаты зарплаты",
                "Аванс выплачивается 25 числа, зарплата — 10 числа следующего месяца. "
                "Если дата выпадает на выходной, выплата переносится на предыдущий рабочий день.",
                ["зарплата", "аванс"],
            ),
            (
                "ru",
                "Как оформить отпуск",
                "Заявление подаётся в отдел кадров не позднее чем за 14 дней до начала отпуска. "
                "Отпускные выплачиваются за 3 дня до его начала.",
                ["отпуск", "кадры"],
            ),
            (
                "ru",
                "Справка 2-НДФЛ",
                "Справку готовит бухгалтерия в течение 3 рабочих дней после запроса. "
                "Её можно получить лично или по электронной почте.",
                ["справки", "бухгалтерия"],
            ),
        ],
    },
    "shop": {
        "name": "Matryoshka Shop support",
        "timezone": "Europe/Moscow",
        "language": "en",
        "greeting_template": "Hello, my name is {operator}, {company}",
        "after_hours_action": AfterHoursAction.CALLBACK,
        "topic_required": False,
        "numbers": ["200", "+74950000002", "+74950000003"],
        "business_hours": {
            "timezone": "Europe/Moscow",
            "weekly": {d: ["08:00-22:00"] for d in _DAYS},
            "holidays": [],
            "special_days": {},
        },
        "queues": [
            _queue("Support EN", "english >= 5"),
            _queue("Female line", "female"),
            _queue("Support RU", "russian >= 5"),
        ],
        "topics": ["Заказ", "Возврат", "Доставка"],
        "outcomes": [
            ("Решено", None),
            ("Перезвонить", None),
            ("Лид", "lead"),
            ("Продажа", "sale"),
        ],
        "script": {
            "name": "Support call",
            "start_step": "greet",
            "steps": {
                "greet": _step(
                    "Hello, my name is {operator}, {company}. How can I help you?",
                    ("Where is my order?", "order_status"),
                    ("I want to return an item", "return"),
                    ("I want to buy something", "sale"),
                ),
                "order_status": _step(
                    "Ask for the order number and read its status from the order page.",
                    ("Order is on its way", "close"),
                    ("Order is lost", "escalate"),
                ),
                "return": _step(
                    "Items can be returned within 14 days. Ask for the order number and "
                    "the reason, then create a return request.",
                    ("Return created", "close"),
                ),
                "sale": _step(
                    "Offer this week's collection and the free delivery over 3000 RUB.",
                    ("Order placed", "close"),
                    ("Will think about it", "close"),
                ),
                "escalate": _step(
                    "Promise a callback within 24 hours and mark the outcome «Перезвонить».",
                    ("Done", None),
                ),
                "close": _step("Thank you for calling Matryoshka Shop!", ("Finish", None)),
            },
        },
        "offers": [
            (
                "Коллекция недели",
                "ru",
                "{company}: коллекция недели и бесплатная доставка",
                "Здравствуйте, {name}!\n\nСпасибо за звонок. Как обещали, отправляем "
                "коллекцию этой недели: при заказе от 3000 ₽ доставка бесплатно.\n\n"
                "С уважением,\n{operator}, {company}",
            ),
            (
                "This week's collection",
                "en",
                "{company}: this week's collection and free delivery",
                "Dear {name},\n\nThank you for your call. As promised, here is this week's "
                "collection: delivery is free on orders over 3000 RUB.\n\nKind regards,\n"
                "{operator}, {company}",
            ),
        ],
        "articles": [
            (
                "en",
                "Return policy",
                "Unused items may be returned within 14 days of delivery. Refunds are made "
                "to the original payment method within 10 days.",
                ["return", "refund"],
            ),
            (
                "en",
                "Order tracking",
                "Each order has a tracking number in the confirmation e-mail; courier status "
                "updates every 2 hours.",
                ["order", "delivery"],
            ),
            (
                "ru",
                "Доставка и оплата",
                "Доставка по Москве — 1–2 дня, по России — 3–7 дней. Бесплатно при заказе "
                "от 3000 ₽. Оплата картой или при получении.",
                ["доставка", "оплата"],
            ),
        ],
    },
}


async def seed_demo(db: Database, *, password: str | None, now: datetime) -> dict[str, str]:
    """Seed (or re-key) the demo and return ``{login: plaintext}`` for passwords set now.

    See the module docstring for the idempotency rules.  ``now`` (aware, UTC) stamps every
    created row.  Raises :class:`DemoError` when a demo login belongs to someone else, and
    :class:`hotline.users.UserError` when ``password`` is too short.
    """
    if password is not None:
        validate_password(password)
    async with db.system_session() as session:
        tenant = await session.scalar(sa.select(m.Tenant).where(m.Tenant.slug == TENANT_SLUG))
        if tenant is not None:
            if password is None:
                return {}
            users = list(await session.scalars(sa.select(m.User).where(m.User.login.in_(LOGINS))))
            hashes = await _hash_all({u.login: password for u in users})
            for user in users:
                user.password_hash = hashes[user.login]
                if user.role is Role.OPERATOR:
                    user.sip_ha1 = sip_ha1(user.login, SIP_REALM, password)
            await session.commit()
            return {u.login: password for u in sorted(users, key=lambda u: LOGINS.index(u.login))}

        taken = sorted(
            await session.scalars(sa.select(m.User.login).where(m.User.login.in_(LOGINS)))
        )
        if taken:
            raise DemoError(
                f"login(s) {', '.join(taken)} already exist but the demo tenant "
                f"{TENANT_SLUG!r} does not: seed the demo into a fresh --data directory"
            )
        passwords = {u.login: password or random_password() for u in USERS}
        await _create(session, await _hash_all(passwords), now, passwords)
        await session.commit()
        return passwords


async def _hash_all(passwords: dict[str, str]) -> dict[str, str]:
    """``{login: argon2 hash}``, hashed in worker threads: argon2 is slow by design (about
    0.1–0.5 s each) and must neither block the event loop nor add up serially."""
    logins = list(passwords)
    hashes = await asyncio.gather(*(asyncio.to_thread(hash_password, passwords[k]) for k in logins))
    return dict(zip(logins, hashes, strict=True))


async def _create(
    session: AsyncSession,
    password_hashes: dict[str, str],
    now: datetime,
    passwords: dict[str, str],
) -> None:
    """Insert the whole demo; flushes where later rows need generated ids.

    JSON values are deep-copied so that editing a row in place can never change the
    module's constants (and so the next seeding in the same process).
    """
    tenant = m.Tenant(name=TENANT_NAME, slug=TENANT_SLUG, created_at=now)
    session.add(tenant)
    await session.flush()
    tid = tenant.id

    skills = {name: m.Skill(tenant_id=tid, name=name, description=d) for name, d in SKILLS.items()}
    hotlines = {
        key: m.Hotline(
            tenant_id=tid,
            name=spec["name"],
            timezone=spec["timezone"],
            language=spec["language"],
            greeting_template=spec["greeting_template"],
            business_hours=copy.deepcopy(spec["business_hours"]),
            after_hours_action=spec["after_hours_action"],
            topic_required=spec["topic_required"],
            created_at=now,
            numbers=[m.HotlineNumber(number=n) for n in spec["numbers"]],
        )
        for key, spec in HOTLINES.items()
    }
    session.add_all([*skills.values(), *hotlines.values()])
    await session.flush()

    queues: dict[str, list[m.Queue]] = {}
    for key, spec in HOTLINES.items():
        hid = hotlines[key].id
        owned = {"tenant_id": tid, "hotline_id": hid}
        queues[key] = [m.Queue(**owned, **q) for q in spec["queues"]]
        session.add_all(queues[key])
        session.add_all(m.Topic(**owned, kind="topic", name=t) for t in spec["topics"])
        session.add_all(
            m.Topic(**owned, kind="outcome", name=name, counts_as=counts)
            for name, counts in spec["outcomes"]
        )
        session.add(m.Script(**owned, **copy.deepcopy(spec["script"])))
        session.add_all(
            m.OfferTemplate(**owned, name=name, language=lang, subject=subject, body=body)
            for name, lang, subject, body in spec["offers"]
        )
        session.add_all(
            m.KbArticle(
                **owned,
                language=lang,
                title=title,
                body=body,
                tags=list(tags),
                updated_at=now,
            )
            for lang, title, body, tags in spec["articles"]
        )

    for u in USERS:
        session.add(
            m.User(
                tenant_id=None if u.role is Role.ADMIN else tid,
                login=u.login,
                display_name=u.display_name,
                role=u.role,
                password_hash=password_hashes[u.login],
                locale=u.locale,
                capacity=dict(DEFAULT_OPERATOR_CAPACITY) if u.role is Role.OPERATOR else {},
                created_at=now,
                sip_ha1=(
                    sip_ha1(u.login, SIP_REALM, passwords[u.login])
                    if u.role is Role.OPERATOR
                    else None
                ),
                hotline_links=[m.UserHotline(hotline_id=hotlines[h].id) for h in u.hotlines],
                skill_links=[
                    m.OperatorSkill(skill_id=skills[s].id, level=lvl) for s, lvl in u.skills.items()
                ],
            )
        )

    await session.flush()
    accounting, hr = (q.id for q in queues["secretary"])
    flows = {
        "secretary": virtual_secretary_flow(accounting=accounting, hr=hr, general=accounting),
        "shop": shop_flow(sales=queues["shop"][0].id),
    }
    for key, document in flows.items():
        session.add(
            m.Flow(
                tenant_id=tid,
                hotline_id=hotlines[key].id,
                version=1,
                document=document,
                comment="demo",
                created_at=now,
                published_at=now,
            )
        )
    # RFC 3261 trunks: calls from this machine are a trusted demo trunk (the contract the
    # README and the SIP tests use: sip:100@HOST and sip:200@HOST from 127.0.0.1)
    session.add(m.SipTrunk(name="demo-localhost", address="127.0.0.1", active=True, created_at=now))
