"""Stage 1's dashboard: one service, so the shared panels are all it has."""

TITLE = "one service"
SUMMARY = "the dice-roller's fair and risky dice."
LINKS: tuple[tuple[str, str], ...] = ()


def panels(project: str) -> list:
    return []
