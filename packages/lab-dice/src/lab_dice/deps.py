"""Route dependencies from the app's state, so routes are plain functions of what they use.

create_app puts a service's settings, clients and meters on `app.state`; a route names what it
needs as a parameter, e.g. `rng: Annotated[random.Random, from_state("rng")]` (the pattern of
FastAPI's full-stack template, whose routes take their session and settings from deps.py).
"""

from typing import Any

from fastapi import Depends, Request


def from_state(name: str) -> Any:
    def get(request: Request) -> Any:
        return getattr(request.app.state, name)

    get.__name__ = f"state_{name}"
    return Depends(get)
