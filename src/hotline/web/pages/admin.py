"""Admin pages: lists and create/edit forms for hotlines, queues, skills, users, topics,
knowledge-base articles and offer e-mail templates (those two deleted too); the script
editor, the prompts page and the admin's tenants pages have modules of their own
(``admin_scripts``, ``admin_prompts``, ``admin_tenants``), included first.

Every write goes the API's way: the form becomes the resource's ``*Create``/``*Update``
schema, the resource spec's ``build``/``apply`` hooks run in a session scoped to the
principal (``store.scope``), the change is audited and the live directory reloaded —
the same steps as ``web/api/crud.py``, so a page cannot do what the API would refuse.
Forms carry a CSRF token (an HMAC of the session cookie) on top of SameSite=Strict.
"""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.access import Action, Resource
from hotline.core.hours import DAY_NAMES
from hotline.store import models as m
from hotline.store.scope import OutOfScopeError
from hotline.web.api.errors import ApiError
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
    write_form,
)
from hotline.web.pages.admin_forms import (
    FORMS,
    FormDef,
    parse_form,
    values_from_form,
    values_of,
)
from hotline.web.pages.admin_prompts import router as prompts_router
from hotline.web.pages.admin_scripts import router as scripts_router
from hotline.web.pages.admin_tenants import router as tenants_router
from hotline.web.pages.session import Page, forbidden_page

__all__ = ["admin_gate", "csrf_token", "page_render", "router"]

router = APIRouter(include_in_schema=False)
# the editors with pages of their own first: their paths would match ``/admin/{key}/…``
router.include_router(scripts_router)
router.include_router(prompts_router)
router.include_router(tenants_router)  # the installation's /admin/tenants (admins only)
TenantId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ItemId = Annotated[int, Path(ge=1, le=2**31 - 1)]
#: resources whose changes the running contact center must re-read
_LIVE = frozenset({"hotline", "queue", "user", "skill"})
_ctx = ctx_of
_not_found = not_found_page


async def _options(session: AsyncSession, tenant_id: int) -> dict[str, Any]:
    hotlines = await hotline_options(session, tenant_id)
    skills = await session.scalars(
        sa.select(m.Skill.name).where(m.Skill.tenant_id == tenant_id).order_by(m.Skill.name)
    )
    return {"hotlines": hotlines, "skills": list(skills)}


async def _load(session: AsyncSession, form: FormDef, tenant_id: int, item_id: int) -> Any:
    model = form.spec.model
    return (
        await session.execute(
            sa.select(model).where(model.id == item_id, model.tenant_id == tenant_id)
        )
    ).scalar_one_or_none()


def _form_def(key: str) -> FormDef | None:
    return FORMS.get(key)


@router.get("/t/{tenant_id}/admin")
async def admin_home(request: Request, tenant_id: TenantId) -> Response:
    return RedirectResponse(f"/t/{tenant_id}/admin/hotlines", status_code=303)


@router.get("/t/{tenant_id}/admin/{key}")
async def admin_list(request: Request, tenant_id: TenantId, key: str) -> Response:
    form = _form_def(key)
    page = await admin_gate(
        request, tenant_id, form.spec.resource if form else Resource.HOTLINE, Action.WRITE
    )
    if not isinstance(page, Page):
        return page
    if form is None:
        return _not_found(request, page)
    model = form.spec.model
    async with _ctx(request).db.session(page.principal) as session:
        options = await _options(session, tenant_id)
        query = sa.select(model).where(model.tenant_id == tenant_id).order_by(model.id)
        per_hotline = hasattr(model, "hotline_id")
        chosen = hotline_choice(request, options["hotlines"]) if per_hotline else None
        if chosen is not None:
            query = query.where(model.hotline_id == int(chosen))
        rows = (await session.scalars(query)).all()
        items = [form.spec.to_read(r).model_dump(mode="json") for r in rows]
    return page_render(
        request,
        "admin_list.html",
        page,
        tenant_id=tenant_id,
        form=form,
        items=items,
        hotline_names=dict(options["hotlines"]),
        hotlines=options["hotlines"] if per_hotline else None,
        hotline_id=chosen,
        saved=request.query_params.get("saved"),
        deleted=request.query_params.get("deleted"),
        section=key,
    )


async def _show_form(
    request: Request,
    page: Page,
    form: FormDef,
    tenant_id: int,
    item_id: int | None,
    values: dict[str, Any],
    errors: dict[str, list[str]],
    status_code: int = 200,
) -> Response:
    async with _ctx(request).db.session(page.principal) as session:
        options = await _options(session, tenant_id)
    return page_render(
        request,
        "admin_form.html",
        page,
        status_code=status_code,
        tenant_id=tenant_id,
        form=form,
        fields=form.shown(item_id is None),
        item_id=item_id,
        values=values,
        errors=errors,
        options=options,
        days=DAY_NAMES,
        csrf=csrf_token(request),
        section=form.key,
    )


