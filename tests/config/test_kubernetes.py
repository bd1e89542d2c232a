"""The Helm chart (deploy/kubernetes/lab): each stage's release and the stack's rendered by helm,
every object valid against Kubernetes' schemas (a PrometheusRule against its CRD's), and the same
services as the compose files run, hardened the same way, with the stack's dashboards,
datasources and SLO rules for the upstream charts.

The values files are generated (`nox -s k8s-values`); these tests hold them to what the generator
derives, and the rendered manifests to the compose files and the registry directly, so the two ways
of running a stage cannot drift apart. Helm: .tools/helm (python3 tools/fetch_helm.py), or on PATH.
"""

import functools
import json
import os
import re
from pathlib import Path

import pytest
import yaml

from tests.config import test_slo_rules
from tests.config.repo_files import REPO, load_yaml, memory_bytes, services
from tests.support.prerequisites import require
from tools import k8s_render, k8s_values
from tools.k8s_values import Release, lab_stages

RELEASES = k8s_values.releases()
STACK = REPO / "compose" / "stack"
COMPOSE_REQUIRED = re.compile(r"\$\{([A-Z][A-Z0-9_]*):\?[^}]*\}")
WORKLOADS = {"Deployment", "StatefulSet"}


def helm_binary() -> str:
    path = k8s_render.helm_path()
    require(path is not None, "helm not found (python3 tools/fetch_helm.py)")
    return path  # type: ignore[return-value]


@functools.cache
def rendered(name: str, *extra: str) -> list[dict]:
    return k8s_render.objects(
        k8s_render.template(k8s_values.release(name), *extra, helm_binary=helm_binary())
    )


