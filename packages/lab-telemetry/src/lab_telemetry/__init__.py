"""Observability Lab telemetry: one call wires JSON logs, traces, metrics and usage events."""

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
