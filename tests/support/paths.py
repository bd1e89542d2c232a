"""Where the repository is, for tests that read its files (never anything outside it)."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
