"""dice-roller settings, from DICE_ROLLER_* environment variables."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DICE_ROLLER_", extra="ignore")

    # Loopback by default; the container sets DICE_ROLLER_HOST=0.0.0.0.
    host: str = "127.0.0.1"
    port: int = Field(default=8001, ge=1, le=65535)
    # Off only for the benchmark's "bare" baseline.
    telemetry: bool = True
