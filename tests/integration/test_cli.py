"""The ``hotline`` command against a real SQLite database, through Typer's ``CliRunner``.

Every ``--json`` command is checked to print exactly one JSON document on stdout (STYLE
§17), and every user mistake to exit 2 with one ``error:`` line and no traceback.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from hotline import __version__
from hotline.cli import app
from hotline.core.model import AfterHoursAction, Role
from hotline.demo import LOGINS, TENANT_SLUG, DemoError, seed_demo
from hotline.security import hash_password, verify_password
from hotline.store import models as m
from hotline.store.db import Database, sqlite_url
from hotline.store.migrate import head_revision, upgrade
from hotline.web.api import schemas

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SAMPLE = ("admin", "john")
HEAD = head_revision()
ENV_VARS = ("HOTLINE_DATA_DIR", "HOTLINE_HTTP", "HOTLINE_SIP", "HOTLINE_DATABASE_URL")


@pytest.fixture
def runner() -> CliRunner:
    # None removes the variable for the run: the developer's environment must not leak in.
    return CliRunner(env=dict.fromkeys(ENV_VARS))


def invoke(runner: CliRunner, *args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def one_json(result: Result) -> Any:
    """The single JSON document that is all of stdout."""
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def assert_user_error(result: Result, fragment: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "error:" in result.stderr
    assert fragment in " ".join(result.stderr.split())
    assert "Traceback" not in result.output


async def _prepare(data: Path) -> int:
    """A migrated database with tenant ``acme`` and one hotline; returns the hotline id."""
    db = Database(sqlite_url(data))
    try:
        await upgrade(db.engine)
        async with db.system_session() as s:
            tenant = m.Tenant(name="ACME", slug="acme", created_at=NOW)
            s.add(tenant)
            await s.flush()
            hotline = m.Hotline(
                tenant_id=tenant.id,
                name="Support",
                timezone="Europe/Moscow",
                greeting_template="Hello, my name is {operator}, {company}",
                after_hours_action=AfterHoursAction.VOICEMAIL,
                created_at=NOW,
            )
            other = m.Tenant(name="Other", slug="other", created_at=NOW)
            s.add_all([hotline, other])
            await s.commit()
            return hotline.id
    finally:
        await db.dispose()


async def _fetch_user(data: Path, login: str) -> m.User | None:
    db = Database(sqlite_url(data))
    try:
        async with db.system_session() as s:
            return await s.scalar(sa.select(m.User).where(m.User.login == login))
    finally:
        await db.dispose()


@pytest.fixture
def acme(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    yield tmp_path, asyncio.run(_prepare(tmp_path))


# --- version and migrate ------------------------------------------------------------------


def test_version(runner: CliRunner) -> None:
    result = invoke(runner, "--version")
    assert result.exit_code == 0
    assert result.stdout == f"hotline {__version__}\n"


def test_migrate_json_upgrades_to_head_then_downgrades_to_base(
    runner: CliRunner, tmp_path: Path
) -> None:
    data = tmp_path / "new" / "dir"  # created on demand
    assert one_json(invoke(runner, "migrate", "--data", data, "--json")) == {"revision": HEAD}
    assert (data / "hotline.db").exists()
    # Idempotent: migrating an up-to-date database is a no-op.
    assert one_json(invoke(runner, "migrate", "--data", data, "--json")) == {"revision": HEAD}
    down = invoke(runner, "migrate", "--data", data, "--downgrade", "base", "--json")
    assert one_json(down) == {"revision": None}


def test_migrate_reads_the_data_dir_from_the_environment(tmp_path: Path) -> None:
    runner = CliRunner(env={**dict.fromkeys(ENV_VARS), "HOTLINE_DATA_DIR": str(tmp_path)})
    assert one_json(invoke(runner, "migrate", "--json")) == {"revision": HEAD}
    assert (tmp_path / "hotline.db").exists()


def test_migrate_without_json_says_where_the_database_is(runner: CliRunner, tmp_path: Path) -> None:
    result = invoke(runner, "migrate", "--data", tmp_path)
    assert result.exit_code == 0
    assert f"revision {HEAD} (head)" in result.stdout


def test_migrate_to_an_unknown_revision_is_a_user_error(runner: CliRunner, tmp_path: Path) -> None:
    result = invoke(runner, "migrate", "--data", tmp_path, "--revision", "9999", "--json")
    assert_user_error(result, "9999")


def test_migrate_refuses_both_directions_at_once(runner: CliRunner, tmp_path: Path) -> None:
    result = invoke(
        runner, "migrate", "--data", tmp_path, "--revision", "head", "--downgrade", "base"
    )
    assert_user_error(result, "not both")


def test_migrate_with_a_bad_database_url_is_a_user_error(runner: CliRunner) -> None:
    result = invoke(runner, "migrate", "--database-url", "nosuchdb://u:secret@h/x", "--json")
    assert_user_error(result, "--database-url")
    assert "secret" not in result.output


def test_serve_with_a_bad_address_fails_before_serving(runner: CliRunner, tmp_path: Path) -> None:
    result = invoke(runner, "serve", "--data", tmp_path, "--http", "127.0.0.1:http")
    assert_user_error(result, "--http")


def test_demo_with_a_short_password_fails_before_serving(runner: CliRunner, tmp_path: Path) -> None:
    result = invoke(runner, "demo", "--data", tmp_path, "--demo-password", "short")
    assert_user_error(result, "--demo-password")


# --- user add -----------------------------------------------------------------------------


def test_user_add_generates_a_password_and_prints_it_once(
    runner: CliRunner, acme: tuple[Path, int]
) -> None:
    data, hotline_id = acme
    result = invoke(
        runner,
        "user", "add", "vadim", "--role", "operator", "--tenant", "acme", "--name", "Вадим",
        "--hotline", str(hotline_id), "--data", data, "--json",
    )  # fmt: skip
    doc = one_json(result)
    assert set(doc) == {"id", "login", "role", "tenant", "password"}
    assert doc["login"] == "vadim"
    assert doc["role"] == "operator"
    assert doc["tenant"] == "acme"
    assert isinstance(doc["id"], int)

    user = asyncio.run(_fetch_user(data, "vadim"))
    assert user is not None
    assert user.id == doc["id"]
    assert user.display_name == "Вадим"
    assert user.role is Role.OPERATOR
    assert user.capacity == {"call": 1, "chat": 3}
    assert [link.hotline_id for link in user.hotline_links] == [hotline_id]
    assert verify_password(user.password_hash, doc["password"])


def test_user_add_with_a_given_password_does_not_echo_it(
    runner: CliRunner, acme: tuple[Path, int]
) -> None:
    data, _ = acme
    result = invoke(
        runner, "user", "add", "root", "--role", "admin", "--password", "s3cret-pass",
        "--data", data, "--json",
    )  # fmt: skip
    doc = one_json(result)
    assert doc == {"id": doc["id"], "login": "root", "role": "admin", "tenant": None}
    user = asyncio.run(_fetch_user(data, "root"))
    assert user is not None
    assert user.tenant_id is None
    assert user.display_name == "root"
    assert verify_password(user.password_hash, "s3cret-pass")


def test_user_add_for_people_prints_the_generated_password(
    runner: CliRunner, acme: tuple[Path, int]
) -> None:
    data, _ = acme
    result = invoke(runner, "user", "add", "sv", "--role", "supervisor", "--tenant", "acme",
                    "--data", data)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "created user sv" in result.stdout
    assert "password: " in result.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["taken", "--role", "operator", "--tenant", "acme"], "login 'taken' is already taken"),
        (["newbie", "--role", "operator", "--tenant", "nope"], "no tenant with slug 'nope'"),
        (["newbie", "--role", "admin", "--tenant", "acme"], "admin belongs to no tenant"),
        (["newbie", "--role", "operator"], "operators belong to one tenant"),
        (["newbie", "--role", "client"], "clients belong to one tenant"),
        (["newbie", "--role", "operator", "--tenant", "acme", "--hotline", "999"], "999"),
        (
            ["newbie", "--role", "client", "--tenant", "acme", "--hotline", "1"],
            "see the whole tenant",
        ),
        (
            ["newbie", "--role", "operator", "--tenant", "acme", "--password", "short"],
            "8 characters",
        ),
        (["bad login", "--role", "operator", "--tenant", "acme"], "login 'bad login'"),
    ],
)
def test_user_add_mistakes_exit_2_with_a_message(
    runner: CliRunner, acme: tuple[Path, int], args: list[str], fragment: str
) -> None:
    data, _ = acme
    first = invoke(runner, "user", "add", "taken", "--role", "admin", "--data", data, "--json")
    assert first.exit_code == 0, first.output
    result = invoke(runner, "user", "add", *args, "--data", data, "--json")
    assert_user_error(result, fragment)


def test_user_add_refuses_a_hotline_of_another_tenant(
    runner: CliRunner, acme: tuple[Path, int]
) -> None:
    data, hotline_id = acme
    result = invoke(runner, "user", "add", "newbie", "--role", "operator", "--tenant", "other",
                    "--hotline", str(hotline_id), "--data", data)  # fmt: skip
    assert_user_error(result, "do not exist in tenant 'other'")


def test_user_add_on_an_unmigrated_database_says_to_migrate(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = invoke(runner, "user", "add", "root", "--role", "admin", "--data", tmp_path)
    assert_user_error(result, "run `hotline migrate` first")


def test_user_add_with_an_unknown_role_is_a_usage_error(
    runner: CliRunner, acme: tuple[Path, int]
) -> None:
    data, _ = acme
    result = invoke(runner, "user", "add", "newbie", "--role", "boss", "--data", data)
    assert result.exit_code == 2
    assert result.stdout == ""


# --- demo data ----------------------------------------------------------------------------


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(sqlite_url(tmp_path))
    await upgrade(database.engine)
    try:
        yield database
    finally:
        await database.dispose()


async def _count(db: Database, model: type[m.Base]) -> int:
    async with db.system_session() as s:
        return int(await s.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


async def _counts(db: Database) -> dict[str, int]:
    models: list[type[m.Base]] = [
        m.Tenant, m.User, m.Hotline, m.HotlineNumber, m.Queue, m.Skill, m.OperatorSkill,
        m.UserHotline, m.Topic, m.Script, m.KbArticle, m.Flow, m.SipTrunk,
    ]  # fmt: skip
    return {model.__name__: await _count(db, model) for model in models}


async def _users(db: Database) -> dict[str, m.User]:
    async with db.system_session() as s:
        return {u.login: u for u in await s.scalars(sa.select(m.User))}


async def test_seed_demo_creates_the_matryoshka_tenant(db: Database) -> None:
    passwords = await seed_demo(db, password="pw12345678", now=NOW)

    assert list(passwords) == list(LOGINS)
    assert set(LOGINS) == {
        "admin", "supervisor", "client", "vadim", "olga", "anna", "ivan", "maria", "john",
    }  # fmt: skip
    assert await _counts(db) == {
        "Tenant": 1,
        "User": 9,
        "Hotline": 2,
        "HotlineNumber": 5,  # the two demo numbers 100 and 200 besides the city numbers
        "Queue": 5,
        "Skill": 6,
        "OperatorSkill": 24,
        "UserHotline": 9,
        "Topic": 14,
        "Script": 2,
        "KbArticle": 6,
        "Flow": 2,  # one published IVR flow per hotline
        "SipTrunk": 1,  # the trusted local trunk of the demo
    }
    users = await _users(db)
    # operators can register a phone with the demo password; nobody else has SIP access
    assert {u.login for u in users.values() if u.sip_ha1} == {
        u.login for u in users.values() if u.role is Role.OPERATOR
    }
    for login, user in users.items():
        assert verify_password(user.password_hash, passwords[login])
        assert user.created_at == NOW
    assert users["admin"].role is Role.ADMIN
    assert users["admin"].tenant_id is None
    assert users["supervisor"].role is Role.SUPERVISOR
    assert users["supervisor"].hotline_links == []  # the whole tenant, not a site
    assert users["client"].role is Role.CLIENT
    operators = [u for u in users.values() if u.role is Role.OPERATOR]
    assert sorted(u.login for u in operators) == ["anna", "ivan", "john", "maria", "olga", "vadim"]
    assert all(u.capacity == {"call": 1, "chat": 3} for u in operators)
    assert users["john"].display_name == "John"
    assert users["vadim"].display_name == "Вадим"

    async with db.system_session() as s:
        tenant = await s.scalar(sa.select(m.Tenant))
        assert tenant is not None
        assert (tenant.slug, tenant.name) == (TENANT_SLUG, "Матрёшка")
        skill_ids = {k.name: k.id for k in await s.scalars(sa.select(m.Skill))}
        hotlines = {h.name: h for h in await s.scalars(sa.select(m.Hotline))}
        queues = {q.name: q for q in await s.scalars(sa.select(m.Queue))}
        scripts = list(await s.scalars(sa.select(m.Script)))
        outcomes = {
            t.name: t.counts_as
            for t in await s.scalars(sa.select(m.Topic).where(m.Topic.kind == "outcome"))
        }

    john_skills = {link.skill_id: link.level for link in users["john"].skill_links}
    assert john_skills[skill_ids["english"]] == 9
    for login in ("anna", "olga", "maria"):
        levels = {link.skill_id: link.level for link in users[login].skill_links}
        assert levels[skill_ids["female"]] == 10

    secretary = hotlines["Виртуальный секретарь"]
    shop = hotlines["Matryoshka Shop support"]
    assert secretary.timezone == shop.timezone == "Europe/Moscow"
    assert secretary.greeting_template == "Здравствуйте, меня зовут {operator}, компания {company}"
    assert shop.greeting_template == "Hello, my name is {operator}, {company}"
    assert secretary.business_hours["weekly"]["mon"] == ["09:00-18:00"]
    assert secretary.business_hours["weekly"]["sat"] == []
    assert secretary.business_hours["holidays"][0] == "2027-01-01"
    assert secretary.business_hours["holidays"][-1] == "2027-01-08"
    assert len(secretary.business_hours["holidays"]) == 8
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    assert shop.business_hours["weekly"] == {d: ["08:00-22:00"] for d in days}
    assert sorted(n.number for n in secretary.numbers) == ["+74950000001", "100"]
    assert sorted(n.number for n in shop.numbers) == ["+74950000002", "+74950000003", "200"]

    assert queues["Support EN"].skill_requirement == "english >= 5"
    assert queues["Female line"].skill_requirement == "female"
    assert queues["Бухгалтерия"].hotline_id == secretary.id
    assert queues["Отдел кадров"].hotline_id == secretary.id
    assert queues["Support RU"].hotline_id == shop.id
    assert outcomes["Лид"] == "lead"
    assert outcomes["Продажа"] == "sale"

    # Both vadim and maria serve both hotlines; ivan and john only the shop.
    assert {link.hotline_id for link in users["vadim"].hotline_links} == {secretary.id, shop.id}
    assert {link.hotline_id for link in users["john"].hotline_links} == {shop.id}

    for script in scripts:
        assert script.start_step in script.steps
        for step in script.steps.values():
            assert step["text"]
            for answer in step["answers"]:
                assert answer["next"] is None or answer["next"] in script.steps


async def test_seeded_demo_is_data_the_api_would_accept(db: Database) -> None:
    """The demo bypasses the API's validation; this makes sure it never needs to."""
    await seed_demo(db, password="pw12345678", now=NOW)
    async with db.system_session() as s:
        skills = {k.id: k.name for k in await s.scalars(sa.select(m.Skill))}
        for skill in skills.values():
            schemas.SkillCreate(tenant_id=1, name=skill)
        for h in await s.scalars(sa.select(m.Hotline)):
            schemas.HotlineCreate(
                tenant_id=h.tenant_id, name=h.name, timezone=h.timezone,
                numbers=[n.number for n in h.numbers], greeting_template=h.greeting_template,
                business_hours=h.business_hours, after_hours_action=h.after_hours_action,
                language=h.language, topic_required=h.topic_required,
            )  # fmt: skip
        for q in await s.scalars(sa.select(m.Queue)):
            schemas.QueueCreate(
                hotline_id=q.hotline_id, name=q.name, skill_requirement=q.skill_requirement,
                priority=q.priority, strategy=q.strategy,
            )  # fmt: skip
        for t in await s.scalars(sa.select(m.Topic)):
            schemas.TopicCreate(
                hotline_id=t.hotline_id, kind=t.kind, name=t.name, counts_as=t.counts_as
            )
        for sc in await s.scalars(sa.select(m.Script)):
            schemas.ScriptCreate(
                hotline_id=sc.hotline_id, name=sc.name, start_step=sc.start_step, steps=sc.steps
            )
        for a in await s.scalars(sa.select(m.KbArticle)):
            schemas.KbArticleCreate(
                hotline_id=a.hotline_id, title=a.title, body=a.body, language=a.language,
                tags=a.tags,
            )  # fmt: skip
        for u in await s.scalars(sa.select(m.User)):
            schemas.UserCreate(
                tenant_id=u.tenant_id, login=u.login, display_name=u.display_name, role=u.role,
                password="pw12345678", locale=u.locale,
                capacity=schemas.Capacity.model_validate(u.capacity) if u.capacity else None,
                hotline_ids=[link.hotline_id for link in u.hotline_links],
                skills={skills[link.skill_id]: link.level for link in u.skill_links},
            )  # fmt: skip


