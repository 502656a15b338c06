"""The script editor, the knowledge-base pages and prompt uploads (pages and API), in
process against a real app and database (SQLite and PostgreSQL).

Forms are posted as a browser posts them (urlencoded or multipart, with the page's CSRF
token); what they change is read back from the database and the disk, not from the page.
"""

from __future__ import annotations

import io
import math
import re
import struct
import wave
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from hotline.core.model import Role
from hotline.settings import Settings
from hotline.store import models as m
from hotline.store.db import Database
from hotline.web.api import prompts as prompts_api
from tests.integration.page_helpers import Form, supervisor_form
from tests.integration.test_admin_pages import cookie, field_error
from tests.integration.world import World, auth


def wav_bytes(seconds: float = 0.2, rate: int = 8000, hz: float = 440.0) -> bytes:
    """A mono 16-bit PCM WAV of a sine tone."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(
            b"".join(
                struct.pack("<h", int(9000 * math.sin(2 * math.pi * hz * i / rate)))
                for i in range(int(rate * seconds))
            )
        )
    return out.getvalue()


async def _script_count(db: Database) -> int:
    async with db.system_session() as s:
        return int(await s.scalar(sa.select(sa.func.count()).select_from(m.Script)) or 0)


# -- scripts -----------------------------------------------------------------------------------


def _script_form(hotline_id: int | None, **extra: str) -> dict[str, str]:
    form = {
        "name": "Приём заказа",
        "start_step": "greet",
        "step-0-id": "greet",
        "step-0-text": "Вы хотите сделать заказ?",
        "step-0-answer-0-label": "Да",
        "step-0-answer-0-next": "order",
        "step-0-answer-1-label": "Нет",
        "step-0-answer-1-next": "bye",
        "step-0-answer-2-label": "",  # the blank rows the page offers
        "step-0-answer-2-next": "",
        "step-1-id": "order",
        "step-1-text": "Назовите номер товара",
        "step-1-answer-0-label": "Записал",
        "step-1-answer-0-next": "",
        "step-2-id": "bye",
        "step-2-text": "Спасибо за звонок!",
        "step-3-id": "",
        "step-3-text": "",
        "step-3-answer-0-label": "",
        "step-3-answer-0-next": "",
    }
    if hotline_id is not None:
        form["hotline_id"] = str(hotline_id)
    return form | extra


async def test_given_the_script_form_when_a_branching_script_posted_then_stored_as_the_api_reads_it(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    a, sup = world.a, world.a.tokens[Role.SUPERVISOR]
    hotline = a.ids["hotlines"]
    new = await supervisor_form(client, world, "scripts/new")
    shown = await client.get(f"{new.url}?hotline_id={hotline}", headers=cookie(sup))
    assert f'<option value="{hotline}" selected>' in shown.text
    r = await new.post(_script_form(hotline))
    assert r.status_code == 303, r.text
    async with database.system_session() as s:
        row = (
            await s.execute(sa.select(m.Script).where(m.Script.name == "Приём заказа"))
        ).scalar_one()
        audit = (
            await s.execute(sa.select(m.AuditEntry).where(m.AuditEntry.entity == "script"))
        ).scalar_one()
    assert (
        r.headers["location"]
        == f"/t/{a.tenant_id}/admin/scripts?saved={row.id}&hotline_id={hotline}"
    )
    assert (row.tenant_id, row.hotline_id, row.start_step) == (a.tenant_id, hotline, "greet")
    assert row.steps == {
        "greet": {
            "text": "Вы хотите сделать заказ?",
            "answers": [{"label": "Да", "next": "order"}, {"label": "Нет", "next": "bye"}],
        },
        "order": {"text": "Назовите номер товара", "answers": [{"label": "Записал", "next": None}]},
        "bye": {"text": "Спасибо за звонок!", "answers": []},
    }
    assert (audit.action, audit.entity_id) == ("create", str(row.id))
    # the operator desktop reads it through the API exactly so
    api = await client.get(f"/api/v1/scripts/{row.id}", headers=auth(a.tokens[Role.OPERATOR]))
    assert api.json()["steps"] == row.steps
    listed = await client.get(r.headers["location"], headers=cookie(sup))
    assert 'id="saved"' in listed.text and "Приём заказа" in listed.text
    assert "Greeting" in listed.text  # the seeded script of the same hotline
    edit = await client.get(f"/t/{a.tenant_id}/admin/scripts/{row.id}", headers=cookie(sup))
    assert 'name="step-0-answer-1-next" value="bye"' in edit.text
    assert 'name="step-2-id" value="bye"' in edit.text
    assert '<option value="order">' in edit.text  # the steps offered for "next step"


async def test_given_branches_to_missing_steps_when_saved_then_each_named_at_its_field_none_saved(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    a = world.a
    new = await supervisor_form(client, world, "scripts/new")
    before = await _script_count(database)
    bad = _script_form(
        a.ids["hotlines"],
        **{"step-0-answer-1-next": "nowhere", "step-1-answer-0-next": "elsewhere"},
    )
    r = await new.post(bad)
    assert r.status_code == 422
    assert "nowhere" in field_error(r.text, "step-0-answer-1-next")
    assert "elsewhere" in field_error(r.text, "step-1-answer-0-next")
    assert "Шага «nowhere» нет" in field_error(r.text, "step-0-answer-1-next")
    assert 'value="nowhere"' in r.text  # what was typed is kept
    assert (
        'id="f-step-0-answer-1-next" name="step-0-answer-1-next" value="nowhere" list="step-ids"'
        in r.text
    )
    assert 'aria-invalid="true"' in r.text
    r = await new.post({**_script_form(a.ids["hotlines"]), "start_step": "begin"})
    assert r.status_code == 422
    assert "begin" in field_error(r.text, "start_step")
    # ids the schema refuses, and an id used twice, are shown at the step's id
    r = await new.post(
        _script_form(a.ids["hotlines"], **{"step-1-id": "Order Step", "step-2-id": "greet"})
    )
    assert r.status_code == 422
    assert "pattern" in field_error(r.text, "step-1-id")
    assert "уже есть" in field_error(r.text, "step-2-id")
    # the same holds when editing: the stored script is left as it was
    edit = await supervisor_form(client, world, f"scripts/{a.ids['scripts']}")
    r = await edit.post(
        {
            "name": "Greeting",
            "start_step": "hello",
            "step-0-id": "hello",
            "step-0-text": "Hi",
            "step-0-answer-0-label": "Next",
            "step-0-answer-0-next": "gone",
        }
    )
    assert r.status_code == 422
    assert "gone" in field_error(r.text, "step-0-answer-0-next")
    assert await _script_count(database) == before
    async with database.system_session() as s:
        row = await s.get(m.Script, a.ids["scripts"])
        assert row is not None
        assert row.steps == {"hello": {"text": "Hi", "answers": []}}


async def test_given_a_script_when_edited_with_a_new_step_then_saved_and_more_rows_save_nothing(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    a = world.a
    edit = await supervisor_form(client, world, f"scripts/{a.ids['scripts']}")
    form = {
        "name": "Приветствие",
        "start_step": "hello",
        "step-0-id": "hello",
        "step-0-text": "Здравствуйте!",
        "step-0-answer-0-label": "Дальше",
        "step-0-answer-0-next": "ask",
        "step-1-id": "ask",
        "step-1-text": "Чем помочь?",
        "step-2-id": "",  # the blank step the page offers
        "step-2-text": "",
    }
    more = await edit.post({**form, "more": "1"})
    assert more.status_code == 200
    assert 'name="step-2-id"' in more.text and 'name="step-3-id"' in more.text
    async with database.system_session() as s:
        row = await s.get(m.Script, a.ids["scripts"])
        assert row is not None and row.name == "Greeting"  # "add a step" saved nothing
    r = await edit.post(form)
    assert r.status_code == 303, r.text
    async with database.system_session() as s:
        row = await s.get(m.Script, a.ids["scripts"])
        assert row is not None
        assert (row.name, row.start_step) == ("Приветствие", "hello")
        assert row.steps == {
            "hello": {"text": "Здравствуйте!", "answers": [{"label": "Дальше", "next": "ask"}]},
            "ask": {"text": "Чем помочь?", "answers": []},
        }


async def test_given_a_script_when_deleted_then_gone_and_audited_and_a_forged_post_deletes_nothing(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    a, sup = world.a, world.a.tokens[Role.SUPERVISOR]
    edit = await supervisor_form(client, world, f"scripts/{a.ids['scripts']}")
    delete = f"{edit.url}/delete"
    assert f'action="{delete}"' in (await client.get(edit.url, headers=cookie(sup))).text
    forged = await edit.post({"csrf": "0" * 64}, url=delete)
    assert forged.status_code == 403
    r = await edit.post({}, url=delete)
    assert r.status_code == 303
    assert r.headers["location"] == (
        f"/t/{a.tenant_id}/admin/scripts?deleted={a.ids['scripts']}&hotline_id={a.ids['hotlines']}"
    )
    async with database.system_session() as s:
        assert await s.get(m.Script, a.ids["scripts"]) is None
        audit = (
            await s.execute(sa.select(m.AuditEntry).where(m.AuditEntry.action == "delete"))
        ).scalar_one()
    assert (audit.entity, audit.entity_id, audit.tenant_id) == (
        "script",
        str(a.ids["scripts"]),
        a.tenant_id,
    )
    assert 'id="deleted"' in (await client.get(r.headers["location"], headers=cookie(sup))).text


@pytest.mark.parametrize("section", ["scripts", "kb"])
async def test_given_roles_and_tenants_when_using_the_editors_then_only_editors_of_own_tenant(
    client: httpx.AsyncClient, world: World, database: Database, section: str
) -> None:
    a, b = world.a, world.b
    key = "scripts" if section == "scripts" else "kb-articles"
    sup = a.tokens[Role.SUPERVISOR]
    listed = await client.get(f"/t/{a.tenant_id}/admin/{section}", headers=cookie(sup))
    assert listed.status_code == 200
    own = "Greeting" if section == "scripts" else "Returns"
    assert own in listed.text
    assert f'data-id="{b.ids[key]}"' not in listed.text
    new = await supervisor_form(client, world, f"{section}/new")
    for token in (a.tokens[Role.OPERATOR], a.tokens[Role.CLIENT]):
        for path in ("", "/new", f"/{a.ids[key]}"):
            r = await client.get(f"/t/{a.tenant_id}/admin/{section}{path}", headers=cookie(token))
            assert r.status_code == 403, (token, path)
        delete = f"/t/{a.tenant_id}/admin/{section}/{a.ids[key]}/delete"
        r = await new.post({}, url=delete, token=token)
        assert r.status_code == 403, token
    # another tenant's pages are refused; its rows under our path are not there
    assert (
        await client.get(f"/t/{b.tenant_id}/admin/{section}", headers=cookie(sup))
    ).status_code == 403
    foreign = f"/t/{a.tenant_id}/admin/{section}/{b.ids[key]}"
    assert (await client.get(foreign, headers=cookie(sup))).status_code == 404
    r = await new.post({}, url=f"{foreign}/delete")
    assert r.status_code == 404
    r = await new.post({"name": "x", "title": "x"}, url=foreign)
    assert r.status_code == 404
    r = await new.post({}, url=f"/t/{b.tenant_id}/admin/{section}/{b.ids[key]}/delete")
    assert r.status_code == 403
    # a hotline of the other tenant cannot be chosen by editing the form
    body = (
        _script_form(b.ids["hotlines"])
        if section == "scripts"
        else {"hotline_id": str(b.ids["hotlines"]), "title": "Чужая", "body": "x"}
    )
    r = await new.post(body)
    assert r.status_code == 422
    assert "no hotline" in field_error(r.text, "hotline_id")
    model = m.Script if section == "scripts" else m.KbArticle
    async with database.system_session() as s:
        assert await s.get(model, b.ids[key]) is not None
        tenants = set(await s.scalars(sa.select(model.tenant_id)))
        count = await s.scalar(sa.select(sa.func.count()).select_from(model))
    assert tenants == {a.tenant_id, b.tenant_id} and count == 2
    admin = await client.get(f"/t/{b.tenant_id}/admin/{section}", headers=cookie(world.admin_token))
    assert admin.status_code == 200 and f'data-id="{b.ids[key]}"' in admin.text


# -- knowledge base ----------------------------------------------------------------------------


async def test_given_the_kb_form_when_an_article_is_created_edited_and_deleted_then_the_db_follows(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    a, sup = world.a, world.a.tokens[Role.SUPERVISOR]
    new = await supervisor_form(client, world, "kb/new")
    body = "Возврат в течение 14 дней.\n\nНужен чек."
    r = await new.post(
        {
            "hotline_id": str(a.ids["hotlines"]),
            "title": "Возврат товара",
            "body": body,
            "language": "ru",
            "tags": "возврат, чек\nсроки",
        }
    )
    assert r.status_code == 303, r.text
    async with database.system_session() as s:
        row = (
            await s.execute(sa.select(m.KbArticle).where(m.KbArticle.title == "Возврат товара"))
        ).scalar_one()
    assert (row.tenant_id, row.hotline_id, row.body, row.language, row.tags) == (
        a.tenant_id,
        a.ids["hotlines"],
        body,
        "ru",
        ["возврат", "чек", "сроки"],
    )
    listed = await client.get(
        f"/t/{a.tenant_id}/admin/kb?hotline_id={a.ids['hotlines']}", headers=cookie(sup)
    )
    assert "Возврат товара" in listed.text and "возврат, чек, сроки" in listed.text
    # the operator's search finds it
    found = await client.get(
        "/api/v1/kb-articles/search",
        params={"q": "возврат", "hotline_id": a.ids["hotlines"]},
        headers=auth(a.tokens[Role.OPERATOR]),
    )
    assert found.status_code == 200, found.text
    assert row.id in [item["id"] for item in found.json()["items"]]
    edit = f"/t/{a.tenant_id}/admin/kb/{row.id}"
    shown = await client.get(edit, headers=cookie(sup))
    assert "Нужен чек." in shown.text and 'class="long"' in shown.text
    r = await new.post(
        {"title": "Returns", "body": "Within 14 days.", "language": "en", "tags": ""}, url=edit
    )
    assert r.status_code == 303, r.text
    async with database.system_session() as s:
        again = await s.get(m.KbArticle, row.id)
        assert again is not None
        assert (again.title, again.body, again.language, again.tags) == (
            "Returns",
            "Within 14 days.",
            "en",
            [],
        )
    r = await new.post({}, url=f"{edit}/delete")
    assert r.status_code == 303
    async with database.system_session() as s:
        assert await s.get(m.KbArticle, row.id) is None
        actions = list(
            await s.scalars(
                sa.select(m.AuditEntry.action)
                .where(m.AuditEntry.entity == "knowledge-base article")
                .order_by(m.AuditEntry.id)
            )
        )
    assert actions == ["create", "update", "delete"]


async def test_given_bad_kb_input_when_posted_then_errors_next_to_fields_and_nothing_stored(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    new = await supervisor_form(client, world, "kb/new")
    r = await new.post(
        {
            "hotline_id": str(world.a.ids["hotlines"]),
            "title": "",
            "body": "Текст",
            "language": "de",
            "tags": "x" * 65,
        }
    )
    assert r.status_code == 422
    assert field_error(r.text, "title")
    assert "pattern" in field_error(r.text, "language")
    assert "64" in field_error(r.text, "tags")
    assert ">Текст</textarea>" in r.text
    async with database.system_session() as s:
        count = await s.scalar(sa.select(sa.func.count()).select_from(m.KbArticle))
    assert count == 2  # the two seeded articles


@pytest.mark.parametrize(
    ("locale", "texts"),
    [
        ("ru", ("База знаний", "Заголовок", "Скрипты", "Голосовые сообщения")),
        ("en", ("Knowledge base", "Title", "Scripts", "Voice prompts")),
    ],
)
async def test_given_a_locale_when_opening_the_editors_then_their_texts_are_in_it(
    client: httpx.AsyncClient, world: World, database: Database, locale: str, texts: tuple[str, ...]
) -> None:
    async with database.system_session() as s:
        user = await s.get(m.User, world.a.user_ids[Role.SUPERVISOR])
        assert user is not None
        user.locale = locale
        await s.commit()
    sup, tenant = world.a.tokens[Role.SUPERVISOR], world.a.tenant_id
    kb = await client.get(f"/t/{tenant}/admin/kb", headers=cookie(sup))
    for text in texts:
        assert text in kb.text, text
    script = await client.get(
        f"/t/{tenant}/admin/scripts/{world.a.ids['scripts']}", headers=cookie(sup)
    )
    step = "Следующий шаг" if locale == "ru" else "Next step"
    assert step in script.text
    assert "scr." not in script.text and "prm." not in kb.text  # no key left untranslated
    hotlines = await client.get(f"/t/{tenant}/admin/hotlines", headers=cookie(sup))
    hid = world.a.ids["hotlines"]
    for link in (
        f"/admin/scripts?hotline_id={hid}",
        f"/admin/kb?hotline_id={hid}",
        f"/admin/hotlines/{hid}/prompts",
    ):
        assert link in hotlines.text, link


# -- prompts -----------------------------------------------------------------------------------


def _prompt_file(settings: Settings, hotline_id: int, name: str = "greeting") -> Path:
    return prompts_api.upload_path(settings.data_dir, hotline_id, "ru", name)


async def _prompts_form(client: httpx.AsyncClient, world: World) -> Form:
    """Tenant A's supervisor on the prompts page of its hotline."""
    return await supervisor_form(client, world, f"hotlines/{world.a.ids['hotlines']}/prompts")


