"""The script editor: a hotline's branching operator scripts, step by step.

A script is a start step and steps, each a text the operator reads (a question, a line)
and answer buttons that lead to the next step or end the script.  The form shows each step
as a fieldset (``step-{i}-id``, ``step-{i}-text``) with its answers
(``step-{i}-answer-{j}-label``, ``…-next``), two blank answers and one blank step to fill;
"add a step" posts the form back with one more blank step and saves nothing.

Saving builds the API's ``ScriptCreate``/``ScriptUpdate`` body and writes it through the
resource spec (``admin_base.write_row``), so the schema's rules hold here too: a branch to
a step that does not exist, or a start step that is not a step, is refused with the error
next to the field at fault and nothing saved.  Errors the schema reports by path
(``steps.hello.answers[0].next``) are put back on the form row they came from.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from hotline.core.access import Action, Resource
from hotline.store import models as m
from hotline.store.scope import OutOfScopeError
from hotline.web.api.errors import ApiError
from hotline.web.api.resources import SPECS
from hotline.web.pages.admin_base import (
    admin_gate,
    csrf_ok,
    csrf_token,
    ctx_of,
    delete_row,
    hotline_choice,
    hotline_options,
    not_found_page,
    page_render,
    write_row,
)
from hotline.web.pages.i18n import translator
from hotline.web.pages.session import Page, forbidden_page

__all__ = ["ScriptForm", "router", "script_errors"]

router = APIRouter(include_in_schema=False)
TenantId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ItemId = Annotated[int, Path(ge=1, le=2**31 - 1)]
KEY = "scripts"
SPEC = next(s for s in SPECS if s.name == "script")
FORM = "_form"
#: blank rows offered under the filled ones (our choice: enough for a usual edit)
BLANK_ANSWERS = 2
BLANK_STEPS = 1
Translate = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Listing:
    """What ``admin_list.html`` needs of a section."""

    key: str
    columns: tuple[str, ...]
    deletable: bool = True


LISTING = Listing(KEY, ("hotline_id", "name", "start_step", "steps"))


@dataclass(slots=True)
class AnswerRow:
    label: str = ""
    next: str = ""

    @property
    def blank(self) -> bool:
        return not (self.label or self.next)


@dataclass(slots=True)
class StepRow:
    id: str = ""
    text: str = ""
    answers: list[AnswerRow] = field(default_factory=list)

    @property
    def blank(self) -> bool:
        return not (self.id or self.text) and all(a.blank for a in self.answers)


@dataclass(slots=True)
class ScriptForm:
    """A script as the form shows it: rows in order, strings as typed."""

    name: str = ""
    hotline_id: str = ""
    start_step: str = ""
    steps: list[StepRow] = field(default_factory=list)

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> ScriptForm:
        """The form of a stored script (its read schema's JSON dump), its steps in the order
        a call meets them: breadth first from the start step, then those no answer reaches.

        The stored order cannot be used: PostgreSQL's JSONB keeps an object's keys sorted
        by length, not as written.
        """
        stored: Mapping[str, Any] = row.get("steps") or {}
        order: list[str] = []
        todo = [str(row["start_step"])]
        while todo:
            sid = todo.pop(0)
            if sid in stored and sid not in order:
                order.append(sid)
                todo += [str(a["next"]) for a in stored[sid].get("answers", []) if a.get("next")]
        order += [sid for sid in stored if sid not in order]
        steps = [
            StepRow(
                str(sid),
                str(step.get("text", "")),
                [
                    AnswerRow(str(a.get("label", "")), str(a.get("next") or ""))
                    for a in step.get("answers", [])
                ],
            )
            for sid, step in ((sid, stored[sid]) for sid in order)
        ]
        return cls(str(row["name"]), str(row["hotline_id"]), str(row["start_step"]), steps)

    @classmethod
    def posted(cls, data: FormData, *, keep_blank_steps: bool = False) -> ScriptForm:
        """What the user typed; blank answers (and blank steps) dropped, in form order."""

        def text(name: str) -> str:
            value = data.get(name)  # a textarea's CRLF line breaks are stored as LF
            return value.replace("\r\n", "\n").strip() if isinstance(value, str) else ""

        indices = sorted(
            {int(found.group(1)) for k in data if (found := re.fullmatch(r"step-(\d+)-id", k))}
        )
        steps = []
        for i in indices:
            answer_indices = sorted(
                {
                    int(found.group(1))
                    for k in data
                    if (found := re.fullmatch(rf"step-{i}-answer-(\d+)-label", k))
                }
            )
            answers = [
                AnswerRow(text(f"step-{i}-answer-{j}-label"), text(f"step-{i}-answer-{j}-next"))
                for j in answer_indices
            ]
            step = StepRow(
                text(f"step-{i}-id"), text(f"step-{i}-text"), [a for a in answers if not a.blank]
            )
            if keep_blank_steps or not step.blank:
                steps.append(step)
        return cls(text("name"), text("hotline_id"), text("start_step"), steps)

    def shown(self, blank_steps: int = BLANK_STEPS) -> ScriptForm:
        """The form with blank rows to fill: answers under each step, steps at the end."""
        steps = [
            StepRow(s.id, s.text, [*s.answers, *(AnswerRow() for _ in range(BLANK_ANSWERS))])
            for s in self.steps
        ]
        steps += [
            StepRow(answers=[AnswerRow() for _ in range(BLANK_ANSWERS)]) for _ in range(blank_steps)
        ]
        return ScriptForm(self.name, self.hotline_id, self.start_step, steps)

    def body(self, creating: bool, t: Translate) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """The API body, and by form field the faults the schema cannot see (a step without
        an id, an id used twice: a JSON object cannot hold either) or sees one at a time
        (every branch to a missing step is named, not only the first)."""
        errors: dict[str, list[str]] = {}
        steps: dict[str, Any] = {}
        for i, step in enumerate(self.steps):
            if not step.id:
                errors.setdefault(f"step-{i}-id", []).append(t("scr.id_required"))
                continue
            if step.id in steps:
                errors.setdefault(f"step-{i}-id", []).append(t("scr.id_twice"))
                continue
            steps[step.id] = {
                "text": step.text,
                "answers": [{"label": a.label, "next": a.next or None} for a in step.answers],
            }
        ids = {s.id for s in self.steps if s.id}
        for i, step in enumerate(self.steps):
            for j, answer in enumerate(step.answers):
                if answer.next and answer.next not in ids:
                    name = f"step-{i}-answer-{j}-next"
                    errors.setdefault(name, []).append(t("scr.no_step").format(answer.next))
        if self.start_step and self.start_step not in ids:
            errors.setdefault("start_step", []).append(t("scr.no_start").format(self.start_step))
        body: dict[str, Any] = {"name": self.name, "start_step": self.start_step, "steps": steps}
        if creating:
            body["hotline_id"] = self.hotline_id
        return body, errors

    def step_index(self, step_id: str) -> int | None:
        """The form row of the first step with this id."""
        return next((i for i, s in enumerate(self.steps) if s.id == step_id), None)


_NO_STEP = re.compile(r"steps\.(?P<step>[^.]+)\.answers\[(?P<j>\d+)\]\.next: no step '(?P<to>.*)'")
_NO_START = re.compile(r"start_step: '(?P<to>.*)' is not one of the steps")


def script_errors(exc: ValidationError, form: ScriptForm, t: Translate) -> dict[str, list[str]]:
    """The schema's errors by form field; a branch to a missing step is told in words
    (``t`` is the page's translator, ``i18n.translator``)."""
    out: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        out.setdefault(name, []).append(message)

    for error in exc.errors():
        msg = str(error.get("msg", "")).removeprefix("Value error, ")
        loc = [str(p) for p in error.get("loc", ())]
        if not loc:  # the model validator: check_steps names the path in its message
            if found := _NO_STEP.fullmatch(msg):
                i = form.step_index(found["step"])
                if i is not None:
                    add(f"step-{i}-answer-{found['j']}-next", t("scr.no_step").format(found["to"]))
                    continue
            if found := _NO_START.fullmatch(msg):
                add("start_step", t("scr.no_start").format(found["to"]))
                continue
            add(FORM, msg)
            continue
        head = loc[0]
        if head != "steps" or len(loc) < 2:
            add(head if head in ("name", "start_step", "hotline_id") else FORM, msg)
            continue
        i = form.step_index(loc[1])
        if i is None:
            add("steps", msg)
        elif len(loc) == 2 or loc[2] == "[key]":
            add(f"step-{i}-id", msg)
        elif loc[2] == "text":
            add(f"step-{i}-text", msg)
        elif loc[2] == "answers" and len(loc) >= 5 and loc[3].isdigit():
            add(f"step-{i}-answer-{loc[3]}-{loc[4]}", msg)
        else:
            add(f"step-{i}-id", f"{'.'.join(loc[2:])}: {msg}")
    return out


async def _show(
    request: Request,
    page: Page,
    tenant_id: int,
    item_id: int | None,
    form: ScriptForm,
    errors: Mapping[str, list[str]],
    status_code: int = 200,
    blank_steps: int = BLANK_STEPS,
) -> Response:
    async with ctx_of(request).db.session(page.principal) as session:
        hotlines = await hotline_options(session, tenant_id)
    return page_render(
        request,
        "admin_script_form.html",
        page,
        status_code=status_code,
        tenant_id=tenant_id,
        item_id=item_id,
        script=form.shown(blank_steps),
        step_ids=[s.id for s in form.steps if s.id],
        hotlines=hotlines,
        hotline_names=dict(hotlines),
        errors=errors,
        csrf=csrf_token(request),
        section=KEY,
    )


async def _load(request: Request, page: Page, tenant_id: int, item_id: int) -> Any:
    async with ctx_of(request).db.session(page.principal) as session:
        row = (
            await session.execute(
                sa.select(m.Script).where(m.Script.id == item_id, m.Script.tenant_id == tenant_id)
            )
        ).scalar_one_or_none()
        return None if row is None else SPEC.to_read(row).model_dump(mode="json")


@router.get("/t/{tenant_id}/admin/scripts")
async def scripts_list(request: Request, tenant_id: TenantId) -> Response:
    page = await admin_gate(request, tenant_id, Resource.SCRIPT, Action.WRITE)
    if not isinstance(page, Page):
        return page
    async with ctx_of(request).db.session(page.principal) as session:
        hotlines = await hotline_options(session, tenant_id)
        chosen = hotline_choice(request, hotlines)
        query = sa.select(m.Script).where(m.Script.tenant_id == tenant_id).order_by(m.Script.id)
        if chosen is not None:
            query = query.where(m.Script.hotline_id == int(chosen))
        items = [SPEC.to_read(r).model_dump(mode="json") for r in await session.scalars(query)]
    return page_render(
        request,
        "admin_list.html",
        page,
        tenant_id=tenant_id,
        form=LISTING,
        items=items,
        hotline_names=dict(hotlines),
        hotlines=hotlines,
        hotline_id=chosen,
        saved=request.query_params.get("saved"),
        deleted=request.query_params.get("deleted"),
        section=KEY,
    )


@router.get("/t/{tenant_id}/admin/scripts/new")
async def script_new(request: Request, tenant_id: TenantId) -> Response:
    page = await admin_gate(request, tenant_id, Resource.SCRIPT, Action.WRITE)
    if not isinstance(page, Page):
        return page
    start = ScriptForm(
        hotline_id=request.query_params.get("hotline_id", ""), start_step="start", steps=[]
    )
    start.steps.append(StepRow("start"))
    return await _show(request, page, tenant_id, None, start, {})


@router.get("/t/{tenant_id}/admin/scripts/{item_id}")
async def script_edit(request: Request, tenant_id: TenantId, item_id: ItemId) -> Response:
    page = await admin_gate(request, tenant_id, Resource.SCRIPT, Action.WRITE)
    if not isinstance(page, Page):
        return page
    row = await _load(request, page, tenant_id, item_id)
    if row is None:
        return not_found_page(request, page)
    return await _show(request, page, tenant_id, item_id, ScriptForm.of(row), {})


@router.post("/t/{tenant_id}/admin/scripts/new")
async def script_create(request: Request, tenant_id: TenantId) -> Response:
    return await _save(request, tenant_id, None)


@router.post("/t/{tenant_id}/admin/scripts/{item_id}/delete")
async def script_delete(request: Request, tenant_id: TenantId, item_id: ItemId) -> Response:
    return await delete_row(request, tenant_id, KEY, SPEC, item_id)


@router.post("/t/{tenant_id}/admin/scripts/{item_id}")
async def script_update(request: Request, tenant_id: TenantId, item_id: ItemId) -> Response:
    return await _save(request, tenant_id, item_id)


async def _save(request: Request, tenant_id: int, item_id: int | None) -> Response:
    page = await admin_gate(request, tenant_id, Resource.SCRIPT, Action.WRITE)
    if not isinstance(page, Page):
        return page
    data = await request.form()
    if not csrf_ok(request, data):
        return forbidden_page(request, page.viewer)
    if data.get("more"):  # "add a step": show the form again with one more blank step
        form = ScriptForm.posted(data, keep_blank_steps=True)
        if item_id is not None:
            stored = await _load(request, page, tenant_id, item_id)
            if stored is None:
                return not_found_page(request, page)
            form.hotline_id = str(stored["hotline_id"])
        return await _show(request, page, tenant_id, item_id, form, {})
    form = ScriptForm.posted(data)
    creating = item_id is None
    t = translator(page.viewer.locale)
    body, errors = form.body(creating, t)
    ctx = ctx_of(request)
    saved_id = 0
    async with ctx.db.session(page.principal) as session:
        row = None
        if not creating:
            row = (
                await session.execute(
                    sa.select(m.Script).where(
                        m.Script.id == item_id, m.Script.tenant_id == tenant_id
                    )
                )
            ).scalar_one_or_none()
            if row is None:
                return not_found_page(request, page)
            form.hotline_id = str(row.hotline_id)
        try:
            if errors:  # still let the schema judge the rest, so every fault shows at once
                (SPEC.create_schema if creating else SPEC.update_schema).model_validate(body)
            else:
                saved_id = await write_row(session, page.principal, SPEC, body, row, ctx.clock())
        except ValidationError as exc:
            for name, messages in script_errors(exc, form, t).items():
                shown = errors.setdefault(name, [])
                shown.extend(msg for msg in messages if msg not in shown)
        except ApiError as exc:
            if exc.status == 403:
                return forbidden_page(request, page.viewer)
            errors.setdefault("hotline_id" if creating else FORM, []).append(exc.message)
        except OutOfScopeError:
            return forbidden_page(request, page.viewer)
    if errors:  # the session's exit rolled the attempt back
        return await _show(request, page, tenant_id, item_id, form, errors, status_code=422)
    back = f"/t/{tenant_id}/admin/{KEY}?saved={saved_id}&hotline_id={form.hotline_id}"
    return RedirectResponse(back, status_code=303)
