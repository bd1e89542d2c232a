"""Everything that names a stage, a service or a port agrees with the registry (lab_stages).

The registry (packages/lab-stages/src/lab_stages/stages.toml) is where a stage's names and ports
are written; the noxfile, doctor, traffic-gen and the http-console read it, and what cannot read it
(compose files, stage settings, the docs) is held to it here.
"""

import importlib
import re

import lab_stages
import pytest
from http_console.settings import ConsoleSettings
from traffic_gen.targets import detection_order, targets

from tests.config.repo_files import (
    ARCHITECTURE,
    COMPOSE_FILES,
    REPO,
    STACK_COMPOSE,
    host_ports,
    load_yaml,
    ports_in_table,
)
from tests.config.test_docs import nox_sessions

README = REPO / "README.md"
APPS = lab_stages.apps()
LOCAL_URL = re.compile(r"http://127\.0\.0\.1:(\d+)")


def published(service: dict) -> list[tuple[int, int]]:
    """(host port, container port) of each "127.0.0.1:host:container" mapping."""
    return [tuple(map(int, str(m).split(":")[-2:])) for m in service.get("ports", [])]


def stack_ports() -> set[int]:
    return {host for s in load_yaml(STACK_COMPOSE)["services"].values() for host, _ in published(s)}


def test_every_app_compose_file_is_in_the_registry() -> None:
    folders = {path.parent.name for path in COMPOSE_FILES} - {"stack"}
    assert folders == {app.compose for app in APPS}


@pytest.mark.parametrize("app", APPS, ids=lambda app: app.name)
def test_the_compose_file_has_the_registrys_project_services_ports_and_namespace(app) -> None:
    document = load_yaml(REPO / "compose" / app.compose / "compose.yaml")
    assert document["name"] == app.project
    services = document["services"]
    for entry in app.services:
        service = services.get(entry.name)
        assert service, f"{app.compose}/compose.yaml has no service {entry.name}"
        assert service["container_name"] == entry.container, entry.name
        expected = [(entry.port, entry.container_port)] if entry.port else []
        assert published(service) == expected, f"{app.label(entry)}: {service.get('ports')}"
    listed = {entry.name for entry in app.services}
    unlisted = {name for name, service in services.items() if service.get("ports")} - listed
    assert not unlisted, f"{app.name} publishes ports the registry does not list: {unlisted}"
    own_ports = {entry.port for entry in app.services} | stack_ports()
    for name, service in services.items():
        environment = service.get("environment", {})
        if "build" in service:
            assert service["build"]["args"]["PACKAGE"].replace("-", "_") == app.package, name
        attributes = environment.get("OTEL_RESOURCE_ATTRIBUTES", "")
        namespace = re.search(r"service\.namespace=([^,]+)", attributes)
        assert (namespace and namespace.group(1)) == (app.namespace if attributes else None), name
        for value in environment.values():
            for port in LOCAL_URL.findall(str(value)):
                assert int(port) in own_ports, f"{app.name} {name} points at {value}"


def test_no_app_takes_a_port_of_the_stack() -> None:
    taken = stack_ports() & lab_stages.all_ports().keys()
    assert not taken, {port: lab_stages.all_ports()[port] for port in taken}


def setting_default(module: str, settings_class: str, field: str):
    """What the settings hold when the environment says nothing (a database URL aside, which has
    no default: credentials come from outside)."""
    settings = getattr(importlib.import_module(module), settings_class)
    given = {"database_url": "postgresql://"} if "database_url" in settings.model_fields else {}
    return getattr(settings(**given), field)


def settings_class(service: str) -> str:
    """A stage's settings class of a service: die-service -> DieServiceSettings."""
    return "".join(word.title() for word in service.split("-")) + "Settings"


