"""The observability stack on a cluster (deploy/kubernetes/): Alloy's config for Kubernetes, the
upstream charts' values and the facts table they are checked against (deploy/kubernetes/CHARTS.md),
held to the compose stack so the two paths keep the same promises: opt-in by the same `lab.*`
names, the same label names on every series and log line, the same pipeline after discovery.
"""

import re
import subprocess

import pytest
import yaml

from tests.config.repo_files import (
    ALLOY_CONFIG,
    PROMETHEUS_CONFIG,
    REPO,
    docker_label_names,
    load_yaml,
    memory_bytes,
    pod_annotation_names,
    services,
)
from tools import k8s_charts, k8s_values

K8S = REPO / "deploy" / "kubernetes"
K8S_ALLOY = K8S / "alloy" / "config.alloy"
BLOCK = re.compile(r'^([a-z_.]+) "([a-z_]+)" \{\n.*?^\}\n', re.MULTILINE | re.DOTALL)
# Compose finds containers and reads their logs through Docker; a cluster through its API.
DISCOVERY = {
    ("discovery.docker", "containers"): ("discovery.kubernetes", "pods"),
    ("loki.source.docker", "containers"): ("loki.source.kubernetes", "pods"),
}
# What only the cluster needs: loki.source.kubernetes labels each stream `instance`, compose's
# source does not; the cluster's config drops it.
CLUSTER_ONLY = {("loki.relabel", "streams")}


def blocks(text: str) -> dict[tuple[str, str], str]:
    return {(m[1], m[2]): m[0] for m in BLOCK.finditer(text)}


def target_labels(text: str) -> set[str]:
    return set(re.findall(r'target_label\s*=\s*"(\w+)"', text))


def test_alloy_on_a_cluster_runs_the_compose_pipeline_after_discovery() -> None:
    compose, cluster = blocks(ALLOY_CONFIG.read_text()), blocks(K8S_ALLOY.read_text())
    assert len(compose) >= 9
    assert set(cluster) == {DISCOVERY.get(key, key) for key in compose} | CLUSTER_ONLY
    drop = cluster[("loki.relabel", "streams")]
    assert re.search(r'action = "labeldrop"\s+regex\s+= "instance"', drop)
    for key, text in compose.items():
        if key not in DISCOVERY and key != ("discovery.relabel", "opted_in"):
            assert cluster[key] == text, f"{key}: differs from compose's"


def test_alloy_on_a_cluster_opts_in_by_the_same_name_and_sets_the_same_labels() -> None:
    compose, cluster = ALLOY_CONFIG.read_text(), K8S_ALLOY.read_text()
    assert pod_annotation_names(cluster) == docker_label_names(compose) == {"lab.logs"}
    assert target_labels(cluster) == target_labels(compose)
    keep_rule = r'source_labels = \["([^"]+)"\]\s+regex\s+= "true"\s+action\s+= "keep"'
    keep = re.search(keep_rule, cluster)
    assert keep and keep[1] == "__meta_kubernetes_pod_annotation_lab_logs"
    # Tailed through the API: the relabelled targets, read by loki.source.kubernetes.
    assert "targets    = discovery.relabel.opted_in.output" in cluster


# The facts table: every key a values file sets, looked up in its chart.

CHARTS = k8s_charts.charts()
STACK = REPO / "compose" / "stack"
STACK_COMPOSE = services(STACK / "compose.yaml")
# The compose services each upstream chart runs (the others: the lab chart's stack release).
RUNS = {
    "kube-prometheus-stack": {"prometheus", "alertmanager"},
    "loki": {"loki"},
    "tempo": {"tempo"},
    "pyroscope": {"pyroscope"},
    "alloy": {"alloy"},
    "grafana": {"grafana"},
}


def chart(name: str) -> k8s_charts.Chart:
    (found,) = [c for c in CHARTS if c.name == name]
    return found


def values(name: str) -> dict:
    return load_yaml(chart(name).values)


