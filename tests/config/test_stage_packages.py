"""The stage packages hold their chapters' lessons: no file of one is a copy of another's.

What several stages need lives once in lab-dice or lab-frontend, or in the stage that teaches it,
which the later stages import; a copy would be edited four times and drift.
"""

import re
from collections import defaultdict

from tests.support.paths import REPO


def normalised(text: str, package: str) -> str:
    """The file as it would read in any stage: its own stage's name and number left out."""
    number = package.removeprefix("stage")
    text = re.sub(rf"\b{package}\b", "stageN", text)
    text = re.sub(rf"\bstage-{number}\b", "stage-N", text)
    return re.sub(rf"\b[Ss]tage {number}\b", "stage N", text)


def test_no_file_of_a_stage_package_is_another_stages_copy() -> None:
    copies = defaultdict(list)
    for path in sorted(REPO.glob("packages/stage*/src/stage*/*")):
        if path.is_file() and path.name != "__init__.py":
            copies[normalised(path.read_text(), path.parent.name)].append(path.relative_to(REPO))
    repeated = [paths for paths in copies.values() if len(paths) > 1]
    assert not repeated, f"the same file in several stages: {repeated}"
