"""Per-endpoint counts, error statuses and latency percentiles of a run."""

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class EndpointStats:
    latencies: list[float] = field(default_factory=list)
    # status code, or "timeout" / "connection" for requests that got no answer
    errors: Counter = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        return len(self.latencies)

    def summary(self, elapsed: float) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        return {
            "requests": self.requests,
            "errors": dict(sorted(self.errors.items(), key=lambda kv: str(kv[0]))),
            "p50_ms": round(percentile(ordered, 50) * 1000, 2),
            "p95_ms": round(percentile(ordered, 95) * 1000, 2),
            "p99_ms": round(percentile(ordered, 99) * 1000, 2),
            "rate": round(self.requests / elapsed, 2) if elapsed else 0.0,
        }


@dataclass
class RunStats:
    endpoints: dict[str, EndpointStats] = field(default_factory=dict)
    requests: int = 0
    errors: int = 0

    def record(self, endpoint: str, status: int | str, seconds: float) -> None:
        stats = self.endpoints.get(endpoint)
        if stats is None:
            stats = self.endpoints[endpoint] = EndpointStats()
        stats.latencies.append(seconds)
        self.requests += 1
        if not (isinstance(status, int) and status < 400):
            stats.errors[status] += 1
            self.errors += 1

    def summary(self, elapsed: float) -> dict[str, Any]:
        return {
            "elapsed_s": round(elapsed, 3),
            "requests": self.requests,
            "errors": self.errors,
            "rate": round(self.requests / elapsed, 2) if elapsed else 0.0,
            "endpoints": {name: s.summary(elapsed) for name, s in sorted(self.endpoints.items())},
        }
