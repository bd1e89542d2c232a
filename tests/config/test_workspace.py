"""The three ways in: the Nix flake, the devcontainer, and the README that names them."""

import json
import re
import subprocess
import sys
from pathlib import Path

import json5
import pytest

from tests.config.repo_files import REPO, all_services, host_ports
from tests.config.test_docs import README, REFERENCE, nox_sessions
from tests.support.prerequisites import require_tool

FLAKE = REPO / "flake.nix"
DEVCONTAINER = REPO / ".devcontainer" / "devcontainer.json"
# The spec schema's rules for the keys the lab uses, with its source (the file's $comment).
SCHEMA = REPO / "tests" / "config" / "devcontainer.schema.json"
# A command the docs or sessions run -> the nixpkgs attribute in the devShell that provides it.
PROVIDED_BY = {
    "uv": "uv",
    "python3": "python313",
    "docker": "docker-client",
    "psql": "postgresql_17",
    "pg_ctl": "postgresql_17",
    "createdb": "postgresql_17",
    "node": "nodejs",
    "npm": "nodejs",
    "prometheus": "prometheus",
    "promtool": "prometheus",
    "prometheus-postgres-exporter": "prometheus-postgres-exporter",
    "chromium": "chromium",
    "wrk": "wrk",
    "kind": "kind",
    "kubectl": "kubectl",
    "helm": "kubernetes-helm",
    "taskset": "util-linux",
    "curl": "curl",
    "git": "git",
    "wc": "coreutils",
    "sed": "gnused",
}
# A line of a chapter's block that starts with one of these is shell, not a command to provide.
SHELL_KEYWORDS = {"for", "while", "if", "do", "done", "then", "fi"}
# Commands the workspace's own virtualenv provides once `uv sync` ran (the shell hook does).
FROM_THE_WORKSPACE = {"nox", "pytest", "ruff", "shellcheck", "hadolint", "yamllint"}


def flake_packages() -> set[str]:
    text = FLAKE.read_text()
    packages = re.search(r"packages =(.*?)env =", text, re.DOTALL).group(1)
    return set(re.findall(r"^\s+([a-z][\w-]*)$", packages, re.MULTILINE))


