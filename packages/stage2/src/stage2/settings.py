"""Stage settings, one class per service, from the environment."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DiceRollerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DICE_ROLLER_", extra="ignore")

    # Loopback by default; the container sets DICE_ROLLER_HOST=0.0.0.0.
    host: str = "127.0.0.1"
    port: int = Field(default=8201, ge=1, le=65535)
    # The risky die's simulated faults: how often it fails, how often it is slow, and how slow.
    risky_failure_rate: float = Field(default=0.1, ge=0, le=1)
    risky_slow_rate: float = Field(default=0.2, ge=0, le=1)
    risky_delay_seconds: float = Field(default=1.0, ge=0, le=30)


class FrontendSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FRONTEND_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8200, ge=1, le=65535)
    # Prometheus scrapes the page's metrics here (Streamlit's port serves only the page);
    # a port of each stage's own, so frontends of two stages can run side by side.
    metrics_port: int = Field(default=8209, ge=1, le=65535)
    dice_roller_url: str = "http://127.0.0.1:8201"
    # What the page shows a browser, where that differs (in compose the URLs above are names
    # only other containers resolve): by default the URLs above.
    dice_roller_public_url: str | None = None
    # Where the "open trace" link points: the Grafana a browser can reach.
    grafana_url: str = "http://127.0.0.1:3000"
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)
