"""Who is looking at a page: the page cookie turned into a principal and a viewer.

Pages use the same session tokens as the API (``POST /api/v1/auth/login`` with
``kind=session`` sets the cookie), so logging in on either logs in on both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request, WebSocket
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from hotline.core.access import Principal
from hotline.web.api.deps import SESSION_COOKIE, ApiContext, load_principal
from hotline.web.pages.data import Viewer, load_viewer
from hotline.web.pages.i18n import translator

__all__ = ["TEMPLATES", "Page", "page_user", "render", "to_login", "ws_user"]

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")


@dataclass(frozen=True, slots=True)
class Page:
    principal: Principal
    viewer: Viewer


def _ctx(app: Any) -> ApiContext:
    ctx = app.state.ctx
    assert isinstance(ctx, ApiContext)  # noqa: S101 - set by create_app
    return ctx


async def _user(ctx: ApiContext, token: str | None) -> Page | None:
    if not token:
        return None
    principal = await load_principal(ctx.db, token, ctx.clock())
    if principal is None:
        return None
    viewer = await load_viewer(ctx.db, principal.user_id)
    return None if viewer is None else Page(principal, viewer)


async def page_user(request: Request) -> Page | None:
    return await _user(_ctx(request.app), request.cookies.get(SESSION_COOKIE))


async def ws_user(ws: WebSocket) -> Page | None:
    """The user behind a WebSocket handshake, or None.

    Browsers send the page cookie on same-origin WebSocket handshakes; SameSite=Strict
    keeps it off cross-site ones, and a foreign ``Origin`` is refused on top (a page on
    another site must not open a socket in the user's name).
    """
    origin = ws.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != ws.headers.get("host"):
        return None
    return await _user(_ctx(ws.app), ws.cookies.get(SESSION_COOKIE))


def to_login(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)


def render(
    request: Request,
    name: str,
    viewer: Viewer | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    locale = viewer.locale if viewer is not None else _browser_locale(request)
    return TEMPLATES.TemplateResponse(
        request,
        name,
        {"t": translator(locale), "locale": locale, "viewer": viewer, **context},
        status_code=status_code,
    )


def _browser_locale(request: Request) -> str:
    accept = request.headers.get("accept-language", "")
    first = accept.split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "ru"


def forbidden_page(request: Request, viewer: Viewer | None) -> HTMLResponse:
    return render(request, "error.html", viewer, status_code=403)
