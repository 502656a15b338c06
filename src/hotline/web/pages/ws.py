"""One WebSocket per page: ``/ws/desktop`` and ``/ws/wallboard/{tenant_id}``.

The handshake is authenticated by the page cookie (``session.ws_user``) and checked like
the page itself; a refused handshake is closed before it is accepted, which browsers see
as HTTP 403.  Frames follow ``web/live_events.py``; the client only listens (actions go
through the REST API), so anything it sends is read and dropped.
"""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from hotline.core.model import Role
from hotline.web.live_events import WallboardSnapshot
from hotline.web.live_hub import LiveHub, Subscriber
from hotline.web.pages.session import ws_user

__all__ = ["router"]

router = APIRouter()


def _hub(ws: WebSocket) -> LiveHub | None:
    hub = getattr(ws.app.state, "hub", None)
    return hub if isinstance(hub, LiveHub) else None


@router.websocket("/ws/desktop")
async def desktop_socket(ws: WebSocket) -> None:
    page, hub = await ws_user(ws), _hub(ws)
    if page is None or hub is None or page.principal.role is not Role.OPERATOR:
        await ws.close(code=1008)
        return
    await ws.accept()
    operator_id = page.principal.user_id
    sub = hub.open_desktop(operator_id)
    try:
        for frame in await hub.desktop_hello(operator_id):
            await ws.send_text(frame)
        await _pump(ws, sub)
    finally:
        hub.close(sub)


@router.websocket("/ws/wallboard/{tenant_id}")
async def wallboard_socket(ws: WebSocket, tenant_id: int) -> None:
    page, hub = await ws_user(ws), _hub(ws)
    if (
        page is None
        or hub is None
        or page.principal.role not in (Role.SUPERVISOR, Role.ADMIN)
        or not page.principal.sees_tenant(tenant_id)
    ):
        await ws.close(code=1008)
        return
    await ws.accept()
    limit = page.principal.hotline_ids
    sub = hub.open_wallboard(tenant_id, limit)
    try:
        board = hub.visible(await hub.wallboard(tenant_id), limit)
        await ws.send_text(WallboardSnapshot(at=hub.clock(), data=board).model_dump_json())
        await _pump(ws, sub)
    finally:
        hub.close(sub)


async def _pump(ws: WebSocket, sub: Subscriber) -> None:
    """Send the subscriber's frames until the browser goes away."""

    async def drain() -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await ws.receive_text()

    reader = asyncio.ensure_future(drain())
    try:
        while not reader.done():
            getter = asyncio.ensure_future(sub.frames.get())
            done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                break
            await ws.send_text(getter.result())
    except (WebSocketDisconnect, RuntimeError):
        pass  # the browser left while we were sending
    finally:
        reader.cancel()