async def _post_prompt(
    form: Form,
    content: bytes | None = None,
    *,
    filename: str = "g.wav",
    url: str | None = None,
    token: str | None = None,
    **fields: str,
) -> httpx.Response:
    """An upload on the prompts page: ``content`` (a short tone by default) as the Russian
    greeting unless ``fields`` say otherwise; ``url`` and ``token`` as in :meth:`Form.post`."""
    return await form.post(
        {"name": "greeting", "language": "ru"} | fields,
        url=url,
        token=token,
        files={"file": (filename, wav_bytes() if content is None else content, "audio/wav")},
    )


async def _upload_page(
    client: httpx.AsyncClient,
    world: World,
    content: bytes,
    filename: str = "greeting.wav",
    name: str = "greeting",
) -> httpx.Response:
    form = await _prompts_form(client, world)
    return await _post_prompt(form, content, filename=filename, name=name)


def _leftovers(target: Path) -> list[str]:
    return sorted(p.name for p in target.parent.iterdir() if p.name != target.name)


async def test_given_a_wav_when_uploaded_on_the_page_then_it_plays_in_the_list_and_is_audited(
    client: httpx.AsyncClient, world: World, database: Database, settings: Settings
) -> None:
    a, sup = world.a, world.a.tokens[Role.SUPERVISOR]
    hotline = a.ids["hotlines"]
    content = wav_bytes()
    r = await _upload_page(client, world, content)
    assert r.status_code == 303, r.text
    page = f"/t/{a.tenant_id}/admin/hotlines/{hotline}/prompts"
    assert r.headers["location"] == f"{page}?language=ru&saved=greeting"
    target = _prompt_file(settings, hotline)
    assert target.read_bytes() == content
    assert _leftovers(target) == []
    listed = await client.get(r.headers["location"], headers=cookie(sup))
    row = re.search(r'<tr data-prompt="greeting" data-uploaded="1".*?</tr>', listed.text, re.S)
    assert row, listed.text
    src = re.search(r'<audio controls preload="none" src="([^"]+)"', row.group(0))
    assert src and src.group(1).startswith(
        f"/api/v1/hotlines/{hotline}/prompts/ru/greeting/audio?v="
    )
    audio = await client.get(src.group(1), headers=cookie(sup))
    assert audio.status_code == 200 and audio.content == content
    assert audio.headers["content-type"] == "audio/wav"
    # prompts with neither an upload nor a standard file offer nothing to play
    menu = re.search(r'<tr data-prompt="menu".*?</tr>', listed.text, re.S)
    assert menu and "<audio" not in menu.group(0)
    async with database.system_session() as s:
        audit = (
            await s.execute(sa.select(m.AuditEntry).where(m.AuditEntry.entity == "prompt"))
        ).scalar_one()
    assert (audit.action, audit.entity_id, audit.tenant_id, audit.details["size_bytes"]) == (
        "upload",
        f"{hotline}/ru/greeting",
        a.tenant_id,
        len(content),
    )
    assert prompts_api.hotline_overrides(settings.data_dir, hotline) == {"ru/greeting": target}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"just some text, not audio at all", "RIFF/WAVE"),
        (wav_bytes()[:60] + b"\x00" * 4, "truncated"),  # the data chunk says more than it holds
        (b"", "пуст"),
        (wav_bytes(seconds=0.0), "пуст"),
    ],
)
async def test_given_an_accepted_prompt_when_a_bad_file_uploaded_then_refused_and_the_old_one_kept(
    client: httpx.AsyncClient, world: World, settings: Settings, content: bytes, reason: str
) -> None:
    good = wav_bytes()
    assert (await _upload_page(client, world, good)).status_code == 303
    r = await _upload_page(client, world, content, filename="greeting.wav")
    assert r.status_code == 422
    assert reason in field_error(r.text, "file")
    assert "прежняя запись осталась" in r.text
    target = _prompt_file(settings, world.a.ids["hotlines"])
    assert target.read_bytes() == good
    assert _leftovers(target) == []


