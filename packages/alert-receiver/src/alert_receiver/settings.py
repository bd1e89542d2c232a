"""alert-receiver settings, from ALERT_RECEIVER_* environment variables."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ReceiverSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ALERT_RECEIVER_", extra="ignore")

    # Loopback by default; the container sets ALERT_RECEIVER_HOST=0.0.0.0 (no host port: only
    # Alertmanager, on the compose network, calls it).
    host: str = "127.0.0.1"
    port: int = Field(default=8011, ge=1, le=65535)
