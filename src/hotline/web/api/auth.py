"""Log in (bearer token or page-session cookie), log out, and who am I."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import delete, select

from hotline.security import new_token, token_digest, verify_password
from hotline.store import models as m
from hotline.web.api.crud import ERRORS
from hotline.web.api.deps import SESSION_COOKIE, Ctx, CurrentPrincipal, _bearer
from hotline.web.api.errors import ApiError
from hotline.web.api.resources import _present_user
from hotline.web.api.schemas import LoginRequest, LoginResponse, UserRead

router = APIRouter(prefix="/auth", tags=["auth"], responses=ERRORS)


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post(
    "/login",
    response_model=LoginResponse,
    responses={429: {"description": "too many failed attempts; see Retry-After"}},
    summary="Exchange login and password for a token",
)
async def login(body: LoginRequest, request: Request, response: Response, ctx: Ctx) -> Any:
    # per login (guessing one account) and per client address (spraying many): a whole
    # call-center floor often shares one NAT address, so that limit is higher
    throttles = (
        (ctx.login_limiter, body.login.lower()),
        (ctx.address_limiter, _client_ip(request)),
    )
    t = ctx.monotonic()
    wait = max(limiter.retry_after(key, t) for limiter, key in throttles)
    if wait > 0:
        ctx.metrics.logins.labels("throttled").inc()
        raise ApiError(
            429,
            "too_many_attempts",
            f"too many failed logins; try again in {int(wait) + 1} s",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    now = ctx.clock()
    async with ctx.db.system_session() as session:
        user = (
            await session.execute(select(m.User).where(m.User.login == body.login))
        ).scalar_one_or_none()
        # argon2 takes ~0.3 s by design: off the event loop, which carries live RTP
        ok = await asyncio.to_thread(
            verify_password, user.password_hash if user else None, body.password
        )
        if user is None or not ok or not user.active:
            for limiter, key in throttles:
                limiter.hit(key, t)
            ctx.metrics.logins.labels("failed").inc()
            raise ApiError(401, "bad_credentials", "login or password is wrong")
        ctx.login_limiter.reset(body.login.lower())
        ttl = (
            ctx.settings.session_ttl_seconds
            if body.kind == "session"
            else ctx.settings.api_token_ttl_seconds
        )
        token = new_token()
        expires = now + dt.timedelta(seconds=ttl)
        session.add(
            m.ApiToken(
                user_id=user.id,
                token_hash=token_digest(token),
                kind=body.kind,
                created_at=now,
                expires_at=expires,
            )
        )
        # expired tokens of this user are swept on each login: the table stays small
        await session.execute(
            delete(m.ApiToken).where(m.ApiToken.user_id == user.id, m.ApiToken.expires_at <= now)
        )
        await session.commit()
        user_out = _present_user(user)
    ctx.metrics.logins.labels("ok").inc()
    if body.kind == "session":
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=ttl,
            httponly=True,
            samesite="strict",
            secure=ctx.settings.secure_cookies,
            path="/",
        )
    return LoginResponse(token=token, expires_at=expires, user=user_out)


@router.post("/logout", status_code=204, response_class=Response, summary="Revoke this token")
async def logout(
    request: Request,
    ctx: Ctx,
    _principal: CurrentPrincipal,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Response:
    token = credentials.credentials if credentials else request.cookies.get(SESSION_COOKIE, "")
    async with ctx.db.system_session() as session:
        await session.execute(
            delete(m.ApiToken).where(m.ApiToken.token_hash == token_digest(token))
        )
        await session.commit()
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=UserRead, summary="The logged-in user")
async def me(principal: CurrentPrincipal, ctx: Ctx) -> Any:
    async with ctx.db.system_session() as session:
        user = await session.get(m.User, principal.user_id)
        assert user is not None  # noqa: S101 - the token's user exists (FK cascade)
        return _present_user(user)
