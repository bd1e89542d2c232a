"""Stage 3's settings: the dice-roller now calls the die-service, and the page asks it too."""

from pathlib import Path

from lab_dice.dice import DICE_FILE
from lab_dice.settings import FrontendSettings as BaseFrontendSettings
from lab_dice.settings import Seconds, ServiceSettings
from pydantic_settings import SettingsConfigDict


class DiceRollerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DICE_ROLLER_")
    stage = "stage-3"
    service = "dice-roller"

    # Dice, and their faults, now come from the die-service.
    die_service_url: str
    timeout_seconds: Seconds = 5.0


class FrontendSettings(BaseFrontendSettings):
    stage = "stage-3"

    die_service_url: str
    die_service_public_url: str | None = None


class DieServiceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DIE_SERVICE_")
    stage = "stage-3"
    service = "die-service"

    dice_file: Path = DICE_FILE
