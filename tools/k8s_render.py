"""Render and validate the lab chart (each stage's release and the stack's) without a cluster.

`python -m tools.k8s_render [FOLDER]` (`nox -s k8s-render`): `helm lint` and `helm template` of
each release's values file, every object of a built-in kind checked strictly against the schemas
of KUBERNETES_VERSION (kubernetes-validate), a custom resource against its CRD's schema recorded in
deploy/kubernetes/crds/ (kubernetes-validate ships the built-in kinds' schemas only; `nox -s
k8s-charts` holds the restated schema to the operator's CRD), the manifests written to FOLDER
(default build/k8s/) for review. Helm is .tools/helm (tools/fetch_helm.py, which this runs when
there is no helm), else the one on PATH.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

from tools import fetch_helm
from tools.k8s_values import CHART, ROOT, Release, releases

# The Kubernetes whose schemas the rendered objects must satisfy (Helm 4.1.4's client is 1.35).
KUBERNETES_VERSION = "1.35.0"
OUTPUT = ROOT / "build" / "k8s"
CRDS = ROOT / "deploy" / "kubernetes" / "crds"
# Custom resources the releases render -> their CRD's schema (the operator's version: in the file).
CUSTOM = {("monitoring.coreos.com/v1", "PrometheusRule"): CRDS / "prometheusrule-v1.schema.json"}


def helm_path() -> str | None:
    """The pinned Helm 4 (tools/fetch_helm.py) where it is, else the one on PATH: a runner's or a
    devShell's may be Helm 3, which lacks the post-renderer plugins the Tempo chart needs."""
    if fetch_helm.DEFAULT_DEST.is_file():
        return str(fetch_helm.DEFAULT_DEST)
    return shutil.which("helm")


def helm(*args: str, helm_binary: str | None = None) -> str:
    binary = helm_binary or helm_path()
    assert binary, "no helm: python3 tools/fetch_helm.py"
    result = subprocess.run(
        [binary, *args], capture_output=True, text=True, check=False, timeout=120
    )
    if result.returncode != 0:
        raise RuntimeError(f"helm {' '.join(args)}:\n{result.stdout}{result.stderr}")
    return result.stdout


def arguments(release: Release) -> list[str]:
    """helm's arguments for a release: name, chart, values file."""
    return [release.name, str(CHART), "-f", str(release.values_file)]


def lint(release: Release, helm_binary: str | None = None) -> str:
    return helm("lint", "--strict", str(CHART), "-f", str(release.values_file),
                helm_binary=helm_binary)  # fmt: skip


def template(release: Release, *extra: str, helm_binary: str | None = None) -> str:
    return helm("template", *arguments(release), *extra, helm_binary=helm_binary)


def objects(manifest: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(manifest) if doc]


def invalid(manifest: str) -> list[str]:
    """Every object that does not validate strictly, with the reason."""
    problems = []
    for item in objects(manifest):
        custom = CUSTOM.get((item.get("apiVersion"), item.get("kind")))
        try:
            if custom:
                jsonschema.validate(item, json.loads(custom.read_text()))
            else:
                kubernetes_validate.validate(item, KUBERNETES_VERSION, strict=True)
        except (kubernetes_validate.ValidationError, jsonschema.ValidationError) as error:
            problems.append(f"{item['kind']}/{item['metadata']['name']}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(
                f"{item['kind']}/{item['metadata']['name']}: no schema for {item['apiVersion']}"
            )
    return problems


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else OUTPUT
    binary = helm_path() or str(fetch_helm.fetch())
    folder.mkdir(parents=True, exist_ok=True)
    failed = 0
    for release in releases():
        lint(release, helm_binary=binary)
        manifest = template(release, helm_binary=binary)
        target = folder / f"{release.name}.yaml"
        target.write_text(manifest)
        problems = invalid(manifest)
        failed += len(problems)
        status = "invalid" if problems else f"valid against Kubernetes {KUBERNETES_VERSION}"
        print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}: "
              f"{len(objects(manifest))} objects, {status}")  # fmt: skip
        for problem in problems:
            print(f"  {problem}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
