"""Observability Lab telemetry: only what no maintained library does for the lab's services.

Traces come from FastAPI itself (or the OpenTelemetry launcher), spans from the OpenTelemetry
SDK and its OTLP exporter, HTTP metrics from prometheus-fastapi-instrumentator. This package
holds the glue around them: providers from the environment with JSON log lines carrying trace
ids (setup, tracing, logs), the instrumentator wired with exemplars and an OpenMetrics
`/metrics` (metrics, setup), usage events (logs), `serve` with a clean stop and one-line
settings errors (serve), and links into the lab's Grafana (grafana).
"""

from lab_telemetry.grafana import explore_url
from lab_telemetry.logs import JsonFormatter, configure_logging, log_usage
from lab_telemetry.metrics import Metrics, trace_exemplar
from lab_telemetry.serve import load_settings, serve
from lab_telemetry.settings import TelemetrySettings
from lab_telemetry.setup import Telemetry, instrument_app, setup_telemetry

__all__ = [
    "JsonFormatter",
    "Metrics",
    "Telemetry",
    "TelemetrySettings",
    "configure_logging",
    "explore_url",
    "instrument_app",
    "load_settings",
    "log_usage",
    "serve",
    "setup_telemetry",
    "trace_exemplar",
]
