"""The "Instrument your own service" example (docs/reference.md, linked from the README) runs as
written."""

import re
import runpy

from fastapi.testclient import TestClient

from tests.support.paths import REPO

PAGE = REPO / "docs" / "reference.md"


def test_the_example_serves_its_route_health_and_metrics(tmp_path) -> None:
    (code,) = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.DOTALL)
    module = tmp_path / "my_service.py"
    module.write_text(code)
    namespace = runpy.run_path(str(module))  # not as __main__: it must not start a server
    client = TestClient(namespace["create_app"]())
    assert client.post("/orders").json() == {"ok": True}
    assert client.get("/healthz").json() == {"status": "ok"}
    assert 'orders_total{kind="web"} 1.0' in client.get("/metrics").text
