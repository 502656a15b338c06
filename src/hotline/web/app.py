"""The FastAPI application: API routers, health, metrics, error handlers.

Built by :func:`create_app` from an :class:`~hotline.web.api.deps.ApiContext`; nothing here
creates an engine or reads the environment (that is the composition root's job).
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.routing import compile_path

import hotline
from hotline.store.migrate import current_revision, head_revision
from hotline.web.api import auth, callbacks, interactions, kb_search, softphone, telephony
from hotline.web.api import moves as moves_api
from hotline.web.api import prompts as prompts_api
from hotline.web.api import recordings as recordings_api
from hotline.web.api import reports as reports_api
from hotline.web.api.crud import crud_router
from hotline.web.api.deps import ApiContext
from hotline.web.api.errors import install_error_handlers
from hotline.web.api.resources import SPECS
from hotline.web.live_hub import LiveHub
from hotline.web.pages import install_pages


class _RouteTemplates:
    """Label metrics by route template (``/api/v1/queues/{item_id}``), never by raw path:
    raw paths would make one time series per id.

    The templates are the OpenAPI paths (full paths, whatever the routers' nesting) plus the
    app's own plain routes (``/docs``).  Walking ``app.router.routes`` instead breaks on
    FastAPI versions that keep included routers as one opaque route without a ``path``.
    Built on the first request, when every route is in place.
    """

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._table: list[tuple[re.Pattern[str], str]] | None = None

    def __call__(self, path: str) -> str:
        if self._table is None:
            self._table = self._build()
        for regex, template in self._table:
            if regex.match(path):
                return template
        return "unmatched"

    def _build(self) -> list[tuple[re.Pattern[str], str]]:
        templates = set(self._app.openapi().get("paths", {}))
        for route in self._app.router.routes:
            if isinstance(path := getattr(route, "path", None), str):
                templates.add(path)
        # literal paths before templated ones, in case one ever shadows the other
        ordered = sorted(templates, key=lambda t: (t.count("{"), t))
        return [(compile_path(t)[0], t) for t in ordered]


def create_app(ctx: ApiContext, *, hub: LiveHub | None = None) -> FastAPI:
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
    api.include_router(kb_search.router)  # before /kb-articles/{item_id} shadows /search
    for spec in SPECS:
        api.include_router(crud_router(spec))
    api.include_router(interactions.router)
    api.include_router(moves_api.router)  # /interactions/{id}/move
    api.include_router(telephony.router)
    api.include_router(prompts_api.router)
    api.include_router(softphone.router)
    api.include_router(reports_api.router)
    api.include_router(recordings_api.router)
    api.include_router(callbacks.router)
    app.include_router(api)
    install_pages(app, hub)

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

    route_template = _RouteTemplates(app)

    @app.middleware("http")
    async def _measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = route_template(request.scope["path"])
        ctx.metrics.http_requests.labels(route, request.method, str(response.status_code)).inc()
        ctx.metrics.http_latency.labels(route).observe(time.perf_counter() - started)
        return response

    return app