@pytest.mark.parametrize("stage", lab_stages.stages(), ids=lambda app: app.name)
def test_stage_settings_default_to_the_registrys_ports_and_urls(stage) -> None:
    # Run outside compose (`uv run stage2-frontend`), the services find each other by these.
    module = f"{stage.package}.settings"
    for service in stage.services:
        if service.kind == "database":
            continue
        name = settings_class(service.name)
        assert setting_default(module, name, "port") == service.port, (name, "port")
        if service.metrics_port:
            assert setting_default(module, name, "metrics_port") == service.metrics_port, name
        for other in stage.services:
            field = other.name.replace("-", "_") + "_url"
            settings = getattr(importlib.import_module(module), name)
            if other.url and field in settings.model_fields:
                assert setting_default(module, name, field) == other.url, (name, field)


def test_demo_apps_default_to_the_registrys_ports() -> None:
    roller = lab_stages.app("dice-roller").service("dice-roller")
    assert setting_default("dice_roller.settings", "Settings", "port") == roller.port
    console = lab_stages.app("http-console").service("http-console")
    assert setting_default("http_console.settings", "ConsoleSettings", "port") == console.port
    assert ConsoleSettings().default_url == roller.sample


def test_nox_has_a_session_per_stage_and_app_named_as_the_registry() -> None:
    assert {app.name for app in APPS} <= nox_sessions()


def test_traffic_gen_drives_each_stage_and_the_demo_by_their_names_newest_stage_first() -> None:
    stages = [stage.name for stage in lab_stages.stages()]
    assert detection_order() == [*reversed(stages), "dice-roller"]
    for name, target in targets().items():
        assert target.base_url == lab_stages.app(name).service("dice-roller").url
        assert target.start_hint == f"uv run nox -s {name}"


def test_the_http_console_may_call_every_api_and_no_page_or_database() -> None:
    allowed = ConsoleSettings(allowed_hosts=[]).targets
    for app in APPS:
        for service in app.services:
            is_api = service.kind == "api"
            if service.port:
                assert (f"127.0.0.1:{service.port}" in allowed) is is_api, app.label(service)
            assert (f"{service.container}:{service.container_port}" in allowed) is is_api


def url_table_rows() -> list[list[str]]:
    section = README.read_text().split("## URLs", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row] for row in rows]


def test_readme_url_table_lists_every_published_port_and_each_apps_urls_on_its_rows() -> None:
    table = {int(p) for p in ports_in_table(README.read_text(), "## URLs")}
    assert table == set(host_ports()), "README's URL table and the compose files disagree"
    rows = url_table_rows()
    for app in APPS:
        own = " ".join(cell for row in rows if re.match(rf"`?{app.name}\b", row[0]) for cell in row)
        for service in app.services:
            if service.sample:
                address = service.sample.split(" (")[0]
                assert address in own, f"README's URL table: no {address} on {app.name}'s rows"


def planned_ports() -> set[int]:
    planned = set()
    for port in ports_in_table(ARCHITECTURE.read_text(), "## Ports"):
        if "N" in port:
            planned |= {int(port.replace("N", str(stage.stage))) for stage in lab_stages.stages()}
        else:
            planned.add(int(port))
    return planned


def test_every_port_is_one_the_architecture_page_plans() -> None:
    used = {**host_ports(), **lab_stages.all_ports()}
    unplanned = set(used) - planned_ports()
    assert not unplanned, {port: used[port] for port in unplanned}


@pytest.mark.parametrize("chapter", sorted(REPO.glob("tutorials/*.md")), ids=lambda p: p.name)
def test_a_stage_port_the_tutorial_names_is_that_stages_in_the_registry(chapter) -> None:
    # Stage N's ports are 8N00-8N09 (docs/architecture.md); the registry says which are whose.
    owners = lab_stages.all_ports()
    for port in map(int, re.findall(r"\b(8[1-9]0\d)\b", chapter.read_text())):
        owner = owners.get(port, "nothing")
        assert owner.startswith(f"stage-{str(port)[1]} "), f"{chapter.name}: {port} is {owner}'s"
