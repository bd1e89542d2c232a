"""The dice-roller with FastAPI's own tracing instead of the zero-code launcher, for the benchmark.

What every tutorial stage does: setup_telemetry (providers from OTEL_*, JSON logs), then
FastAPI(telemetry=...). BENCH_OPERATION_SPANS=false turns the operation spans off;
DICE_ROLLER_TELEMETRY=false leaves out the HTTP metrics and the JSON log lines (traces only).
Port from DICE_ROLLER_PORT.
"""

import os

from dice_roller.app import create_app
from dice_roller.settings import Settings
from lab_telemetry import serve, setup_telemetry


def main() -> None:
    telemetry = setup_telemetry("dice-roller")
    operation_spans = os.environ.get("BENCH_OPERATION_SPANS", "true") == "true"
    config = {**telemetry.fastapi, "operation_spans": operation_spans}
    settings = Settings()
    serve(create_app(settings, telemetry=config), "127.0.0.1", settings.port)


if __name__ == "__main__":
    main()
