"""`python -m tools.dashboards`: regenerate the stage dashboards' JSON (see tools/dashboards)."""

import sys

from tools.dashboards.generate import FOLDER, ROOT, write

if sys.argv[1:]:
    sys.exit(
        f"python -m tools.dashboards takes no arguments: it writes every stage's dashboard to "
        f"{FOLDER.relative_to(ROOT)}"
    )
for written in write():
    print(f"wrote {written.relative_to(ROOT)}")
