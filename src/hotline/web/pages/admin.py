"""Admin pages: lists and create/edit forms for hotlines, queues, skills, users and topics,
and the flow editor page.

Every write goes the API's way: the form becomes the resource's ``*Create``/``*Update``
schema, the resource spec's ``build``/``apply`` hooks run in a session scoped to the
principal (``store.scope``), the change is audited and the live directory reloaded —
the same steps as ``web/api/crud.py``, so a page cannot do what the API would refuse.
Forms carry a CSRF token (an HMAC of the session cookie) on top of SameSite=Strict.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.access import Action, Principal, Resource
from hotline.core.hours import DAY_NAMES
from hotline.store import models as m
from hotline.store.scope import OutOfScopeError
from hotline.web.api.crud import audit
from hotline.web.api.deps import SESSION_COOKIE, ApiContext
from hotline.web.api.errors import ApiError
from hotline.web.pages.admin_forms import (
    FORM,
    FORMS,
    FormDef,
    api_error_fields,
    form_errors,
    parse_form,
    values_from_form,
    values_of,
)
from hotline.web.pages.session import Page, forbidden_page, page_user, render, to_login

__all__ = ["admin_gate", "csrf_token", "page_render", "router"]

router = APIRouter(include_in_schema=False)
TenantId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ItemId = Annotated[int, Path(ge=1, le=2**31 - 1)]
#: resources whose changes the running contact center must re-read
_LIVE = frozenset({"hotline", "queue", "user", "skill"})


def _ctx(request: Request) -> ApiContext:
    ctx = request.app.state.ctx
    assert isinstance(ctx, ApiContext)  # noqa: S101 - set by create_app
    return ctx


def page_render(
    request: Request, name: str, page: Page, status_code: int = 200, **context: Any
) -> Response:
    """``render`` with the role, which the admin pages' navigation needs."""
    return render(
        request,
        name,
        page.viewer,
        status_code=status_code,
        role=page.principal.role.value,
        **context,
    )


def csrf_token(request: Request) -> str:
    """The form token of this session: only pages served to the cookie holder know it."""
    cookie = request.cookies.get(SESSION_COOKIE, "")
    return hmac.new(cookie.encode(), b"hotline-form", hashlib.sha256).hexdigest()


async def admin_gate(
    request: Request, tenant_id: int, resource: Resource, action: Action
) -> Page | Response:
    """The page user if they may ``action`` on ``resource`` in ``tenant_id``, else the
    response to send (log-in redirect or 403 page)."""
    page = await page_user(request)
    if page is None:
        return to_login(request)
    p = page.principal
    if not (p.may(action, resource) and p.sees_tenant(tenant_id)):
        return forbidden_page(request, page.viewer)
    return page


async def _options(session: AsyncSession, tenant_id: int) -> dict[str, Any]:
    hotlines = (
        await session.execute(
            sa.select(m.Hotline.id, m.Hotline.name)
            .where(m.Hotline.tenant_id == tenant_id)
            .order_by(m.Hotline.id)
        )
    ).all()
    skills = await session.scalars(
        sa.select(m.Skill.name).where(m.Skill.tenant_id == tenant_id).order_by(m.Skill.name)
    )
    return {"hotlines": [(str(i), n) for i, n in hotlines], "skills": list(skills)}


async def _load(session: AsyncSession, form: FormDef, tenant_id: int, item_id: int) -> Any:
    model = form.spec.model
    return (
        await session.execute(
            sa.select(model).where(model.id == item_id, model.tenant_id == tenant_id)
        )
    ).scalar_one_or_none()


def _form_def(key: str) -> FormDef | None:
    return FORMS.get(key)


def _not_found(request: Request, page: Page) -> Response:
    return page_render(request, "admin_missing.html", page, status_code=404)


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
        rows = (
            await session.scalars(
                sa.select(model).where(model.tenant_id == tenant_id).order_by(model.id)
            )
        ).all()
        items = [form.spec.to_read(r).model_dump(mode="json") for r in rows]
        options = await _options(session, tenant_id)
    return page_render(
        request,
        "admin_list.html",
        page,
        tenant_id=tenant_id,
        form=form,
        items=items,
        hotline_names=dict(options["hotlines"]),
        saved=request.query_params.get("saved"),
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
    return await _show_form(request, page, form, tenant_id, None, _new_values(form), {})


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
    if not hmac.compare_digest(str(data.get("csrf", "")), csrf_token(request)):
        return forbidden_page(request, page.viewer)
    creating = item_id is None
    fields = form.shown(creating)
    ctx = _ctx(request)
    spec = form.spec
    errors: dict[str, list[str]] = {}
    async with ctx.db.session(page.principal) as session:
        row = None if creating else await _load(session, form, tenant_id, item_id or 0)
        if not creating and row is None:
            return _not_found(request, page)
        keep = (getattr(row, "business_hours", None) or {}) if row is not None else {}
        body = parse_form(data, fields, creating=creating, keep=keep)
        if creating and "tenant_id" in spec.create_schema.model_fields:
            body["tenant_id"] = tenant_id
        try:
            saved_id = await _write(session, page.principal, form, body, row, ctx)
        except ValidationError as exc:
            errors = form_errors(exc, fields)
        except ApiError as exc:
            if exc.status == 403:
                return forbidden_page(request, page.viewer)
            errors = api_error_fields(exc.details, exc.message, fields)
        except OutOfScopeError:
            return forbidden_page(request, page.viewer)
        except IntegrityError:
            errors = {FORM: ["adm.conflict"]}
    if errors:  # the session's exit rolled the attempt back
        return await _show_form(
            request,
            page,
            form,
            tenant_id,
            item_id,
            values_from_form(data, fields),
            errors,
            status_code=422,
        )
    if ctx.live is not None and spec.name in _LIVE:
        await ctx.live.reload()
    return RedirectResponse(f"/t/{tenant_id}/admin/{key}?saved={saved_id}", status_code=303)


async def _write(
    session: AsyncSession,
    principal: Principal,
    form: FormDef,
    body: dict[str, Any],
    row: Any,
    ctx: ApiContext,
) -> int:
    """Create or change the row exactly as the CRUD endpoint does; returns its id."""
    spec, now = form.spec, ctx.clock()
    if row is None:
        parsed = spec.create_schema.model_validate(body)
        row = await spec.build(session, principal, parsed, now)
        session.add(row)
        await session.flush()
        audit(session, principal, "create", spec.name, row, now)
    else:
        changes = spec.update_schema.model_validate(body).model_dump(exclude_unset=True)
        fields = sorted(k for k in changes if k != "password")
        await spec.apply(session, principal, row, changes, now)
        await session.flush()
        audit(session, principal, "update", spec.name, row, now, {"fields": fields})
    await session.commit()
    return int(row.id)