def dig(tree: dict, path: str) -> object:
    found, node = k8s_charts.lookup(tree, path)
    assert found, path
    return node


@pytest.mark.parametrize("chart", CHARTS, ids=lambda c: c.name)
def test_each_values_file_sets_exactly_the_keys_its_facts_block_lists(chart) -> None:
    assert k8s_charts.set_keys(chart) == set(chart.keys), (
        f"{chart.values.name}: look each new key up in the chart's values.yaml at "
        f"{chart.version} and list it in CHARTS.md"
    )
    for key, where in chart.keys.items():
        assert re.fullmatch(r"values\.yaml:\d+|free below (\S+) \(values\.yaml:\d+.*\)", where), key
        if parent := k8s_charts.free_below(where):
            assert key.startswith(f"{parent}."), f"{key}: not below {where}"


def test_one_facts_section_per_values_file() -> None:
    files = sorted(p.name for p in (K8S / "stack").glob("*.yaml"))
    assert sorted(c.values.name for c in CHARTS) == files
    assert {c.name for c in CHARTS} == {*RUNS, "tempo-distributed"}


def test_every_stack_service_runs_from_a_chart_or_the_lab_charts_stack_release() -> None:
    from_charts = set().union(*RUNS.values())
    assert from_charts.isdisjoint(k8s_values.STACK_OWN)
    assert from_charts | set(k8s_values.STACK_OWN) == set(STACK_COMPOSE)


def test_the_key_check_finds_a_key_the_chart_lacks() -> None:
    facts = {"a.b": "values.yaml:2", "a.free.x": "free below a.free (values.yaml:3)"}
    fake = k8s_charts.Chart("x", "x", "r/x", "https://x", "1", "1", K8S, "", ("x:1",), facts)
    assert k8s_charts.missing_upstream(fake, {"a": {"b": 1, "free": {}}}) == []
    assert k8s_charts.missing_upstream(fake, {"a": {"free": {}}}) == [
        "a.b: a.b is not in values.yaml"
    ]
    assert k8s_charts.missing_upstream(fake, {"a": {"b": 1}}) == [
        "a.free.x: a.free is not in values.yaml"
    ]
    assert k8s_charts.split('"grafana.ini"."auth.anonymous".enabled') == [
        "grafana.ini",
        "auth.anonymous",
        "enabled",
    ]


def test_the_upstream_checks_find_a_wrong_line_and_a_missing_service() -> None:
    facts = {"a.b": "values.yaml:3", "a.free.x": "free below a.free (values.yaml:4)"}
    fake = k8s_charts.Chart("x", "x", "r/x", "https://x", "1", "1", K8S, "", ("x:80",), facts)
    text = "# a chart\na:\n  b: 1\n  free: {}\n"
    assert k8s_charts.wrong_lines(fake, text) == []
    assert k8s_charts.wrong_lines(fake, "a:\n  b: 1\n  free: {}\n") == [
        "a.b: a.b is at values.yaml:2, not 3",
        "a.free.x: a.free is at values.yaml:3, not 4",
    ]
    service = {"kind": "Service", "metadata": {"name": "x"}, "spec": {"ports": [{"port": 80}]}}
    assert k8s_charts.missing_services(fake, [service]) == []
    service["spec"]["ports"] = [{"port": 8080}]
    assert k8s_charts.missing_services(fake, [service]) == ["no Service x:80"]


# host:port, not an image's name:version (grafana/grafana:13.2.0).
ADDRESS = re.compile(r"\b([a-z][a-z0-9-]*):(\d{2,5})(?![.\d])")


def addresses(text: str) -> set[str]:
    return {f"{h}:{p}" for h, p in ADDRESS.findall(text) if h not in {"localhost", "http", "https"}}


