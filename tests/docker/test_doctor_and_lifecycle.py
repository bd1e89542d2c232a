"""`nox -s doctor`, `down` and `clean` against a real engine, as a learner meets them."""

import socket

import pytest
from dotenv import dotenv_values, unset_key

from tests.docker.lab import ENV_FILE, Lab, run

pytestmark = [pytest.mark.docker, pytest.mark.timeout(900)]


def stack_volumes() -> set[str]:
    listing = run(
        ["docker", "volume", "ls", "--quiet", "--filter",
         "label=com.docker.compose.project=observability-lab"],
        timeout=60,
    ).stdout  # fmt: skip
    return set(listing.split())


def test_doctor_passes_and_probes_the_socket_with_an_image_at_hand(lab: Lab) -> None:
    lab.compose("stage6", "down")
    result = lab.nox("-s", "doctor", "--", "stage-6")
    assert "ok    Docker engine" in result.stderr
    assert "ok    docker compose 2." in result.stderr
    # The socket's group as containers see it, read in a container of the stack's PostgreSQL
    # image (or its stand-in): no pull, no guess from the host's file.
    assert "Docker socket group as containers see it:" in result.stderr
    assert "stat inside a" in result.stderr, result.stderr


def test_doctor_names_what_holds_a_busy_port(lab: Lab) -> None:
    lab.compose("stage6", "down")
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", 8601))
        holder.listen()
        result = lab.nox("-s", "doctor", "--", "stage-6", check=False)
    assert result.returncode != 0
    assert "port 8601 (dice-roller) is held by" in result.stderr, result.stderr
    assert "stop it, then retry" in result.stderr


def test_doctor_with_no_engine_says_so_in_one_line(lab: Lab) -> None:
    env = {**lab.env, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    result = lab.nox("-s", "doctor", check=False, env=env, timeout=120)
    assert result.returncode != 0
    failures = [line for line in result.stderr.splitlines() if "Docker" in line]
    assert any("no Docker engine answers `docker info`" in line for line in failures), failures
    assert "Traceback" not in result.stderr + result.stdout


def test_down_keeps_the_data_volumes_and_clean_removes_them(lab: Lab) -> None:
    lab.nox("-s", "stack")
    before = stack_volumes()
    assert "observability-lab_postgres-data" in before
    lab.nox("-s", "down")
    assert stack_volumes() == before
    lab.nox("-s", "clean")
    assert stack_volumes() == set()
    # The next start makes fresh volumes, init scripts and all.
    lab.nox("-s", "stack")
    assert "observability-lab_postgres-data" in stack_volumes()


def test_nothing_publishes_on_an_address_other_than_loopback(lab: Lab) -> None:
    lab.nox("-s", "stack")
    published = run(["docker", "ps", "--format", "{{.Names}}\t{{.Ports}}"], timeout=60).stdout
    for line in published.splitlines():
        name, _, ports = line.partition("\t")
        for mapping in filter(None, (part.strip() for part in ports.split(","))):
            if "->" in mapping:
                assert mapping.startswith("127.0.0.1:"), f"{name} publishes {mapping}"


def test_a_new_password_for_an_old_database_is_refused_before_anything_starts(lab: Lab) -> None:
    # A fresh clone or a deleted .env beside the volumes of an earlier run: PostgreSQL keeps the
    # password it was made with, so a generated one could only end in an unhealthy container.
    lab.nox("-s", "stack")
    saved = ENV_FILE.read_text()
    try:
        unset_key(ENV_FILE, "POSTGRES_PASSWORD")
        result = lab.nox("-s", "stack", check=False)
        assert result.returncode != 0
        assert (
            "POSTGRES_PASSWORD is not in .env, but observability-lab_postgres-data" in result.stderr
        )
        assert "nox -s clean" in result.stderr
        assert "POSTGRES_PASSWORD" not in dotenv_values(ENV_FILE)
    finally:
        ENV_FILE.write_text(saved)
