"""Prerequisites a test needs: missing ones skip with their reason locally, and fail under CI=true,
so nothing is skipped silently there."""

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip when a prerequisite is missing; in CI, fail, so nothing is skipped silently."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"prerequisite missing in CI: {reason}")
    pytest.skip(reason)


def require_tool(name: str, install_hint: str, *other_names: str) -> str:
    """The path of a command (under any of its names: Debian's and nixpkgs' may differ)."""
    path = next(filter(None, map(shutil.which, (name, *other_names))), None)
    require(path is not None, f"{name} not found ({install_hint})")
    return path  # type: ignore[return-value]
