"""What a learner sees when a backend of the stack is missing: the services go on answering, and
the failed exports are said at most once per export interval, not once per request or retry.

The OpenTelemetry SDK exports a batch at most once per interval (OTEL_BSP_SCHEDULE_DELAY) and,
with nothing listening, retries it with backoff for up to the export timeout before one ERROR
line; lab-telemetry keeps the exporter's per-attempt WARNING lines out (logs.configure_logging).
"""

import json
import signal
import time

import httpx

from tests.support.ports import free_port
from tests.support.processes import Service

INTERVAL_MS = 5000  # OTEL_BSP_SCHEDULE_DELAY: the SDK's default, set so the outer one cannot leak
REQUESTS, SECONDS = 100, 15


def export_failure_lines(service: Service) -> list[str]:
    """Lines of the SDK's loggers (opentelemetry.*) and anything else that speaks of export."""
    lines = []
    for line in (service.stdout() + service.stderr()).splitlines():
        try:
            logger = json.loads(line).get("logger", "")
        except ValueError:
            logger = ""
        if logger.startswith("opentelemetry") or "export" in line.lower():
            lines.append(line)
    return lines


def test_without_a_collector_every_request_answers_and_export_failures_are_rare(
    start_stage6,
) -> None:
    started = time.monotonic()
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there: no Alloy, no Tempo
    die_service, roller = start_stage6(
        OTEL_EXPORTER_OTLP_ENDPOINT=nowhere, OTEL_BSP_SCHEDULE_DELAY=str(INTERVAL_MS)
    )
    roll, statuses = f"{roller.base_url}/roll?die=fair", []
    with httpx.Client(timeout=10) as client:
        begun = time.monotonic()
        for n in range(REQUESTS):
            statuses.append(client.get(roll).status_code)
            time.sleep(max(0.0, begun + (n + 1) * SECONDS / REQUESTS - time.monotonic()))
    assert statuses == [200] * REQUESTS

    # Stopped together, as compose stops them: the lines written while they flush count too.
    services = (die_service, roller)
    for service in services:
        service.process.send_signal(signal.SIGINT)
    for service in services:
        service.process.wait(timeout=60)
    ran = time.monotonic() - started
    bound = int(ran / (INTERVAL_MS / 1000)) + 1
    for service in services:
        lines = export_failure_lines(service)
        # At least one: the learner is told that export fails; at most one per interval.
        assert 1 <= len(lines) <= bound, (service.name, f"{ran:.0f} s", lines)
        assert "Traceback" not in service.stderr(), service.stderr()