def _new_values(form: FormDef) -> dict[str, Any]:
    """Defaults of a new row: the create schema's own defaults, shown in the form."""
    defaults: dict[str, Any] = {"active": True, "recording_enabled": True}
    for name, info in form.spec.create_schema.model_fields.items():
        if not info.is_required():
            value = info.get_default(call_default_factory=True)
            if value is not None:
                defaults[name] = value
    defaults.setdefault("recording_retention_days", 90)
    return values_of(defaults, form.shown(True))


@router.get("/t/{tenant_id}/admin/{key}/new")
async def admin_new(request: Request, tenant_id: TenantId, key: str) -> Response:
    form = _form_def(key)
    page = await admin_gate(
        request, tenant_id, form.spec.resource if form else Resource.HOTLINE, Action.WRITE
    )
    if not isinstance(page, Page):
        return page
    if form is None:
        return _not_found(request, page)
    values = _new_values(form)
    if "hotline_id" in values:  # "add" from a list narrowed to one hotline
        values["hotline_id"] = request.query_params.get("hotline_id", "")
    return await _show_form(request, page, form, tenant_id, None, values, {})


@router.get("/t/{tenant_id}/admin/{key}/{item_id}")
async def admin_edit(request: Request, tenant_id: TenantId, key: str, item_id: ItemId) -> Response:
    form = _form_def(key)
    page = await admin_gate(
        request, tenant_id, form.spec.resource if form else Resource.HOTLINE, Action.WRITE
    )
    if not isinstance(page, Page):
        return page
    if form is None:
        return _not_found(request, page)
    async with _ctx(request).db.session(page.principal) as session:
        row = await _load(session, form, tenant_id, item_id)
        if row is None:
            return _not_found(request, page)
        values = values_of(form.spec.to_read(row).model_dump(mode="json"), form.shown(False))
    return await _show_form(request, page, form, tenant_id, item_id, values, {})


@router.post("/t/{tenant_id}/admin/{key}/new")
async def admin_create(request: Request, tenant_id: TenantId, key: str) -> Response:
    return await _save(request, tenant_id, key, None)


@router.post("/t/{tenant_id}/admin/{key}/{item_id}/delete")
async def admin_delete(
    request: Request, tenant_id: TenantId, key: str, item_id: ItemId
) -> Response:
    form = _form_def(key)
    if form is None or not form.deletable:
        page = await admin_gate(request, tenant_id, Resource.HOTLINE, Action.WRITE)
        return page if not isinstance(page, Page) else _not_found(request, page)
    return await delete_row(request, tenant_id, key, form.spec, item_id)


@router.post("/t/{tenant_id}/admin/{key}/{item_id}")
async def admin_update(
    request: Request, tenant_id: TenantId, key: str, item_id: ItemId
) -> Response:
    return await _save(request, tenant_id, key, item_id)


async def _save(request: Request, tenant_id: int, key: str, item_id: int | None) -> Response:
    form = _form_def(key)
    page = await admin_gate(
        request, tenant_id, form.spec.resource if form else Resource.HOTLINE, Action.WRITE
    )
    if not isinstance(page, Page):
        return page
    if form is None:
        return _not_found(request, page)
    data = await request.form()
    if not csrf_ok(request, data):
        return forbidden_page(request, page.viewer)
    creating = item_id is None
    fields = form.shown(creating)
    ctx = _ctx(request)
    spec = form.spec
    async with ctx.db.session(page.principal) as session:
        row = None if creating else await _load(session, form, tenant_id, item_id or 0)
        if not creating and row is None:
            return _not_found(request, page)
        keep = (getattr(row, "business_hours", None) or {}) if row is not None else {}
        body = parse_form(data, fields, creating=creating, keep=keep)
        if creating and "tenant_id" in spec.create_schema.model_fields:
            body["tenant_id"] = tenant_id
        try:
            outcome = await write_form(
                session, page.principal, spec, body, row, ctx.clock(), fields
            )
        except (ApiError, OutOfScopeError):
            return forbidden_page(request, page.viewer)
    if isinstance(outcome, dict):  # the session's exit rolled the attempt back
        return await _show_form(
            request,
            page,
            form,
            tenant_id,
            item_id,
            values_from_form(data, fields),
            outcome,
            status_code=422,
        )
    if ctx.live is not None and spec.name in _LIVE:
        await ctx.live.reload()
    return RedirectResponse(f"/t/{tenant_id}/admin/{key}?saved={outcome}", status_code=303)
