"""Stage 4's frontend: "Roll N times" asks for N dice at once, rolled concurrently by the
dice-roller; the click's span is stage 2's, with how many dice."""

from pathlib import Path

from lab_frontend.launcher import serve_page
from lab_frontend.runtime import Outcome, Runtime, get_json
from stage2.frontend import roll

from stage4.settings import FrontendSettings


def roll_many(runtime: Runtime, die: str, times: int) -> Outcome:
    def ask(runtime: Runtime, die: str) -> Outcome:
        body = get_json(runtime.dice_roller, "dice-roller", "/roll-async", die=die, times=times)
        distribution = {int(face): count for face, count in body["distribution"].items()}
        return Outcome(die, value=body["sum"], times=times, distribution=distribution)

    return roll(runtime, die, ask, times=times)


def main() -> None:
    serve_page(Path(__file__).with_name("page.py"), FrontendSettings, "stage4-frontend")
