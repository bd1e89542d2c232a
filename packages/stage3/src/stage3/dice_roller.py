"""Stage 3's dice-roller: GET /roll?die=NAME, with the die's specification from the die-service."""

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, HTTPException
from lab_telemetry import instrument_app, load_settings, log_usage, serve
from pydantic import BaseModel

from stage3.dice_spec import DieSpec
from stage3.settings import DiceRollerSettings

SERVICE_NAME = "dice-roller"
logger = logging.getLogger(__name__)


class RollResult(BaseModel):
    die: str
    value: int


async def fetch_spec(client: httpx.AsyncClient, die: str) -> DieSpec:
    """The die's specification; 422 if the die-service has no such die, 503 if it is down."""
    where = f"the die-service at {client.base_url}"
    try:
        response = await client.get(f"/dice/{die}")
    except httpx.TimeoutException:
        raise HTTPException(503, f"{where} did not answer in time; try again") from None
    except httpx.HTTPError:
        raise HTTPException(503, f"{where} is not answering; try again when it is up") from None
    if response.status_code == 404:
        raise HTTPException(422, f"unknown die {die[:40]!r}: the die-service has no such die")
    if response.status_code != 200:
        raise HTTPException(503, f"{where} answered {response.status_code}; try again")
    return DieSpec.model_validate(response.json())


def create_app(
    settings: DiceRollerSettings | None = None, rng: random.Random | None = None
) -> FastAPI:
    settings = settings or DiceRollerSettings()
    rng = rng or random.Random()
    client: httpx.AsyncClient | None = None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        nonlocal client
        # One client for the app's life: connections to the die-service are reused.
        client = httpx.AsyncClient(
            base_url=settings.die_service_url, timeout=settings.timeout_seconds
        )
        async with client:
            yield

    app = FastAPI(title="dice-roller", lifespan=lifespan)
    telemetry = instrument_app(app, SERVICE_NAME)
    rolls = telemetry.metrics.counter(
        "dice_rolls_total", "Rolls by die and value.", ("die", "value")
    )
    failures = telemetry.metrics.counter(
        "dice_roll_failures_total", "Failed rolls by die.", ("die",)
    )

    @app.get("/roll")
    async def roll(die: str = "fair") -> RollResult:
        assert client is not None, "the lifespan opens the client"
        spec = await fetch_spec(client, die)
        if rng.random() < spec.slow_rate:
            delay = rng.uniform(*spec.delay_range_seconds)
            logger.warning(f"the {die} die is slow this time", extra={"delay": delay})
            await asyncio.sleep(delay)
        if rng.random() < spec.failure_rate:
            failures.labels(die).inc()
            logger.error(f"the {die} die fell off the table (simulated failure)")
            raise HTTPException(500, f"the {die} die fell off the table (simulated failure)")
        value = rng.choices(spec.faces, weights=spec.weights)[0]
        rolls.labels(die, str(value)).inc()
        log_usage("roll", die=die, value=value)
        return RollResult(die=die, value=value)

    return app


def main() -> None:
    settings = load_settings(DiceRollerSettings, "stage3-dice-roller")
    serve(create_app(settings), settings.host, settings.port)
