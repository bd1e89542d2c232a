"""Every compose file: valid against the compose spec, pinned, loopback-only, no secrets."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.config.repo_files import (
    COMPOSE_FILES,
    LAB_NETWORK,
    REPO,
    all_services,
    load_yaml,
    services,
)

SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY", re.IGNORECASE)
# A required variable: ${NAME:?message}, so compose refuses to start without it.
REQUIRED_VARIABLE = re.compile(r"^\$\{[A-Z_][A-Z0-9_]*:\?[^}]+\}$")
# A file a learner may replace with a copy of their own: ${NAME:-default}, the default a file of
# the repository relative to the compose file (stage 3's dice: tutorials/stage-3.md's problem).
REPLACEABLE_FILE = re.compile(r"^\$\{([A-Z][A-Z0-9_]*):-([^}]+)\}$")


def test_there_are_compose_files() -> None:
    assert len(COMPOSE_FILES) >= 2


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.parent.name)
def test_valid_against_the_compose_spec(path: Path) -> None:
    tool = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(tool), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.parent.name)
def test_first_line_says_what_it_is_and_usage_names_the_command(path: Path) -> None:
    head = path.read_text().splitlines()[:4]
    assert head[0].startswith("# ")
    assert any("Usage: nox -s" in line for line in head), head


def test_every_image_is_pinned_to_an_explicit_version() -> None:
    for path, name, service in all_services():
        image = service.get("image", "")
        assert image, f"{path.parent.name}:{name} has no image name"
        tag = image.rsplit(":", 1)[1] if ":" in image.split("/")[-1] else ""
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{name}: {image} is not pinned"


def test_every_host_port_is_bound_to_loopback() -> None:
    for path, name, service in all_services():
        for mapping in service.get("ports", []):
            assert isinstance(mapping, str), f"{name}: use the short ip:host:container form"
            assert mapping.startswith("127.0.0.1:"), (
                f"{path.parent.name}:{name} publishes {mapping}"
            )


def test_no_credential_literals() -> None:
    for path, name, service in all_services():
        environment = service.get("environment", {})
        assert isinstance(environment, dict), f"{name}: use the mapping form for environment"
        for key, value in environment.items():
            if SECRET_NAME.search(key):
                assert REQUIRED_VARIABLE.match(str(value)), (
                    f"{path.parent.name}:{name} sets {key} to a literal; use ${{VAR:?message}}"
                )


def test_every_service_has_a_healthcheck_memory_limit_restart_policy_and_log_rotation() -> None:
    for path, name, service in all_services():
        where = f"{path.parent.name}:{name}"
        assert "test" in service.get("healthcheck", {}), f"{where} has no healthcheck"
        assert service.get("mem_limit"), f"{where} has no memory limit"
        assert service.get("restart") == "unless-stopped", f"{where} has no restart policy"
        assert "max-size" in service.get("logging", {}).get("options", {}), f"{where}: logging"


def test_every_service_runs_as_non_root() -> None:
    # Images we build set USER in the Dockerfile; images we pull get `user:` here.
    for path, name, service in all_services():
        if "build" in service:
            continue
        user = str(service.get("user", ""))
        assert user and not user.startswith(("0", "root")), (
            f"{path.parent.name}:{name} runs as root"
        )


def test_the_stack_creates_the_lab_network_and_apps_join_it() -> None:
    for path in COMPOSE_FILES:
        network = load_yaml(path)["networks"]["lab"]
        assert network["name"] == LAB_NETWORK
        is_stack = path.parent.name == "stack"
        assert network.get("external", False) is not is_stack, path
        for name, service in services(path).items():
            assert service.get("networks") == ["lab"], f"{name} is not on the lab network"


def test_volumes_are_named() -> None:
    for path, name, service in all_services():
        for volume in service.get("volumes", []):
            if isinstance(volume, dict):
                continue  # a file a learner may replace: the test below
            source = volume.split(":")[0]
            # A bind mount is one of the lab's config files (an earlier stage's is shared, as
            # stage 5's init.sql), or the Docker socket; anything else is a named volume.
            if source.startswith(("./", "../")):
                resolved = (path.parent / source).resolve()
                assert resolved.is_relative_to(REPO / "compose") and resolved.exists(), volume
                continue
            assert source == "/var/run/docker.sock" or re.fullmatch(r"[a-z0-9-]+", source), (
                f"{path.parent.name}:{name} mounts {volume}"
            )


def test_a_long_form_mount_is_a_read_only_file_of_the_lab_a_variable_may_replace() -> None:
    # The one exception to "./" and named volumes: a file the learner edits a copy of and points
    # a variable at (stage 3's dice), so that a chapter's problem can be caused without editing
    # a compose file. Read-only, so the hardening holds; a mistyped path stops compose instead of
    # becoming a directory there (create_host_path, which the short form cannot turn off); its
    # default the lab's own file, readable by the container's user; the service told where it
    # is; and the variable not in .env.example, which `nox` fills with generated secrets.
    example = (REPO / ".env.example").read_text()
    found = []
    for path, name, service in all_services():
        where = f"{path.parent.name}:{name}"
        for volume in service.get("volumes", []):
            if not isinstance(volume, dict):
                continue
            found.append(where)
            assert volume["type"] == "bind" and volume.get("read_only") is True, where
            assert volume.get("bind", {}).get("create_host_path") is False, where
            replaceable = REPLACEABLE_FILE.match(volume["source"])
            assert replaceable, f"{where}: the source is ${{NAME:-file of the lab}}"
            variable, default = replaceable.groups()
            file = (path.parent / default).resolve()
            assert file.is_file() and file.is_relative_to(REPO), f"{where}: {default}"
            assert file.stat().st_mode & 0o004, f"{where}: {default} is not readable by others"
            assert volume["target"] in service["environment"].values(), f"{where}: not told"
            assert f"\n{variable}=" not in example, f"{variable} would get a generated value"
    assert found == ["stage3:die-service"], found


def test_every_container_is_hardened_and_says_whether_its_root_is_read_only() -> None:
    for path, name, service in all_services():
        where = f"{path.parent.name}:{name}"
        assert "no-new-privileges:true" in service.get("security_opt", []), where
        assert service.get("cap_drop") == ["ALL"], where
        assert "read_only" in service, f"{where}: say read_only true (with tmpfs) or false"
        if service["read_only"]:
            assert "/tmp" in service.get("tmpfs", []), f"{where}: a read-only root needs a /tmp"


def test_only_grafana_keeps_a_writable_root() -> None:
    # The frontends run read-only in the container tests; Grafana waits for a run of its image.
    writable = {f"{p.parent.name}:{n}" for p, n, s in all_services() if not s["read_only"]}
    assert writable == {"stack:grafana"}
