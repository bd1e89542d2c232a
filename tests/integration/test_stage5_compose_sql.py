"""Stage 5's compose init script and the die-service agree on the dice table and its seed."""

import json
import subprocess

import httpx

from tests.conftest import REPO, free_port

INIT_SQL = REPO / "compose/stage5/postgres/init.sql"
DICE_FILE = REPO / "packages/stage5/src/stage5/dice.json"
COLUMNS = (
    "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns"
    " WHERE table_name = 'dice' ORDER BY ordinal_position"
)


def psql(dsn: str, *args: str) -> str:
    return subprocess.run(
        ["psql", dsn, "-v", "ON_ERROR_STOP=1", "-tA", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.strip()


def test_init_script_and_service_make_the_same_table_and_seed(
    postgres_cluster, start_service
) -> None:
    by_script = postgres_cluster.create_database(f"by_script_{free_port()}")
    psql(by_script, "-f", str(INIT_SQL))
    by_service = postgres_cluster.create_database(f"by_service_{free_port()}")
    port = free_port()
    service = start_service(
        "stage5-die-service",
        {"DIE_SERVICE_PORT": str(port), "DIE_SERVICE_DATABASE_URL": by_service},
        port,
    )
    assert httpx.get(f"{service.base_url}/dice").status_code == 200
    assert psql(by_script, "-c", COLUMNS) == psql(by_service, "-c", COLUMNS)

    seed = "SELECT name, faces, weights, failure_rate, slow_rate FROM dice ORDER BY name"
    assert psql(by_script, "-c", seed) == psql(by_service, "-c", seed)
    names = sorted(d["name"] for d in json.loads(DICE_FILE.read_text()))
    assert psql(by_script, "-c", "SELECT name FROM dice ORDER BY name").split() == names


def test_the_service_leaves_a_database_seeded_by_the_script_alone(
    postgres_cluster, start_service
) -> None:
    dsn = postgres_cluster.create_database(f"seeded_{free_port()}")
    psql(dsn, "-f", str(INIT_SQL))
    psql(dsn, "-c", "DELETE FROM dice WHERE name = 'coin'")  # an operator's change survives
    port = free_port()
    service = start_service(
        "stage5-die-service", {"DIE_SERVICE_PORT": str(port), "DIE_SERVICE_DATABASE_URL": dsn}, port
    )
    names = {d["name"] for d in httpx.get(f"{service.base_url}/dice").json()["dice"]}
    assert "coin" not in names and "fair" in names
