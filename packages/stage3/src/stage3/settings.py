"""Stage settings, one class per service, from the environment."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DiceRollerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DICE_ROLLER_", extra="ignore")

    # Loopback by default; the container sets DICE_ROLLER_HOST=0.0.0.0.
    host: str = "127.0.0.1"
    port: int = Field(default=8301, ge=1, le=65535)
    # Dice, and their faults, now come from the die-service.
    die_service_url: str = "http://127.0.0.1:8302"
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)


class FrontendSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FRONTEND_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8300, ge=1, le=65535)
    # Prometheus scrapes the page's metrics here (Streamlit's port serves only the page);
    # a port of each stage's own, so frontends of two stages can run side by side.
    metrics_port: int = Field(default=8309, ge=1, le=65535)
    dice_roller_url: str = "http://127.0.0.1:8301"
    die_service_url: str = "http://127.0.0.1:8302"
    # What the page shows a browser, where that differs (in compose the URLs above are names
    # only other containers resolve): by default the URLs above.
    dice_roller_public_url: str | None = None
    die_service_public_url: str | None = None
    # Where the "open trace" link points: the Grafana a browser can reach.
    grafana_url: str = "http://127.0.0.1:3000"
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)


class DieServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIE_SERVICE_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8302, ge=1, le=65535)
    dice_file: Path = Path(__file__).with_name("dice.json")
