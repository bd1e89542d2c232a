"""What every stage's service settings have: where the service listens, read from the environment.

Each service's class names its environment prefix (DICE_ROLLER_, FRONTEND_, DIE_SERVICE_), its
stage and its service; its ports and the URLs of the stage's other services default to the lab's
registry (lab_stages' stages.toml, where every port is written once). `lab_telemetry.load_settings`
turns a bad value into one line.
"""

from typing import Annotated, Any, ClassVar

import lab_stages
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Port = Annotated[int, Field(ge=1, le=65535)]
Seconds = Annotated[float, Field(gt=0, le=60)]


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    # Whose ports are the defaults: this service of this stage in the registry.
    stage: ClassVar[str]
    service: ClassVar[str]

    # Loopback by default; a container sets <PREFIX>HOST=0.0.0.0.
    host: str = "127.0.0.1"
    port: Port

    @model_validator(mode="before")
    @classmethod
    def _registered_defaults(cls, values: Any) -> Any:
        """What the environment leaves out, from the registry: `port`, `metrics_port`, and the
        URL of each other service of the stage (`die_service_url` ...) that the class has."""
        app = lab_stages.app(cls.stage)
        own = app.service(cls.service)
        defaults = {"port": own.port, "metrics_port": own.metrics_port}
        for other in app.services:
            defaults[f"{other.name.replace('-', '_')}_url"] = other.url
        wanted = {k: v for k, v in defaults.items() if k in cls.model_fields and v is not None}
        return {**wanted, **values} if isinstance(values, dict) else values


class FrontendSettings(ServiceSettings):
    """A stage's Streamlit frontend (lab-frontend runs it); FRONTEND_* in the environment."""

    model_config = SettingsConfigDict(env_prefix="FRONTEND_")
    service = "frontend"

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
