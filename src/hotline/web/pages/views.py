"""The HTML pages: log in and out, the landing redirect, desktop, wallboard (reports:
``pages/reports.py``).

Handlers stay thin: who may look (role, tenant) is decided here, everything else is a
query in ``pages/data.py`` or a frame of the live hub.  Tenant pages carry the tenant in
the path (``/t/{tenant_id}/...``) so a link can never show one tenant's data to another:
the check is ``Principal.sees_tenant`` (access rule 1), and a refusal is a 403 page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import delete

from hotline.core.model import Role
from hotline.security import token_digest
from hotline.store import models as m
from hotline.web.api import auth
from hotline.web.api.deps import CSRF_HEADER, SESSION_COOKIE, ApiContext, WrapUpControl
from hotline.web.api.errors import ApiError
from hotline.web.api.schemas import LoginRequest
from hotline.web.live_hub import LiveHub
from hotline.web.pages import data, desktop_extras, desktop_kpis
from hotline.web.pages.session import forbidden_page, page_user, render, to_login
from hotline.web.pages.wrap_up_rule import hotline_requires_wrap_up, missing_fields

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
TenantId = Annotated[int, Path(ge=1, le=2**31 - 1)]
NOT_READY_REASONS = ("break", "lunch", "training", "meeting")


def _ctx(request: Request) -> ApiContext:
    ctx = request.app.state.ctx
    assert isinstance(ctx, ApiContext)  # noqa: S101 - set by create_app
    return ctx


def _hub(request: Request) -> LiveHub | None:
    hub = getattr(request.app.state, "hub", None)
    return hub if isinstance(hub, LiveHub) else None


def _safe_next(target: str | None) -> str:
    # only paths of this site: "//evil.example" or "https://…" would be an open redirect
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", None, next=_safe_next(next), error=None)


@router.post("/login")
async def login_submit(
    request: Request,
    login: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    ctx = _ctx(request)
    carrier = Response()
    try:
        body = LoginRequest(login=login, password=password, kind="session")
        await auth.login(body, request, carrier, ctx)
    except (ValidationError, ApiError) as exc:
        key = "login.throttled" if getattr(exc, "status", 0) == 429 else "login.bad"
        return render(
            request, "login.html", None, status_code=401, next=_safe_next(next), error=key
        )
    done = RedirectResponse(_safe_next(next), status_code=303)
    done.headers.append("set-cookie", carrier.headers["set-cookie"])
    return done


@router.post("/logout")
async def logout(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        async with _ctx(request).db.system_session() as session:
            await session.execute(
                delete(m.ApiToken).where(m.ApiToken.token_hash == token_digest(token))
            )
            await session.commit()
    done = RedirectResponse("/login", status_code=303)
    done.delete_cookie(SESSION_COOKIE, path="/")
    return done


@router.get("/")
async def landing(request: Request) -> Response:
    page = await page_user(request)
    if page is None:
        return to_login(request)
    role, tenant = page.principal.role, page.principal.tenant_id
    if role is Role.OPERATOR:
        return RedirectResponse("/desktop", status_code=303)
    if tenant is None:  # the installation's admin: the first tenant's wallboard
        tenant = await data.first_tenant(_ctx(request).db)
        if tenant is None:
            return forbidden_page(request, page.viewer)
    where = "reports" if role is Role.CLIENT else "wallboard"
    return RedirectResponse(f"/t/{tenant}/{where}", status_code=303)


@router.get("/desktop")
async def desktop(request: Request) -> Response:
    page = await page_user(request)
    if page is None:
        return to_login(request)
    if page.principal.role is not Role.OPERATOR or page.principal.tenant_id is None:
        return forbidden_page(request, page.viewer)
    db = _ctx(request).db
    hotlines = sorted(page.principal.hotline_ids or ())
    topics = {h: await data.load_topics(db, h) for h in hotlines}
    queues = [
        q for q in await data.load_queues(db, page.principal.tenant_id) if q.hotline_id in hotlines
    ]
    own = await desktop_kpis.load_own_kpis(
        db, page.principal.tenant_id, page.principal.user_id, _ctx(request).clock().timestamp()
    )
    return render(
        request,
        "desktop.html",
        page.viewer,
        topics={h: {"topics": t, "outcomes": o} for h, (t, o) in topics.items()},
        queues=[{"id": q.id, "name": f"{q.hotline} — {q.name}"} for q in queues],
        reasons=NOT_READY_REASONS,
        live=_hub(request) is not None,
        extras=await desktop_extras.load_desktop_extras(db, hotlines),
        own=own.as_dict(),
    )


async def _own_kpis(request: Request, tenant_id: int, user_id: int) -> dict[str, Any]:
    ctx, hub = _ctx(request), _hub(request)
    if hub is not None:
        await hub.center.writer.flush()  # the lines of the call just finished
    own = await desktop_kpis.load_own_kpis(ctx.db, tenant_id, user_id, ctx.clock().timestamp())
    return own.as_dict()


@router.get("/desktop/kpis")
async def my_kpis(request: Request) -> Any:
    """The operator's own figures today (pages/desktop_kpis.py), for the desktop to refresh."""
    page = await page_user(request)
    if page is None:
        raise ApiError(401, "unauthorized", "log in first")
    if page.principal.role is not Role.OPERATOR or page.principal.tenant_id is None:
        raise ApiError(403, "forbidden", "only operators have a desktop")
    return await _own_kpis(request, page.principal.tenant_id, page.principal.user_id)


