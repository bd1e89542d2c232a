"""The panels every stage's dashboard opens with: requests, errors, rolls, latency, logs, traces.

Every query selects its stage (the compose project, which is also the services'
service.namespace): every stage has a dice-roller, and an unfiltered panel would mix them.
"""

from tools.dashboards.panels import FULL, bar_chart, log_lines, time_series, traces
from tools.dashboards.queries import logql, promql, promql_table


def panels(project: str) -> list:
    stage = f'compose_project="{project}"'
    requests = f"rate(http_requests_total{{{stage}}}[$__rate_interval])"
    server_errors = f'rate(http_requests_total{{{stage},status="5xx"}}[$__rate_interval])'
    buckets = f"rate(http_request_duration_seconds_bucket{{{stage}}}[$__rate_interval])"
    latency = [
        promql(
            f"histogram_quantile({quantile}, sum by (le, job) ({buckets}))",
            f"p{round(quantile * 100)} {{{{job}}}}",
            exemplar=True,
        )
        for quantile in (0.5, 0.95, 0.99)
    ]
    return [
        time_series(
            "Requests per second by service",
            promql(f"sum by (job) ({requests})", "{{job}}"),
            unit="reqps",
        ),
        time_series(
            "Server error ratio by service",
            # `or 0 * ...`: a service with no 5xx yet has no 5xx series; its ratio is 0, not gone.
            promql(
                f"(sum by (job) ({server_errors}) or 0 * sum by (job) ({requests}))"
                f" / sum by (job) ({requests})",
                "{{job}}",
            ),
            unit="percentunit",
        ),
        time_series(
            "Rolls per second by die",
            promql(
                f"sum by (die) (rate(dice_rolls_total{{{stage}}}[$__rate_interval]))", "{{die}}"
            ),
            unit="ops",
        ),
        time_series(
            "Failed rolls per second by die (simulated faults)",
            promql(
                f"sum by (die) (rate(dice_roll_failures_total{{{stage}}}[$__rate_interval]))",
                "{{die}}",
            ),
            unit="ops",
        ),
        time_series(
            "Latency p50 / p95 / p99 by service (dots are exemplars)",
            *latency,
            unit="s",
            size=FULL,
        ),
        bar_chart(
            "Values rolled in the time range",
            promql_table(
                f"sum by (value) (increase(dice_rolls_total{{{stage}}}[$__range]))", "{{value}}"
            ),
        ),
        time_series(
            "Error log lines per second by service",
            logql(
                f'sum by (service_name) (rate({{{stage}, level="ERROR"}} [$__auto]))',
                "{{service_name}}",
            ),
        ),
        log_lines("Logs (expand a line: trace_id links to its trace)", logql(f"{{{stage}}}")),
        traces("Failed traces", f'{{resource.service.namespace="{project}" && status=error}}'),
        traces(
            "Slowest traces (over 500 ms)",
            f'{{resource.service.namespace="{project}" && duration > 500ms}}',
        ),
    ]


def latency_p95_by_route(title: str, selector: str):
    """The 95th percentile of one job's request durations, per route, with exemplars."""
    return time_series(
        title,
        promql(
            "histogram_quantile(0.95, sum by (le, handler) "
            f"(rate(http_request_duration_seconds_bucket{{{selector}}}[$__rate_interval])))",
            "{{handler}}",
            exemplar=True,
        ),
        unit="s",
    )
