"""The GitHub Actions workflows: actionlint (with shellcheck on their run: scripts) and yamllint
accept them, ci.yml runs .ci/run as every other CI does, every action is pinned to a version;
and the Chromium the browser tests drive, which the workflow chooses with LAB_CHROMIUM."""

import re
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from tests.config.repo_files import REPO
from tests.config.test_stack_configs import venv_tool
from tests.support import browser

WORKFLOWS_DIR = REPO / ".github" / "workflows"
WORKFLOWS = sorted([*WORKFLOWS_DIR.glob("*.yml"), *WORKFLOWS_DIR.glob("*.yaml")])
CI_WORKFLOW = WORKFLOWS_DIR / "ci.yml"
# A release tag (v7, v10.1.0) or a full commit; never a branch such as main or master.
PINNED = re.compile(r"v\d+(\.\d+){0,2}|[0-9a-f]{40}")


def load_workflow(path: Path) -> dict:
    workflow = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the bare key `on` as the boolean true.
    if True in workflow:
        workflow["on"] = workflow.pop(True)
    return workflow


def uses_of(workflow: dict) -> list[str]:
    """Every `uses:` of every job: its steps' actions and reusable workflows it calls."""
    found = []
    for job in workflow["jobs"].values():
        if "uses" in job:
            found.append(job["uses"])
        found += [step["uses"] for step in job.get("steps", []) if "uses" in step]
    return found


def test_ci_workflow_exists() -> None:
    assert CI_WORKFLOW in WORKFLOWS


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_actionlint_accepts_the_workflow(path: Path) -> None:
    # shellcheck named explicitly: actionlint silently skips run: scripts when it finds none.
    result = subprocess.run(
        [
            venv_tool("actionlint"),
            "-no-color",
            "-oneline",
            f"-shellcheck={venv_tool('shellcheck')}",
            str(path.relative_to(REPO)),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_yamllint_accepts_the_workflows() -> None:
    result = subprocess.run(
        [venv_tool("yamllint"), "--strict", "-c", str(REPO / ".yamllint.yaml"), str(WORKFLOWS_DIR)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_the_command_ci_runs_here_on_every_push_and_pull_request() -> None:
    workflow = load_workflow(CI_WORKFLOW)
    assert {"push", "pull_request"} <= set(workflow["on"])
    (job,) = workflow["jobs"].values()
    assert job["runs-on"] == "ubuntu-latest"
    assert job["env"]["CI"] == "true"
    assert job["timeout-minutes"] <= 60
    runs = [step["run"].strip() for step in job["steps"] if "run" in step]
    assert "bash .ci/run" in runs
    actions = {use.partition("@")[0] for use in uses_of(workflow)}
    assert {"actions/checkout", "actions/setup-node", "astral-sh/setup-uv"} <= actions


def test_ci_installs_the_uv_that_ci_run_pins() -> None:
    pinned = re.search(r"^uv_version=(\d+\.\d+\.\d+)$", (REPO / ".ci" / "run").read_text(), re.M)
    assert pinned, ".ci/run no longer pins uv as uv_version=X.Y.Z: make this test read the new pin"
    (job,) = load_workflow(CI_WORKFLOW)["jobs"].values()
    (setup_uv,) = [step for step in job["steps"] if "setup-uv" in step.get("uses", "")]
    assert setup_uv["with"]["version"] == pinned.group(1)


def test_ci_hands_the_browser_tests_playwrights_chromium() -> None:
    (job,) = load_workflow(CI_WORKFLOW)["jobs"].values()
    script = "\n".join(step.get("run", "") for step in job["steps"])
    assert "playwright install --with-deps chromium" in script
    assert 'echo "LAB_CHROMIUM=' in script and "$GITHUB_ENV" in script


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_every_action_is_pinned_to_a_version(path: Path) -> None:
    for use in uses_of(load_workflow(path)):
        if use.startswith("./"):
            continue  # an action or workflow of this repository, at the same commit
        name, _, ref = use.partition("@")
        assert PINNED.fullmatch(ref), f"{use}: pin {name} to a release tag or a commit"


# The browser tests' Chromium (browser.chromium_executable). A stand-in for Playwright says where
# `playwright install chromium` would have put its browser; None where it must not be asked.


def fake_playwright(executable_path: Path | None) -> SimpleNamespace:
    if executable_path is None:
        return SimpleNamespace(chromium=None)
    return SimpleNamespace(chromium=SimpleNamespace(executable_path=str(executable_path)))


def touch(path: Path) -> Path:
    path.write_text("")
    return path


def test_lab_chromium_replaces_the_system_chromium(tmp_path, monkeypatch) -> None:
    chosen = touch(tmp_path / "chrome")
    monkeypatch.setenv("LAB_CHROMIUM", str(chosen))
    monkeypatch.setattr(browser, "CHROMIUM", str(touch(tmp_path / "chromium")))
    executable = browser.chromium_executable(fake_playwright(None))
    assert executable == str(chosen)


def test_a_missing_lab_chromium_is_reported_not_replaced(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LAB_CHROMIUM", str(tmp_path / "absent"))
    monkeypatch.setattr(browser, "CHROMIUM", str(touch(tmp_path / "chromium")))
    with pytest.raises((pytest.skip.Exception, pytest.fail.Exception), match="LAB_CHROMIUM"):
        browser.chromium_executable(fake_playwright(None))


def test_the_system_chromium_comes_first_and_playwrights_is_not_looked_for(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.delenv("LAB_CHROMIUM", raising=False)
    system = touch(tmp_path / "chromium")
    monkeypatch.setattr(browser, "CHROMIUM", str(system))
    assert browser.chromium_executable(fake_playwright(None)) == str(system)


def test_without_a_system_chromium_playwrights_installed_one_is_used(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("LAB_CHROMIUM", raising=False)
    monkeypatch.setattr(browser, "CHROMIUM", str(tmp_path / "absent"))
    bundled = touch(tmp_path / "chrome-linux64-chrome")
    assert browser.chromium_executable(fake_playwright(bundled)) == str(bundled)


def test_without_any_chromium_the_browser_tests_skip_or_fail_in_ci(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("LAB_CHROMIUM", raising=False)
    monkeypatch.setattr(browser, "CHROMIUM", str(tmp_path / "absent"))
    playwright = fake_playwright(tmp_path / "not-installed")
    with pytest.raises((pytest.skip.Exception, pytest.fail.Exception), match="chromium not found"):
        browser.chromium_executable(playwright)
