"""Stage 6's die-service: die specifications in PostgreSQL; GET and POST /dice, and PATCH
/dice/{name}/faults to change a die's failure rate and delay while everything runs."""

import logging
import math
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from lab_telemetry import instrument_app, load_settings, log_usage, serve, setup_telemetry
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from stage6.dice_spec import DiceFileError, DieSpec, Faults, load_dice
from stage6.dice_store import DatabaseUnavailable, DiceStore, DuplicateDie, StoreFull
from stage6.errors import error_responses
from stage6.settings import DieServiceSettings

SERVICE_NAME = "die-service"
logger = logging.getLogger(__name__)


class DiceList(BaseModel):
    dice: list[DieSpec]


def create_app(store: DiceStore) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await store.connect()
        yield
        await store.close()

    telemetry = setup_telemetry(SERVICE_NAME)
    # FastAPI traces every request itself: server span and operation spans.
    app = FastAPI(title="die-service", lifespan=lifespan, telemetry=telemetry.fastapi)
    instrument_app(app, telemetry.metrics)
    # Every query becomes a span with db.system, the database name and the statement.
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

    if not AsyncPGInstrumentor().is_instrumented_by_opentelemetry:
        AsyncPGInstrumentor().instrument()

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
            methods = {
                method
                for route in app.routes
                if isinstance(route, APIRoute) and route.path_regex.match(request.url.path)
                for method in route.methods
            }
            exc.headers = {**(exc.headers or {}), "Allow": ", ".join(sorted(methods))}
        return await http_exception_handler(request, exc)

    @app.exception_handler(DatabaseUnavailable)
    async def database_down(_request: Request, _exc: DatabaseUnavailable) -> JSONResponse:
        detail = "the dice database is not answering; try again shortly"
        return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": "5"})

    @app.get("/dice", responses=error_responses(503))
    async def list_dice() -> DiceList:
        return DiceList(dice=await store.all())

    @app.get("/dice/{name}", responses=error_responses(404, 503))
    async def get_die(name: str) -> DieSpec:
        spec = await store.get(name)
        if spec is None:
            raise HTTPException(404, f"no die named {name[:40]!r}")
        return spec

    @app.post("/dice", status_code=201, responses=error_responses(400, 409, 503))
    async def add_die(spec: DieSpec) -> DieSpec:
        try:
            await store.add(spec)
        except DuplicateDie:
            raise HTTPException(409, f"a die named {spec.name!r} already exists") from None
        except StoreFull as exc:
            raise HTTPException(409, f"{exc}; this lab keeps no more") from None
        # Every die added, by the page's form or by the API (curl, traffic-gen), is a usage event.
        log_usage("add_die", die=spec.name, faces=len(spec.faces))
        return spec

    @app.patch("/dice/{name}/faults", responses=error_responses(400, 404, 503))
    async def set_faults(name: str, faults: Faults) -> DieSpec:
        # The dice-roller asks for the die on every roll, so the change holds from the next one.
        spec = await store.set_faults(name, faults)
        if spec is None:
            raise HTTPException(404, f"no die named {name[:40]!r}")
        changes = faults.model_dump(exclude_unset=True)
        # A WARNING, in the request's span: the line that explains the incident that follows.
        logger.warning(
            f"faults of the {name} die changed: "
            + ", ".join(f"{key}={value}" for key, value in changes.items()),
            extra={"die": name, **changes},
        )
        log_usage("set_faults", die=name, **changes)
        return spec

    return app


def main() -> None:
    settings = load_settings(DieServiceSettings, "stage6-die-service")
    try:
        seed = list(load_dice(settings.dice_file).values())
    except DiceFileError as exc:
        print(f"stage6-die-service: {exc}", file=sys.stderr)
        sys.exit(2)
    store = DiceStore(
        settings.database_url, seed, settings.database_timeout_seconds, settings.max_dice
    )
    serve(create_app(store), settings.host, settings.port)
