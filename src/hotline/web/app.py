"""The FastAPI application: API routers, health, metrics, error handlers.

Built by :func:`create_app` from an :class:`~hotline.web.api.deps.ApiContext`; nothing here
creates an engine or reads the environment (that is the composition root's job).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.routing import Match

import hotline
from hotline.store.migrate import current_revision, head_revision
from hotline.web.api import auth, interactions
from hotline.web.api.crud import crud_router
from hotline.web.api.deps import ApiContext
from hotline.web.api.errors import install_error_handlers
from hotline.web.api.resources import SPECS


def _route_template(request: Request) -> str:
    """Label metrics by route template (``/api/v1/queues/{item_id}``), never by raw path:
    raw paths would make one time series per id."""
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is Match.FULL:
            return str(getattr(route, "path", "other"))
    return "unmatched"


def create_app(ctx: ApiContext) -> FastAPI:
    app = FastAPI(
        title="Hotline",
        version=hotline.__version__,
        description="Contact-center platform API. Every endpoint is tenant-scoped and "
        "role-checked; errors are `{error_id, message, details}`.",
    )
    app.state.ctx = ctx
    install_error_handlers(app)

    api = APIRouter(prefix="/api/v1")
    api.include_router(auth.router)
    for spec in SPECS:
        api.include_router(crud_router(spec))
    api.include_router(interactions.router)
    app.include_router(api)

    @app.get("/healthz", tags=["ops"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"], summary="The database answers and is migrated")
    async def readyz() -> JSONResponse:
        try:
            revision = await current_revision(ctx.db.engine)
        except Exception as exc:
            return JSONResponse({"status": "unavailable", "reason": str(exc)[:200]}, 503)
        if revision != head_revision():
            return JSONResponse(
                {"status": "unavailable", "reason": f"database at {revision}, need migrate"}, 503
            )
        return JSONResponse({"status": "ok", "database": ctx.db.dialect, "revision": revision})

    @app.get(
        "/metrics", tags=["ops"], response_class=PlainTextResponse, summary="Prometheus metrics"
    )
    async def metrics() -> Response:
        return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.middleware("http")
    async def _measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = _route_template(request)
        ctx.metrics.http_requests.labels(route, request.method, str(response.status_code)).inc()
        ctx.metrics.http_latency.labels(route).observe(time.perf_counter() - started)
        return response

    return app