async def test_seed_demo_random_passwords_differ_and_verify(db: Database) -> None:
    passwords = await seed_demo(db, password=None, now=NOW)
    assert set(passwords) == set(LOGINS)
    assert len(set(passwords.values())) == len(LOGINS)
    users = await _users(db)
    # argon2 is slow by design: one admin and one operator stand for the rest here.
    assert all(verify_password(users[k].password_hash, passwords[k]) for k in SAMPLE)


async def test_seed_demo_twice_changes_nothing_without_a_password(db: Database) -> None:
    first = await seed_demo(db, password=None, now=NOW)
    before = await _counts(db)
    assert await seed_demo(db, password=None, now=NOW) == {}
    assert await _counts(db) == before
    users = await _users(db)
    assert all(verify_password(users[k].password_hash, first[k]) for k in SAMPLE)


async def test_seed_demo_twice_with_a_password_only_resets_passwords(db: Database) -> None:
    await seed_demo(db, password="first-password", now=NOW)
    before = await _counts(db)
    again = await seed_demo(db, password="second-password", now=NOW)
    assert again == dict.fromkeys(LOGINS, "second-password")
    assert await _counts(db) == before
    users = await _users(db)
    assert all(verify_password(users[k].password_hash, "second-password") for k in SAMPLE)


