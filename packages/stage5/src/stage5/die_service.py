"""Stage 5's die-service: the dice in PostgreSQL; GET /dice, GET /dice/NAME, POST /dice."""

import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from lab_dice.database import DatabaseUnavailable
from lab_dice.deps import from_state
from lab_dice.dice import DiceFileError, DieSpec, load_dice
from lab_dice.errors import add_protocol_fixes, error_responses
from lab_telemetry import instrument_app, load_settings, log_usage, serve, setup_telemetry
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from stage3.die_service import SERVICE_NAME, DiceList

from stage5.dice_store import DiceStore, DuplicateDie, StoreFull
from stage5.settings import DieServiceSettings

Store = Annotated[DiceStore, from_state("store")]
router = APIRouter()


@router.get("/dice", responses=error_responses(503))
async def list_dice(store: Store) -> DiceList:
    return DiceList(dice=await store.all())


@router.get("/dice/{name}", responses=error_responses(404, 503))
async def get_die(store: Store, name: str) -> DieSpec:
    spec = await store.get(name)
    if spec is None:
        raise HTTPException(404, f"no die named {name[:40]!r}")
    return spec


@router.post("/dice", status_code=201, responses=error_responses(400, 409, 503))
async def add_die(store: Store, spec: DieSpec) -> DieSpec:
    try:
        await store.add(spec)
    except DuplicateDie:
        raise HTTPException(409, f"a die named {spec.name!r} already exists") from None
    except StoreFull as exc:
        raise HTTPException(409, f"{exc}; this lab keeps no more") from None
    # Every die added, by the page's form or by the API (curl, traffic-gen), is a usage event.
    log_usage("add_die", die=spec.name, faces=len(spec.faces))
    return spec


async def database_down(_request: Request, _exc: Exception) -> JSONResponse:
    detail = "the dice database is not answering; try again shortly"
    return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": "5"})


def create_app(store: DiceStore) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await store.connect()
        try:
            yield
        finally:
            await store.close()

    telemetry = setup_telemetry(SERVICE_NAME)
    # FastAPI traces every request itself: server span and operation spans.
    app = FastAPI(title="die-service", lifespan=lifespan, telemetry=telemetry.fastapi)
    instrument_app(app, telemetry.metrics)
    # Every query becomes a span with db.system, the database name and the statement.
    if not AsyncPGInstrumentor().is_instrumented_by_opentelemetry:
        AsyncPGInstrumentor().instrument()
    add_protocol_fixes(app)
    app.add_exception_handler(DatabaseUnavailable, database_down)
    app.state.store = store
    app.state.metrics = telemetry.metrics  # for metrics of the app's own, as stage 6's
    app.include_router(router)
    return app


def main(
    settings_class: type[DieServiceSettings] = DieServiceSettings,
    program: str = "stage5-die-service",
    store_class: type[DiceStore] = DiceStore,
    create: Callable[[Any], FastAPI] = create_app,
) -> None:
    settings = load_settings(settings_class, program)
    try:
        seed = list(load_dice(settings.dice_file).values())
    except DiceFileError as exc:
        print(f"{program}: {exc}", file=sys.stderr)
        sys.exit(2)
    store = store_class(
        settings.database_url, seed, settings.database_timeout_seconds, settings.max_dice
    )
    serve(create(store), settings.host, settings.port)
