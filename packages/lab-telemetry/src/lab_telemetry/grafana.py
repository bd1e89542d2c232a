"""Links into the lab's Grafana: a trace id opened in Explore (Tempo datasource uid "tempo").

Grafana has no client library for building Explore URLs; the pages and the console show one.
"""

import json
from urllib.parse import quote


def explore_url(grafana_url: str, trace_id: str) -> str:
    """A Grafana Explore link that opens the trace in the Tempo datasource (uid "tempo")."""
    pane = {
        "trace": {
            "datasource": "tempo",
            "queries": [
                {
                    "refId": "A",
                    "datasource": {"type": "tempo", "uid": "tempo"},
                    "queryType": "traceql",
                    "query": trace_id,
                }
            ],
            "range": {"from": "now-1h", "to": "now"},
        }
    }
    panes = quote(json.dumps(pane, separators=(",", ":")))
    return f"{grafana_url.rstrip('/')}/explore?schemaVersion=1&orgId=1&panes={panes}"
