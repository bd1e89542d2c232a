"""Stage 4's settings: stage 3's on stage 4's ports, and a bound on concurrent fan-outs."""

from lab_dice.settings import Port
from pydantic import Field
from stage3 import settings as stage3


class DiceRollerSettings(stage3.DiceRollerSettings):
    port: Port = 8401
    die_service_url: str = "http://127.0.0.1:8402"
    # /roll-async requests served at once; past it a 503 with Retry-After.
    max_concurrent_fanouts: int = Field(default=16, ge=1, le=10_000)


class FrontendSettings(stage3.FrontendSettings):
    port: Port = 8400
    metrics_port: Port = 8409
    dice_roller_url: str = "http://127.0.0.1:8401"
    die_service_url: str = "http://127.0.0.1:8402"


class DieServiceSettings(stage3.DieServiceSettings):
    port: Port = 8402
