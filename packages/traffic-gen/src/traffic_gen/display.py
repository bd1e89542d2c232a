"""What a person sees: a live progress line while it runs, a table per endpoint at the end."""

import time
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from traffic_gen.runner import Run


class Progress:
    """Elapsed, requests, errors and the rate over the last refresh, redrawn in place."""

    def __init__(self, run: Run, console: Console) -> None:
        self.run = run
        self.last = (time.perf_counter(), 0)
        self.rate = 0.0
        self.live = Live(
            console=console, refresh_per_second=2, transient=True, get_renderable=self._line
        )

    def _line(self) -> Text:
        # rich asks for the line more often than it redraws: the rate moves once a second.
        now, requests = time.perf_counter(), self.run.stats.requests
        then, before = self.last
        if now - then >= 1.0:
            self.rate = (requests - before) / (now - then)
            self.last = (now, requests)
        return Text(
            f"{self.run.elapsed:6.1f}s  requests {requests:>8}  "
            f"errors {self.run.stats.errors:>6}  rate {self.rate:8.1f}/s"
        )

    def __enter__(self) -> "Progress":
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.__exit__(None, None, None)


def summary_table(summary: dict[str, Any], title: str) -> Table:
    table = Table(title=title)
    for column in ("endpoint", "requests", "errors", "p50 ms", "p95 ms", "p99 ms", "req/s"):
        table.add_column(column, justify="left" if column in ("endpoint", "errors") else "right")
    rows = [*summary["endpoints"].items()]
    for name, endpoint in rows:
        errors = ", ".join(f"{status}×{count}" for status, count in endpoint["errors"].items())
        table.add_row(
            name,
            str(endpoint["requests"]),
            errors or "-",
            f"{endpoint['p50_ms']:.1f}",
            f"{endpoint['p95_ms']:.1f}",
            f"{endpoint['p99_ms']:.1f}",
            f"{endpoint['rate']:.1f}",
        )
    table.add_section()
    table.add_row(
        "all",
        str(summary["requests"]),
        str(summary["errors"]),
        "",
        "",
        "",
        f"{summary['rate']:.1f}",
    )
    return table
