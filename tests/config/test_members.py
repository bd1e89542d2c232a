"""Each workspace member installs alone from the lock and imports: none leans on another's deps.

The images do exactly this (`uv sync --frozen --package X`, with `--extra frontend` for a stage's
frontend), so a missing dependency would break an image while the whole-workspace virtualenv hid
it. Without the extra a stage's services import and Streamlit is not there at all.
"""

import os
import shutil
import subprocess
import tomllib

import pytest

from tests.support.paths import REPO
from tests.support.prerequisites import require

MEMBERS = sorted(p.parent for p in REPO.glob("packages/*/pyproject.toml"))
# (member, extra): every member alone, and each member with a frontend extra with it.
VARIANTS = [
    (member, extra)
    for member in MEMBERS
    for extra in ["", *tomllib.loads((member / "pyproject.toml").read_text())["project"]
                  .get("optional-dependencies", {})]
]  # fmt: skip

IMPORT_EVERY_MODULE = """
import importlib, importlib.util, pkgutil, sys
package = importlib.import_module(sys.argv[1])
# Without the frontend extra, the frontend's modules are the ones left out.
skipped = () if sys.argv[2] else (".frontend", ".page")
for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
    if not module.name.endswith((".page", *skipped)):  # Streamlit/Shiny pages run on import
        importlib.import_module(module.name)
print("ok", importlib.util.find_spec("streamlit") is not None)
"""


@pytest.mark.parametrize(
    ("member", "extra"), VARIANTS, ids=[f"{m.name}[{e}]" if e else m.name for m, e in VARIANTS]
)
def test_member_installs_alone_from_the_lock_and_imports(member, extra, tmp_path) -> None:
    uv = shutil.which("uv")
    require(uv is not None, "uv not found (pip install uv)")
    name = tomllib.loads((member / "pyproject.toml").read_text())["project"]["name"]
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(tmp_path / "venv")}
    env.pop("VIRTUAL_ENV", None)
    sync = subprocess.run(
        [uv, "sync", "--locked", "--no-dev", "--package", name, "--quiet"]
        + (["--extra", extra] if extra else []),
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
        [str(tmp_path / "venv/bin/python"), "-c", IMPORT_EVERY_MODULE, module, extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    streamlit = name == "lab-frontend" or extra == "frontend"
    assert result.stdout.split() == ["ok", str(streamlit)], result.stderr
