"""Server-rendered pages (Jinja2 templates, small vanilla JS modules, one WebSocket each).

:func:`install_pages` adds them to the FastAPI app; ``hub`` is the live feed (absent when
the server runs without telephony: the pages then show that nothing is live).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

if TYPE_CHECKING:
    from hotline.web.live_hub import LiveHub

__all__ = ["install_pages"]

STATIC = Path(__file__).parent.parent / "static"


def install_pages(app: FastAPI, hub: LiveHub | None) -> None:
    from hotline.web.pages import admin, flows, portal, reports, views, wfm, ws

    app.state.hub = hub
    app.include_router(views.router)
    app.include_router(reports.router)
    app.include_router(wfm.router)
    app.include_router(ws.router)
    app.include_router(flows.router)
    app.include_router(admin.router)
    app.include_router(portal.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
