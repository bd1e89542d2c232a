"""Stage 7's dice-roller: stage 4's, whose GET /roll runs a fairness check of the die before
rolling it (fairness.py), in a worker thread whose CPU samples carry the request's span; and
GET and PUT /fairness-check, the switch that keeps the check's verdicts."""

import logging
import random
from typing import Annotated

import anyio
from fastapi import APIRouter, FastAPI
from lab_dice.deps import from_state
from lab_dice.errors import add_protocol_fixes, error_responses
from lab_telemetry import load_settings, log_usage, serve
from lab_telemetry.profiling import profiled
from stage1.dice_roller import Meters, RollResult
from stage3.dice_roller import DieQuery, DieService, Rng, fetch_spec, roll_die
from stage4 import dice_roller as stage4

from stage7.fairness import FairnessCheck, FairnessSwitch
from stage7.settings import DiceRollerSettings

logger = logging.getLogger(__name__)
Check = Annotated[FairnessCheck, from_state("fairness")]
router = APIRouter()


class CheckedRoll(RollResult):
    # The fairness check's verdict on the die (fairness.py).
    fair: bool


@router.get("/roll", responses=error_responses(404, 500, 503))
async def roll(
    die_service: DieService,
    rng: Rng,
    meters: Meters,
    check: Check,
    die: DieQuery = "fair",
) -> CheckedRoll:
    spec = await fetch_spec(die_service, die)
    # CPU work, so off the event loop: in a worker thread that carries this span's id while it
    # runs (profiled), so its samples in the profile are this request's. No span of its own.
    fair = await anyio.to_thread.run_sync(profiled(check.is_fair), spec)
    rolled = await roll_die(die, spec, rng, meters)
    return CheckedRoll(die=die, value=rolled.value, fair=fair)


@router.get("/fairness-check")
async def fairness_check(check: Check) -> FairnessCheck:
    return check


@router.put("/fairness-check", responses=error_responses(400))
async def set_fairness_check(check: Check, switch: FairnessSwitch) -> FairnessCheck:
    # From the next roll on; a WARNING, as stage 6's fault switches, to find in the logs later.
    check.cache = switch.cache
    logger.warning(
        f"fairness check: cache {'on' if switch.cache else 'off'}", extra={"cache": switch.cache}
    )
    log_usage("set_fairness_check", cache=switch.cache)
    return check


def create_app(
    settings: DiceRollerSettings | None = None, rng: random.Random | None = None
) -> FastAPI:
    settings = settings or DiceRollerSettings()
    # Stage 4's dice-roller with this module's routes in place of stage 3's GET /roll.
    app = stage4.create_app(settings, rng, routes=router)
    add_protocol_fixes(app)  # GET and PUT /fairness-check: a 405 names both methods
    app.state.fairness = FairnessCheck(rolls=settings.fairness_rolls)
    return app


def main() -> None:
    settings = load_settings(DiceRollerSettings, "stage7-dice-roller")
    serve(create_app(settings), settings.host, settings.port)
