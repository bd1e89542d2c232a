"""Stage 5's dashboard: the die-service reads PostgreSQL; postgres_exporter's metrics, db spans."""

from tools.dashboards import stage_2
from tools.dashboards.panels import FULL, TALL_FULL, single_stat, time_series, traces
from tools.dashboards.queries import promql

TITLE = "dice in PostgreSQL"
SUMMARY = "the die-service reads PostgreSQL; db spans and postgres_exporter metrics."
LINKS: tuple[tuple[str, str], ...] = ()


def panels(project: str) -> list:
    stage = f'compose_project="{project}"'
    dice_db = f'{stage}, datname="dice"'

    def per_second(counter: str) -> str:
        return f"sum(rate({counter}{{{dice_db}}}[$__rate_interval]))"

    return [
        *stage_2.panels(project),
        single_stat("PostgreSQL up", promql(f"pg_up{{{stage}}}", "up"), size=(6, 8)),
        time_series(
            "Connections to the dice database",
            promql(f"sum by (state) (pg_stat_activity_count{{{dice_db}}})", "{{state}}"),
            size=(9, 8),
        ),
        time_series(
            "Transactions per second (commits, rollbacks)",
            promql(per_second("pg_stat_database_xact_commit"), "commits"),
            promql(per_second("pg_stat_database_xact_rollback"), "rollbacks"),
            unit="ops",
            size=(9, 8),
        ),
        time_series(
            "Rows returned per second",
            promql(per_second("pg_stat_database_tup_returned"), "rows"),
            unit="ops",
        ),
        time_series(
            "Database size",
            promql(f"pg_database_size_bytes{{{dice_db}}}", "dice"),
            unit="bytes",
        ),
        traces(
            "Traces with database spans",
            f'{{resource.service.namespace="{project}" && span.db.system.name="postgresql"}}',
            size=TALL_FULL,
        ),
        time_series(
            "Die-service answers by status class (503: database down)",
            promql(
                f'sum by (status) (rate(http_requests_total{{{stage}, job="die-service"}}'
                "[$__rate_interval]))",
                "{{status}}",
            ),
            unit="reqps",
            size=FULL,
        ),
    ]
