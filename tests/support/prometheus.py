"""A real Prometheus (Debian's package) scraping the services under test, and the labels the
stack's Docker discovery would give their series."""

import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

import httpx
from lab_telemetry.testing import poll_until

from tests.support.ports import free_port
from tests.support.prerequisites import require_tool
from tests.support.processes import answers


def discovery_labels(project: str, service: str) -> dict[str, str]:
    """The labels the stack's Docker discovery gives a service's series (prometheus.yml)."""
    return {
        "compose_project": project,
        "compose_service": service,
        "service_name": service,
        "container_name": f"{project}-{service}",
    }


@dataclass
class Prometheus:
    base_url: str

    def query(self, promql: str) -> list[dict]:
        response = httpx.get(f"{self.base_url}/api/v1/query", params={"query": promql}, timeout=10)
        response.raise_for_status()
        return response.json()["data"]["result"]

    def wait_for(self, promql: str, timeout: float = 60) -> list[dict]:
        return poll_until(lambda: self.query(promql), timeout=timeout, what=f"data for {promql}")


def config(
    jobs: dict[str, list[str]] | None = None,
    labels: dict[str, dict[str, str]] | None = None,
    scrape_configs: str = "",
    top_level: str = "",
) -> str:
    """prometheus.yml scraping every second.

    jobs: {job: ["127.0.0.1:port", ...]}; labels: {job: {label: value}} added to that job's
    targets, e.g. the labels the stack's Docker discovery would give them. Or scrape_configs:
    the YAML list itself, indented as under `scrape_configs:`. top_level: more of the config
    (rule_files, alerting), as YAML at the top level.
    """
    labels = labels or {}
    scrape_configs += "".join(
        f"  - job_name: {job}\n    static_configs:\n      - targets: {targets!r}\n"
        f"        labels: {labels.get(job, {})!r}\n"
        for job, targets in (jobs or {}).items()
    )
    return (
        textwrap.dedent("""\
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            """)
        + top_level
        + "scrape_configs:\n"
        + scrape_configs
    )


def start(directory: Path, config_text: str) -> tuple[Prometheus, subprocess.Popen]:
    """Prometheus with `config_text`, its files in `directory`, once it says it is ready."""
    binary = require_tool("prometheus", "apt-get install prometheus")
    port = free_port()
    config_file = directory / f"prometheus-{port}.yml"
    config_file.write_text(config_text)
    with (directory / f"prometheus-{port}.log").open("wb") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config_file}",
                f"--storage.tsdb.path={directory / f'tsdb-{port}'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--enable-feature=exemplar-storage",
            ],
            stdout=log,
            stderr=log,
        )
    prometheus = Prometheus(f"http://127.0.0.1:{port}")
    try:
        poll_until(lambda: answers(prometheus.base_url + "/-/ready"), timeout=30, what="prometheus")
    except BaseException:
        stop(process)
        raise
    return prometheus, process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
