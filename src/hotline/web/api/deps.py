"""Request dependencies: who is calling, may they, and a session scoped to them."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, Protocol, runtime_checkable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.access import Action, Principal, Resource, hotline_limit
from hotline.core.ratelimit import SlidingWindowLimiter
from hotline.observability import Metrics
from hotline.security import token_digest
from hotline.settings import Settings
from hotline.store import models as m
from hotline.store.db import Database
from hotline.web.api.errors import ApiError, forbidden

SESSION_COOKIE = "hotline_session"
#: Cookie-authenticated writes must carry this header: browsers cannot add a custom header
#: to a cross-site request without a CORS preflight, which we never grant (CSRF defence on
#: top of SameSite=Strict).
CSRF_HEADER = "X-Requested-With"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LiveControl(Protocol):
    """The running contact center as the API sees it (built in ``hotline.app``; absent
    when the API runs without telephony, e.g. in API-only tests)."""

    def operator_state(self, operator_id: int) -> tuple[str, str | None]: ...

    def set_operator_state(self, operator_id: int, state: str, reason: str | None) -> None: ...

    def call_parties(self, interaction_id: int) -> tuple[int, int | None] | None:
        """``(tenant_id, operator_id)`` of a live call, or None when no such call."""

    def hold(self, interaction_id: int) -> bool: ...

    def resume(self, interaction_id: int) -> bool: ...

    def hang_up(self, interaction_id: int) -> bool: ...

    def transfer_to_queue(self, interaction_id: int, queue_id: int) -> bool: ...

    def transfer_to_number(self, interaction_id: int, number: str) -> str | None:
        """Dial an outside number for the caller; None when dialling started, else why
        not (``"call_state"``, ``"no_trunk"``)."""

    async def reload(self) -> None:
        """Re-read hotlines, queues, operators and flows after a change."""


@runtime_checkable
class WrapUpControl(Protocol):
    """What the running center offers for required wrap-ups, on top of
    :class:`LiveControl` (``live.control.LiveControlImpl`` has both; a ``LiveControl``
    without it, such as a test's fake, just holds nobody)."""

    def complete_wrap_up(self, operator_id: int, interaction_id: int) -> None:
        """The operator saved the wrap-up of the interaction: an operator the routing
        engine holds in wrap-up for it goes ready (engine Rule 8); otherwise nothing
        happens (another interaction, an operator not in wrap-up, or unknown)."""


class SoftphoneControl(Protocol):
    """Operators' browser softphones (built in ``hotline.app`` with telephony)."""

    async def open(self, operator_id: int, offer_sdp: str, *, auto_answer: bool = False) -> str:
        """Answer the browser's WebRTC offer; raises ``ValueError`` with the reason for
        an unusable one.  ``auto_answer``: offers are answered at once."""

    async def close(self, operator_id: int) -> bool: ...

    def status(self, operator_id: int) -> dict[str, Any] | None:
        """Connection state and audio counters, or None when no softphone is on."""

    def answer(self, interaction_id: int, operator_id: int) -> bool: ...

    def decline(self, interaction_id: int, operator_id: int) -> bool: ...

    def call_hotline(self, interaction_id: int) -> tuple[int, int] | None:
        """``(tenant_id, hotline_id)`` of a live call, or None."""

    def monitor(self, interaction_id: int, user_id: int) -> bool:
        """Silent monitor; raises ``ValueError`` when the media backend cannot."""

    def stop_monitor(self, interaction_id: int, user_id: int) -> bool: ...


@dataclass(slots=True)
class ApiContext:
    """Everything the API needs, built by the composition root (``hotline.app``)."""

    db: Database
    settings: Settings
    metrics: Metrics
    login_limiter: SlidingWindowLimiter
    address_limiter: SlidingWindowLimiter
    clock: Callable[[], dt.datetime]
    monotonic: Callable[[], float]
    live: LiveControl | None = None
    softphones: SoftphoneControl | None = None


def get_ctx(request: Request) -> ApiContext:
    ctx = request.app.state.ctx
    assert isinstance(ctx, ApiContext)  # noqa: S101 - set by create_app
    return ctx


Ctx = Annotated[ApiContext, Depends(get_ctx)]
_bearer = HTTPBearer(auto_error=False, description="token from POST /api/v1/auth/login")


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


async def load_principal(db: Database, token: str, now: dt.datetime) -> Principal | None:
    """The principal behind a bearer token or session cookie, or None if it is not valid."""
    async with db.system_session() as s:
        row = (
            await s.execute(
                select(m.ApiToken, m.User)
                .join(m.User, m.User.id == m.ApiToken.user_id)
                .where(m.ApiToken.token_hash == token_digest(token))
            )
        ).first()
        if row is None:
            return None
        tok, user = row
        if tok.expires_at <= now or not user.active:
            return None
        assigned = frozenset(link.hotline_id for link in user.hotline_links)
        return Principal(
            user_id=user.id,
            login=user.login,
            role=user.role,
            tenant_id=user.tenant_id,
            hotline_ids=hotline_limit(user.role, assigned),
        )


async def current_principal(
    request: Request,
    ctx: Ctx,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is not None:
        token = credentials.credentials
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie is None:
            raise _unauthorized("log in first: send 'Authorization: Bearer TOKEN'")
        if request.method not in SAFE_METHODS and not request.headers.get(CSRF_HEADER):
            raise forbidden(f"cookie-authenticated writes need the {CSRF_HEADER} header")
        token = cookie
    principal = await load_principal(ctx.db, token, ctx.clock())
    if principal is None:
        raise _unauthorized("token is unknown or expired; log in again")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(action: Action, resource: Resource) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """Dependency: the caller's principal, if its role may ``action`` on ``resource``."""

    async def _check(principal: CurrentPrincipal) -> Principal:
        if not principal.may(action, resource):
            raise forbidden(f"role {principal.role.value} may not {action.value} {resource.value}")
        return principal

    return _check


async def scoped_session(principal: CurrentPrincipal, ctx: Ctx) -> AsyncIterator[AsyncSession]:
    async with ctx.db.session(principal) as session:
        yield session


Session = Annotated[AsyncSession, Depends(scoped_session)]
