"""Where each target lives by default, and how to start it when it is not running."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    name: str
    # The service traffic goes to (the dice-roller), and the die-service from stage 3 on.
    base_url: str
    health_path: str
    start_hint: str
    die_service_url: str | None = None


TARGETS = {
    "dice-roller": Target(
        "dice-roller", "http://127.0.0.1:8001", "/healthz", "uv run nox -s dice-roller"
    ),
    **{
        f"stage-{n}": Target(
            f"stage-{n}",
            f"http://127.0.0.1:8{n}0{0 if n == 1 else 1}",
            "/healthz",
            f"uv run nox -s stage-{n}",
            die_service_url=f"http://127.0.0.1:8{n}02" if n >= 3 else None,
        )
        for n in range(1, 7)
    },
}
# When no --target is given, the first of these that answers is driven.
DETECTION_ORDER = ("stage-6", "stage-5", "stage-4", "stage-3", "stage-2", "stage-1", "dice-roller")
