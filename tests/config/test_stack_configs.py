"""The backends' configs: valid by their own tools, and in agreement with the compose files."""

import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.config.repo_files import (
    ALLOY_CONFIG,
    DASHBOARDS,
    DATASOURCES,
    PROFILES_URL,
    PROMETHEUS_CONFIG,
    PYROSCOPE_CONFIG,
    REPO,
    STACK_COMPOSE,
    all_services,
    dashboard_targets,
    docker_label_names,
    load_yaml,
    services,
)
from tests.support.prerequisites import require_tool

OPT_IN_LABELS = {"lab.metrics.port", "lab.logs"}


def venv_tool(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def test_promtool_accepts_the_prometheus_config(tmp_path) -> None:
    # Debian's promtool 2.42 predates match_first_network (Prometheus 2.54): it checks the rest,
    # on a copy without that field; test_docker_sd_lists_every_network holds the field itself.
    promtool = require_tool("promtool", "apt-get install prometheus")
    config = load_yaml(PROMETHEUS_CONFIG)
    for job in config["scrape_configs"]:
        for sd in job.get("docker_sd_configs", []):
            sd.pop("match_first_network")
    copy = tmp_path / "prometheus.yml"
    copy.write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [promtool, "check", "config", "--syntax-only", str(copy)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_docker_sd_lists_every_network() -> None:
    # Default true: only a container's first network by name yields targets
    # (discovery/moby/docker.go at v3.14.0), so a service also on "aaa-mine" would be dropped.
    (docker_job,) = [
        job for job in load_yaml(PROMETHEUS_CONFIG)["scrape_configs"] if "docker_sd_configs" in job
    ]
    assert [sd["match_first_network"] for sd in docker_job["docker_sd_configs"]] == [False]


def test_grafana_streams_tempo_search_and_metrics() -> None:
    (tempo,) = [ds for ds in load_yaml(DATASOURCES)["datasources"] if ds["type"] == "tempo"]
    assert tempo["jsonData"]["streamingEnabled"] == {"search": True, "metrics": True}


def test_postgres_healthchecks_wait_for_the_tcp_server() -> None:
    # Without -h, pg_isready answers from the entrypoint's socket-only init server.
    for path, name, service in all_services():
        test = service["healthcheck"]["test"]
        if "pg_isready" in test:
            assert test[test.index("pg_isready") + 1 : test.index("pg_isready") + 3] == [
                "-h",
                "127.0.0.1",
            ], f"{path.parent.name}:{name}"


def test_hadolint_accepts_every_dockerfile() -> None:
    dockerfiles = sorted(REPO.glob("**/Dockerfile*"))
    dockerfiles = [p for p in dockerfiles if ".venv" not in p.parts and p.suffix != ".dockerignore"]
    assert dockerfiles
    result = subprocess.run(
        [venv_tool("hadolint"), *map(str, dockerfiles)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_yamllint_accepts_every_yaml_config() -> None:
    result = subprocess.run(
        [
            venv_tool("yamllint"),
            "--strict",
            "-c",
            str(REPO / ".yamllint.yaml"),
            str(REPO / "compose"),
            str(REPO / "deploy" / "kubernetes" / "stack"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_configs_name_their_version_in_a_header() -> None:
    for path in (
        PROMETHEUS_CONFIG,
        ALLOY_CONFIG,
        REPO / "compose/stack/loki/loki.yaml",
        REPO / "compose/stack/tempo/tempo.yaml",
        PYROSCOPE_CONFIG,
        DATASOURCES,
    ):
        head = "\n".join(path.read_text().splitlines()[:3])
        assert re.search(r"[Ww]ritten for \w+ \d+\.\d+", head), f"{path.name}: {head}"


def test_prometheus_keeps_only_opted_in_containers_by_the_labels_compose_sets() -> None:
    config = load_yaml(PROMETHEUS_CONFIG)
    (docker_job,) = [job for job in config["scrape_configs"] if "docker_sd_configs" in job]
    keep = [r for r in docker_job["relabel_configs"] if r.get("action") == "keep"]
    assert keep[0]["source_labels"] == ["__meta_docker_container_label_lab_metrics_port"]
    assert docker_label_names(PROMETHEUS_CONFIG.read_text()) == {
        "lab.metrics.port",
        "lab.metrics.path",
    }


def test_alloy_keeps_only_opted_in_containers_by_the_labels_compose_sets() -> None:
    text = ALLOY_CONFIG.read_text()
    assert docker_label_names(text) == {"lab.logs"}
    keep = re.search(r'source_labels = \["([^"]+)"\]\s+regex\s+= "true"\s+action\s+= "keep"', text)
    assert keep and keep.group(1) == "__meta_docker_container_label_lab_logs"
    for label in ("service_name", "compose_project", "compose_service", "container_name", "job"):
        assert f'target_label  = "{label}"' in text, label
    assert re.search(r"stage\.labels \{\s+values = \{\s+level = \"\",\s+usage = \"\"", text)
    assert re.search(r"stage\.structured_metadata \{\s+values = \{\s+trace_id = \"\",", text)
    assert 'timeout         = "1s"' in text and "send_batch_size = 1024" in text
    assert '"0.0.0.0:4317"' in text and '"0.0.0.0:4318"' in text


def test_every_app_opts_in_with_labels_and_the_stack_configs_never_name_an_app() -> None:
    stack_configs = "\n".join(
        p.read_text()
        for p in (REPO / "compose/stack").rglob("*")
        if p.suffix in {".yml", ".yaml", ".alloy"}
    )
    apps = [(p, n, s) for p, n, s in all_services() if p != STACK_COMPOSE]
    assert apps
    for path, name, service in apps:
        where = f"{path.parent.name}:{name}"
        labels = {k: v for k, v in service.get("labels", {}).items() if k.startswith("lab.")}
        assert labels, f"{where} opts into nothing"
        assert labels.keys() <= OPT_IN_LABELS | {"lab.metrics.path"}, f"{where}: {labels}"
        assert labels.get("lab.logs", "true") == "true"
        assert labels.get("lab.metrics.port", "0").isdigit()
        host = service.get("container_name", name)  # how the stack would have to name it
        assert f"{host}:" not in stack_configs, f"the stack's configs name {host}"
        if "build" in service:  # our own services: both signals, and traces to Alloy
            assert labels.keys() >= OPT_IN_LABELS, f"{where} lacks opt-in labels"
            environment = service["environment"]
            assert environment["OTEL_SERVICE_NAME"] == name, "Loki's and Tempo's names must agree"
            assert environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://alloy:4318"


def test_tempo_and_prometheus_agree_on_remote_write_and_exemplars() -> None:
    tempo = load_yaml(REPO / "compose/stack/tempo/tempo.yaml")
    (remote,) = tempo["metrics_generator"]["storage"]["remote_write"]
    assert remote["url"] == "http://prometheus:9090/api/v1/write"
    assert remote["send_exemplars"] is True
    assert set(tempo["overrides"]["defaults"]["metrics_generator"]["processors"]) == {
        "service-graphs",
        "span-metrics",
    }
    command = services(STACK_COMPOSE)["prometheus"]["command"]
    assert "--web.enable-remote-write-receiver" in command
    assert "--enable-feature=exemplar-storage" in command
    # Tempo 3.0 rejects the 2.x blocks.
    assert (
        not {"ingester", "compactor", "ingester_client", "metrics_generator_client"} & tempo.keys()
    )
    assert tempo["backend_worker"]["compaction"]["block_retention"] == "48h"


def test_loki_keeps_31_days_with_structured_metadata() -> None:
    loki = load_yaml(REPO / "compose/stack/loki/loki.yaml")
    assert loki["limits_config"]["retention_period"] == "744h"
    assert loki["limits_config"]["allow_structured_metadata"] is True
    assert loki["compactor"]["retention_enabled"] is True
    assert loki["compactor"]["delete_request_store"] == "filesystem"
    (schema,) = loki["schema_config"]["configs"]
    assert (schema["store"], schema["schema"], schema["index"]["period"]) == ("tsdb", "v13", "24h")


def provisioned_uids() -> dict[str, str]:
    return {ds["uid"]: ds["type"] for ds in load_yaml(DATASOURCES)["datasources"]}


def test_datasources_have_fixed_uids_and_prometheus_is_default() -> None:
    datasources = load_yaml(DATASOURCES)["datasources"]
    assert provisioned_uids() == {
        "prometheus": "prometheus",
        "loki": "loki",
        "tempo": "tempo",
        "pyroscope": "grafana-pyroscope-datasource",
        "alertmanager": "alertmanager",
        "usage-postgres": "grafana-postgresql-datasource",
    }
    assert [ds["uid"] for ds in datasources if ds.get("isDefault")] == ["prometheus"]


def test_every_uid_a_correlation_or_dashboard_names_is_provisioned() -> None:
    uids = provisioned_uids()
    named = set(re.findall(r"datasourceUid: (\S+)", DATASOURCES.read_text()))
    assert named == {"prometheus", "loki", "tempo", "pyroscope"}
    assert named <= uids.keys()
    assert DASHBOARDS
    for name, panel, target in dashboard_targets():
        for datasource in (panel["datasource"], target["datasource"]):
            assert uids.get(datasource["uid"]) == datasource["type"], f"{name}: {panel['title']}"


def test_correlations_are_wired() -> None:
    by_uid = {ds["uid"]: ds for ds in load_yaml(DATASOURCES)["datasources"]}
    prometheus, loki, tempo = by_uid["prometheus"], by_uid["loki"], by_uid["tempo"]
    exemplar_labels = {d["name"] for d in prometheus["jsonData"]["exemplarTraceIdDestinations"]}
    assert "trace_id" in exemplar_labels  # what lab-telemetry puts on the latency histogram
    (derived,) = loki["jsonData"]["derivedFields"]
    assert (derived["matcherType"], derived["matcherRegex"]) == ("label", "trace_id")
    assert derived["url"] == "$${__value.raw}"  # Grafana reads "$$" as one literal "$"
    jsonData = tempo["jsonData"]
    assert jsonData["tracesToLogsV2"]["datasourceUid"] == "loki"
    assert jsonData["tracesToMetrics"]["datasourceUid"] == "prometheus"
    assert jsonData["tracesToProfiles"]["datasourceUid"] == "pyroscope"
    assert jsonData["serviceMap"]["datasourceUid"] == "prometheus"
    assert jsonData["nodeGraph"]["enabled"] is True


# The profile type the Python SDK's CPU samples are stored as (name:type:unit:period type:unit);
# Pyroscope's TestIngestPPROFFixPythonLinenumbers queries a pyspy profile by it (v2.2.1).
CPU_PROFILE_TYPE = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"


def test_a_span_in_tempo_links_to_its_cpu_profile_in_pyroscope() -> None:
    by_uid = {ds["uid"]: ds for ds in load_yaml(DATASOURCES)["datasources"]}
    assert by_uid["pyroscope"]["type"] == "grafana-pyroscope-datasource"
    assert by_uid["pyroscope"]["url"] == "http://pyroscope:4040"
    json_data = by_uid["tempo"]["jsonData"]
    # Grafana reads tracesToProfiles only; a V2 name, as for logs, would be silently ignored.
    assert "tracesToProfilesV2" not in json_data
    link = json_data["tracesToProfiles"]
    assert link["datasourceUid"] == "pyroscope"
    assert link["profileTypeId"] == CPU_PROFILE_TYPE
    # Spans name their service service.name (OTel), Pyroscope's series service_name.
    assert {"key": "service.name", "value": "service_name"} in link["tags"]
    assert link.get("customQuery", False) is False


def alloy_profiles_port() -> int:
    """The port of Alloy's pyroscope.receive_http, the one that forwards to Pyroscope."""
    text = ALLOY_CONFIG.read_text()
    receiver = re.search(
        r'pyroscope\.receive_http "apps" \{\s+http \{\s+listen_address = "0\.0\.0\.0"\s+'
        r"listen_port\s+= (\d+)\s+\}\s+forward_to = \[pyroscope\.write\.pyroscope\.receiver\]",
        text,
    )
    assert receiver, "config.alloy has no pyroscope.receive_http forwarding to pyroscope.write"
    write = re.search(r'pyroscope\.write "pyroscope" \{\s+endpoint \{\s+url = "([^"]+)"', text)
    assert write and write.group(1) == "http://pyroscope:4040", write
    return int(receiver.group(1))


def test_apps_send_profiles_to_alloy_on_the_port_it_listens_on_and_compose_publishes() -> None:
    scheme, host, port = PROFILES_URL.split(":")
    assert (scheme, host) == ("http", "//alloy")
    assert alloy_profiles_port() == int(port)
    stack = services(STACK_COMPOSE)
    # Published on loopback like Alloy's OTLP ports, so an app run without Docker sends there too.
    assert f"127.0.0.1:{port}:{port}" in stack["alloy"]["ports"]
    assert "127.0.0.1:4040:4040" in stack["pyroscope"]["ports"]
    # Alloy forwards to Pyroscope, so waits for it; nothing else sends to Pyroscope.
    assert stack["alloy"]["depends_on"]["pyroscope"] == {"condition": "service_healthy"}
    for path, name, service in all_services():
        where = f"{path.parent.name}:{name}"
        for key, value in service.get("environment", {}).items():
            for address in re.findall(r"https?://alloy:\d+", str(value)):
                assert address in {"http://alloy:4318", PROFILES_URL}, f"{where}: {key}={value}"
            assert "pyroscope:4040" not in str(value), f"{where}: {key} bypasses Alloy"


def test_pyroscope_writes_only_under_its_named_volume_as_a_v2_single_binary() -> None:
    config = load_yaml(PYROSCOPE_CONFIG)
    service = services(STACK_COMPOSE)["pyroscope"]
    assert "pyroscope-data:/data" in service["volumes"]
    assert service["read_only"] is True
    (mounted,) = [v for v in service["volumes"] if v.startswith("./pyroscope/")]
    assert service["command"] == [f"-config.file={mounted.split(':')[1]}"]
    assert (config["target"], config["architecture_storage"]) == ("all", "v2")
    paths = [
        config["storage"]["filesystem"]["dir"],
        config["metastore"]["data_dir"],
        config["metastore"]["raft"]["dir"],
        config["metastore"]["raft"]["snapshots_dir"],
    ]
    assert config["storage"]["backend"] == "filesystem"
    assert all(path.startswith("/data/") for path in paths), paths
    assert config["self_profiling"]["disable_push"] is True
    assert config["analytics"]["reporting_enabled"] is False
    port = config["server"]["http_listen_port"]
    assert f"--url=http://127.0.0.1:{port}" in service["healthcheck"]["test"]
    assert f"127.0.0.1:{port}:{port}" in service["ports"]


def test_grafana_secrets_come_from_env_and_anonymous_users_only_view() -> None:
    grafana = services(STACK_COMPOSE)["grafana"]["environment"]
    assert grafana["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"
    assert grafana["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")
    for doc in ("README.md", "docs/reference.md"):
        assert "admin/admin" not in (REPO / doc).read_text(), doc
    example = (REPO / ".env.example").read_text()
    used = set(
        re.findall(
            r"\$\{([A-Z_]+):\?", "".join(p.read_text() for p in REPO.glob("compose/*/compose.yaml"))
        )
    )
    documented = set(re.findall(r"^([A-Z_]+)=$", example, re.MULTILINE))
    assert used == documented, "every variable compose needs is documented, empty, in .env.example"


def test_the_postgres_init_script_creates_the_usage_schema() -> None:
    sql = (REPO / "compose/stack/postgres/init.sql").read_text()
    assert "CREATE TABLE IF NOT EXISTS usage_events" in sql
    assert "event_key   bytea PRIMARY KEY" in sql
    volumes = services(STACK_COMPOSE)["postgres"]["volumes"]
    assert "./postgres/init.sql:/docker-entrypoint-initdb.d/init.sql:ro" in volumes
    assert (
        yaml.safe_load(STACK_COMPOSE.read_text())["services"]["postgres"]["environment"][
            "POSTGRES_DB"
        ]
        == "usage_stats"
    )


def test_every_stage_dashboard_selects_its_stage() -> None:
    # Every stage has a dice-roller: a panel without its stage's filter shows all stages.
    tempo = load_yaml(REPO / "compose/stack/tempo/tempo.yaml")
    processor = tempo["overrides"]["defaults"]["metrics_generator"]["processor"]
    assert processor["span_metrics"]["dimensions"] == ["service.namespace"]
    assert processor["service_graphs"]["dimensions"] == ["service.namespace"]
    for name, panel, target in dashboard_targets():
        stage = re.fullmatch(r"stage-(\d)\.json", name)
        if not stage:
            continue
        query = (
            target.get("expr")
            or target.get("query")
            or target.get("serviceMapQuery")
            or target.get("labelSelector")  # Pyroscope's, which names its labels with `_`
            or ""
        )
        scopes = (
            f'compose_project="stage-{stage.group(1)}"',
            f'service_namespace="stage-{stage.group(1)}"',
            f'service.namespace="stage-{stage.group(1)}"',
        )
        assert any(scope in query for scope in scopes), f"{name}: {panel['title']}: {query}"


def test_the_overview_names_services_by_service_and_stage() -> None:
    for name, panel, target in dashboard_targets():
        if name == "overview.json" and "http_request" in target.get("expr", ""):
            assert "compose_project, service_name" in target["expr"], panel["title"]


ALERTMANAGER_CONFIG = REPO / "compose/stack/alertmanager/alertmanager.yml"


def test_alertmanager_config_is_valid_and_routes_to_the_receiver_compose_runs() -> None:
    amtool = require_tool("amtool", "apt-get install prometheus-alertmanager")
    result = subprocess.run(
        [amtool, "check-config", str(ALERTMANAGER_CONFIG)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    stack = services(STACK_COMPOSE)
    (webhook,) = load_yaml(ALERTMANAGER_CONFIG)["receivers"][0]["webhook_configs"]
    assert webhook["send_resolved"] is True  # the receiver logs the end of an incident too
    receiver = stack["alert-receiver"]["environment"]
    assert webhook["url"] == f"http://alert-receiver:{receiver['ALERT_RECEIVER_PORT']}/alerts"
    # The alerts are grouped by the labels the SLO rules keep (tools/slo_rules.py, BY).
    route = load_yaml(ALERTMANAGER_CONFIG)["route"]
    assert set(route["group_by"]) == {"alertname", "slo", "compose_project", "service_name"}


def test_prometheus_sends_alerts_to_the_stacks_alertmanager() -> None:
    (alertmanagers,) = load_yaml(PROMETHEUS_CONFIG)["alerting"]["alertmanagers"]
    assert alertmanagers["static_configs"][0]["targets"] == ["alertmanager:9093"]
    command = services(STACK_COMPOSE)["alertmanager"]["command"]
    assert "--config.file=/etc/alertmanager/alertmanager.yml" in command
    assert "127.0.0.1:9093:9093" in services(STACK_COMPOSE)["alertmanager"]["ports"]
