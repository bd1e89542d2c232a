"""The Helm chart (deploy/kubernetes/lab): each stage's release rendered by helm, every object valid
against Kubernetes' schemas, and the same services as the compose files run, hardened the same way.

The values files are generated (`nox -s k8s-values`); these tests hold them to what the generator
derives, and the rendered manifests to the compose files and the registry directly, so the two ways
of running a stage cannot drift apart. Helm: on PATH or .tools/helm (python3 tools/fetch_helm.py).
"""

import functools
import re
from pathlib import Path

import pytest

from tests.config.repo_files import REPO, load_yaml, services
from tests.support.prerequisites import require
from tools import k8s_render, k8s_values
from tools.k8s_values import lab_stages

STAGES = lab_stages.stages()
COMPOSE_REQUIRED = re.compile(r"\$\{([A-Z][A-Z0-9_]*):\?[^}]*\}")
UNITS = {"k": 2**10, "m": 2**20, "g": 2**30, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
WORKLOADS = {"Deployment", "StatefulSet"}


def helm_binary() -> str:
    path = k8s_render.helm_path()
    require(path is not None, "helm not found (python3 tools/fetch_helm.py)")
    return path  # type: ignore[return-value]


@functools.cache
def rendered(stage: str, *extra: str) -> list[dict]:
    return k8s_render.objects(
        k8s_render.template(lab_stages.app(stage), *extra, helm_binary=helm_binary())
    )


def find(objects: list[dict], kinds: set[str], name: str) -> dict:
    found = [o for o in objects if o["kind"] in kinds and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{name}: {len(found)} of {kinds}"
    return found[0]


def compose_of(app: lab_stages.App) -> dict[str, dict]:
    return services(REPO / "compose" / app.compose / "compose.yaml")


def cases() -> list[tuple[str, str]]:
    return [(app.name, name) for app in STAGES for name in compose_of(app)]


def quantity(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([A-Za-z]*)", str(value)).groups()  # type: ignore[union-attr]
    return int(number) * UNITS[unit]


def image_user() -> tuple[int, int]:
    uid, gid = re.search(r"^USER (\d+):(\d+)$", (REPO / "Dockerfile").read_text(), re.M).groups()  # type: ignore[union-attr]
    return int(uid), int(gid)


# Generated files: as the generator makes them now.


@pytest.mark.parametrize("app", STAGES, ids=lambda app: app.name)
def test_each_stage_values_file_is_as_generated(app: lab_stages.App) -> None:
    path = k8s_values.values_file(app)
    assert path.read_text() == k8s_values.render(app), f"{path.name}: run `nox -s k8s-values`"


def test_one_values_file_per_stage() -> None:
    found = sorted(p.name for p in k8s_values.CHART.glob("values-stage-*.yaml"))
    assert found == sorted(k8s_values.values_file(app).name for app in STAGES)


def test_the_chart_files_are_the_compose_files_own() -> None:
    sources = k8s_values.chart_files()
    assert "init.sql" in sources
    assert sources["init.sql"] == REPO / "compose" / "stage5" / "postgres" / "init.sql"
    assert sorted(p.name for p in k8s_values.FILES.iterdir()) == sorted(sources)
    for name, source in sources.items():
        assert (k8s_values.FILES / name).read_bytes() == source.read_bytes(), (
            f"files/{name} differs from {source.relative_to(REPO)}: run `nox -s k8s-values`"
        )


# Helm: lint, render, validate.


@pytest.mark.parametrize("app", STAGES, ids=lambda app: app.name)
def test_helm_lints_each_stage(app: lab_stages.App) -> None:
    k8s_render.lint(app, helm_binary=helm_binary())


@pytest.mark.parametrize("app", STAGES, ids=lambda app: app.name)
def test_every_rendered_object_is_valid_kubernetes(app: lab_stages.App) -> None:
    manifest = k8s_render.template(app, helm_binary=helm_binary())
    assert k8s_render.objects(manifest)
    assert k8s_render.invalid(manifest) == []


def test_the_validation_rejects_what_kubernetes_would() -> None:
    bad = "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{port: x}]}\n"
    unknown = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nunknownField: 1\n"
    assert k8s_render.invalid(bad)
    assert k8s_render.invalid(unknown)  # strict: a field Kubernetes does not know


# The rendered release against the compose file and the registry.


@pytest.mark.parametrize(("stage", "service"), cases())
def test_each_compose_service_runs_as_compose_runs_it(stage: str, service: str) -> None:
    app = lab_stages.app(stage)
    compose = compose_of(app)[service]
    objects = rendered(stage)
    name = compose["container_name"]
    workload = find(objects, WORKLOADS, name)
    pod = workload["spec"]["template"]
    (container,) = pod["spec"]["containers"]

    assert container["image"] == compose["image"]
    assert container.get("args") == compose.get("command")
    # Opt-in to scraping and log collection: the compose labels as pod annotations.
    labels = {k: str(v) for k, v in compose.get("labels", {}).items() if k.startswith("lab.")}
    assert pod["metadata"].get("annotations", {}) == labels
    # Memory: compose's limit, requested and capped.
    limit = quantity(compose["mem_limit"])
    assert quantity(container["resources"]["limits"]["memory"]) == limit
    assert quantity(container["resources"]["requests"]["memory"]) == limit

    # The environment: compose's, a required variable read from the stage's Secret.
    secret_refs = {
        e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e
    }
    plain = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    expected = {
        key: COMPOSE_REQUIRED.sub(r"$(\1)", str(value))
        for key, value in compose.get("environment", {}).items()
    }
    assert plain == expected
    needed = {v for value in expected.values() for v in re.findall(r"\$\(([A-Z0-9_]+)\)", value)}
    assert set(secret_refs) == needed
    for variable, ref in secret_refs.items():
        assert ref == {"name": f"lab-{stage}", "key": variable}
    names = [e["name"] for e in container["env"]]
    for variable in needed:  # defined before any value that uses it
        users = [n for n in names if f"$({variable})" in plain.get(n, "")]
        assert all(names.index(variable) < names.index(user) for user in users)

    # Ports: the registry's, served under the container's name.
    registered = app.find(service)
    ports = {p["containerPort"] for p in container["ports"]}
    service_object = find(objects, {"Service"}, name)
    assert {p["port"] for p in service_object["spec"]["ports"]} == ports
    if registered:
        assert registered.container_port in ports
        assert registered.container == name
    if "lab.metrics.port" in labels:
        assert int(labels["lab.metrics.port"]) in ports


@pytest.mark.parametrize(("stage", "service"), cases())
def test_each_workload_is_hardened_as_in_compose(stage: str, service: str) -> None:
    compose = compose_of(lab_stages.app(stage))[service]
    workload = find(rendered(stage), WORKLOADS, compose["container_name"])
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
    compose = compose_of(lab_stages.app(stage))[service]
    workload = find(rendered(stage), WORKLOADS, compose["container_name"])
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


@pytest.mark.parametrize("app", STAGES, ids=lambda app: app.name)
def test_each_release_has_exactly_the_compose_services(app: lab_stages.App) -> None:
    objects = rendered(app.name)
    workloads = {o["metadata"]["name"] for o in objects if o["kind"] in WORKLOADS}
    assert workloads == {s["container_name"] for s in compose_of(app).values()}
    assert not [o for o in objects if o["kind"] == "Secret"], "the user creates the Secret"


@pytest.mark.parametrize("stage", ["stage-5", "stage-6", "stage-7"])
def test_postgres_is_a_statefulset_with_stage5s_init_script(stage: str) -> None:
    app = lab_stages.app(stage)
    objects = rendered(stage)
    name = app.service("postgres").container
    postgres = find(objects, {"StatefulSet"}, name)
    (container,) = postgres["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "postgres:17.11-bookworm"
    assert postgres["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    init = REPO / "compose" / "stage5" / "postgres" / "init.sql"
    config = find(objects, {"ConfigMap"}, f"{name}-files")
    assert config["data"] == {"init.sql": init.read_text()}
    mount = next(m for m in container["volumeMounts"] if m.get("subPath") == "init.sql")
    assert mount["mountPath"] == "/docker-entrypoint-initdb.d/init.sql"
    # PGDATA (compose's volume) inside the claim, made there by postgres, not the claim's root.
    data = next(m for m in container["volumeMounts"] if m["name"] == "data")
    compose_data = next(
        v.split(":")[1] for v in compose_of(app)["postgres"]["volumes"] if v.startswith("dice-")
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
    compose = {s["image"] for s in compose_of(lab_stages.app("stage-7")).values()}
    ours = {i for i in compose if i.startswith("observability-lab/")}
    assert images == {f"registry.example:5000/{i}" for i in ours} | (compose - ours)


def test_the_chart_names_no_password() -> None:
    for path in k8s_values.CHART.rglob("*.yaml"):
        assert not re.search(r"(?i)password\s*:\s*\S", path.read_text()), path
    assert load_yaml(k8s_values.CHART / "values.yaml")["image"]["registry"] == ""
