"""The installation admin's pages of the client companies (tenants): ``/admin/tenants``
lists them with their hotlines and operators, creates and renames them, and
``/admin/tenants/switch`` takes the admin to one tenant's pages (the switcher in the
navigation posts there).

Only admins get here: a tenant's rows are Rule 1's unit (``core.access``), so the list of
every tenant is an admin's view, and Rule 3 gives tenant writes to admins alone. Writes go
through the same ``write_form`` as the other admin forms (the API's ``TenantCreate`` /
``TenantUpdate`` schemas, the resource spec's hooks, an audit entry, a CSRF token). The
tenant model has no ``active`` flag and the API does not change a slug, so the pages offer
neither a deactivation nor a slug edit.
"""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.access import Action, Resource
from hotline.core.model import Role
from hotline.store import models as m
from hotline.store.scope import OutOfScopeError
from hotline.web.api.errors import ApiError
from hotline.web.pages.admin_base import (
    csrf_ok,
    csrf_token,
    ctx_of,
    not_found_page,
    page_render,
    remember_tenants,
    write_form,
)
from hotline.web.pages.admin_forms import TENANT_FORM, parse_form, values_from_form, values_of
from hotline.web.pages.session import Page, forbidden_page, page_user, to_login

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
ItemId = Annotated[int, Path(ge=1, le=2**31 - 1)]
BASE = "/admin/tenants"
#: where the switcher may lead inside the chosen tenant: the section the admin was on
_SECTIONS = {
    **{
        key: "admin/" + key
        for key in (
            "hotlines",
            "queues",
            "skills",
            "users",
            "topics",
            "scripts",
            "kb",
            "offers",
            "prompts",
        )
    },
    "recordings": "recordings",
    "portal": "portal",
}


async def _gate(request: Request) -> Page | Response:
    """The page user if they are the installation's admin, else the login or 403 page."""
    page = await page_user(request)
    if page is None:
        return to_login(request)
    p = page.principal
    if not (p.is_admin and p.may(Action.WRITE, Resource.TENANT)):
        return forbidden_page(request, page.viewer)
    await remember_tenants(request, page)
    return page


async def _counts(session: AsyncSession, column: Any, *where: Any) -> dict[int, int]:
    rows = (
        await session.execute(sa.select(column, sa.func.count()).where(*where).group_by(column))
    ).all()
    return {int(t): int(n) for t, n in rows if t is not None}


@router.get(BASE)
async def tenants_list(request: Request) -> Response:
    page = await _gate(request)
    if not isinstance(page, Page):
        return page
    async with ctx_of(request).db.session(page.principal) as session:
        rows = (await session.scalars(sa.select(m.Tenant).order_by(m.Tenant.name))).all()
        hotlines = await _counts(session, m.Hotline.tenant_id)
        operators = await _counts(
            session, m.User.tenant_id, m.User.role == Role.OPERATOR, m.User.active.is_(True)
        )
    items = [
        {
            "id": r.id,
            "name": r.name,
            "slug": r.slug,
            "hotlines": hotlines.get(r.id, 0),
            "operators": operators.get(r.id, 0),
        }
        for r in rows
    ]
    return page_render(
        request,
        "admin_tenants.html",
        page,
        form=TENANT_FORM,
        items=items,
        saved=request.query_params.get("saved"),
        section="tenants",
    )


@router.get(f"{BASE}/switch")
async def tenants_switch(request: Request) -> Response:
    """The switcher's ``GET``: to the chosen tenant's page of the section the admin was on
    (its hotlines when that section has no page per tenant)."""
    page = await _gate(request)
    if not isinstance(page, Page):
        return page
    raw = request.query_params.get("tenant_id", "")
    async with ctx_of(request).db.session(page.principal) as session:
        tenant = await session.get(m.Tenant, int(raw)) if raw.isdigit() and len(raw) < 10 else None
    if tenant is None:
        return not_found_page(request, page)
    where = _SECTIONS.get(request.query_params.get("section", ""), "admin/hotlines")
    return RedirectResponse(f"/t/{tenant.id}/{where}", status_code=303)


async def _show_form(
    request: Request,
    page: Page,
    item_id: int | None,
    values: dict[str, Any],
    errors: dict[str, list[str]],
    status_code: int = 200,
    slug: str | None = None,
) -> Response:
    return page_render(
        request,
        "admin_form.html",
        page,
        status_code=status_code,
        form=TENANT_FORM,
        form_base=BASE,
        fields=TENANT_FORM.shown(item_id is None),
        item_id=item_id,
        values=values,
        errors=errors,
        options={"hotlines": [], "skills": []},
        days=(),
        csrf=csrf_token(request),
        fixed={"slug": slug} if slug else {},
        section="tenants",
    )


@router.get(f"{BASE}/new")
async def tenants_new(request: Request) -> Response:
    page = await _gate(request)
    if not isinstance(page, Page):
        return page
    return await _show_form(request, page, None, values_of({}, TENANT_FORM.shown(True)), {})


@router.get(f"{BASE}/{{item_id}}")
async def tenants_edit(request: Request, item_id: ItemId) -> Response:
    page = await _gate(request)
    if not isinstance(page, Page):
        return page
    async with ctx_of(request).db.session(page.principal) as session:
        row = await session.get(m.Tenant, item_id)
        if row is None:
            return not_found_page(request, page)
        read = TENANT_FORM.spec.to_read(row).model_dump(mode="json")
    values = values_of(read, TENANT_FORM.shown(False))
    return await _show_form(request, page, item_id, values, {}, slug=read["slug"])


@router.post(f"{BASE}/new")
async def tenants_create(request: Request) -> Response:
    return await _save(request, None)


@router.post(f"{BASE}/{{item_id}}")
async def tenants_update(request: Request, item_id: ItemId) -> Response:
    return await _save(request, item_id)


async def _save(request: Request, item_id: int | None) -> Response:
    page = await _gate(request)
    if not isinstance(page, Page):
        return page
    data = await request.form()
    if not csrf_ok(request, data):
        return forbidden_page(request, page.viewer)
    creating = item_id is None
    fields = TENANT_FORM.shown(creating)
    ctx = ctx_of(request)
    slug = None
    async with ctx.db.session(page.principal) as session:
        row = None if creating else await session.get(m.Tenant, item_id)
        if not creating and row is None:
            return not_found_page(request, page)
        slug = None if row is None else row.slug
        body = parse_form(data, fields, creating=creating, keep={})
        try:
            # the slug is the tenants table's one unique column: a conflict is a taken slug
            outcome = await write_form(
                session,
                page.principal,
                TENANT_FORM.spec,
                body,
                row,
                ctx.clock(),
                fields,
                conflict=("slug", "adm.slug_taken"),
            )
        except (ApiError, OutOfScopeError):
            return forbidden_page(request, page.viewer)
    if isinstance(outcome, dict):  # the session's exit rolled the attempt back
        values = values_from_form(data, fields)
        return await _show_form(request, page, item_id, values, outcome, 422, slug)
    if ctx.live is not None:  # hotlines carry their tenant's name ({company} in greetings)
        await ctx.live.reload()
    return RedirectResponse(f"{BASE}?saved={outcome}", status_code=303)
