"""Stage 4's die-service: serves die specifications from a JSON file."""

import sys

from fastapi import FastAPI, HTTPException
from lab_telemetry import instrument_app, load_settings, serve, setup_telemetry
from pydantic import BaseModel

from stage4.dice_spec import DiceFileError, DieSpec, load_dice
from stage4.errors import error_responses
from stage4.settings import DieServiceSettings

SERVICE_NAME = "die-service"


class DiceList(BaseModel):
    dice: list[DieSpec]


def create_app(dice: dict[str, DieSpec]) -> FastAPI:
    telemetry = setup_telemetry(SERVICE_NAME)
    # FastAPI traces every request itself: server span and operation spans.
    app = FastAPI(title="die-service", telemetry=telemetry.fastapi)
    instrument_app(app, telemetry.metrics)

    @app.get("/dice")
    async def list_dice() -> DiceList:
        return DiceList(dice=list(dice.values()))

    @app.get("/dice/{name}", responses=error_responses(404))
    async def get_die(name: str) -> DieSpec:
        if name not in dice:
            raise HTTPException(404, f"no die named {name[:40]!r}")
        return dice[name]

    return app


def main() -> None:
    settings = load_settings(DieServiceSettings, "stage4-die-service")
    try:
        dice = load_dice(settings.dice_file)
    except DiceFileError as exc:
        print(f"stage4-die-service: {exc}", file=sys.stderr)
        sys.exit(2)
    serve(create_app(dice), settings.host, settings.port)