def test_every_address_the_lab_calls_on_a_cluster_is_a_service_a_release_creates() -> None:
    """Alloy's exporters, Tempo's remote write, the scrape targets, the datasources, the apps'
    OTLP and profiles endpoints, Alertmanager's receiver: each a Service of a chart (as CHARTS.md
    lists them, and `nox -s k8s-charts` checks against the rendered chart) or of a lab release."""
    provided = {s for c in CHARTS if c.name != "tempo-distributed" for s in c.services}
    called = set()
    for release in k8s_values.releases():
        for workload in k8s_values.release_values(release)["workloads"]:
            provided |= {f"{workload['name']}:{p['containerPort']}" for p in workload["ports"]}
            called |= addresses(" ".join(str(e.get("value", "")) for e in workload["env"]))
    called |= addresses(K8S_ALLOY.read_text())
    called |= addresses(k8s_values.cluster_datasources())
    called |= addresses(values("tempo")["config"])
    called |= addresses(yaml.safe_dump(scrape_jobs()["stack"]))
    called |= addresses(yaml.safe_dump(values("kube-prometheus-stack")["alertmanager"]["config"]))
    assert {"loki:3100", "tempo:4317", "pyroscope:4040", "alloy:4318", "alloy:9999"} <= called
    assert {"kps-prometheus:9090", "alert-receiver:8000", "postgres:5432"} <= called
    assert called <= provided, called - provided


def test_the_install_commands_pin_each_charts_version() -> None:
    text = (REPO / "tutorials" / "kubernetes.md").read_text()
    for found in CHARTS:
        command = found.install()
        assert command in " ".join(text.replace("\\\n", " ").split()), command


# The same images, memory and users as compose.

# compose service -> (chart, its image tag, memory limit, pod user) in the chart's values.
RUNTIME = {
    "prometheus": ("kube-prometheus-stack", "prometheus.prometheusSpec.image.tag",
                   "prometheus.prometheusSpec.resources.limits.memory",
                   "prometheus.prometheusSpec.securityContext.runAsUser"),
    "alertmanager": ("kube-prometheus-stack", "alertmanager.alertmanagerSpec.image.tag",
                     "alertmanager.alertmanagerSpec.resources.limits.memory",
                     "alertmanager.alertmanagerSpec.securityContext.runAsUser"),
    "loki": ("loki", "loki.image.tag", "singleBinary.resources.limits.memory",
             "loki.podSecurityContext.runAsUser"),
    "tempo": ("tempo", "tempo.tag", "tempo.resources.limits.memory", "securityContext.runAsUser"),
    "pyroscope": ("pyroscope", "pyroscope.image.tag", "pyroscope.resources.limits.memory",
                  "pyroscope.podSecurityContext.runAsUser"),
    "alloy": ("alloy", "image.tag", "alloy.resources.limits.memory",
              "alloy.securityContext.runAsUser"),
    "grafana": ("grafana", "image.tag", "resources.limits.memory", "securityContext.runAsUser"),
}  # fmt: skip


def mebibytes(quantity: str) -> int:
    return memory_bytes(quantity) // 2**20


@pytest.mark.parametrize("service", sorted(RUNTIME))
def test_each_chart_runs_composes_image_memory_and_user(service: str) -> None:
    compose = STACK_COMPOSE[service]
    name, image, memory, user = RUNTIME[service]
    tree = values(name)
    assert str(dig(tree, image)) == compose["image"].rsplit(":", 1)[1]
    assert mebibytes(dig(tree, memory)) == mebibytes(compose["mem_limit"])
    assert int(dig(tree, user)) == int(str(compose["user"]).split(":")[0])  # type: ignore[arg-type]


def test_every_service_an_upstream_chart_runs_is_checked_for_its_runtime() -> None:
    assert set(RUNTIME) == set().union(*RUNS.values())


# kube-prometheus-stack: compose's Prometheus flags, scrape jobs and Alertmanager config.


def compose_prometheus() -> tuple[dict, list[str]]:
    return load_yaml(PROMETHEUS_CONFIG), STACK_COMPOSE["prometheus"]["command"]


