"""The stack's Docker discovery rules in a real Prometheus, against a stand-in Docker engine.

A user's service that joins a network of its own as well as observability-lab must be scraped at
its observability-lab address. Prometheus >= 2.54 lists only a container's first network (sorted by
name) unless `match_first_network: false`, which the stack's config sets (test_stack_configs holds
it). Debian's Prometheus 2.42 predates that field and lists every network, which is what the field
gives 3.x: this test runs the stack's relabel rules on exactly that list, with the field removed.
"""

import httpx
import yaml
from lab_telemetry.testing import poll_until

from tests.config.repo_files import PROMETHEUS_CONFIG, load_yaml
from tests.support.fake_docker_engine import Container, FakeDockerEngine


def docker_job_for_prometheus_242(socket_path) -> str:
    """The stack's docker job, pointed at `socket_path`, without the field 2.42 cannot read."""
    (job,) = [j for j in load_yaml(PROMETHEUS_CONFIG)["scrape_configs"] if "docker_sd_configs" in j]
    (sd,) = job["docker_sd_configs"]
    assert sd.pop("match_first_network") is False
    sd.update(host=f"unix://{socket_path}", refresh_interval="1s")
    job["scrape_interval"] = "1s"
    text = yaml.safe_dump([job], sort_keys=False)
    return "".join(f"  {line}\n" for line in text.splitlines())


def test_a_container_on_two_networks_is_scraped_on_the_lab_network(
    start_prometheus, tmp_path
) -> None:
    socket_path = tmp_path / "docker.sock"
    containers = [
        # "aaa-shop" sorts before "observability-lab": the case match_first_network hides.
        Container(
            name="shop-api-1",
            labels={
                "lab.metrics.port": "0",  # Prometheus's own port, set once it has one
                "com.docker.compose.project": "shop",
                "com.docker.compose.service": "api",
            },
            networks={"aaa-shop": "127.0.0.2", "observability-lab": "127.0.0.1"},
        ),
        # Not opted in: never a target.
        Container(
            name="shop-db-1",
            labels={"com.docker.compose.project": "shop", "com.docker.compose.service": "db"},
            networks={"observability-lab": "127.0.0.3"},
        ),
    ]
    with FakeDockerEngine(socket_path, containers):
        prometheus = start_prometheus(scrape_configs=docker_job_for_prometheus_242(socket_path))
        port = prometheus.base_url.rsplit(":", 1)[1]
        containers[0].labels["lab.metrics.port"] = port  # something real to scrape

        def up_series() -> list[dict]:
            return prometheus.query('up{job="api"} == 1')

        (series,) = poll_until(up_series, timeout=60, what="the two-network container scraped")
        labels = series["metric"]
        assert labels["instance"] == "shop-api-1"
        assert labels["compose_project"] == "shop"
        assert labels["service_name"] == "api"
        assert labels["container_name"] == "shop-api-1"

        targets = httpx.get(f"{prometheus.base_url}/api/v1/targets", timeout=10).json()["data"]
        scraped = {t["scrapeUrl"] for t in targets["activeTargets"]}
        assert scraped == {f"http://127.0.0.1:{port}/metrics"}
        # Discovery listed the other network too; the relabel rules dropped it, and the db.
        dropped = {t["discoveredLabels"]["__address__"] for t in targets["droppedTargets"]}
        assert any(address.startswith("127.0.0.2:") for address in dropped), dropped
        assert any(address.startswith("127.0.0.3:") for address in dropped), dropped
