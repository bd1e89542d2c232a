"""`traffic-gen`: drive a running stage or demo app with simulated users."""

import argparse
import asyncio
import json
import os
import signal
import sys
from typing import NoReturn

from lab_telemetry import TelemetrySettings, setup_telemetry
from pydantic import AliasChoices, ValidationError
from rich.console import Console

from traffic_gen.display import Progress, summary_table
from traffic_gen.runner import Run, RunPlan, Unreachable
from traffic_gen.scenarios import scenario_for
from traffic_gen.settings import TrafficSettings
from traffic_gen.targets import detection_order, targets

PROGRAM = "traffic-gen"


class OneLineParser(argparse.ArgumentParser):
    """Bad options: one line on stderr and exit status 2, not the usage block."""

    def error(self, message: str) -> NoReturn:
        fail(message, status=2)


def fail(message: str, status: int = 1) -> NoReturn:
    print(f"{PROGRAM}: {message}", file=sys.stderr)
    sys.exit(status)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = OneLineParser(prog=PROGRAM, description=__doc__.strip("`").split("`")[-1].strip(": "))
    parser.add_argument("--users", type=int, help="simulated users (env NUM_USERS; default 10)")
    parser.add_argument(
        "--target", choices=sorted(targets()), help="default: the first one running"
    )
    parser.add_argument("--base-url", help="the target's dice-roller, instead of its usual URL")
    parser.add_argument("--die-service-url", help="stage 3+: the die-service's URL")
    parser.add_argument("--duration", type=float, help="seconds to run (default 60)")
    parser.add_argument("--max-requests-per-user", type=int, help="stop each user after N requests")
    parser.add_argument("--think-time", metavar="MIN-MAX", help="seconds between a user's requests")
    parser.add_argument("--seed", type=int, help="the same seed sends the same requests")
    parser.add_argument("--timeout", type=float, help="seconds before a request counts as failed")
    parser.add_argument("--json", action="store_true", help="print a JSON summary only")
    parser.add_argument(
        "--no-tracing",
        dest="tracing",
        action="store_false",
        default=None,
        help="do not trace traffic-gen's own requests",
    )
    return parser.parse_args(argv)


def load_settings(args: argparse.Namespace) -> TrafficSettings:
    given = {k: v for k, v in vars(args).items() if v is not None and k != "json"}
    try:
        return TrafficSettings(**given)
    except ValidationError as exc:
        error = exc.errors()[0]
        message = error["msg"].removeprefix("Value error, ")
        if not error["loc"]:
            fail(message, status=2)
        field = str(error["loc"][0])
        fail(f"{where_from(field, given)}: {message}", status=2)


def where_from(name: str, given: dict) -> str:
    """The flag, or the environment variable, that a setting's bad value came from.

    `name` is what pydantic's error names: the field, or for a value read through an alias
    (NUM_USERS and TRAFFIC_USERS both set `users`) the alias's first choice.
    """
    for field, info in TrafficSettings.model_fields.items():
        alias = info.validation_alias
        names = [str(n) for n in alias.choices] if isinstance(alias, AliasChoices) else []
        if name != field and name not in names:
            continue
        if field in given:
            return f"--{field.replace('_', '-')}"
        names = names or [f"TRAFFIC_{field.upper()}"]
        return next((n for n in names if n in os.environ), names[0])
    return name


async def detect_target() -> str:
    """The first target whose health endpoint answers, newest stage first."""
    import aiohttp

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.5)) as session:
        for name in detection_order():
            target = targets()[name]
            try:
                async with session.get(target.base_url + target.health_path) as response:
                    if response.status == 200:
                        return name
            except (aiohttp.ClientError, TimeoutError):
                continue
    hints = "; ".join(f"`{targets()[n].start_hint}`" for n in ("stage-1", "dice-roller"))
    fail(f"no target is running: start one ({hints}, ...) or pass --target/--base-url")


async def main_async(settings: TrafficSettings, as_json: bool) -> int:
    name = settings.target or ("dice-roller" if settings.base_url else await detect_target())
    target = targets()[name]
    base_url = settings.base_url or target.base_url
    die_service_url = settings.die_service_url or target.die_service_url
    scenario = scenario_for(name, base_url, die_service_url)

    telemetry = None
    if settings.tracing and TelemetrySettings().export_enabled:
        telemetry = setup_telemetry(PROGRAM, log_level="WARNING", log_fd=2)
    plan = RunPlan(
        users=settings.users,
        think_range=settings.think_range,
        duration=settings.duration,
        max_requests_per_user=settings.max_requests_per_user,
        seed=settings.seed,
        timeout=settings.timeout,
    )
    run = Run(plan, scenario, telemetry.tracer if telemetry else None)
    console = Console(stderr=True)
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)  # type: ignore[union-attr]

    progress = Progress(run, console) if console.is_terminal and not as_json else None
    interrupted = False
    try:
        await run.execute(
            base_url + target.health_path,
            target.start_hint,
            on_start=progress.__enter__ if progress else lambda: None,
        )
    except Unreachable as exc:
        fail(str(exc))
    except asyncio.CancelledError:
        interrupted = True
    finally:
        if progress:
            progress.__exit__()
        if telemetry:
            telemetry.shutdown()

    summary = {"target": name, "base_url": base_url, **run.stats.summary(run.elapsed)}
    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        title = f"traffic-gen → {name} ({base_url}), {settings.users} users"
        Console().print(summary_table(summary, title + (", interrupted" if interrupted else "")))
    if summary["requests"] and summary["errors"] == summary["requests"]:
        print(f"{PROGRAM}: every request failed", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    settings = load_settings(args)
    sys.exit(asyncio.run(main_async(settings, args.json)))