def scrape_jobs() -> dict[str, dict]:
    spec = values("kube-prometheus-stack")["prometheus"]["prometheusSpec"]
    return {job["job_name"]: job for job in spec["additionalScrapeConfigs"]}


def test_prometheus_runs_with_composes_intervals_retention_and_receivers() -> None:
    config, flags = compose_prometheus()
    spec = values("kube-prometheus-stack")["prometheus"]["prometheusSpec"]
    assert spec["scrapeInterval"] == config["global"]["scrape_interval"]
    assert spec["evaluationInterval"] == config["global"]["evaluation_interval"]
    assert f"--storage.tsdb.retention.time={spec['retention']}" in flags
    assert spec["enableRemoteWriteReceiver"] is ("--web.enable-remote-write-receiver" in flags)
    assert [f"--enable-feature={f}" for f in spec["enableFeatures"]] == [
        f for f in flags if f.startswith("--enable-feature=")
    ]
    # Every PrometheusRule (the stack release's SLO rules), not only the chart's own.
    assert spec["ruleSelectorNilUsesHelmValues"] is False and spec["ruleSelector"] == {}


def test_the_scrape_jobs_are_composes_with_pods_in_place_of_containers() -> None:
    config, _ = compose_prometheus()
    compose = {job["job_name"]: job for job in config["scrape_configs"]}
    cluster = scrape_jobs()
    assert set(cluster) == set(compose) - {"docker"} | {"kubernetes-pods"}
    assert cluster["prometheus"] == compose["prometheus"]
    # The stack's components by their Services: compose's names, kps's where it names them.
    moved = {a.split(":")[0]: b.split(":")[0] for a, b in k8s_values.CLUSTER_HOSTS.items()}
    (compose_targets,) = [s["targets"] for s in compose["stack"]["static_configs"]]
    (cluster_targets,) = [s["targets"] for s in cluster["stack"]["static_configs"]]
    expected = {f"{moved.get(h, h)}:{p}" for h, p in (t.split(":") for t in compose_targets)}
    assert set(cluster_targets) == expected
    service_name, instance = cluster["stack"]["relabel_configs"]
    for target in cluster_targets:  # compose's host name and address
        name = re.fullmatch(service_name["regex"], target)[1]  # type: ignore[index]
        assert f"{name}:{target.split(':')[1]}" in compose_targets
        assert re.fullmatch(instance["regex"], target)[1] in compose_targets  # type: ignore[index]
    # Pods opt in by compose's label names, and get compose's label names.
    pods = yaml.safe_dump(cluster["kubernetes-pods"])
    docker = yaml.safe_dump(compose["docker"])
    assert pod_annotation_names(pods) == docker_label_names(docker)
    assert target_labels_yaml(cluster["kubernetes-pods"]) == target_labels_yaml(compose["docker"])
    keep = cluster["kubernetes-pods"]["relabel_configs"][0]
    assert keep["action"] == "keep"
    assert keep["source_labels"] == ["__meta_kubernetes_pod_annotation_lab_metrics_port"]


def target_labels_yaml(job: dict) -> set[str]:
    return {rule["target_label"] for rule in job["relabel_configs"] if "target_label" in rule}


def without_nulls(tree: object) -> object:
    if isinstance(tree, dict):
        return {k: without_nulls(v) for k, v in tree.items() if v is not None}
    return tree


def test_alertmanager_gets_composes_config() -> None:
    config = values("kube-prometheus-stack")["alertmanager"]["config"]
    # A null deletes the chart's default (its Watchdog route and `null` receiver) from the merge.
    assert config["global"] is None and config["route"]["routes"] is None
    assert without_nulls(config) == load_yaml(STACK / "alertmanager" / "alertmanager.yml")


