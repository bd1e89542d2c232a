"""Stage 5's frontend: a form adds a die, which the die-service stores in PostgreSQL."""

from pathlib import Path

from lab_frontend.launcher import serve_page
from lab_frontend.runtime import Runtime, Unanswered, call, detail

from stage5.settings import FrontendSettings


class AddDieError(ValueError):
    """A die that could not be added; the message is for the page."""


def add_die(runtime: Runtime, name: str, faces: str, weights: str, failure_rate: float) -> str:
    """POST a new die to the die-service; the message for the page (raises AddDieError)."""
    try:
        spec: dict = {
            "name": name.strip(),
            "faces": [int(f) for f in faces.replace(",", " ").split()],
            "failure_rate": failure_rate,
        }
        if weights.strip():
            spec["weights"] = [float(w) for w in weights.replace(",", " ").split()]
    except ValueError:
        raise AddDieError("Faces are whole numbers and weights are numbers, e.g. 1, 2, 3") from None
    assert runtime.die_service is not None, "stage 5's settings name the die-service"
    tracer = runtime.telemetry.tracer
    with tracer.start_as_current_span("add die", attributes={"die": spec["name"]}):
        try:
            response = call(runtime.die_service, "die-service", "POST", "/dice", json=spec)
        except Unanswered as exc:
            raise AddDieError(str(exc)) from None
    if response.status_code == 201:
        # The die-service writes the add_die usage event, for the API's POSTs as for this form.
        return f"Added the die {spec['name']!r}."
    raise AddDieError(f"The die-service refused it ({response.status_code}): {detail(response)}")


def main() -> None:
    serve_page(Path(__file__).with_name("page.py"), FrontendSettings, "stage5-frontend")
