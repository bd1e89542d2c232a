"""Stage 6's settings: stage 5's on stage 6's ports."""

from lab_dice.settings import Port
from stage5 import settings as stage5


class DiceRollerSettings(stage5.DiceRollerSettings):
    port: Port = 8601
    die_service_url: str = "http://127.0.0.1:8602"


class FrontendSettings(stage5.FrontendSettings):
    port: Port = 8600
    metrics_port: Port = 8609
    dice_roller_url: str = "http://127.0.0.1:8601"
    die_service_url: str = "http://127.0.0.1:8602"


class DieServiceSettings(stage5.DieServiceSettings):
    port: Port = 8602
