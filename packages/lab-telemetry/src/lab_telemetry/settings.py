"""Telemetry settings, read from the standard OpenTelemetry and Pyroscope environment variables.

The SDK reads most OTEL_* variables itself; these are the few lab-telemetry decides on (whether
an endpoint is set at all, the service name fallback, the log level), and the Pyroscope agent's
(lab_telemetry.profiling), named as Grafana's agents name them.
"""

from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, field_validator
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
    # Unset or empty: no profiler at all. The lab's compose sets Alloy's pyroscope.receive_http.
    pyroscope_server_address: str | None = Field(
        default=None, validation_alias="PYROSCOPE_SERVER_ADDRESS"
    )
    # Samples per second per thread; 100 is pyroscope-io's default (pyroscope.configure).
    pyroscope_sample_rate: int = Field(
        default=100, ge=1, le=1000, validation_alias="PYROSCOPE_SAMPLE_RATE"
    )
    # Seconds between uploads; 10 is pyroscope-io's default (pyroscope.configure). The agent waits
    # up to 10 s for an upload and queues at most 10: below 10 s, a backend that accepts but does
    # not answer lets samples pile up in memory (tests use 1-2 s against a stand-in that answers).
    pyroscope_upload_interval: int = Field(
        default=10, ge=1, le=300, validation_alias="PYROSCOPE_UPLOAD_INTERVAL"
    )

    @field_validator("pyroscope_server_address")
    @classmethod
    def _server_address(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        url = urlsplit(value.strip())
        if url.scheme not in ("http", "https") or not url.hostname or url.port == 0:
            raise ValueError("must be an http:// or https:// URL, e.g. http://alloy:9999")
        return value.strip()

    @property
    def export_enabled(self) -> bool:
        return bool(self.otlp_traces_endpoint or self.otlp_endpoint)

    @property
    def profiling_enabled(self) -> bool:
        return self.pyroscope_server_address is not None