def test_the_clusters_service_names_are_the_ones_the_datasources_and_tempo_use() -> None:
    override = values("kube-prometheus-stack")["fullnameOverride"]
    assert {h.split("-")[0] for h in k8s_values.CLUSTER_HOSTS.values()} == {override}
    releases = {c.release for c in CHARTS} | set(k8s_values.STACK_OWN)
    hosts = {h.split(":")[0] for h in k8s_values.CLUSTER_HOSTS.values()}
    datasources = yaml.safe_load(k8s_values.cluster_datasources())["datasources"]
    for source in datasources:
        host = re.sub(r"^https?://", "", source["url"]).split(":")[0]
        assert host in releases | hosts, source["url"]


# Loki, Tempo, Pyroscope, Alloy, Grafana: compose's settings.


def test_tempo_runs_composes_config_and_serves_its_ports() -> None:
    tempo = values("tempo")
    config = yaml.safe_load(tempo["config"])
    compose = load_yaml(STACK / "tempo" / "tempo.yaml")
    (write,) = config["metrics_generator"]["storage"]["remote_write"]
    (compose_write,) = compose["metrics_generator"]["storage"]["remote_write"]
    host = next(h for h in k8s_values.CLUSTER_HOSTS if h in compose_write["url"])
    assert write["url"] == compose_write["url"].replace(host, k8s_values.CLUSTER_HOSTS[host])
    write["url"] = compose_write["url"]
    assert config == compose
    # The Service's OTLP ports come from tempo.receivers, not from the config.
    assert tempo["tempo"]["receivers"]["otlp"] == compose["distributor"]["receivers"]["otlp"]
    assert all(
        p["endpoint"] is None for p in tempo["tempo"]["receivers"]["jaeger"]["protocols"].values()
    )


def test_the_switch_to_tempo_distributed_keeps_the_metrics_generators_settings() -> None:
    switch = values("tempo-distributed")
    compose = load_yaml(STACK / "tempo" / "tempo.yaml")
    assert switch["overrides"]["defaults"] == compose["overrides"]["defaults"]
    generator = switch["metricsGenerator"]["config"]
    assert generator["registry"] == compose["metrics_generator"]["registry"]
    (write,) = generator["storage"]["remote_write"]
    assert write["url"].startswith("http://kps-prometheus:9090/") and write["send_exemplars"]


