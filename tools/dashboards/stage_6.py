"""Stage 6's dashboard: stage 5's panels; the SLOs and alerts have a dashboard of their own."""

from tools.dashboards import stage_5

TITLE = "SLOs and alerts"
SUMMARY = (
    "stage 5 with faults switched at runtime. The SLOs, burn rates and alerts are on the "
    "'SLOs and alerts' dashboard (lab-slos)."
)
# (title, URL): the SLO dashboard (compose/stack/grafana/dashboards/slos.json) by its uid.
LINKS = (("SLOs and alerts", "/d/lab-slos"),)


def panels(project: str) -> list:
    return stage_5.panels(project)
