"""The series Tempo's metrics-generator writes, named from the lab's own tempo.yaml.

Tempo is not packaged for Debian, so the names cannot be read off a running Tempo here. They are
derived instead from the settings that decide them, following Tempo v3.0.3's code at the tag:

- service graphs (modules/generator/processor/servicegraphs/servicegraphs.go, `onComplete`):
  `client`, `server`, `connection_type`, then each of `dimensions`, as `client_<dim>` and
  `server_<dim>` only when `enable_client_server_prefix` is true (default false: then `<dim>`);
- span metrics (spanmetrics/spanmetrics.go): the intrinsic `service`, `span_name`, `span_kind`,
  `status_code`, then each of `dimensions`;
- both sanitise a dimension into a label name by replacing what Prometheus does not allow in one
  (the dot of `service.namespace`) with `_`.

A changed tempo.yaml changes these names, and the dashboards and chapters that select them fail
the names check until they follow.
"""

import re

import yaml

from tests.support.paths import REPO

TEMPO_CONFIG = REPO / "compose/stack/tempo/tempo.yaml"


def label_name(attribute: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", attribute)


def generated_series() -> dict[str, set[str]]:
    """Metric name -> label names of what Tempo writes to Prometheus with the lab's config."""
    config = yaml.safe_load(TEMPO_CONFIG.read_text())
    generator = config["overrides"]["defaults"]["metrics_generator"]
    graphs = generator["processor"]["service_graphs"]
    if graphs.get("enable_client_server_prefix", False):
        graph_dims = {
            f"{side}_{label_name(dim)}"
            for dim in graphs["dimensions"]
            for side in ("client", "server")
        }
    else:
        graph_dims = {label_name(dim) for dim in graphs["dimensions"]}
    span_dims = {label_name(dim) for dim in generator["processor"]["span_metrics"]["dimensions"]}
    # metrics_generator.registry.external_labels go on every series the generator writes.
    external = set(config["metrics_generator"]["registry"].get("external_labels", {}))
    graph = {"client", "server", "connection_type", *graph_dims, *external}
    spans = {"service", "span_name", "span_kind", "status_code", *span_dims, *external}
    return {
        "traces_service_graph_request_total": graph,
        "traces_service_graph_request_failed_total": graph,
        "traces_service_graph_request_server_seconds_bucket": graph | {"le"},
        "traces_service_graph_request_client_seconds_bucket": graph | {"le"},
        "traces_spanmetrics_calls_total": spans,
        "traces_spanmetrics_latency_bucket": spans | {"le"},
    }
