"""The tutorial stages' dashboards as code, built with Grafana's own SDK (grafana-foundation-sdk).

`uv run nox -s dashboards` writes compose/stack/grafana/dashboards/stage-N.json for every stage
in the registry (lab_stages); tests/config/test_dashboards.py fails when a committed file
differs from what the generator writes. Edit these modules, not the JSON:

- queries.py: a builder per query kind, with the provisioned datasources' uids;
- panels.py: the kinds of panel used (time series, bar chart, stat, table, logs, traces, service
  graph, flame graph);
- shared.py: the panels every stage's dashboard has;
- stage_N.py: stage N's title, summary, links and its own panels, below the shared ones, and
  optionally `first_panels`, above them (stage 6's: what the stage adds);
- generate.py: the list of stages, and a dashboard per stage as JSON.

The SDK's 11.6 build writes the classic dashboard JSON (schemaVersion 41) that Grafana 13
migrates on load as it did the hand-written files; its builders express every panel type, option,
query, link and size these dashboards use, so no post-processing step edits its output. It adds
the defaults Grafana assumes anyway (e.g. `"transparent": false`, the logs panel's other options).
Panels are placed by the SDK's builder from their sizes, left to right, row after row; their ids
count from 1 in order.
"""
