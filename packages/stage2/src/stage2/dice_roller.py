"""Stage 2's dice-roller: GET /roll?die=fair|risky."""

import asyncio
import logging
import random
from typing import Literal, get_args

from fastapi import FastAPI, HTTPException
from lab_telemetry import instrument_app, load_settings, log_usage, serve, setup_telemetry
from pydantic import BaseModel

from stage2.errors import error_responses
from stage2.settings import DiceRollerSettings

SERVICE_NAME = "dice-roller"
# Only these two: FastAPI answers any other value with its standard 422, naming both.
Die = Literal["fair", "risky"]
DICE = get_args(Die)
logger = logging.getLogger(__name__)


class RollResult(BaseModel):
    die: str
    value: int


def create_app(
    settings: DiceRollerSettings | None = None, rng: random.Random | None = None
) -> FastAPI:
    settings = settings or DiceRollerSettings()
    rng = rng or random.Random()
    telemetry = setup_telemetry(SERVICE_NAME)
    # FastAPI traces every request itself: server span and operation spans.
    app = FastAPI(title="dice-roller", telemetry=telemetry.fastapi)
    instrument_app(app, telemetry.metrics)
    rolls = telemetry.metrics.counter(
        "dice_rolls_total", "Rolls by die and value.", ("die", "value")
    )
    failures = telemetry.metrics.counter(
        "dice_roll_failures_total", "Failed rolls by die.", ("die",)
    )
    for die in DICE:
        failures.labels(die)  # a series at 0 from the start, so rate() and alerts see it

    @app.get("/roll", responses=error_responses(500))
    async def roll(die: Die = "fair") -> RollResult:
        if die == "risky":
            if rng.random() < settings.risky_slow_rate:
                logger.warning(
                    "the risky die is slow this time", extra={"delay": settings.risky_delay_seconds}
                )
                await asyncio.sleep(settings.risky_delay_seconds)
            if rng.random() < settings.risky_failure_rate:
                failures.labels(die).inc()
                logger.error("the risky die fell off the table (simulated failure)")
                raise HTTPException(500, "the risky die fell off the table (simulated failure)")
        value = rng.randint(1, 6)
        rolls.labels(die, str(value)).inc()
        log_usage("roll", die=die, value=value)
        return RollResult(die=die, value=value)

    return app


def main() -> None:
    settings = load_settings(DiceRollerSettings, "stage2-dice-roller")
    serve(create_app(settings), settings.host, settings.port)
