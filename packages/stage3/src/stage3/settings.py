"""Stage 3's settings: the dice-roller now calls the die-service, and the page asks it too."""

from pathlib import Path

from lab_dice.dice import DICE_FILE
from lab_dice.settings import FrontendSettings as BaseFrontendSettings
from lab_dice.settings import Port, Seconds, ServiceSettings
from pydantic_settings import SettingsConfigDict


class DiceRollerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DICE_ROLLER_")

    port: Port = 8301
    # Dice, and their faults, now come from the die-service.
    die_service_url: str = "http://127.0.0.1:8302"
    timeout_seconds: Seconds = 5.0


class FrontendSettings(BaseFrontendSettings):
    port: Port = 8300
    metrics_port: Port = 8309
    dice_roller_url: str = "http://127.0.0.1:8301"
    die_service_url: str = "http://127.0.0.1:8302"
    die_service_public_url: str | None = None


class DieServiceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DIE_SERVICE_")

    port: Port = 8302
    dice_file: Path = DICE_FILE
