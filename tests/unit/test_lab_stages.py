"""The stage registry (lab_stages): the lab's file reads; a wrong one fails on load, one line."""

from pathlib import Path

import lab_stages
import pytest
from lab_stages import RegistryError, UnknownName, load

STAGE = """
[[app]]
name = "stage-1"
stage = 1
package = "stage1"
compose = "stage1"
project = "stage-1"
namespace = "stage-1"

[[app.service]]
name = "dice-roller"
container = "stage1-dice-roller"
container_port = 8000
kind = "api"
port = 8100
path = "/roll?die=risky"
"""


def registry(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "stages.toml"
    path.write_text(text)
    return path


def test_the_labs_registry_names_every_stage_and_each_service_by_what_a_learner_types() -> None:
    assert [app.name for app in lab_stages.stages()] == [f"stage-{n}" for n in range(1, 8)]
    stage2 = lab_stages.app("stage-2")
    assert (stage2.package, stage2.compose, stage2.project) == ("stage2", "stage2", "stage-2")
    assert stage2.namespace == "stage-2"
    assert stage2.service("dice-roller").url == "http://127.0.0.1:8201"
    assert stage2.service("frontend").metrics_port == 8209
    assert lab_stages.app("stage-5").service("postgres").sample == (
        "127.0.0.1:5434 (user dice, password in .env)"
    )
    assert lab_stages.all_ports()[8302] == "stage-3 die-service"
    assert lab_stages.all_ports()[8001] == "dice-roller"


def test_an_unknown_name_lists_the_choices() -> None:
    with pytest.raises(UnknownName, match=r"^unknown app stage2: choose from dice-roller, "):
        lab_stages.app("stage2")
    with pytest.raises(UnknownName, match="stage-1 has no service frontend: choose from dice"):
        lab_stages.app("stage-1").service("frontend")


def test_a_good_file_loads_into_frozen_dataclasses(tmp_path) -> None:
    (app,) = load(registry(tmp_path, STAGE))
    assert app.stage == 1
    service = app.service("dice-roller")
    assert service.sample == "http://127.0.0.1:8100/roll?die=risky"
    assert service.metrics_port is None
    with pytest.raises(AttributeError):
        service.port = 8101  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("port = 8100", "port = 70000"), "stage-1 dice-roller: port 70000 is not a port"),
        (
            ("port = 8100", 'port = "8100"'),
            "port must be an integer, not '8100'",
        ),
        (('kind = "api"', 'kind = "queue"'), "kind must be one of api, page, database"),
        (('container = "stage1-dice-roller"\n', ""), "stage-1 dice-roller: container is missing"),
        (('path = "/roll', 'path = "roll'), "path must start with /, not 'roll?die=risky'"),
        (('name = "stage-1"', 'name = "stage-one"'), "stage-one: stage 1 must be named stage-1"),
        (('name = "stage-1"', 'name = "Stage 1"'), "name 'Stage 1' is not lower-case words"),
        (('package = "stage1"', 'package = "stage-1"'), "'stage-1' is not a Python package"),
        (("stage = 1", "stage = 1\nport = 8100"), "stage-1: unknown key 'port'"),
        (("[[app.service]]", "[[app.services]]"), "stage-1: unknown key 'services'"),
        (("port = 8100", "port = 8100\nurl = 'x'"), "stage-1 dice-roller: unknown key 'url'"),
        (("[[app]]", "[[stage]]"), "stages.toml: unknown key 'stage'"),
        (("[[app]]", "[[app"), "stages.toml: "),
    ],
)
def test_a_malformed_entry_fails_on_load_naming_where(tmp_path, change, message) -> None:
    text = STAGE.replace(*change)
    assert text != STAGE
    with pytest.raises(RegistryError) as error:
        load(registry(tmp_path, text))
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_port_used_twice_names_both_users(tmp_path) -> None:
    stage2 = (
        STAGE.replace("stage-1", "stage-2")
        .replace("stage1", "stage2")
        .replace("stage = 1", "stage = 2")
        .replace('name = "dice-roller"', 'name = "frontend"')
        .replace('kind = "api"', 'kind = "page"')
        .replace("port = 8100\n", "port = 8200\nmetrics_port = 8100\n")
    )
    with pytest.raises(RegistryError) as error:
        load(registry(tmp_path, STAGE + stage2))
    assert str(error.value) == (
        "stages.toml: port 8100 is used by stage-1 dice-roller and stage-2 frontend metrics"
    )


def test_an_app_listed_twice_is_refused(tmp_path) -> None:
    twice = STAGE + STAGE.replace("port = 8100", "port = 8101")
    with pytest.raises(RegistryError, match="name 'stage-1' is used by two apps"):
        load(registry(tmp_path, twice))
