"""The dice-roller API: GET /roll/{dice}. The zero-code example: nothing in it traces.

Started as `opentelemetry-instrument dice-roller` (opentelemetry-distro), the FastAPI
instrumentation gives each request its server span, configured by OTEL_* variables alone.
FastAPI's own tracing then steps aside, having found that instrumentation's middleware
(fastapi/telemetry/_asgi.py, `_legacy_otel`), so a request has exactly one server span. Metrics
come from prometheus-fastapi-instrumentator (lab-telemetry adds the trace_id exemplar through its
`add()`), and log lines are JSON with the ids of whatever span is current.
"""

import functools
import random
from collections.abc import Callable

from fastapi import FastAPI, Path
from fastapi.exceptions import RequestValidationError
from fastapi.telemetry import TelemetryConfig
from lab_telemetry import Metrics, TelemetrySettings, configure_logging, instrument_app, log_usage
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


def _recorder(metrics: Metrics) -> Callable[[Roll], None]:
    rolls = metrics.counter(
        "dice_rolls_total", "Rolls (one per request) by number of sides.", ("sides",)
    )
    dice = metrics.counter(
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


def create_app(
    settings: Settings | None = None,
    rng: random.Random | None = None,
    telemetry: TelemetryConfig | None = None,
) -> FastAPI:
    """The app; `telemetry` is FastAPI's own tracing configuration, given only by the benchmark's
    variants that compare it with the zero-code launcher."""
    settings = settings or Settings()
    rng = rng or random.Random()
    app = FastAPI(
        title="dice-roller",
        summary="Rolls dice expressions like 3d6 or 2d20+3.",
        telemetry=telemetry,
    )
    if settings.telemetry:
        configure_logging(TelemetrySettings().service_name or SERVICE_NAME)
        metrics = Metrics()
        instrument_app(app, metrics)  # HTTP metrics with exemplars, /metrics, /healthz
        record = _recorder(metrics)
    else:  # the benchmark's bare baseline
        record = lambda _result: None  # noqa: E731

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
