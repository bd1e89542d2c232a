"""`nox -s doctor` and the Docker sessions' checks, with a stand-in `docker` on PATH.

Each test copies the noxfile, its helpers and the compose files into a temporary directory, so the
.env they write is a throwaway one, and runs nox there as a person would.
"""

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

import lab_stages
import pytest
from dotenv import dotenv_values

from tests.config.repo_files import REPO, STACK_COMPOSE, load_yaml
from tests.support.ports import occupied_port

FAKE_DOCKER = REPO / "tests" / "support" / "fake_docker_cli.py"
NOX = str(Path(sys.executable).parent / "nox")
LINUX_ENGINE = {
    "ServerVersion": "28.2.2",
    "OperatingSystem": "Debian GNU/Linux 12 (bookworm)",
    "MemTotal": 16 * 1024**3,
    "DockerRootDir": "/var/lib/docker",
}
DESKTOP_ENGINE = {**LINUX_ENGINE, "OperatingSystem": "Docker Desktop"}
PROBE_IMAGE = load_yaml(STACK_COMPOSE)["services"]["postgres"]["image"]


class Lab:
    """A copy of the project's nox entry points with a stand-in docker."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for name in ("noxfile.py", ".env.example"):
            shutil.copy(REPO / name, root / name)
        # The registry of stages and apps too, which the noxfile reads by path.
        for name in ("tools", "compose", "packages/lab-stages/src"):
            shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        bin_dir = root / "bin"
        bin_dir.mkdir()
        docker = bin_dir / "docker"
        docker.write_text(f'#!/bin/sh\nexec {sys.executable} {FAKE_DOCKER} "$@"\n')
        docker.chmod(0o755)
        self.state_file = root / "docker-state.json"
        self.log_file = root / "docker-calls.jsonl"
        self.state = {"info": LINUX_ENGINE, "compose": "2.39.1", "ps": [], "socket_gid": "988"}

    def nox(self, *args: str) -> subprocess.CompletedProcess:
        self.state_file.write_text(json.dumps({**self.state, "log": str(self.log_file)}))
        env = {
            **os.environ,
            "PATH": f"{self.root / 'bin'}:{os.environ['PATH']}",
            "FAKE_DOCKER_STATE": str(self.state_file),
        }
        return subprocess.run(
            # The `nox` command, as `uv run nox` runs it (not `python -m nox`, which would put
            # the working directory on sys.path and hide a missing import path).
            [NOX, "-f", str(self.root / "noxfile.py"), "--no-color", *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def calls(self) -> list[list[str]]:
        if not self.log_file.exists():
            return []
        return [json.loads(line) for line in self.log_file.read_text().splitlines()]

    def compose_ups(self) -> list[list[str]]:
        return [c for c in self.calls() if c[:1] == ["compose"] and "up" in c]


@pytest.fixture
def lab(tmp_path) -> Lab:
    return Lab(tmp_path)


def failed_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if "FAIL  " in line]


def test_all_checks_pass_and_the_socket_group_is_read_inside_a_container(lab) -> None:
    result = lab.nox("-s", "doctor")
    assert result.returncode == 0, result.stderr
    assert f"Docker socket group as containers see it: 988 (stat inside a {PROBE_IMAGE}" in (
        result.stderr
    )
    (probe,) = [c for c in lab.calls() if c[:1] == ["run"]]
    assert "/var/run/docker.sock:/var/run/docker.sock:ro" in " ".join(probe)
    assert "docker compose 2.39.1" in result.stderr
    assert not failed_lines(result)


def test_docker_desktop_gives_group_0_and_replaces_a_host_group_in_env(lab) -> None:
    lab.state.update(info=DESKTOP_ENGINE, socket_gid=None)
    (lab.root / ".env").write_text("GRAFANA_ADMIN_PASSWORD=kept\nDOCKER_GID=1001\n")
    result = lab.nox("-s", "stage-1")
    assert result.returncode == 0, result.stderr
    assert "Docker socket group as containers see it: 0 (Docker Desktop" in result.stderr
    env = dotenv_values(lab.root / ".env")
    assert env["DOCKER_GID"] == "0"
    assert env["GRAFANA_ADMIN_PASSWORD"] == "kept"  # secrets are never replaced
    assert lab.compose_ups(), "the stack was not started"


def test_env_is_created_0600_with_every_value_filled(lab) -> None:
    # A learner who copied .env.example by hand has empty values compose would refuse.
    shutil.copy(lab.root / ".env.example", lab.root / ".env")
    (lab.root / ".env").chmod(0o644)
    result = lab.nox("-s", "stack")
    assert result.returncode == 0, result.stderr
    env_file = lab.root / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert "was readable by others, now 0600" in result.stderr
    values = dotenv_values(env_file)
    assert values and all(values.values()), values
    assert values["DOCKER_GID"] == "988"


def test_a_new_env_file_is_never_readable_by_others(lab) -> None:
    old_umask = os.umask(0o022)
    try:
        result = lab.nox("-s", "stack")
    finally:
        os.umask(old_umask)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE((lab.root / ".env").stat().st_mode) == 0o600


def test_every_failed_check_is_one_line_with_its_fix_and_compose_never_runs(lab) -> None:
    lab.state.update(compose=None, info={**LINUX_ENGINE, "MemTotal": 1024**3})
    with occupied_port() as port:
        # The app's port, as far as the copied compose file says, is the one held here.
        stage = lab.root / "compose" / "stage1" / "compose.yaml"
        stage.write_text(stage.read_text().replace('"127.0.0.1:8100:', f'"127.0.0.1:{port}:'))
        result = lab.nox("-s", "stage-1")
    assert result.returncode != 0
    lines = failed_lines(result)
    assert len(lines) == 3, result.stderr
    assert any("docker compose v2 not found: install" in line for line in lines)
    assert any(f"port {port} (dice-roller) is held by" in line for line in lines)
    assert any("give Docker more" in line for line in lines)
    assert "doctor: 3 check(s) failed" in result.stderr
    assert "Traceback" not in result.stderr
    assert not lab.compose_ups()
    assert not (lab.root / ".env").exists()


def test_a_port_held_by_the_labs_own_container_is_fine(lab) -> None:
    with occupied_port() as port:
        stack = lab.root / "compose" / "stack" / "compose.yaml"
        stack.write_text(stack.read_text().replace('"127.0.0.1:3000:', f'"127.0.0.1:{port}:'))
        lab.state["ps"] = [
            f"observability-lab-grafana-1\tobservability-lab\tgrafana\t127.0.0.1:{port}->3000/tcp"
        ]
        result = lab.nox("-s", "doctor")
    assert result.returncode == 0, result.stderr
    assert f"port {port}: already observability-lab/grafana's" in result.stderr


def test_no_engine_is_one_line(lab) -> None:
    lab.state["info"] = None
    result = lab.nox("-s", "doctor")
    assert result.returncode != 0
    aborted = [line for line in result.stderr.splitlines() if "aborted" in line]
    assert aborted == [
        "nox > Session doctor aborted: no Docker engine answers `docker info`: start Docker, "
        "then retry."
    ], result.stderr


def test_doctor_names_the_apps_it_can_check(lab) -> None:
    result = lab.nox("-s", "doctor", "--", "stage-9")
    assert result.returncode != 0
    assert "unknown app stage-9: choose from dice-roller, http-console, stage-1," in result.stderr
    assert "Traceback" not in result.stderr


def test_doctor_checks_a_stages_ports_and_takes_its_old_spelling_with_a_hint(lab) -> None:
    def ports_checked(result: subprocess.CompletedProcess) -> int:
        assert result.returncode == 0, result.stderr
        return int(result.stderr.split("ports free: ")[1].split()[0])

    stack_only = ports_checked(lab.nox("-s", "doctor"))
    assert ports_checked(lab.nox("-s", "doctor", "--", "stage-2")) == stack_only + 2
    old = lab.nox("-s", "doctor", "--", "stage2")
    assert "`stage2` is spelled `stage-2` now" in old.stderr
    assert ports_checked(old) == stack_only + 2


def test_a_port_whose_last_connections_linger_in_time_wait_is_free() -> None:
    # A stage just stopped: its server closed the browser's connections first, so they wait in
    # TIME_WAIT on its port for a minute. Starting the stage again there works; doctor must agree.
    from tools.doctor import port_is_free

    with socket.socket() as server:
        # As docker-proxy (Go) and uvicorn listen: with SO_REUSEADDR, which TIME_WAIT inherits.
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        accepted.close()  # the server's side closes first: its end enters TIME_WAIT
        client.recv(1)
        client.close()
        assert not port_is_free(port)  # still listening
    assert port_is_free(port)
    with occupied_port() as busy:
        assert not port_is_free(busy)


@pytest.mark.parametrize("stage", lab_stages.stages(), ids=lambda app: app.name)
def test_every_stages_session_gets_through_its_checks_to_compose_up(lab, stage) -> None:
    # Every compose file as the checks read it, whatever form its mounts take (stage 3's dice
    # file is a long-form bind mount).
    result = lab.nox("-s", stage.name)
    assert result.returncode == 0, result.stderr
    started = {Path(call[call.index("-f") + 1]).parent.name for call in lab.compose_ups()}
    assert started == {"stack", stage.compose}, started
