"""Every failure becomes Mastodon's error JSON with the right status; nothing leaks as a 500 page."""

from __future__ import annotations

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from stoa.api.responses import error
from stoa.core.errors import (
    BadRequest,
    DomainError,
    Forbidden,
    NotFound,
    TooLarge,
    Unauthorized,
    ValidationFailed,
)
from stoa.store.database import StoreUnavailable
from stoa.store.regions import UnknownRegion

log = structlog.get_logger(__name__)

STATUS_FOR = [
    (NotFound, 404),
    (Unauthorized, 401),
    (Forbidden, 403),
    (ValidationFailed, 422),
    (BadRequest, 400),
    (TooLarge, 413),
]


def status_for(exc: DomainError) -> int:
    for cls, status in STATUS_FOR:
        if isinstance(exc, cls):
            return status
    return 422


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_request: Request, exc: DomainError) -> Response:
        status = status_for(exc)
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else None
        return error(status, str(exc), headers=headers)

    @app.exception_handler(UnknownRegion)
    async def _region(_request: Request, exc: UnknownRegion) -> Response:
        return error(422, f"Validation failed: {exc}")

    @app.exception_handler(StoreUnavailable)
    async def _unavailable(_request: Request, exc: StoreUnavailable) -> Response:
        log.warning("region_unavailable", region=exc.region)
        return error(503, str(exc), headers={"Retry-After": "30"})

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
        return error(400 if first.get("type") == "missing" else 422,
                     f"Validation failed: {where or 'request'}: {first.get('msg', 'invalid')}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: "Record not found", 405: "Method not allowed"}.get(exc.status_code, str(exc.detail))
        return error(exc.status_code, message, headers=dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled_error", path=request.url.path, method=request.method)
        return error(500, "Internal server error")