def test_the_tempo_post_renderer_drops_only_the_flag_tempo_3_removed(tmp_path) -> None:
    script = K8S / "stack" / "tempo3-drop-ballast" / "drop-ballast.sh"
    rendered = "args:\n  - -config.file=/conf/tempo.yaml\n  - -mem-ballast-size-mbs=1024\n"
    result = subprocess.run([script], input=rendered, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "args:\n  - -config.file=/conf/tempo.yaml\n"
    # A chart without the flag: it says so and fails, so the workaround is not kept by mistake.
    again = subprocess.run(
        [script], input=result.stdout, capture_output=True, text=True, check=False
    )
    assert again.returncode != 0 and "no -mem-ballast-size-mbs" in again.stderr
    plugin = load_yaml(script.parent / "plugin.yaml")
    assert plugin["name"] == script.parent.name and plugin["type"] == "postrenderer/v1"


def test_loki_keeps_composes_schema_limits_and_retention() -> None:
    loki = values("loki")["loki"]
    compose = load_yaml(STACK / "loki" / "loki.yaml")
    assert loki["auth_enabled"] == compose["auth_enabled"]
    assert loki["schemaConfig"]["configs"] == compose["schema_config"]["configs"]
    set_limits = {k: v for k, v in loki["limits_config"].items() if v is not None}
    assert set_limits == compose["limits_config"]
    assert loki["commonConfig"]["replication_factor"] == compose["common"]["replication_factor"]
    assert loki["commonConfig"]["ring"] == compose["common"]["ring"]
    for key in ("retention_enabled", "delete_request_store"):
        assert loki["compactor"][key] == compose["compactor"][key]
    assert loki["analytics"] == compose["analytics"]
    assert loki["server"]["http_listen_port"] == compose["server"]["http_listen_port"]


def test_pyroscope_runs_composes_config() -> None:
    pyroscope = values("pyroscope")
    compose = load_yaml(STACK / "pyroscope" / "pyroscope.yaml")
    assert pyroscope["pyroscope"]["structuredConfig"] == compose
    # The chart's own flags win over the file: set to the file's values.
    flags = pyroscope["pyroscope"]["extraArgs"]
    assert flags["metastore.data-dir"] == compose["metastore"]["data_dir"]
    assert flags["metastore.raft.dir"] == compose["metastore"]["raft"]["dir"]
    assert flags["log.level"] == compose["server"]["log_level"]


def test_alloy_listens_where_the_apps_send_and_runs_the_clusters_config() -> None:
    alloy = values("alloy")["alloy"]
    listening = {
        int(p)
        for p in re.findall(r'(?:"0\.0\.0\.0:|listen_port\s+=\s+)(\d+)', K8S_ALLOY.read_text())
    }
    assert {p["port"] for p in alloy["extraPorts"]} == listening == {4317, 4318, 9999}
    assert (
        "--set-file alloy.configMap.content=deploy/kubernetes/alloy/config.alloy"
        in chart("alloy").flags
    )
    assert alloy["mounts"]["varlog"] is False  # logs through the API, no host path


def test_grafana_gets_composes_settings_and_the_stack_releases_configmaps() -> None:
    grafana = values("grafana")
    environment = STACK_COMPOSE["grafana"]["environment"]
    from_ini = {
        f"GF_{section.upper().replace('.', '_')}_{key.upper()}": str(value).lower()
        for section, keys in grafana["grafana.ini"].items()
        for key, value in keys.items()
    }
    admin = {"GF_SECURITY_ADMIN_USER", "GF_SECURITY_ADMIN_PASSWORD"}
    assert set(from_ini) | admin == {k for k in environment if k.startswith("GF_")}
    for key, value in from_ini.items():
        assert str(environment[key]).lower() == value, key
    password = grafana["envValueFrom"]["USAGE_DB_PASSWORD"]["secretKeyRef"]
    variable = re.search(r"\$\{(\w+)", environment["USAGE_DB_PASSWORD"])[1]  # type: ignore[index]
    assert password == {"name": "lab-stack", "key": variable}
    assert variable in load_yaml(k8s_values.release("stack").values_file)["secret"]["keys"]
    # The sidecars load the labels the lab chart's stack release puts on its ConfigMaps.
    template = (k8s_values.CHART / "templates" / "observability.yaml").read_text()
    for kind in ("dashboards", "datasources"):
        sidecar = grafana["sidecar"][kind]
        assert f'{sidecar["label"]}: "{sidecar["labelValue"]}"' in template


# The chapter (tutorials/kubernetes.md): its commands name what the charts and releases need.

CHAPTER = REPO / "tutorials" / "kubernetes.md"


def chapter_commands() -> list[str]:
    """The chapter's command lines, continuation lines joined."""
    text = CHAPTER.read_text().replace("\\\n", " ")
    blocks = re.findall(r"```bash\n(.*?)```", text, re.DOTALL)
    return [
        " ".join(line.split()) for block in blocks for line in block.splitlines() if line.strip()
    ]


def test_the_chapter_installs_each_lab_release_it_names_with_its_values_file() -> None:
    installs = [c for c in chapter_commands() if " deploy/kubernetes/lab " in c]
    assert installs
    for command in installs:
        name = command.split()[3]
        release = k8s_values.release(name)
        values_file = release.values_file.relative_to(REPO)
        assert (
            command
            == f"helm upgrade --install {name} deploy/kubernetes/lab -n lab -f {values_file}"
        )
    uninstall = next(c for c in chapter_commands() if c.startswith("helm uninstall stage-5 "))
    installed = {c.split()[3] for c in chapter_commands() if c.startswith("helm upgrade --install")}
    assert set(uninstall.split()[2:-2]) == installed


def test_the_chapter_loads_every_image_the_releases_build_and_no_registry_has() -> None:
    (load,) = [c for c in chapter_commands() if c.startswith("kind load docker-image")]
    releases = [k8s_values.release(name) for name in ("stack", "stage-5")]
    assert load.split()[5:] == k8s_values.own_images(releases)


def test_the_chapter_creates_each_secret_with_the_keys_the_releases_read() -> None:
    created = {
        c.split()[6]: re.findall(r"--from-literal=([\w-]+)=", c)
        for c in chapter_commands()
        if c.startswith("kubectl -n lab create secret generic ")
    }
    expected = {}
    for name in ("stack", "stage-5"):
        secret = load_yaml(k8s_values.release(name).values_file)["secret"]
        expected[secret["name"]] = secret["keys"]
    admin = values("grafana")["admin"]
    expected[admin["existingSecret"]] = [admin["userKey"], admin["passwordKey"]]
    assert created == expected


def test_the_chapter_forwards_the_ports_compose_publishes() -> None:
    forwards = {
        c.split()[4]: c.split()[5]
        for c in chapter_commands()
        if c.startswith("kubectl -n lab port-forward ")
    }
    app = k8s_values.lab_stages.app("stage-5")
    expected = {
        f"svc/{s.container}": f"{s.port}:{s.container_port}"
        for s in app.services
        if s.port and s.kind != "database"
    }
    grafana = STACK_COMPOSE["grafana"]["ports"][0].split(":", 1)[1]
    expected["svc/grafana"] = f"{grafana.split(':')[0]}:{values('grafana')['service']['port']}"
    assert forwards == expected


def test_the_chapters_memory_table_sums_composes_limits_and_the_charts_requests() -> None:
    text = CHAPTER.read_text()
    rows = dict(
        (name.strip("* "), (int(compose), int(cluster)))
        for name, compose, cluster in re.findall(
            r"^\| ([\w* -]+?) \| \**(\d+) MiB\** \| \**(\d+) MiB\** \|", text, re.MULTILINE
        )
    )
    stack_release = load_yaml(k8s_values.release("stack").values_file)["workloads"]
    cluster = {
        service: mebibytes(dig(values(name), memory))
        for service, (name, _, memory, _) in RUNTIME.items()
    } | {w["component"]: mebibytes(w["memory"]) for w in stack_release}
    for service, compose in STACK_COMPOSE.items():
        assert rows[service] == (mebibytes(compose["mem_limit"]), cluster[service]), service
    total = sum(mebibytes(s["mem_limit"]) for s in STACK_COMPOSE.values())
    assert rows["the stack"] == (total, sum(cluster.values()))
    stage = services(REPO / "compose" / "stage5" / "compose.yaml")
    stage_release = load_yaml(k8s_values.release("stage-5").values_file)["workloads"]
    assert rows["stage 5"] == (
        sum(mebibytes(s["mem_limit"]) for s in stage.values()),
        sum(mebibytes(w["memory"]) for w in stage_release),
    )
    reloader = 50  # the alloy chart's configReloader request (values.yaml:265 at 1.11.1)
    assert f"reserves {total + reloader} MiB for the stack" in " ".join(text.split())


def test_grafanas_dashboard_provider_is_composes() -> None:
    provider = values("grafana")["sidecar"]["dashboards"]["provider"]
    dashboards = STACK / "grafana" / "provisioning" / "dashboards" / "dashboards.yaml"
    (compose,) = load_yaml(dashboards)["providers"]
    assert provider["name"] == compose["name"] and provider["folder"] == compose["folder"]
    # The chart spells disableDeletion disableDelete (it writes the provider file itself).
    assert provider["disableDelete"] == compose["disableDeletion"]
    assert provider["allowUiUpdates"] == compose["allowUiUpdates"]
