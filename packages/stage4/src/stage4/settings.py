"""Stage 4's settings: stage 3's on stage 4's ports, and a bound on concurrent fan-outs."""

from lab_dice.settings import Port, registered
from pydantic import Field
from stage3 import settings as stage3


class DiceRollerSettings(stage3.DiceRollerSettings):
    port: Port = registered("stage-4", "dice-roller")
    die_service_url: str = registered("stage-4", "die-service", "url")
    # /roll-async requests served at once; past it a 503 with Retry-After.
    max_concurrent_fanouts: int = Field(default=16, ge=1, le=10_000)


class FrontendSettings(stage3.FrontendSettings):
    port: Port = registered("stage-4", "frontend")
    metrics_port: Port = registered("stage-4", "frontend", "metrics_port")
    dice_roller_url: str = registered("stage-4", "dice-roller", "url")
    die_service_url: str = registered("stage-4", "die-service", "url")


class DieServiceSettings(stage3.DieServiceSettings):
    port: Port = registered("stage-4", "die-service")
