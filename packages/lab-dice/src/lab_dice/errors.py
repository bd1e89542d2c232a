"""The error body of every error the stages' APIs raise themselves: {"detail": "what was wrong"}.

FastAPI's own request validation keeps its standard 422 body (a list of errors, one per bad
field). Each route declares the other codes it can answer with this model, so the OpenAPI
document, and a client generated from it, knows every answer.
"""

import math

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path


class ErrorMessage(BaseModel):
    detail: str


MEANINGS = {
    400: "The body is not JSON.",
    404: "No such thing: the message names it.",
    409: "Conflicts with what is stored: the message says how.",
    500: "A simulated failure, one of the lab's labelled faults: the message says so.",
    503: "A dependency is down or slow, or the service is at capacity: retry after Retry-After.",
}


def error_responses(*codes: int) -> dict[int | str, dict]:
    """`responses=` for a route: each code with ErrorMessage and what it means."""
    return {code: {"model": ErrorMessage, "description": MEANINGS[code]} for code in codes}


def methods_at(app: FastAPI, path: str) -> set[str]:
    """Every method some route of the app answers at `path`, routers included into it too (with
    their prefixes: FastAPI's route contexts give each route's full path)."""
    return {
        method
        for context in iter_route_contexts(app.routes)
        if context.methods and context.path and compile_path(context.path)[0].match(path)
        for method in context.methods
    }


def add_protocol_fixes(app: FastAPI) -> None:
    """Two answers FastAPI gets wrong for an API that takes JSON bodies on shared paths."""

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI echoes each bad value back, but Infinity and NaN (Python's JSON parser reads
        # them) cannot be written as JSON: the default handler then fails with a 500.
        errors = [
            {**error, "input": repr(error["input"])}
            if isinstance(error.get("input"), float) and not math.isfinite(error["input"])
            else error
            for error in exc.errors()
        ]
        return await request_validation_exception_handler(request, RequestValidationError(errors))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 405:
            # Starlette lists only the methods of the first route whose path matches, and GET
            # and POST /dice are two routes; Allow must name every method (RFC 9110, 15.5.6).
            methods = methods_at(app, request.url.path)
            exc.headers = {**(exc.headers or {}), "Allow": ", ".join(sorted(methods))}
        return await http_exception_handler(request, exc)
