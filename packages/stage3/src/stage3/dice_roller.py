"""Stage 3's dice-roller: GET /roll?die=NAME, with the die's specification from the die-service."""

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import httpx
from fastapi import APIRouter, FastAPI, HTTPException, Query
from lab_dice.deps import from_state
from lab_dice.dice import DIE_NAME_PATTERN, DieSpec
from lab_dice.errors import error_responses
from lab_telemetry import instrument_app, load_settings, log_usage, serve, setup_telemetry
from stage1.dice_roller import SERVICE_NAME, DiceMeters, Meters, RollResult, dice_meters

from stage3.settings import DiceRollerSettings

logger = logging.getLogger(__name__)
# The die's name, validated before it is put into the die-service's URL or a metric label.
DieQuery = Annotated[str, Query(pattern=DIE_NAME_PATTERN, description="a die's name, e.g. fair")]
DieService = Annotated[httpx.AsyncClient, from_state("die_service")]
Rng = Annotated[random.Random, from_state("rng")]
router = APIRouter()


def die_service_unavailable(where: str, reason: str) -> HTTPException:
    """A 503 for a die-service that failed us, logged inside the request's span first."""
    logger.warning(f"{where} {reason}", extra={"dependency": "die-service"})
    return HTTPException(503, f"{where} {reason}; try again", headers={"Retry-After": "2"})


async def fetch_spec(client: httpx.AsyncClient, die: str) -> DieSpec:
    """The die's specification; 404 if the die-service has no such die, 503 if it failed us.

    `die` has matched DIE_NAME_PATTERN, so it is one safe path segment. The call is a client
    span, a child of the request's, and carries the trace on to the die-service.
    """
    where = f"the die-service at {client.base_url}"
    try:
        response = await client.get(f"/dice/{die}")
    except httpx.TimeoutException:
        raise die_service_unavailable(where, "did not answer in time") from None
    except httpx.HTTPError as exc:
        raise die_service_unavailable(where, f"is not answering ({type(exc).__name__})") from None
    if response.status_code == 404:
        raise HTTPException(404, f"unknown die {die!r}: the die-service has no such die")
    if response.status_code != 200:
        raise die_service_unavailable(where, f"answered {response.status_code}")
    try:
        return DieSpec.model_validate(response.json())
    except ValueError:  # not JSON, or not a die
        raise die_service_unavailable(where, "answered with something that is not a die") from None


@router.get("/roll", responses=error_responses(404, 500, 503))
async def roll(
    die_service: DieService, rng: Rng, meters: Meters, die: DieQuery = "fair"
) -> RollResult:
    spec = await fetch_spec(die_service, die)
    return await roll_die(die, spec, rng, meters)


async def roll_die(die: str, spec: DieSpec, rng: random.Random, meters: DiceMeters) -> RollResult:
    """One roll of the die as its specification says: slow and failing as often as it says."""
    if rng.random() < spec.slow_rate:
        delay = rng.uniform(*spec.delay_range_seconds)
        logger.warning(f"the {die} die is slow this time", extra={"delay": delay})
        await asyncio.sleep(delay)
    if rng.random() < spec.failure_rate:
        meters.failures.labels(die).inc()
        logger.error(f"the {die} die fell off the table (simulated failure)")
        raise HTTPException(500, f"the {die} die fell off the table (simulated failure)")
    value = rng.choices(spec.faces, weights=spec.weights)[0]
    meters.rolls.labels(die, str(value)).inc()
    log_usage("roll", die=die, value=value)
    return RollResult(die=die, value=value)


def create_app(
    settings: DiceRollerSettings | None = None,
    rng: random.Random | None = None,
    *,
    routes: APIRouter = router,
) -> FastAPI:
    """`routes`: a later stage's in place of GET /roll (stage 7's checks the die first)."""
    settings = settings or DiceRollerSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One client for the app's life: connections to the die-service are reused.
        async with httpx.AsyncClient(
            base_url=settings.die_service_url, timeout=settings.timeout_seconds
        ) as app.state.die_service:
            yield

    telemetry = setup_telemetry(SERVICE_NAME)
    # FastAPI traces every request itself: server span and operation spans.
    app = FastAPI(title="dice-roller", lifespan=lifespan, telemetry=telemetry.fastapi)
    instrument_app(app, telemetry.metrics)
    app.state.settings = settings
    app.state.tracer = telemetry.tracer  # for spans of the app's own, as stage 4's
    app.state.rng = rng or random.Random()
    app.state.meters = dice_meters(telemetry.metrics)
    app.include_router(routes)
    return app


def main() -> None:
    settings = load_settings(DiceRollerSettings, "stage3-dice-roller")
    serve(create_app(settings), settings.host, settings.port)
