"""The stack's upstream charts on a cluster, from their facts table deploy/kubernetes/CHARTS.md.

Each chart there has a section: a table (chart, repository, version, app version, values file)
and a ```keys block: every key path the lab's values file sets (a list is one value), one a line,
then where the chart's values.yaml at that version has it (`values.yaml:LINE`), or, for a key
below a map the chart leaves free-form (`{}` there, or open in its values.schema.json),
`free below PARENT`. tests/config/test_kubernetes_stack.py holds each values file to its block.

Why a check of our own: Helm ignores a values key a chart does not read, and holds values to a
values.schema.json only where the chart ships one (of these, Loki alone does, and it leaves most
maps open), so a misspelt key would change nothing, silently.

`python -m tools.k8s_charts [--pulled DIR]` (`nox -s k8s-charts`, run by the GitHub workflow,
where the chart repositories can be reached): pulls each chart at its version with helm (or reads
DIR/<chart>/values.yaml, a chart already pulled and untarred), checks that every key the lab sets
exists in the chart's values.yaml, renders the chart with the lab's values into build/k8s/charts/
and validates every object of a built-in kind against Kubernetes' schemas.
"""

import os
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from tools.k8s_values import ROOT

K8S = ROOT / "deploy" / "kubernetes"
FACTS = K8S / "CHARTS.md"
NAMESPACE = "lab"
SECTION = re.compile(r"^### (\S+)\n(.*?)(?=^### |\Z)", re.MULTILINE | re.DOTALL)
ROW = re.compile(r"^\| (\w[\w ]*?) \| (.+?) \|$", re.MULTILINE)
WHERE = re.compile(r"values\.yaml:(\d+)")
KEYS = re.compile(r"^```keys\n(.*?)^```", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Chart:
    name: str  # its section in the table: the values file's name
    release: str  # the release name the stack's Services are named after
    chart: str  # REPO/CHART as `helm repo add` names it
    repository: str  # the repository's URL
    version: str
    app_version: str
    values: Path
    flags: str  # more for `helm upgrade --install`
    services: tuple[str, ...]  # NAME:PORT the chart creates, which the lab's configs call
    keys: dict[str, str]  # key path -> where upstream has it: values.yaml:LINE, free below PARENT

    @property
    def repo_name(self) -> str:
        return self.chart.split("/")[0]

    def install(self) -> str:
        """What a user runs, from the repository's root."""
        command = (
            f"helm upgrade --install {self.release} {self.chart} --version {self.version}"
            f" -n {NAMESPACE} -f {self.values.relative_to(ROOT)}"
        )
        return f"{command} {self.flags}".strip()


def cell(text: str) -> str:
    return text.strip().strip("`")


def charts() -> list[Chart]:
    found = []
    for name, body in SECTION.findall(FACTS.read_text()):
        rows = {key: cell(value) for key, value in ROW.findall(body)}
        (keys,) = KEYS.findall(body)
        (values,) = re.findall(r"\(([^)]+)\)", rows["values"])
        found.append(
            Chart(
                name=name,
                release=rows["release"],
                chart=rows["chart"],
                repository=rows["repository"],
                version=rows["version"],
                app_version=rows["app version"],
                values=(FACTS.parent / values).resolve(),
                flags=rows.get("flags", ""),
                services=tuple(re.findall(r"[\w-]+:\d+", rows["services"])),
                keys=dict(line.split(maxsplit=1) for line in keys.splitlines() if line.strip()),
            )
        )
    return found


def join(parts: list[str]) -> str:
    """A key path as the facts table writes it: a key holding a dot is quoted ("grafana.ini")."""
    return ".".join(f'"{part}"' if "." in part else part for part in parts)


def split(path: str) -> list[str]:
    return [part.strip('"') for part in re.findall(r'"[^"]+"|[^.]+', path)]


def key_paths(values: dict, parents: tuple[str, ...] = ()) -> set[str]:
    """Every key path a values map sets, down to its leaves (a list, a scalar, null or {})."""
    found = set()
    for key, value in values.items():
        path = (*parents, str(key))
        if isinstance(value, dict) and value:
            found |= key_paths(value, path)
        else:
            found.add(join(list(path)))
    return found


def set_keys(chart: Chart) -> set[str]:
    return key_paths(yaml.safe_load(chart.values.read_text()) or {})


def lookup(values: dict, path: str) -> tuple[bool, object]:
    node: object = values
    for part in split(path):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def free_below(where: str) -> str:
    """The free-form map a key's facts entry names (`free below PARENT (...)`), else ""."""
    return where.split()[2] if where.startswith("free below ") else ""


def missing_upstream(chart: Chart, upstream: dict) -> list[str]:
    """The keys the lab sets that the chart's values.yaml lacks (below a free-form map: the map)."""
    missing = []
    for key, where in chart.keys.items():
        parent = free_below(where)
        found, node = lookup(upstream, parent or key)
        if not found:
            missing.append(f"{key}: {parent or key} is not in values.yaml")
        elif parent and not (key.startswith(f"{parent}.") and isinstance(node, dict | None)):
            missing.append(f"{key}: {parent} is not a map above it")
    return missing


def key_line(root: yaml.Node, path: str) -> int | None:
    """The line (from 1) of a composed values.yaml a key path is on, None where it is not."""
    node, line = root, None
    for part in split(path):
        if not isinstance(node, yaml.MappingNode):
            return None
        for key, value in node.value:
            if key.value == part:
                node, line = value, key.start_mark.line + 1
                break
        else:
            return None
    return line


def wrong_lines(chart: Chart, values_text: str) -> list[str]:
    """The cited lines that are not where the key (or the free-form map above it) is."""
    root = yaml.compose(values_text)
    wrong = []
    for key, where in chart.keys.items():
        cited = int(WHERE.search(where)[1])  # type: ignore[index]
        path = free_below(where) or key
        found = key_line(root, path)
        if found != cited:
            wrong.append(f"{key}: {path} is at values.yaml:{found}, not {cited}")
    return wrong


def missing_services(chart: Chart, manifest: list[dict]) -> list[str]:
    rendered = {
        f"{o['metadata']['name']}:{port['port']}"
        for o in manifest
        if o["kind"] == "Service"
        for port in o["spec"].get("ports", [])
    }
    return [f"no Service {s}" for s in chart.services if s not in rendered]


def outline(schema: dict) -> object:
    """A schema's shape: each object's properties and required ones, lists by their items."""
    if "properties" in schema:
        props = {k: outline(v) for k, v in schema["properties"].items() if k not in ("metadata",)}
        return {"required": sorted(schema.get("required", [])), "properties": props}
    if "items" in schema:
        return {"items": outline(schema["items"])}
    return schema.get("type", "any")


def crd_problems(chart_folder: Path) -> list[str]:
    """The lab's PrometheusRule against the operator's CRD in kube-prometheus-stack, and the
    schema recorded in deploy/kubernetes/crds/ against the CRD's shape."""
    import json

    import jsonschema

    from tools.k8s_render import CUSTOM, objects, template
    from tools.k8s_values import release

    crd_file = chart_folder / "charts" / "crds" / "crds" / "crd-prometheusrules.yaml"
    crd = yaml.safe_load(crd_file.read_text())
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    # Go's regexp takes (?i) anywhere, Python's only first.
    text = json.dumps(version["schema"]["openAPIV3Schema"]["properties"]["spec"])
    spec = json.loads(text.replace('"^(?i)', '"(?i)^'))
    recorded = json.loads(CUSTOM[("monitoring.coreos.com/v1", "PrometheusRule")].read_text())
    problems = []
    if outline(recorded["properties"]["spec"]) != outline(spec):
        problems.append("crds/prometheusrule-v1.schema.json: not the CRD's shape")
    for item in objects(template(release("stack"))):
        if item["kind"] == "PrometheusRule":
            try:
                jsonschema.validate(item["spec"], spec)
            except jsonschema.ValidationError as error:
                problems.append(f"PrometheusRule/{item['metadata']['name']}: {error.message}")
    return problems


def helm(*args: str) -> str:
    from tools.k8s_render import helm as run_helm

    return run_helm(*args)


def pull(chart: Chart, into: Path) -> Path:
    helm("repo", "add", "--force-update", chart.repo_name, chart.repository)
    helm("pull", chart.chart, "--version", chart.version, "--untar", "--untardir", str(into))
    return into / chart.chart.split("/")[1]


def main(argv: list[str]) -> int:
    from tools.k8s_render import invalid, objects

    os.chdir(ROOT)  # the charts' flags name the lab's files from the repository's root
    pulled = Path(argv[argv.index("--pulled") + 1]).resolve() if "--pulled" in argv else None
    output = ROOT / "build" / "k8s" / "charts"
    output.mkdir(parents=True, exist_ok=True)
    failed = 0
    with tempfile.TemporaryDirectory() as scratch:
        for chart in charts():
            name = chart.chart.split("/")[1]
            folder = pulled / name if pulled else pull(chart, Path(scratch))
            values_text = (folder / "values.yaml").read_text()
            upstream = yaml.safe_load(values_text)
            missing = missing_upstream(chart, upstream) + wrong_lines(chart, values_text)
            found = yaml.safe_load((folder / "Chart.yaml").read_text())
            if (str(found["version"]), str(found["appVersion"]).lstrip("v")) != (
                chart.version,
                chart.app_version.lstrip("v"),
            ):
                missing.append(f"Chart.yaml: {found['version']} {found['appVersion']}")
            print(f"{chart.chart} {chart.version}: {len(chart.keys)} keys", end="")
            print(", all in its values.yaml" if not missing else ", NOT in its values.yaml:")
            for key in missing:
                print(f"  {key}")
            failed += len(missing)
            if pulled:
                continue  # a values.yaml alone: nothing to render
            flags = shlex.split(chart.flags)
            if "--post-renderer" in flags:
                plugin = flags[flags.index("--post-renderer") + 1]
                if plugin not in helm("plugin", "list"):
                    helm("plugin", "install", str(K8S / "stack" / plugin))
            manifest = helm("template", chart.release, str(folder), "-n", NAMESPACE,
                            "-f", str(chart.values), *flags)  # fmt: skip
            (output / f"{chart.name}.yaml").write_text(manifest)
            # The operator's own resources (Prometheus, Alertmanager, monitors): no schema here.
            operator = "no schema for monitoring.coreos.com"
            problems = [p for p in invalid(manifest) if operator not in p]
            problems += missing_services(chart, objects(manifest))
            if chart.chart.endswith("/kube-prometheus-stack"):
                problems += crd_problems(folder)
            print(f"  rendered: {len(objects(manifest))} objects, {len(problems)} problems")
            for problem in problems:
                print(f"  {problem}")
            failed += len(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (RuntimeError, subprocess.SubprocessError, OSError) as error:
        print(f"k8s-charts: {error}", file=sys.stderr)
        sys.exit(1)
