"""A tiny FastAPI service for tests/integration/test_profiling.py, run as a real process
(`python tests/support/profiled_app.py`, port in PROFILED_APP_PORT): lab-telemetry's setup as
the lab's services have it, and endpoints that burn CPU in functions the test looks for in the
profiles, each the way lab_telemetry.profiling says (or, for /inline, the way it warns about).

- /alpha, `async def`: planted_alpha in a worker thread, `anyio.to_thread.run_sync(profiled(...))`
- /beta, `def` (FastAPI runs it in a worker thread): planted_beta under `@profiled`
- /inline, `async def`: planted_inline on the event loop itself, no helper
"""

import os
import time

import anyio
from fastapi import FastAPI
from lab_telemetry import instrument_app, serve, setup_telemetry
from lab_telemetry.profiling import profiled


# Each planted function spends its CPU in its own frame (the loop is inlined, not a call to
# _burn, so the planted name is the leaf of most samples).
def planted_alpha(seconds: float) -> int:
    deadline = time.thread_time() + seconds
    total = 0
    while time.thread_time() < deadline:
        for i in range(2000):
            total += i * i
    return total


def planted_beta(seconds: float) -> int:
    deadline = time.thread_time() + seconds
    total = 0
    while time.thread_time() < deadline:
        for i in range(2000):
            total += i * i
    return total


def planted_inline(seconds: float) -> int:
    deadline = time.thread_time() + seconds
    total = 0
    while time.thread_time() < deadline:
        for i in range(2000):
            total += i * i
    return total


def create_app() -> FastAPI:
    telemetry = setup_telemetry("profiled-app")
    app = FastAPI(title="profiled-app", telemetry=telemetry.fastapi)
    instrument_app(app, telemetry.metrics)

    @app.get("/alpha")
    async def alpha(seconds: float = 0.5) -> dict:
        await anyio.to_thread.run_sync(profiled(planted_alpha), seconds)
        return {"burned": seconds}

    @app.get("/beta")
    @profiled
    def beta(seconds: float = 0.5) -> dict:
        planted_beta(seconds)
        return {"burned": seconds}

    @app.get("/inline")
    async def inline(seconds: float = 0.2) -> dict:
        planted_inline(seconds)
        return {"burned": seconds}

    return app


if __name__ == "__main__":
    serve(create_app(), "127.0.0.1", int(os.environ["PROFILED_APP_PORT"]))
