"""A real Prometheus scrapes a real dice-roller process."""

import httpx

from tests.support.ports import free_port


def test_prometheus_scrapes_the_dice_roller(start_service, start_prometheus) -> None:
    port = free_port()
    service = start_service(
        "dice-roller", {"DICE_ROLLER_PORT": str(port), "OTEL_EXPORTER_OTLP_ENDPOINT": ""}, port
    )
    for dice in ("3d6", "1d20", "2d6+1"):
        assert httpx.get(f"{service.base_url}/roll/{dice}", timeout=5).status_code == 200
    prometheus = start_prometheus({"dice-roller": [f"127.0.0.1:{port}"]})

    (up,) = prometheus.wait_for('up{job="dice-roller"} == 1')
    assert up["value"][1] == "1"
    rolls = prometheus.wait_for('dice_rolls_total{job="dice-roller"}')
    assert {r["metric"]["sides"]: r["value"][1] for r in rolls} == {"6": "2", "20": "1"}
