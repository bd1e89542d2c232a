"""Stage 5's, 6's and 7's compose init scripts and die-services agree on the dice table and seed."""

import json
import subprocess

import httpx
import pytest
import yaml
from lab_dice.dice import DICE_FILE

from tests.support.paths import REPO
from tests.support.ports import free_port

STAGES = pytest.mark.parametrize("stage", [5, 6, 7])
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


def init_sql(stage: int) -> str:
    """The init script the stage's compose file mounts into its postgres."""
    folder = REPO / f"compose/stage{stage}"
    volumes = yaml.safe_load((folder / "compose.yaml").read_text())["services"]["postgres"]
    (source,) = [
        v.split(":")[0]
        for v in volumes["volumes"]
        if isinstance(v, str) and ":/docker-entrypoint-initdb.d/init.sql" in v
    ]
    return str((folder / source).resolve())


@STAGES
def test_init_script_and_service_make_the_same_table_and_seed(
    postgres_cluster, start_service, stage
) -> None:
    by_script = postgres_cluster.create_database(f"by_script_{free_port()}")
    psql(by_script, "-f", init_sql(stage))
    by_service = postgres_cluster.create_database(f"by_service_{free_port()}")
    port = free_port()
    service = start_service(
        f"stage{stage}-die-service",
        {"DIE_SERVICE_PORT": str(port), "DIE_SERVICE_DATABASE_URL": by_service},
        port,
    )
    assert httpx.get(f"{service.base_url}/dice").status_code == 200
    assert psql(by_script, "-c", COLUMNS) == psql(by_service, "-c", COLUMNS)

    seed = "SELECT name, faces, weights, failure_rate, slow_rate FROM dice ORDER BY name"
    assert psql(by_script, "-c", seed) == psql(by_service, "-c", seed)
    # Every stage seeds from lab-dice's dice file (the die-service's default DIE_SERVICE_DICE_FILE).
    names = sorted(d["name"] for d in json.loads(DICE_FILE.read_text()))
    assert psql(by_script, "-c", "SELECT name FROM dice ORDER BY name").split() == names


@STAGES
def test_the_service_leaves_a_database_seeded_by_the_script_alone(
    postgres_cluster, start_service, stage
) -> None:
    dsn = postgres_cluster.create_database(f"seeded_{free_port()}")
    psql(dsn, "-f", init_sql(stage))
    psql(dsn, "-c", "DELETE FROM dice WHERE name = 'coin'")  # an operator's change survives
    port = free_port()
    service = start_service(
        f"stage{stage}-die-service",
        {"DIE_SERVICE_PORT": str(port), "DIE_SERVICE_DATABASE_URL": dsn},
        port,
    )
    names = {d["name"] for d in httpx.get(f"{service.base_url}/dice").json()["dice"]}
    assert "coin" not in names and "fair" in names
