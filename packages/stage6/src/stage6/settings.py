"""Stage 6's settings: stage 5's on stage 6's ports."""

from lab_dice.settings import Port, registered
from stage5 import settings as stage5


class DiceRollerSettings(stage5.DiceRollerSettings):
    port: Port = registered("stage-6", "dice-roller")
    die_service_url: str = registered("stage-6", "die-service", "url")


class FrontendSettings(stage5.FrontendSettings):
    port: Port = registered("stage-6", "frontend")
    metrics_port: Port = registered("stage-6", "frontend", "metrics_port")
    dice_roller_url: str = registered("stage-6", "dice-roller", "url")
    die_service_url: str = registered("stage-6", "die-service", "url")


class DieServiceSettings(stage5.DieServiceSettings):
    port: Port = registered("stage-6", "die-service")