@router.get("/t/{tenant_id}/wallboard")
async def wallboard(request: Request, tenant_id: TenantId) -> Response:
    page = await page_user(request)
    if page is None:
        return to_login(request)
    if page.principal.role not in (Role.SUPERVISOR, Role.ADMIN) or not (
        page.principal.sees_tenant(tenant_id)
    ):
        return forbidden_page(request, page.viewer)
    return render(
        request,
        "wallboard.html",
        page.viewer,
        tenant_id=tenant_id,
        role=page.principal.role.value,  # an admin gets the way to other tenants
        reasons=NOT_READY_REASONS,
        live=_hub(request) is not None,
    )


# /t/{tenant_id}/reports: pages/reports.py (the report page, with today's queue rows)


class WrapUp(BaseModel):
    interaction_id: int = Field(ge=1, le=2**63 - 1)
    topic_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    outcome_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    notes: str = Field(default="", max_length=4000)
    script: desktop_extras.ScriptPath | None = None


@router.post("/desktop/wrapup")
async def save_wrap_up(request: Request, body: WrapUp) -> Any:
    """Topic, outcome and notes of an interaction the operator handled."""
    page = await page_user(request)
    if page is None:
        raise ApiError(401, "unauthorized", "log in first")
    if not request.headers.get(CSRF_HEADER):
        raise ApiError(
            403, "forbidden", f"cookie-authenticated writes need the {CSRF_HEADER} header"
        )
    if page.principal.role is not Role.OPERATOR:
        raise ApiError(403, "forbidden", "only operators wrap up their interactions")
    ctx, hub = _ctx(request), _hub(request)
    if hub is not None:
        await hub.center.writer.flush()  # the interaction row may still be queued
    owner = await data.interaction_owner(ctx.db, body.interaction_id)
    mine = (
        owner is not None
        and owner[0] == page.principal.tenant_id
        and (
            owner[2] == page.principal.user_id
            or (hub is not None and hub.handled_by(page.principal.user_id, body.interaction_id))
        )
    )
    if owner is None or not mine:
        raise ApiError(404, "not_found", f"interaction {body.interaction_id} is not one of yours")
    wanted = {"topic_id": body.topic_id, "outcome_id": body.outcome_id}
    required, hotline_name = await hotline_requires_wrap_up(ctx.db, owner[1])
    missing = missing_fields(required, body.topic_id, body.outcome_id)
    if missing:  # wrap_up_rule Rule 1
        raise ApiError(
            422,
            "validation_error",
            f"{' and '.join(f'{name}_id' for name in missing)}: hotline {hotline_name!r} "
            "requires a topic and an outcome for every interaction",
            details=[
                {"loc": ["body", f"{name}_id"], "msg": "required by the hotline"}
                for name in missing
            ],
        )
    kinds = await data.topic_kinds(ctx.db, owner[1], [v for v in wanted.values() if v])
    for name, value in wanted.items():
        expected = "topic" if name == "topic_id" else "outcome"
        if value is not None and kinds.get(value) != expected:
            raise ApiError(
                422,
                "validation_error",
                f"{name}: {value} is not an active {expected} of this hotline",
                details=[{"loc": ["body", name], "msg": f"not an {expected} of the hotline"}],
            )
    script = None
    if body.script is not None:
        try:
            script = await desktop_extras.validated_path(ctx.db, owner[1], body.script)
        except desktop_extras.ScriptPathError as exc:
            field = str(exc).split(":", 1)[0]
            raise ApiError(
                422,
                "validation_error",
                str(exc),
                details=[{"loc": ["body", field], "msg": str(exc)}],
            ) from None
    await desktop_extras.save_wrap_up(
        ctx.db,
        body.interaction_id,
        {**wanted, "notes": body.notes},
        tenant_id=owner[0],
        user_id=page.principal.user_id,
        script=script,
        now=ctx.clock(),
    )
    if required and isinstance(ctx.live, WrapUpControl):
        # engine Rule 8: an operator held in wrap-up for this interaction goes ready now
        ctx.live.complete_wrap_up(page.principal.user_id, body.interaction_id)
    kpis = await _own_kpis(request, owner[0], page.principal.user_id)
    return {"interaction_id": body.interaction_id, "saved": True, "kpis": kpis}


#: one extension of wrap-up, as long again as the demo queues' 30 s (issue 5: "extend once")
EXTEND_SECONDS = 30.0


@router.post("/desktop/wrapup/extend")
async def extend_wrap_up(request: Request) -> Any:
    """More time for the current wrap-up, once per interaction."""
    page = await page_user(request)
    if page is None:
        raise ApiError(401, "unauthorized", "log in first")
    if not request.headers.get(CSRF_HEADER):
        raise ApiError(
            403, "forbidden", f"cookie-authenticated writes need the {CSRF_HEADER} header"
        )
    hub = _hub(request)
    if page.principal.role is not Role.OPERATOR or hub is None:
        raise ApiError(403, "forbidden", "only operators of a live server extend wrap-up")
    ends = hub.extend_wrap_up(page.principal.user_id, EXTEND_SECONDS)
    if ends is None:
        raise ApiError(409, "state_conflict", "not in wrap-up, or already extended once")
    return {"wrap_up_ends_at": ends}