async def test_given_a_file_over_the_limit_when_uploaded_then_413_and_the_old_prompt_kept(
    client: httpx.AsyncClient, world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = wav_bytes()
    assert (await _upload_page(client, world, good)).status_code == 303
    monkeypatch.setattr(prompts_api, "MAX_PROMPT_BYTES", len(good) - 1)
    r = await _upload_page(client, world, wav_bytes(seconds=0.3))
    assert r.status_code == 413
    assert "МБ" in field_error(r.text, "file")
    target = _prompt_file(settings, world.a.ids["hotlines"])
    assert target.read_bytes() == good and _leftovers(target) == []
    hotline = world.a.ids["hotlines"]
    api = await client.put(
        f"/api/v1/hotlines/{hotline}/prompts/ru/greeting",
        files={"file": ("g.wav", wav_bytes(seconds=0.3), "audio/wav")},
        headers=auth(world.a.tokens[Role.SUPERVISOR]),
    )
    assert api.status_code == 413
    assert api.json()["error_id"] == "prompt_too_large"
    assert target.read_bytes() == good
    # announced larger than the limit: refused before the body is read
    monkeypatch.setattr(prompts_api, "MAX_PROMPT_BYTES", 10)
    big = await _upload_page(client, world, b"x" * 200_000)
    assert big.status_code == 413 and target.read_bytes() == good


async def test_given_no_file_or_an_unknown_name_when_posted_then_errors_next_to_the_fields(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    form = await _prompts_form(client, world)
    r = await form.post({"name": "../../etc", "language": "ru"})
    assert r.status_code == 422
    assert field_error(r.text, "name") == "Выберите сообщение из списка"
    assert field_error(r.text, "file") == "Выберите файл"
    forged = await _post_prompt(form, csrf="0" * 64)
    assert forged.status_code == 403
    assert not (settings.data_dir / "prompts").exists()


async def test_given_the_prompts_api_when_used_by_each_role_and_tenant_then_checked(
    client: httpx.AsyncClient, world: World, database: Database, settings: Settings
) -> None:
    a, b = world.a, world.b
    hotline = a.ids["hotlines"]
    base = f"/api/v1/hotlines/{hotline}/prompts"
    content = wav_bytes(seconds=0.5, rate=16000)
    # a standard rendering to fall back on
    standard = settings.data_dir / "prompts" / "ru" / "menu.wav"
    standard.parent.mkdir(parents=True)
    standard.write_bytes(wav_bytes(hz=300))

    async def upload(
        token: str, url: str = f"{base}/ru/menu", data: bytes = content
    ) -> httpx.Response:
        return await client.put(
            url, files={"file": ("m.wav", data, "audio/wav")}, headers=auth(token)
        )

    for token in (a.tokens[Role.OPERATOR], a.tokens[Role.CLIENT]):
        assert (await upload(token)).status_code == 403
    assert (await client.get(base, headers=auth(a.tokens[Role.OPERATOR]))).status_code == 403
    assert (await upload(b.tokens[Role.SUPERVISOR])).status_code == 404
    assert (await client.get(base, headers=auth(b.tokens[Role.SUPERVISOR]))).status_code == 404
    target = _prompt_file(settings, hotline, "menu")
    assert not target.exists()
    r = await upload(a.tokens[Role.SUPERVISOR])
    assert r.status_code == 200, r.text
    assert r.json() | {"updated_at": None, "audio_url": None} == {
        "name": "menu",
        "language": "ru",
        "text": r.json()["text"],
        "uploaded": True,
        "size_bytes": len(content),
        "updated_at": None,
        "standard": True,
        "audio_url": None,
    }
    assert target.read_bytes() == content
    listed = await client.get(base, headers=auth(a.tokens[Role.CLIENT]))  # clients listen
    assert listed.status_code == 200
    by_name = {p["name"]: p for p in listed.json()}
    assert by_name["menu"]["uploaded"] and not by_name["greeting"]["uploaded"]
    assert by_name["greeting"]["audio_url"] is None
    assert {"greeting", "menu", "voicemail", "beep", "moh", "num_5"} <= by_name.keys()
    english = await client.get(base, params={"language": "en"}, headers=auth(world.admin_token))
    assert {p["language"] for p in english.json()} == {"en"}
    audio = await client.get(f"{base}/ru/menu/audio", headers=auth(a.tokens[Role.CLIENT]))
    assert audio.content == content
    foreign = await client.get(f"{base}/ru/menu/audio", headers=auth(b.tokens[Role.SUPERVISOR]))
    assert foreign.status_code == 404 and content not in foreign.content
    assert (await upload(a.tokens[Role.SUPERVISOR], f"{base}/ru/nonsense")).status_code == 404
    assert (await upload(a.tokens[Role.SUPERVISOR], f"{base}/de/menu")).status_code == 422
    bad = await upload(a.tokens[Role.SUPERVISOR], data=b"RIFF\x00\x00\x00\x00WAVEjunk")
    assert bad.status_code == 422 and bad.json()["error_id"] == "prompt_not_audio"
    assert target.read_bytes() == content
    # removing the upload: calls (and the page) play the standard prompt again
    assert (
        await client.delete(f"{base}/ru/menu", headers=auth(b.tokens[Role.SUPERVISOR]))
    ).status_code == 404
    assert target.exists()
    gone = await client.delete(f"{base}/ru/menu", headers=auth(a.tokens[Role.SUPERVISOR]))
    assert gone.status_code == 204 and not target.exists()
    audio = await client.get(f"{base}/ru/menu/audio", headers=auth(a.tokens[Role.SUPERVISOR]))
    assert audio.content == standard.read_bytes()
    assert (
        await client.delete(f"{base}/ru/menu", headers=auth(a.tokens[Role.SUPERVISOR]))
    ).status_code == 404
    async with database.system_session() as s:
        actions = list(
            await s.scalars(
                sa.select(m.AuditEntry.action)
                .where(m.AuditEntry.entity == "prompt")
                .order_by(m.AuditEntry.id)
            )
        )
    assert actions == ["upload", "delete"]


async def test_given_roles_and_tenants_when_opening_the_prompts_page_then_only_own_tenant_editors(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    a, b = world.a, world.b
    sup = a.tokens[Role.SUPERVISOR]
    tab = await client.get(f"/t/{a.tenant_id}/admin/prompts", headers=cookie(sup))
    assert tab.status_code == 303
    assert tab.headers["location"] == f"/t/{a.tenant_id}/admin/hotlines/{a.ids['hotlines']}/prompts"
    form = await _prompts_form(client, world)
    page = form.url
    for token in (a.tokens[Role.OPERATOR], a.tokens[Role.CLIENT]):
        assert (await client.get(page, headers=cookie(token))).status_code == 403
        r = await _post_prompt(form, token=token)
        assert r.status_code == 403
    other = f"/t/{b.tenant_id}/admin/hotlines/{b.ids['hotlines']}/prompts"
    assert (await client.get(other, headers=cookie(sup))).status_code == 403
    under_ours = f"/t/{a.tenant_id}/admin/hotlines/{b.ids['hotlines']}/prompts"
    assert (await client.get(under_ours, headers=cookie(sup))).status_code == 404
    r = await _post_prompt(form, url=under_ours)
    assert r.status_code == 404
    assert not _prompt_file(settings, b.ids["hotlines"]).exists()
    english = await client.get(f"{page}?language=en", headers=cookie(sup))
    assert "Hello! You have reached the hotline." in english.text
    assert (await client.get(other, headers=cookie(world.admin_token))).status_code == 200
