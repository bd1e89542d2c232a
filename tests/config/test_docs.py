"""The README and the architecture page say what the repository does: ports, sessions, commands."""

import re
import subprocess
import sys
import tomllib

from tests.config.repo_files import ARCHITECTURE, REPO, host_ports, ports_in_table

README = REPO / "README.md"


def test_readme_ports_table_matches_the_published_ports() -> None:
    table = {int(p) for p in ports_in_table(README.read_text(), "## URLs")}
    assert table == set(host_ports()), "README's URL table and the compose files disagree"


def test_every_published_port_is_one_the_architecture_page_plans() -> None:
    listed = set()
    for port in ports_in_table(ARCHITECTURE.read_text(), "## Ports"):
        if "N" in port:
            listed |= {int(port.replace("N", str(stage))) for stage in range(1, 7)}
        else:
            listed.add(int(port))
    published = host_ports()
    assert not set(published) - listed, {p: published[p] for p in set(published) - listed}


def nox_sessions() -> set[str]:
    result = subprocess.run(
        [sys.executable, "-m", "nox", "-l", "--json", "-k", ""],  # -k "": every session
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    import json

    return {session["session"] for session in json.loads(result.stdout)}


def test_every_nox_session_the_docs_name_exists() -> None:
    sessions = nox_sessions()
    docs = [README, REPO / "compose/stack/README.md", *REPO.glob("tutorials/*.md")]
    named = {name for doc in docs for name in re.findall(r"nox -s ([\w-]+)", doc.read_text())}
    assert named, "the README names no session"
    assert named <= sessions, named - sessions


def entry_points() -> set[str]:
    names = set()
    for pyproject in REPO.glob("packages/*/pyproject.toml"):
        names |= tomllib.loads(pyproject.read_text())["project"].get("scripts", {}).keys()
    return names


def test_every_uv_run_command_in_the_docs_is_an_entry_point_or_a_tool() -> None:
    tools = {"nox", "pytest", "ruff", "python", "opentelemetry-instrument"}
    docs = [README, *REPO.glob("tutorials/*.md"), REPO / "benchmarks/README.md"]
    named = {
        name
        for doc in docs
        if doc.exists()
        for name in re.findall(r"uv run (?:--group \S+ |--\S+ )*([\w-]+)", doc.read_text())
    }
    assert named - tools <= entry_points(), (named - tools) - entry_points()
