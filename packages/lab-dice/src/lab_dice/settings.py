"""What every stage's service settings have: where the service listens, read from the environment.

Each service's class names its environment prefix (DICE_ROLLER_, FRONTEND_, DIE_SERVICE_) and
takes its ports from the lab's registry (lab_stages' stages.toml, where every port is written
once); `lab_telemetry.load_settings` turns a bad value into one line.
"""

from typing import Annotated, Any

import lab_stages
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

Port = Annotated[int, Field(ge=1, le=65535)]
Seconds = Annotated[float, Field(gt=0, le=60)]


def registered(stage: str, service: str, what: str = "port") -> Any:
    """A default read from the registry when the settings are made: the `port`, `metrics_port`
    or `url` of one service of one stage, e.g. `port: Port = registered("stage-2", "frontend")`."""
    return Field(default_factory=lambda: getattr(lab_stages.app(stage).service(service), what))


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    # Loopback by default; a container sets <PREFIX>HOST=0.0.0.0.
    host: str = "127.0.0.1"
    port: Port


class FrontendSettings(ServiceSettings):
    """A stage's Streamlit frontend (lab-frontend runs it); FRONTEND_* in the environment."""

    model_config = SettingsConfigDict(env_prefix="FRONTEND_")

    # Prometheus scrapes the page's metrics here (Streamlit's port serves only the page);
    # a port of each stage's own, so frontends of two stages can run side by side.
    metrics_port: Port
    dice_roller_url: str
    # What the page shows a browser, where that differs (in compose the URLs above are names
    # only other containers resolve): by default the URLs above.
    dice_roller_public_url: str | None = None
    # Where the "open trace" link points: the Grafana a browser can reach.
    grafana_url: str = "http://127.0.0.1:3000"
    timeout_seconds: Seconds = 5.0
