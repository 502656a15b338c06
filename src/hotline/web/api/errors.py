"""One error shape for the whole API: ``{"error_id", "message", "details"}``.

``error_id`` is stable (clients may branch on it); ``message`` is for people and names the
field at fault; ``details`` carries the structured specifics.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hotline.store.scope import OutOfScopeError

log = structlog.get_logger("hotline.api")


class ErrorBody(BaseModel):
    error_id: str
    message: str
    details: Any = None


class ApiError(Exception):
    """Raised by endpoints; rendered as :class:`ErrorBody` with ``status``."""

    def __init__(
        self,
        status: int,
        error_id: str,
        message: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_id = error_id
        self.message = message
        self.details = details
        self.headers = headers


def not_found(kind: str, ident: object) -> ApiError:
    return ApiError(404, "not_found", f"{kind} {ident} not found")


def forbidden(message: str = "your role may not do this") -> ApiError:
    return ApiError(403, "forbidden", message)


def invalid(field: str, message: str) -> ApiError:
    return ApiError(
        422, "validation_error", f"{field}: {message}", [{"loc": field.split("."), "msg": message}]
    )


def _body(error_id: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error_id": error_id, "message": message, "details": details}


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_req: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            _body(exc.error_id, exc.message, exc.details), exc.status, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        message = "; ".join(f"{_loc(e['loc'])}: {e['msg']}" for e in errors[:5]) or "invalid"
        return JSONResponse(_body("validation_error", message, errors), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        ids = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
        return JSONResponse(
            _body(ids.get(exc.status_code, "http_error"), str(exc.detail)),
            exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(OutOfScopeError)
    async def _scope(_req: Request, exc: OutOfScopeError) -> JSONResponse:
        return JSONResponse(_body("forbidden", str(exc)), 403)

    @app.exception_handler(IntegrityError)
    async def _integrity(_req: Request, exc: IntegrityError) -> JSONResponse:
        log.info("api.conflict", error=str(exc.orig))
        return JSONResponse(
            _body("conflict", "the change conflicts with existing data (duplicate or in use)"),
            409,
        )

    @app.exception_handler(Exception)
    async def _unexpected(req: Request, exc: Exception) -> JSONResponse:
        log.error("api.unexpected", path=req.url.path, exc_info=exc)
        return JSONResponse(_body("internal", "internal error; it has been logged"), 500)
