"""Stage 1's dice-roller: GET /roll?die=fair|risky, with its metrics, logs and traces."""

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Annotated, Literal, get_args

from fastapi import APIRouter, FastAPI, HTTPException
from lab_dice.deps import from_state
from lab_dice.errors import error_responses
from lab_telemetry import Metrics, instrument_app, load_settings, log_usage, serve, setup_telemetry
from prometheus_client import Counter
from pydantic import BaseModel

from stage1.settings import DiceRollerSettings

SERVICE_NAME = "dice-roller"
# Only these two: FastAPI answers any other value with its standard 422, naming both.
Die = Literal["fair", "risky"]
DICE = get_args(Die)
logger = logging.getLogger(__name__)


class RollResult(BaseModel):
    die: str
    value: int


@dataclass(frozen=True)
class DiceMeters:
    """The dice-roller's own metrics, beside the HTTP ones every service gets."""

    rolls: Counter
    failures: Counter


def dice_meters(metrics: Metrics) -> DiceMeters:
    return DiceMeters(
        rolls=metrics.counter("dice_rolls_total", "Rolls by die and value.", ("die", "value")),
        failures=metrics.counter("dice_roll_failures_total", "Failed rolls by die.", ("die",)),
    )


# What a route takes from the app, which create_app fills.
Settings = Annotated[DiceRollerSettings, from_state("settings")]
Rng = Annotated[random.Random, from_state("rng")]
Meters = Annotated[DiceMeters, from_state("meters")]
router = APIRouter()


@router.get("/roll", responses=error_responses(500))
async def roll(settings: Settings, rng: Rng, meters: Meters, die: Die = "fair") -> RollResult:
    if die == "risky":
        if rng.random() < settings.risky_slow_rate:
            delay = settings.risky_delay_seconds
            logger.warning("the risky die is slow this time", extra={"delay": delay})
            await asyncio.sleep(delay)
        if rng.random() < settings.risky_failure_rate:
            meters.failures.labels(die).inc()
            logger.error("the risky die fell off the table (simulated failure)")
            raise HTTPException(500, "the risky die fell off the table (simulated failure)")
    value = rng.randint(1, 6)
    meters.rolls.labels(die, str(value)).inc()
    log_usage("roll", die=die, value=value)
    return RollResult(die=die, value=value)


def create_app(
    settings: DiceRollerSettings | None = None, rng: random.Random | None = None
) -> FastAPI:
    telemetry = setup_telemetry(SERVICE_NAME)
    # FastAPI traces every request itself: server span and operation spans.
    app = FastAPI(title="dice-roller", telemetry=telemetry.fastapi)
    instrument_app(app, telemetry.metrics)
    app.state.settings = settings or DiceRollerSettings()
    app.state.rng = rng or random.Random()
    app.state.meters = dice_meters(telemetry.metrics)
    for die in DICE:
        app.state.meters.failures.labels(die)  # a series at 0 from the start, for rate() and alerts
    app.include_router(router)
    return app


def main(
    settings_class: type[DiceRollerSettings] = DiceRollerSettings,
    program: str = "stage1-dice-roller",
) -> None:
    settings = load_settings(settings_class, program)
    serve(create_app(settings), settings.host, settings.port)
