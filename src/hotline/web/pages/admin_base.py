"""What every admin page shares: the role and tenant gate, the CSRF token, rendering with
the role (and, for admins, the tenants of the switcher in the navigation), the hotlines of
a tenant (for selects and the per-hotline filter), writing a form's body and deleting a
row the way the API's ``POST``/``PATCH``/``DELETE`` do.

Kept apart from ``admin.py`` so the editors with pages of their own (``admin_scripts``,
``admin_prompts``) can use it and ``admin.py`` can include their routers before its
catch-all ``/admin/{key}`` routes without an import cycle.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

import sqlalchemy as sa
from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from hotline.core.access import Action, Principal, Resource
from hotline.store import models as m
from hotline.store.scope import OutOfScopeError
from hotline.web.api.crud import ResourceSpec, audit
from hotline.web.api.deps import SESSION_COOKIE, ApiContext
from hotline.web.api.errors import ApiError
from hotline.web.pages.admin_forms import FORM, FormField, api_error_fields, form_errors
from hotline.web.pages.session import Page, forbidden_page, page_user, render, to_login

__all__ = [
    "admin_gate",
    "csrf_ok",
    "csrf_token",
    "ctx_of",
    "delete_row",
    "hotline_choice",
    "hotline_options",
    "not_found_page",
    "page_render",
    "write_form",
    "write_row",
]

#: where :func:`admin_gate` leaves an admin's ``(id, name)`` tenants for the switcher
_SWITCH = "switch_tenants"


def ctx_of(request: Request) -> ApiContext:
    ctx = request.app.state.ctx
    assert isinstance(ctx, ApiContext)  # noqa: S101 - set by create_app
    return ctx


def page_render(
    request: Request, name: str, page: Page, status_code: int = 200, **context: Any
) -> Response:
    """``render`` with the role, which the admin pages' navigation needs, and for an admin
    the tenants :func:`admin_gate` or :func:`remember_tenants` loaded (the switcher)."""
    return render(
        request,
        name,
        page.viewer,
        status_code=status_code,
        role=page.principal.role.value,
        switch_tenants=getattr(request.state, _SWITCH, None),
        **context,
    )


async def remember_tenants(request: Request, page: Page) -> None:
    """For an admin (who is tied to no tenant), load every tenant's ``(id, name)`` so the
    navigation can offer to switch between them; other roles see only their own tenant,
    so nothing is loaded for them."""
    if not page.principal.is_admin:
        return
    async with ctx_of(request).db.session(page.principal) as session:
        rows = (
            await session.execute(sa.select(m.Tenant.id, m.Tenant.name).order_by(m.Tenant.name))
        ).all()
    setattr(request.state, _SWITCH, [(int(i), str(n)) for i, n in rows])


def csrf_token(request: Request) -> str:
    """The form token of this session: only pages served to the cookie holder know it."""
    cookie = request.cookies.get(SESSION_COOKIE, "")
    return hmac.new(cookie.encode(), b"hotline-form", hashlib.sha256).hexdigest()


def csrf_ok(request: Request, data: FormData) -> bool:
    """Whether a posted form carries this session's token."""
    return hmac.compare_digest(str(data.get("csrf", "")), csrf_token(request))


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
    await remember_tenants(request, page)
    return page


def not_found_page(request: Request, page: Page) -> Response:
    return page_render(request, "admin_missing.html", page, status_code=404)


async def hotline_options(session: AsyncSession, tenant_id: int) -> list[tuple[str, str]]:
    """``(id, name)`` of the tenant's hotlines the session's principal sees, by id."""
    rows = (
        await session.execute(
            sa.select(m.Hotline.id, m.Hotline.name)
            .where(m.Hotline.tenant_id == tenant_id)
            .order_by(m.Hotline.id)
        )
    ).all()
    return [(str(i), n) for i, n in rows]


def hotline_choice(request: Request, hotlines: list[tuple[str, str]]) -> str | None:
    """The ``?hotline_id=`` a list is narrowed to, if it names one of ``hotlines``."""
    chosen = request.query_params.get("hotline_id", "")
    return chosen if chosen in dict(hotlines) else None


async def delete_row(
    request: Request, tenant_id: int, key: str, spec: ResourceSpec[Any], item_id: int
) -> Response:
    """``POST /t/{tenant}/admin/{key}/{id}/delete``: the row goes as the API's ``DELETE``
    would remove it (role check, scoped session, audit entry), then back to the list."""
    page = await admin_gate(request, tenant_id, spec.resource, Action.WRITE)
    if not isinstance(page, Page):
        return page
    data = await request.form()
    if not csrf_ok(request, data):
        return forbidden_page(request, page.viewer)
    ctx = ctx_of(request)
    model = spec.model
    async with ctx.db.session(page.principal) as session:
        row = (
            await session.execute(
                sa.select(model).where(model.id == item_id, model.tenant_id == tenant_id)
            )
        ).scalar_one_or_none()
        if row is None:
            return not_found_page(request, page)
        hotline_id = getattr(row, "hotline_id", None)
        try:
            audit(session, page.principal, "delete", spec.name, row, ctx.clock())
            await session.delete(row)
            await session.commit()
        except OutOfScopeError:
            return forbidden_page(request, page.viewer)
    back = f"/t/{tenant_id}/admin/{key}?deleted={item_id}"
    if hotline_id is not None:
        back += f"&hotline_id={hotline_id}"
    return RedirectResponse(back, status_code=303)


async def write_row(
    session: AsyncSession,
    principal: Principal,
    spec: ResourceSpec[Any],
    body: dict[str, Any],
    row: Any,
    now: dt.datetime,
) -> int:
    """Create (``row`` is None) or change a row exactly as the CRUD endpoint does, and
    commit; returns its id.  Raises the schema's ``ValidationError`` or the hooks'
    ``ApiError`` with nothing written."""
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


async def write_form(
    session: AsyncSession,
    principal: Principal,
    spec: ResourceSpec[Any],
    body: dict[str, Any],
    row: Any,
    now: dt.datetime,
    fields: tuple[FormField, ...],
    conflict: tuple[str, str] = (FORM, "adm.conflict"),
) -> int | dict[str, list[str]]:
    """:func:`write_row`, with what the schema or the hooks refuse as errors by form field
    (nothing written); a unique-constraint conflict is shown as ``conflict`` says: the
    field and the message (a form that knows which column is unique names it).

    A refusal of the principal (a 403 ``ApiError``, ``OutOfScopeError``) is raised: the
    page answers it with the 403 page, not with a form error.
    """
    try:
        return await write_row(session, principal, spec, body, row, now)
    except ValidationError as exc:
        return form_errors(exc, fields)
    except ApiError as exc:
        if exc.status == 403:
            raise
        return api_error_fields(exc.details, exc.message, fields)
    except IntegrityError:
        field, message = conflict
        return {field: [message]}