async def test_seed_demo_never_takes_over_an_existing_login(db: Database) -> None:
    async with db.system_session() as s:
        s.add(
            m.User(
                login="admin",
                display_name="Real admin",
                role=Role.ADMIN,
                password_hash=hash_password("the-real-one"),
                created_at=NOW,
            )
        )
        await s.commit()
    with pytest.raises(DemoError, match="admin"):
        await seed_demo(db, password="pw12345678", now=NOW)
    assert await _count(db, m.Tenant) == 0
    users = await _users(db)
    assert list(users) == ["admin"]
    assert verify_password(users["admin"].password_hash, "the-real-one")


async def _trunks(data: Path) -> list[m.SipTrunk]:
    db = Database(sqlite_url(data))
    try:
        async with db.system_session() as s:
            return list(await s.scalars(sa.select(m.SipTrunk).order_by(m.SipTrunk.id)))
    finally:
        await db.dispose()


def test_trunk_add_by_address_and_by_credentials(runner: CliRunner, tmp_path: Path) -> None:
    assert invoke(runner, "migrate", "--data", tmp_path).exit_code == 0
    doc = one_json(
        invoke(runner, "trunk", "add", "carrier", "--address", "203.0.113.0/24",
               "--data", tmp_path, "--json")
    )  # fmt: skip
    assert doc == {"id": doc["id"], "name": "carrier", "address": "203.0.113.0/24",
                   "username": None, "outbound": None}  # fmt: skip
    one_json(
        invoke(runner, "trunk", "add", "sbc", "--username", "sbc1", "--password", "s3cret-trunk",
               "--data", tmp_path, "--json")
    )  # fmt: skip
    one_json(
        invoke(runner, "trunk", "add", "out", "--outbound", "sip:198.51.100.7:5070;transport=tcp",
               "--data", tmp_path, "--json")
    )  # fmt: skip
    trunks = asyncio.run(_trunks(tmp_path))
    assert [(t.name, t.address, t.username, t.outbound_uri) for t in trunks] == [
        ("carrier", "203.0.113.0/24", None, None),
        ("sbc", None, "sbc1", None),
        ("out", None, None, "sip:198.51.100.7:5070;transport=tcp"),
    ]
    # only the digest HA1 is kept (RFC 2617 §3.2.2.2), computed independently here
    expected = hashlib.md5(b"sbc1:hotline:s3cret-trunk", usedforsecurity=False).hexdigest()
    assert trunks[1].sip_ha1 == expected
    assert "s3cret-trunk" not in repr([vars(t) for t in trunks])


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((), "give --address"),
        (("--address", "not-an-ip"), "neither an IP address nor a CIDR"),
        (("--username", "u"), "go together"),
        (("--address", "10.0.0.1"), "exists already"),
        (("--outbound", "sip:carrier.example.net"), "must be an IP address"),
        (("--outbound", "sip:1234@10.0.0.9"), "without a user part"),
        (("--outbound", "sips:10.0.0.9"), "use a sip: URI"),
        (("--outbound", "sip:10.0.0.9;transport=sctp"), "udp or tcp"),
    ],
)
def test_trunk_add_refuses_bad_input_clearly(
    runner: CliRunner, tmp_path: Path, args: tuple[str, ...], fragment: str
) -> None:
    assert invoke(runner, "migrate", "--data", tmp_path).exit_code == 0
    assert (
        invoke(runner, "trunk", "add", "dup", "--address", "10.0.0.2", "--data", tmp_path).exit_code
        == 0
    )
    name = "dup" if fragment == "exists already" else "other"
    assert_user_error(invoke(runner, "trunk", "add", name, *args, "--data", tmp_path), fragment)
