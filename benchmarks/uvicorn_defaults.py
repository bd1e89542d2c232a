"""The dice-roller without lab-telemetry, run the way `uvicorn` runs an app by default.

uvicorn's default logging writes a text access line per request; this is the baseline a user
who has not added any telemetry has. Port from DICE_ROLLER_PORT.
"""

import os

import uvicorn
from dice_roller.app import create_app
from dice_roller.settings import Settings


def main() -> None:
    app = create_app(Settings(telemetry=False))
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["DICE_ROLLER_PORT"]))


if __name__ == "__main__":
    main()
