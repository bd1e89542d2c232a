"""Stage 3's die-service: serves die specifications from a JSON file."""

import sys
from typing import Annotated

from fastapi import APIRouter, FastAPI, HTTPException
from lab_dice.deps import from_state
from lab_dice.dice import DiceFileError, DieSpec, load_dice
from lab_dice.errors import error_responses
from lab_telemetry import instrument_app, load_settings, serve, setup_telemetry
from pydantic import BaseModel

from stage3.settings import DieServiceSettings

SERVICE_NAME = "die-service"
Dice = Annotated[dict[str, DieSpec], from_state("dice")]
router = APIRouter()


class DiceList(BaseModel):
    dice: list[DieSpec]


@router.get("/dice")
async def list_dice(dice: Dice) -> DiceList:
    return DiceList(dice=list(dice.values()))


@router.get("/dice/{name}", responses=error_responses(404))
async def get_die(dice: Dice, name: str) -> DieSpec:
    if name not in dice:
        raise HTTPException(404, f"no die named {name[:40]!r}")
    return dice[name]


def create_app(dice: dict[str, DieSpec]) -> FastAPI:
    telemetry = setup_telemetry(SERVICE_NAME)
    # FastAPI traces every request itself: server span and operation spans.
    app = FastAPI(title="die-service", telemetry=telemetry.fastapi)
    instrument_app(app, telemetry.metrics)
    app.state.dice = dice
    app.include_router(router)
    return app


def main(
    settings_class: type[DieServiceSettings] = DieServiceSettings,
    program: str = "stage3-die-service",
) -> None:
    settings = load_settings(settings_class, program)
    try:
        dice = load_dice(settings.dice_file)
    except DiceFileError as exc:
        print(f"{program}: {exc}", file=sys.stderr)
        sys.exit(2)
    serve(create_app(dice), settings.host, settings.port)