def test_flake_parses() -> None:
    nix = require_tool("nix-instantiate", "apt-get install nix-bin")
    result = subprocess.run(
        [nix, "--parse", str(FLAKE)], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_flake_lock_pins_nixpkgs_to_a_release_branch_revision() -> None:
    lock = json.loads((REPO / "flake.lock").read_text())
    nixpkgs = lock["nodes"][lock["nodes"]["root"]["inputs"]["nixpkgs"]]
    assert re.fullmatch(r"[0-9a-f]{40}", nixpkgs["locked"]["rev"])
    assert re.fullmatch(r"sha256-[A-Za-z0-9+/]{43}=", nixpkgs["locked"]["narHash"])
    assert nixpkgs["original"]["ref"] == "nixos-25.11"
    assert "github:NixOS/nixpkgs/nixos-25.11" in FLAKE.read_text()


def test_the_dev_shell_has_python_uv_and_every_tool_the_docs_and_sessions_call() -> None:
    text = FLAKE.read_text()
    for system in ("x86_64-linux", "aarch64-linux", "x86_64-darwin", "aarch64-darwin"):
        assert f'"{system}"' in text
    assert 'UV_PYTHON = "${pkgs.python313}/bin/python3.13"' in text
    assert 'UV_PYTHON_DOWNLOADS = "never"' in text
    assert "uv sync --locked" in text and "source .venv/bin/activate" in text
    assert "formatter = forAllSystems (pkgs: pkgs.nixfmt);" in text  # nixfmt-rfc-style is renamed

    noxfile = (REPO / "noxfile.py").read_text()
    used = set(re.findall(r'session\.run\(\s*"([\w.-]+)"', noxfile))
    used |= {"docker"} if '"docker", "compose"' in noxfile else set()
    docs = [README, REFERENCE, *REPO.glob("tutorials/*.md"), REPO / "compose/stack/README.md"]
    for doc in docs:
        for block in re.findall(r"```bash\n(.*?)```", doc.read_text(), re.DOTALL):
            for line in block.replace("\\\n", " ").splitlines():
                words = [w for w in line.split() if "=" not in w]  # skip VAR=value prefixes
                if words and not line.lstrip().startswith("#"):
                    used.add(words[0])
    used -= SHELL_KEYWORDS
    benchmarks = " ".join(p.read_text() for p in (REPO / "benchmarks").glob("*.py"))
    used |= {tool for tool in ("wrk", "taskset") if f'"{tool}"' in benchmarks}
    missing = {
        tool for tool in used - FROM_THE_WORKSPACE if PROVIDED_BY.get(tool) not in flake_packages()
    }
    assert not missing, f"not in the devShell: {missing}"


def devcontainer() -> dict:
    return json5.loads(DEVCONTAINER.read_text())


def test_devcontainer_has_what_codespaces_needs() -> None:
    config = devcontainer()
    # Current majors (devcontainers/images src/python 3.x, devcontainers/features
    # docker-in-docker 4.x).
    assert "devcontainers/python:3-3.13" in config["image"]
    assert any(f.endswith("/docker-in-docker:4") for f in config["features"])
    assert "uv sync --locked" in config["onCreateCommand"]
    assert isinstance(config["postStartCommand"], str)
    assert config["containerEnv"]["UV_PYTHON_DOWNLOADS"] == "never"
    extensions = config["customizations"]["vscode"]["extensions"]
    assert {"ms-python.python", "charliermarsh.ruff"} <= set(extensions)
    attributes = config["portsAttributes"]
    assert attributes["3000"] == {"label": "Grafana", "onAutoForward": "openBrowser"}
    assert all(isinstance(a["label"], str) for a in attributes.values())


def test_devcontainer_ports_are_compose_ports_and_commands_are_sessions() -> None:
    config = devcontainer()
    published = host_ports()
    assert set(config["forwardPorts"]) <= published.keys()
    assert {str(p) for p in config["forwardPorts"]} == config["portsAttributes"].keys()
    sessions = nox_sessions()
    commands = config["onCreateCommand"] + " " + config["postStartCommand"]
    named = re.findall(r"nox -s ([\w-]+)", commands)
    assert named and set(named) <= sessions


def test_host_requirements_cover_the_stack_and_stage_1_on_paper() -> None:
    def mebibytes(limit: str) -> int:
        number, unit = re.fullmatch(r"(\d+)([mg])", limit).groups()
        return int(number) * (1024 if unit == "g" else 1)

    running = [s for p, _, s in all_services() if p.parent.name in ("stack", "stage1")]
    needed = sum(mebibytes(s["mem_limit"]) for s in running) + 2048  # engine, builds, editor
    memory = devcontainer()["hostRequirements"]["memory"]
    assert int(memory.removesuffix("gb")) * 1024 >= needed, (memory, needed)


def check_devcontainer(path: Path) -> subprocess.CompletedProcess:
    tool = Path(sys.executable).parent / "check-jsonschema"
    return subprocess.run(
        [str(tool), "--force-filetype", "json5", "--schemafile", str(SCHEMA), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_devcontainer_keeps_to_the_spec_for_every_key_it_uses() -> None:
    result = check_devcontainer(DEVCONTAINER)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "change",
    [{"hostRequirements": {"memory": "8 GB"}}, {"forwardPorts": [70000]}, {"postStarCommand": "x"}],
)
def test_a_devcontainer_off_the_spec_is_caught(change: dict, tmp_path) -> None:
    broken = {**json5.loads(DEVCONTAINER.read_text()), **change}
    (tmp_path / "devcontainer.json").write_text(json.dumps(broken))
    assert check_devcontainer(tmp_path / "devcontainer.json").returncode != 0


def test_readme_has_the_codespaces_badge_and_three_ways_in() -> None:
    readme = README.read_text()
    assert "https://github.com/codespaces/badge.svg" in readme
    for way in ("nix develop", "Reopen in Container", "Codespaces"):
        assert way in readme, way
