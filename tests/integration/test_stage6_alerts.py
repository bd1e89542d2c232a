"""Stage 6 end to end on real parts: a fault switched on (failures, or delays past the latency
threshold) makes that SLO's fast-burn alert reach the alert-receiver through a real Prometheus
and a real Alertmanager; switched off, it resolves.

The rules are the stack's, generated from slos.yaml with every window 60 times shorter (1h -> 60s,
5m -> 5s), so the incident takes seconds instead of the workbook's minutes; Alertmanager runs the
stack's config with only the receiver's address and its waits changed.
"""

import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from lab_telemetry.testing import poll_until

from tests.support.paths import REPO
from tests.support.ports import free_port
from tests.support.prerequisites import require
from tests.support.processes import answers
from tests.support.traffic import background_traffic
from tools.slo_rules import render

SLOS = REPO / "compose/stack/prometheus/slos.yaml"
ALERTMANAGER_CONFIG = REPO / "compose/stack/alertmanager/alertmanager.yml"
WINDOWS_SCALE = 1 / 60
# What the stack's Docker discovery gives the stage's dice-roller (compose project, service).
SERVICE = {"compose_project": "stage-6", "service_name": "dice-roller"}
# Per SLO, the fault that breaks it for the fair die (most of the traffic) and the switch back.
FAULTS = {
    "availability": ({"failure_rate": 1.0}, {"failure_rate": 0}),
    # Past the 0.5 s latency threshold of slos.yaml.
    "latency": ({"slow_rate": 1.0, "delay_range_seconds": [0.6, 0.6]}, {"slow_rate": 0}),
}


def alertmanager_binary() -> str:
    # Debian names it prometheus-alertmanager, Nix and the upstream tarball alertmanager.
    found = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    require(found is not None, "Alertmanager not found (apt-get install prometheus-alertmanager)")
    return found  # type: ignore[return-value]


@pytest.fixture
def start_alertmanager(tmp_path: Path) -> Iterator:
    processes: list[subprocess.Popen] = []

    def start(receiver_url: str) -> str:
        config = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())
        (webhook,) = config["receivers"][0]["webhook_configs"]
        webhook["url"] = f"{receiver_url}/alerts"
        config["route"].update(group_wait="1s", group_interval="2s")
        path = tmp_path / "alertmanager.yml"
        path.write_text(yaml.safe_dump(config))
        port = free_port()
        log = (tmp_path / "alertmanager.log").open("wb")
        processes.append(
            subprocess.Popen(
                [
                    alertmanager_binary(),
                    f"--config.file={path}",
                    f"--storage.path={tmp_path / 'alertmanager-data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--cluster.listen-address=",
                ],
                stdout=log,
                stderr=log,
            )
        )
        url = f"http://127.0.0.1:{port}"

        poll_until(lambda: answers(f"{url}/-/ready"), timeout=30, what="alertmanager ready")
        return url

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=15)


@pytest.mark.parametrize("slo", sorted(FAULTS))
def test_a_fault_fires_the_fast_burn_page_at_the_receiver_and_ending_it_resolves_it(
    slo, start_service, start_stage6, start_prometheus, start_alertmanager, tmp_path
) -> None:
    page = {"alertname": f"SLO{slo.capitalize()}ErrorBudgetBurn", "severity": "page"}
    fault_on, fault_off = FAULTS[slo]
    die_service, roller = start_stage6()
    receiver_port = free_port()
    receiver = start_service(
        "alert-receiver", {"ALERT_RECEIVER_PORT": str(receiver_port)}, receiver_port
    )
    alertmanager = start_alertmanager(receiver.base_url)
    rules = tmp_path / "slo.rules.yml"
    rules.write_text(render(SLOS, windows_scale=WINDOWS_SCALE))
    prometheus = start_prometheus(
        jobs={"stage-6": [roller.base_url.removeprefix("http://")]},
        labels={"stage-6": SERVICE},
        top_level=(
            f"rule_files: [{str(rules)!r}]\n"
            "alerting:\n  alertmanagers:\n"
            f"    - static_configs: [{{targets: [{alertmanager.removeprefix('http://')!r}]}}]\n"
        ),
    )

    stop = threading.Event()
    traffic = threading.Thread(
        target=background_traffic, args=([f"{roller.base_url}/roll?die=fair"], stop), daemon=True
    )
    traffic.start()
    try:
        # At rest: the SLI is recorded, nothing burns, nothing fires.
        sli = f'slo:sli_error:ratio_rate1h{{slo="{slo}",service_name="dice-roller"}}'
        (at_rest,) = prometheus.wait_for(sli)
        assert float(at_rest["value"][1]) == 0
        assert at_rest["metric"]["compose_project"] == "stage-6"

        # The incident: the fair die, most of the traffic, now always fails (or is slow).
        faults = f"{die_service.base_url}/dice/fair/faults"
        assert httpx.patch(faults, json=fault_on).status_code == 200
        firing = receiver.wait_for_log(timeout=120, alert_status="firing", **page)
        assert firing["level"] == "WARNING"
        assert {k: firing["labels"][k] for k in SERVICE} == SERVICE
        assert firing["labels"]["slo"] == slo
        assert firing["message"] == (
            f"firing: {page['alertname']}: dice-roller (stage-6) burns its "
            f"{slo} error budget 14.4x too fast"
        )
        left = prometheus.wait_for(f'slo:period_error_budget_remaining:ratio{{slo="{slo}"}}')
        assert float(left[0]["value"][1]) < 1  # the budget was spent

        # Ended: the short window clears, the page resolves and the receiver is told.
        assert httpx.patch(faults, json=fault_off).status_code == 200
        resolved = receiver.wait_for_log(timeout=120, alert_status="resolved", **page)
        assert resolved["level"] == "INFO"
        assert {k: resolved["labels"][k] for k in SERVICE} == SERVICE
    finally:
        stop.set()
        traffic.join(timeout=10)
    assert roller.process.poll() is None and receiver.process.poll() is None