def find(objects: list[dict], kinds: set[str], name: str) -> dict:
    found = [o for o in objects if o["kind"] in kinds and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{name}: {len(found)} of {kinds}"
    return found[0]


def compose_of(release: Release) -> dict[str, dict]:
    found = services(REPO / "compose" / release.compose / "compose.yaml")
    return {name: s for name, s in found.items() if not release.only or name in release.only}


def cases() -> list[tuple[str, str]]:
    return [(r.name, name) for r in RELEASES for name in compose_of(r)]


def kube_name(name: str, compose: dict) -> str:
    return compose.get("container_name", name)


def image_user() -> tuple[int, int]:
    uid, gid = re.search(r"^USER (\d+):(\d+)$", (REPO / "Dockerfile").read_text(), re.M).groups()  # type: ignore[union-attr]
    return int(uid), int(gid)


# Generated files: as the generator makes them now.


@pytest.mark.parametrize("release", RELEASES, ids=lambda r: r.name)
def test_each_values_file_is_as_generated(release: Release) -> None:
    path = release.values_file
    assert path.read_text() == k8s_values.render(release), f"{path.name}: run `nox -s k8s-values`"


def test_one_values_file_per_stage_and_one_for_the_stack() -> None:
    found = sorted(p.name for p in k8s_values.CHART.glob("values-*.yaml"))
    stages = [f"values-stage-{app.stage}.yaml" for app in lab_stages.stages()]
    assert found == sorted([*stages, "values-stack.yaml"])


def test_the_chart_files_are_the_compose_files_own() -> None:
    sources = k8s_values.chart_files()
    assert sources["stage5-init.sql"] == REPO / "compose" / "stage5" / "postgres" / "init.sql"
    assert sources["stack-init.sql"] == STACK / "postgres" / "init.sql"
    generated = k8s_values.DATASOURCES_KEY
    assert sorted(p.name for p in k8s_values.FILES.iterdir()) == sorted([*sources, generated])
    assert (k8s_values.FILES / generated).read_text() == k8s_values.cluster_datasources()
    for name, source in sources.items():
        assert (k8s_values.FILES / name).read_bytes() == source.read_bytes(), (
            f"files/{name} differs from {source.relative_to(REPO)}: run `nox -s k8s-values`"
        )


# Helm: lint, render, validate.


@pytest.mark.parametrize("release", RELEASES, ids=lambda r: r.name)
def test_helm_lints_each_release(release: Release) -> None:
    k8s_render.lint(release, helm_binary=helm_binary())


@pytest.mark.parametrize("release", RELEASES, ids=lambda r: r.name)
def test_every_rendered_object_is_valid_kubernetes(release: Release) -> None:
    manifest = k8s_render.template(release, helm_binary=helm_binary())
    assert k8s_render.objects(manifest)
    assert k8s_render.invalid(manifest) == []


def test_the_validation_rejects_what_kubernetes_would() -> None:
    bad = "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{port: x}]}\n"
    unknown = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nunknownField: 1\n"
    assert k8s_render.invalid(bad)
    assert k8s_render.invalid(unknown)  # strict: a field Kubernetes does not know


@pytest.mark.parametrize(
    "rule",
    [
        "{record: x}",  # expr is required
        "{alert: x, expr: up, for: 5 minutes}",  # not a Prometheus duration
        "{alert: x, expr: up, severity: page}",  # a field the CRD lacks (labels: it belongs in)
    ],
)
def test_the_validation_holds_a_prometheusrule_to_its_crd(rule: str) -> None:
    head = "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: x}\n"
    good = head + "spec: {groups: [{name: g, rules: [{alert: x, expr: up, for: 5m}]}]}\n"
    assert k8s_render.invalid(good) == []
    assert k8s_render.invalid(head + f"spec: {{groups: [{{name: g, rules: [{rule}]}}]}}\n")


# The rendered release against the compose file and the registry.


@pytest.mark.parametrize(("stage", "service"), cases())
def test_each_compose_service_runs_as_compose_runs_it(stage: str, service: str) -> None:
    release = k8s_values.release(stage)
    compose = compose_of(release)[service]
    objects = rendered(stage)
    name = kube_name(service, compose)
    workload = find(objects, WORKLOADS, name)
    pod = workload["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    project = load_yaml(REPO / "compose" / release.compose / "compose.yaml")["name"]
    # What becomes compose_project and compose_service (Prometheus and Alloy relabel them).
    assert pod["metadata"]["labels"]["app.kubernetes.io/part-of"] == project
    assert pod["metadata"]["labels"]["app.kubernetes.io/component"] == service
    assert pod["metadata"]["labels"]["app.kubernetes.io/name"] == name

    assert container["image"] == compose["image"]
    assert container.get("args") == compose.get("command")
    # Opt-in to scraping and log collection: the compose labels as pod annotations.
    labels = {k: str(v) for k, v in compose.get("labels", {}).items() if k.startswith("lab.")}
    assert pod["metadata"].get("annotations", {}) == labels
    # Memory: compose's limit, requested and capped.
    limit = memory_bytes(compose["mem_limit"])
    assert memory_bytes(container["resources"]["limits"]["memory"]) == limit
    assert memory_bytes(container["resources"]["requests"]["memory"]) == limit

    # The environment: compose's, a required variable read from the stage's Secret.
    secret_refs = {
        e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e
    }
    plain = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    expected = {
        key: COMPOSE_REQUIRED.sub(r"$(\1)", str(value))
        for key, value in compose.get("environment", {}).items()
    }
    # A variable that is wholly the Secret's key of its own name is that key.
    assert plain == {k: v for k, v in expected.items() if v != f"$({k})"}
    needed = {v for value in expected.values() for v in re.findall(r"\$\(([A-Z0-9_]+)\)", value)}
    assert set(secret_refs) == needed
    names = [e["name"] for e in container["env"]]
    assert len(names) == len(set(names))
    for variable, ref in secret_refs.items():
        assert ref == {"name": f"lab-{stage}", "key": variable}
    for variable in needed:  # defined before any value that uses it
        users = [n for n in names if f"$({variable})" in plain.get(n, "")]
        assert all(names.index(variable) < names.index(user) for user in users)

    # Ports: the registry's (or what compose publishes), served under the container's name.
    registered = release.app.find(service) if release.app else None
    ports = {p["containerPort"] for p in container["ports"]}
    service_object = find(objects, {"Service"}, name)
    assert {p["port"] for p in service_object["spec"]["ports"]} == ports
    if registered:
        assert registered.container_port in ports
        assert registered.container == name
    for published in compose.get("ports", []):
        assert int(str(published).rsplit(":", 1)[1]) in ports
    if "lab.metrics.port" in labels:
        assert int(labels["lab.metrics.port"]) in ports


@pytest.mark.parametrize(("stage", "service"), cases())
def test_each_workload_is_hardened_as_in_compose(stage: str, service: str) -> None:
    compose = compose_of(k8s_values.release(stage))[service]
    workload = find(rendered(stage), WORKLOADS, kube_name(service, compose))
    spec = workload["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    pod_security, security = spec["securityContext"], container["securityContext"]

    # Non-root: the Dockerfile's USER for the lab's images, compose's `user:` for the others.
    if "build" in compose:
        uid, gid = image_user()
    elif str(compose["user"]) == "postgres":
        uid, gid = 999, 999  # the official postgres image's postgres user
    else:
        uid, gid = map(int, str(compose["user"]).split(":"))
    assert pod_security["runAsNonRoot"] is True
    assert (pod_security["runAsUser"], pod_security["runAsGroup"]) == (uid, gid)
    assert uid != 0
    # no-new-privileges, cap_drop ALL, read_only.
    assert "no-new-privileges:true" in compose["security_opt"]
    assert security["allowPrivilegeEscalation"] is False
    assert compose["cap_drop"] == ["ALL"]
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["readOnlyRootFilesystem"] is compose["read_only"]
    assert spec["automountServiceAccountToken"] is False
    # Each tmpfs: an emptyDir in memory at the same path.
    volumes = {v["name"]: v for v in spec["volumes"]}
    memory_dirs = {
        m["mountPath"]
        for m in container["volumeMounts"]
        if volumes.get(m["name"], {}).get("emptyDir") == {"medium": "Memory"}
    }
    assert memory_dirs == set(compose.get("tmpfs", []))


@pytest.mark.parametrize(("stage", "service"), cases())
def test_each_healthcheck_is_a_readiness_and_liveness_probe(stage: str, service: str) -> None:
    compose = compose_of(k8s_values.release(stage))[service]
    workload = find(rendered(stage), WORKLOADS, kube_name(service, compose))
    (container,) = workload["spec"]["template"]["spec"]["containers"]
    check = " ".join(compose["healthcheck"]["test"])
    url = re.search(r"http://127\.0\.0\.1:(\d+)(/[^'\"\s]*)", check)
    for kind in ("readinessProbe", "livenessProbe"):
        probe = container[kind]
        if url:
            assert probe["httpGet"] == {"path": url[2], "port": int(url[1])}
        else:
            assert probe["exec"]["command"] == compose["healthcheck"]["test"][1:]
        assert probe["failureThreshold"] == compose["healthcheck"]["retries"]


@pytest.mark.parametrize("release", RELEASES, ids=lambda r: r.name)
def test_each_release_has_exactly_the_compose_services(release: Release) -> None:
    objects = rendered(release.name)
    workloads = {o["metadata"]["name"] for o in objects if o["kind"] in WORKLOADS}
    assert workloads == {kube_name(n, s) for n, s in compose_of(release).items()}
    assert not [o for o in objects if o["kind"] == "Secret"], "the user creates the Secret"


@pytest.mark.parametrize("stage", ["stage-5", "stage-6", "stage-7"])
def test_postgres_is_a_statefulset_with_stage5s_init_script(stage: str) -> None:
    release = k8s_values.release(stage)
    objects = rendered(stage)
    name = release.app.service("postgres").container  # type: ignore[union-attr]
    postgres = find(objects, {"StatefulSet"}, name)
    init = REPO / "compose" / "stage5" / "postgres" / "init.sql"
    assert_postgres(release, postgres, objects, {"init.sql": init})


def test_the_stacks_postgres_runs_both_its_init_scripts() -> None:
    release = k8s_values.release("stack")
    objects = rendered("stack")
    postgres = find(objects, {"StatefulSet"}, "postgres")
    scripts = {name: STACK / "postgres" / name for name in ("init.sql", "reader.sh")}
    assert_postgres(release, postgres, objects, scripts)


def assert_postgres(release: Release, postgres: dict, objects: list, scripts: dict) -> None:
    """Compose's image and init scripts, its data in the StatefulSet's claim."""
    name = postgres["metadata"]["name"]
    (container,) = postgres["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "postgres:17.11-bookworm"
    assert postgres["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    config = find(objects, {"ConfigMap"}, f"{name}-files")
    assert sorted(config["data"].values()) == sorted(p.read_text() for p in scripts.values())
    mounted = {
        m["mountPath"]: config["data"][m["subPath"]]
        for m in container["volumeMounts"]
        if m.get("subPath")
    }
    initdb = "/docker-entrypoint-initdb.d"
    assert mounted == {f"{initdb}/{n}": p.read_text() for n, p in scripts.items()}
    # Executable as compose mounts it (the image runs an executable script, sources the others).
    (volume,) = [v for v in postgres["spec"]["template"]["spec"]["volumes"] if v["name"] == "files"]
    modes = {
        i["key"]: i.get("mode", volume["configMap"]["defaultMode"])
        for i in volume["configMap"]["items"]
    }
    for key, text in config["data"].items():
        (source,) = [p for p in scripts.values() if p.read_text() == text]
        assert modes[key] == (0o555 if os.access(source, os.X_OK) else 0o444), key
    # PGDATA (compose's volume) inside the claim, made there by postgres, not the claim's root.
    data = next(m for m in container["volumeMounts"] if m["name"] == "data")
    compose_data = next(
        v.split(":")[1] for v in compose_of(release)["postgres"]["volumes"] if not v.startswith(".")
    )
    assert Path(compose_data).parent == Path(data["mountPath"])


def test_an_image_registry_prefixes_only_the_labs_own_images() -> None:
    objects = rendered("stage-7", "--set", "image.registry=registry.example:5000/")
    images = {
        c["image"]
        for o in objects
        if o["kind"] in WORKLOADS
        for c in o["spec"]["template"]["spec"]["containers"]
    }
    compose = {s["image"] for s in compose_of(k8s_values.release("stage-7")).values()}
    ours = {i for i in compose if i.startswith("observability-lab/")}
    assert images == {f"registry.example:5000/{i}" for i in ours} | (compose - ours)


def test_the_chart_names_no_password() -> None:
    for path in k8s_values.CHART.rglob("*.yaml"):
        # A value is read from the environment ($VAR, Grafana's provisioning), never written.
        assert not re.search(r"(?i)password\s*:\s*[^\s$]", path.read_text()), path
    assert load_yaml(k8s_values.CHART / "values.yaml")["image"]["registry"] == ""


# The stack release: what the upstream charts load.


def test_every_dashboard_is_a_configmap_grafanas_sidecar_loads() -> None:
    objects = rendered("stack")
    loaded = {
        name: json.loads(text)
        for o in objects
        if o["kind"] == "ConfigMap" and o["metadata"]["labels"].get("grafana_dashboard") == "1"
        for name, text in o["data"].items()
    }
    dashboards = STACK / "grafana" / "dashboards"
    assert loaded == {p.name: json.loads(p.read_text()) for p in dashboards.glob("*.json")}


def test_the_datasources_are_composes_with_the_clusters_service_names() -> None:
    (config,) = [
        o
        for o in rendered("stack")
        if o["kind"] == "ConfigMap" and o["metadata"]["labels"].get("grafana_datasource") == "1"
    ]
    cluster = yaml.safe_load(config["data"]["datasources.yaml"])["datasources"]
    compose = load_yaml(STACK / "grafana" / "provisioning" / "datasources" / "datasources.yaml")
    moved = {f"http://{a}": f"http://{b}" for a, b in k8s_values.CLUSTER_HOSTS.items()}
    expected = [{**d, "url": moved.get(d["url"], d["url"])} for d in compose["datasources"]]
    assert cluster == expected
    assert {d["uid"] for d in cluster} >= {"prometheus", "loki", "tempo", "pyroscope"}
    # Every other name is a Service the stack's releases create under that name.
    assert "http://kps-prometheus:9090" in {d["url"] for d in cluster}


def test_the_slo_rules_are_a_prometheusrule_with_the_compose_rules() -> None:
    (rule,) = [o for o in rendered("stack") if o["kind"] == "PrometheusRule"]
    assert rule["spec"] == load_yaml(STACK / "prometheus" / "rules" / "slo.rules.yml")
    alerts = [r for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]
    assert alerts, "the burn-rate alerts"


def test_the_prometheusrule_passes_promtool_and_pages_on_a_fast_burn(tmp_path: Path) -> None:
    """The rendered PrometheusRule's groups as a rules file: promtool checks them, and a burn
    just above the page's rate pages (the other burns: test_slo_rules.py, on the same rules)."""
    (rule,) = [o for o in rendered("stack") if o["kind"] == "PrometheusRule"]
    rules = tmp_path / "prometheusrule.yml"
    rules.write_text(yaml.safe_dump(rule["spec"], sort_keys=False))
    test_slo_rules.assert_promtool_accepts(rules)
    name, bad_ratio = test_slo_rules.burn_cases()[0]  # the first SLO, 2% above the page's rate
    slo = test_slo_rules.slos()[name]
    expected = test_slo_rules.expected_alerts(slo, bad_ratio)
    assert "page" in [a["exp_labels"]["severity"] for a in expected]
    test_slo_rules.run_promtool_test(
        tmp_path,
        test_slo_rules.input_series(slo, bad_ratio),
        rules=rules,
        alert_rule_test=[
            {
                "eval_time": "7h",
                "alertname": f"SLO{name.capitalize()}ErrorBudgetBurn",
                "exp_alerts": expected,
            }
        ],
    )
