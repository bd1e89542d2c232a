"""Stage 5's settings: stage 4's on stage 5's ports; the die-service's dice are in PostgreSQL."""

from lab_dice.settings import Port, Seconds, registered
from pydantic import Field
from stage4 import settings as stage4


class DiceRollerSettings(stage4.DiceRollerSettings):
    port: Port = registered("stage-5", "dice-roller")
    die_service_url: str = registered("stage-5", "die-service", "url")


class FrontendSettings(stage4.FrontendSettings):
    port: Port = registered("stage-5", "frontend")
    metrics_port: Port = registered("stage-5", "frontend", "metrics_port")
    dice_roller_url: str = registered("stage-5", "dice-roller", "url")
    die_service_url: str = registered("stage-5", "die-service", "url")


class DieServiceSettings(stage4.DieServiceSettings):
    port: Port = registered("stage-5", "die-service")
    # postgresql://USER:PASSWORD@HOST:PORT/DATABASE; no default: credentials come from outside.
    database_url: str
    # dice_file now seeds an empty database.
    database_timeout_seconds: Seconds = 3.0
    # POST /dice answers 409 once this many dice are stored.
    max_dice: int = Field(default=200, ge=1, le=100_000)
