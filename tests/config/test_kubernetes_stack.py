"""The observability stack on a cluster (deploy/kubernetes/): Alloy's config for Kubernetes, the
upstream charts' values and the facts table they are checked against (deploy/kubernetes/CHARTS.md),
held to the compose stack so the two paths keep the same promises: opt-in by the same `lab.*`
names, the same label names on every series and log line, the same pipeline after discovery.
"""

import re

from tests.config.repo_files import ALLOY_CONFIG, REPO, docker_label_names

K8S = REPO / "deploy" / "kubernetes"
K8S_ALLOY = K8S / "alloy" / "config.alloy"
BLOCK = re.compile(r'^([a-z_.]+) "([a-z_]+)" \{\n.*?^\}\n', re.MULTILINE | re.DOTALL)
# Compose finds containers and reads their logs through Docker; a cluster through its API.
DISCOVERY = {
    ("discovery.docker", "containers"): ("discovery.kubernetes", "pods"),
    ("loki.source.docker", "containers"): ("loki.source.kubernetes", "pods"),
}


def blocks(text: str) -> dict[tuple[str, str], str]:
    return {(m[1], m[2]): m[0] for m in BLOCK.finditer(text)}


def pod_annotation_names(text: str) -> set[str]:
    """Pod annotations a Prometheus or Alloy config reads (Kubernetes turns dots into _)."""
    found = re.findall(r"__meta_kubernetes_pod_annotation_(lab_[a-z_]+)", text)
    return {name.replace("_", ".") for name in found}


def target_labels(text: str) -> set[str]:
    return set(re.findall(r'target_label\s*=\s*"(\w+)"', text))


def test_alloy_on_a_cluster_runs_the_compose_pipeline_after_discovery() -> None:
    compose, cluster = blocks(ALLOY_CONFIG.read_text()), blocks(K8S_ALLOY.read_text())
    assert len(compose) >= 9
    assert set(cluster) == {DISCOVERY.get(key, key) for key in compose}
    for key, text in compose.items():
        if key not in DISCOVERY and key != ("discovery.relabel", "opted_in"):
            assert cluster[key] == text, f"{key}: differs from compose's"


def test_alloy_on_a_cluster_opts_in_by_the_same_name_and_sets_the_same_labels() -> None:
    compose, cluster = ALLOY_CONFIG.read_text(), K8S_ALLOY.read_text()
    assert pod_annotation_names(cluster) == docker_label_names(compose) == {"lab.logs"}
    assert target_labels(cluster) == target_labels(compose)
    keep = re.search(r'source_labels = \["([^"]+)"\]\s+regex\s+= "true"\s+action\s+= "keep"', cluster)
    assert keep and keep[1] == "__meta_kubernetes_pod_annotation_lab_logs"
    # Tailed through the API: the relabelled targets, read by loki.source.kubernetes.
    assert "targets    = discovery.relabel.opted_in.output" in cluster
