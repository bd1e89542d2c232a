"""The dice-roller API: GET /roll/{dice}."""

import functools
import random
from collections.abc import Callable

from fastapi import FastAPI, Path
from fastapi.exceptions import RequestValidationError
from lab_telemetry import instrument_app, log_usage
from pydantic import BaseModel

from dice_roller.dice import PATTERN, DiceError, Roll, parse, roll
from dice_roller.settings import Settings

SERVICE_NAME = "dice-roller"


class RollResult(BaseModel):
    expression: str
    count: int
    sides: int
    modifier: int
    rolls: list[int]
    total: int


def _telemetry_recorder(app: FastAPI) -> Callable[[Roll], None]:
    telemetry = instrument_app(app, SERVICE_NAME)
    rolls = telemetry.metrics.counter(
        "dice_rolls_total", "Rolls (one per request) by number of sides.", ("sides",)
    )
    dice = telemetry.metrics.counter(
        "dice_thrown_total", "Individual dice thrown, by number of sides.", ("sides",)
    )

    # Both counters' children for a number of sides, kept: labels() validates and locks on every
    # call, and sides is bounded (2-1000).
    @functools.cache
    def counters(sides: int):
        return rolls.labels(str(sides)), dice.labels(str(sides))

    def record(result: Roll) -> None:
        rolled, thrown = counters(result.expression.sides)
        rolled.inc()
        thrown.inc(result.expression.count)
        log_usage(
            "roll",
            expression=str(result.expression),
            sides=result.expression.sides,
            count=result.expression.count,
            total=result.total,
        )

    return record


def create_app(settings: Settings | None = None, rng: random.Random | None = None) -> FastAPI:
    settings = settings or Settings()
    rng = rng or random.Random()
    app = FastAPI(title="dice-roller", summary="Rolls dice expressions like 3d6 or 2d20+3.")
    record = _telemetry_recorder(app) if settings.telemetry else (lambda _result: None)

    @app.get("/roll/{dice}")
    async def roll_dice(
        dice: str = Path(
            description="NdM, NdM+K or NdM-K, e.g. 3d6 or 2d20+3",
            json_schema_extra={"pattern": PATTERN},
        ),
    ) -> RollResult:
        try:
            expression = parse(dice)
        except DiceError as exc:
            # FastAPI's standard 422 body, with the parser's message: what a valid one is.
            error = {"type": "value_error", "loc": ("path", "dice"), "msg": str(exc), "input": dice}
            raise RequestValidationError([error]) from None
        result = roll(expression, rng)
        record(result)
        return RollResult(
            expression=str(expression),
            count=expression.count,
            sides=expression.sides,
            modifier=expression.modifier,
            rolls=result.rolls,
            total=result.total,
        )

    return app
