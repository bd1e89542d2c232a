"""tutorials/instrumenting.md: the by-hand example runs, and gives the spans the page says."""

import re
import runpy

from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from tests.support.paths import REPO

PAGE = REPO / "tutorials" / "instrumenting.md"


def test_the_by_hand_example_gives_a_server_span_and_its_child(tmp_path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.DOTALL)
    (code,) = [block for block in blocks if "def create_app" in block]
    module = tmp_path / "by_hand.py"
    module.write_text(code)
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    app = runpy.run_path(str(module))["create_app"](provider.get_tracer("test"))

    caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    response = TestClient(app).get("/roll", headers={"traceparent": caller})
    assert response.status_code == 200 and 1 <= response.json()["value"] <= 6

    child, server = spans.get_finished_spans()
    assert (server.name, server.kind) == ("GET /roll", SpanKind.SERVER)
    assert dict(server.attributes) == {
        "http.request.method": "GET",
        "url.path": "/roll",
        "http.route": "/roll",
        "http.response.status_code": 200,
    }
    assert format(server.context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"
    assert (child.name, child.parent.span_id) == ("roll die", server.context.span_id)
