"""Entry point: `dice-roller` runs the API with uvicorn."""

import sys

import uvicorn
from pydantic import ValidationError

from dice_roller.app import create_app
from dice_roller.settings import Settings


def main() -> None:
    try:
        settings = Settings()
    except ValidationError as exc:
        error = exc.errors()[0]
        sys.exit(f"dice-roller: invalid setting {error['loc'][0]}: {error['msg']}")
    app = create_app(settings)
    # log_config=None leaves logging to lab-telemetry, so uvicorn's lines are JSON too.
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None)
    telemetry = getattr(app.state, "telemetry", None)
    if telemetry is not None:
        telemetry.shutdown()
