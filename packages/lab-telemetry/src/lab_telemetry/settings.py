"""Telemetry settings, read from the standard OpenTelemetry environment variables.

The SDK reads most OTEL_* variables itself; these are the few lab-telemetry decides on (whether
an endpoint is set at all, the service name fallback, the log level).
"""

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TelemetrySettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    service_name: str | None = Field(default=None, validation_alias="OTEL_SERVICE_NAME")
    # Either variable turns export on; the per-signal one wins, as in the OTel SDK.
    otlp_traces_endpoint: str | None = Field(
        default=None, validation_alias="OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    )
    otlp_endpoint: str | None = Field(default=None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("LOG_LEVEL", "log_level"))

    @property
    def export_enabled(self) -> bool:
        return bool(self.otlp_traces_endpoint or self.otlp_endpoint)
