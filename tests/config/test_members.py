"""Each workspace member installs alone from the lock and imports: none leans on another's deps.

The images do exactly this (`uv sync --frozen --package X`), so a missing dependency would break
an image while the whole-workspace virtualenv hid it.
"""

import os
import shutil
import subprocess
import tomllib

import pytest

from tests.conftest import REPO, require

MEMBERS = sorted(p.parent for p in REPO.glob("packages/*/pyproject.toml"))

IMPORT_EVERY_MODULE = """
import importlib, pkgutil, sys
package = importlib.import_module(sys.argv[1])
for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
    if not module.name.endswith(".page"):  # Streamlit/Shiny pages run on import
        importlib.import_module(module.name)
print("ok")
"""


@pytest.mark.parametrize("member", MEMBERS, ids=lambda p: p.name)
def test_member_installs_alone_from_the_lock_and_imports(member, tmp_path) -> None:
    uv = shutil.which("uv")
    require(uv is not None, "uv not found (pip install uv)")
    name = tomllib.loads((member / "pyproject.toml").read_text())["project"]["name"]
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(tmp_path / "venv")}
    env.pop("VIRTUAL_ENV", None)
    sync = subprocess.run(
        [uv, "sync", "--locked", "--no-dev", "--package", name, "--quiet"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert sync.returncode == 0, sync.stderr
    module = name.replace("-", "_")
    result = subprocess.run(
        [str(tmp_path / "venv/bin/python"), "-c", IMPORT_EVERY_MODULE, module],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout.strip() == "ok", result.stderr
