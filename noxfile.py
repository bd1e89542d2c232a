"""Every entry point a person types: the stack, the demo apps, traffic, tests, lint, benchmarks.

`nox -l` lists them. Sessions that only drive Docker or uv run without a virtualenv of their own
(python=False); the project's one environment is the uv workspace (`uv sync`).
"""

import os
import sys
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "tests"]
nox.options.error_on_external_run = True

ROOT = Path(__file__).parent
# The noxfile's helpers (tools/) and the registry of stages and apps (lab_stages), by path: nox
# only chdirs here, which puts this folder on sys.path for `python -m nox` but not for the `nox`
# command (`uv run nox`), and nox may run from a virtualenv without the workspace's members.
for _path in (ROOT / "packages" / "lab-stages" / "src", ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
import lab_stages  # noqa: E402 (found through the path above)

STACK = ROOT / "compose" / "stack" / "compose.yaml"
ENV_FILE = ROOT / ".env"

# Each compares its variants side by side in one run; results in benchmarks/README.md.
BENCHMARKS = (
    "instrumentation.py",
    "scraper_throughput.py",
    "load_generators.py",
    "fanout_memory.py",
    "containers.py",
    "profiling.py",
)
STACK_URLS = {
    "Grafana": "http://127.0.0.1:3000",
    "Prometheus": "http://127.0.0.1:9090",
    "Loki": "http://127.0.0.1:3100/ready",
    "Tempo": "http://127.0.0.1:3200/ready",
    "Pyroscope": "http://127.0.0.1:4040",
    "Alloy": "http://127.0.0.1:12345",
}


def app_urls(name: str) -> dict[str, str]:
    """What a person opens once an app is up: its services' URLs (lab_stages) and its links."""
    app = lab_stages.app(name)
    urls = {app.label(service): service.sample for service in app.services if service.sample}
    return {**urls, **dict(app.links)}


# `down` and `clean` reach services of every profile too, so nothing started by name is left.
EVERY_PROFILE = ("--profile", "*")


def uv_run(session: nox.Session, *args: str) -> None:
    session.run("uv", "run", "--locked", *args, external=True)


def require_docker(session: nox.Session) -> None:
    """Stop with one line when no Docker engine answers, instead of a compose traceback.

    LAB_DOCKER_WAIT_SECONDS gives an engine that is still starting (a devcontainer's
    docker-in-docker) that long to answer.
    """
    from tools import doctor

    engine, _ = doctor.engine_check(docker_wait_seconds())
    if not engine.ok:
        session.error(engine.line)


def docker_wait_seconds() -> float:
    return float(os.environ.get("LAB_DOCKER_WAIT_SECONDS", "0"))


def stack_image(service: str) -> str:
    """The image a stack service runs: the compose file's, or its override's where one is set."""
    import yaml

    files = [Path(path) for path in compose_files(STACK)[1::2]]
    services = [yaml.safe_load(path.read_text())["services"].get(service, {}) for path in files]
    return [found["image"] for found in services if "image" in found][-1]


def run_doctor(session: nox.Session, files: list[Path]) -> str:
    """Every check before compose runs: each on a line; any failure stops the session.

    Returns the Docker socket's group as containers see it.
    """
    from tools import doctor

    checks, group = doctor.run(files, stack_image("postgres"), docker_wait_seconds())
    if len(checks) == 1 and not checks[0].ok:
        session.error(checks[0].line)
    for check in checks:
        if check.ok:
            session.log(f"ok    {check.line}")
        else:
            session.warn(f"FAIL  {check.line}")
    failed = [check for check in checks if not check.ok]
    if failed:
        session.error(f"doctor: {len(failed)} check(s) failed, each with its fix above")
    return group


def env_values(path: Path = ENV_FILE) -> dict[str, str]:
    """The variables a dotenv file sets: none when it does not exist, none for a bare name."""
    from dotenv import dotenv_values  # the workspace's `tools` group: `uv run nox`

    return {name: value for name, value in dotenv_values(path).items() if value is not None}


def refuse_new_secrets_for_old_volumes(session: nox.Session, files: list[Path]) -> None:
    """Stop before a password is generated for data made with another one.

    A volume keeps the password it was initialised with (PostgreSQL, Grafana's admin): with a new
    one in .env (a fresh clone, a deleted .env) its service could only fail its healthcheck.
    """
    from tools import doctor

    values = env_values()
    for variable, volumes in doctor.secrets_kept_in_volumes(files).items():
        kept = [volume for volume in volumes if doctor.volume_exists(volume)]
        if not values.get(variable) and kept:
            session.error(
                f"{variable} is not in .env, but {', '.join(kept)} holds data made with it: put "
                "the old .env back, or run `uv run nox -s clean` to start over (deletes the data)"
            )


def ensure_env_file(session: nox.Session, docker_gid: str | None = None) -> None:
    """Give .env every variable .env.example lists, generating secrets for missing or empty ones.

    Created with mode 0600 (never readable by others, not even for a moment); a looser existing
    file is tightened. Secrets already set are never changed (PostgreSQL keeps the password it was
    created with); DOCKER_GID follows the doctor's finding, since it is derived, not chosen.
    """
    import secrets

    if ENV_FILE.exists() and ENV_FILE.stat().st_mode & 0o077:
        ENV_FILE.chmod(0o600)
        session.log(f"{ENV_FILE.name}: was readable by others, now 0600 (it holds passwords)")
    values = env_values()
    changed = {}
    for name in env_values(ROOT / ".env.example"):
        if name == "DOCKER_GID" and (docker_gid or not values.get(name)):
            value = docker_gid or "0"
        elif values.get(name):
            continue
        else:
            value = secrets.token_urlsafe(18)
            if name == "GRAFANA_ADMIN_PASSWORD":
                session.log(f"Grafana login: admin / {value} (kept in {ENV_FILE.name})")
        if values.get(name) != value:
            changed[name] = value
    if not changed:
        return
    from dotenv import set_key

    # Made 0600 before a secret is in it; set_key keeps the file's mode when it rewrites it.
    os.close(os.open(ENV_FILE, os.O_WRONLY | os.O_CREAT, 0o600))
    for name, value in changed.items():
        # Unquoted, as .env.example has them: generated values are URL-safe, so need no quotes.
        set_key(ENV_FILE, name, value, quote_mode="never")
    session.log(f"{ENV_FILE.name}: set {', '.join(changed)}")


def compose_files(file: Path) -> list[str]:
    """`-f` arguments for a compose file, plus its override where the tests set one.

    The container tests run the lab where some pinned images cannot be pulled: they put
    `<compose folder>.yaml` overrides (local stand-ins, tests/docker/overrides.py) in the directory
    LAB_COMPOSE_OVERRIDES names. A learner never needs it.
    """
    files = ["-f", str(file)]
    overrides = os.environ.get("LAB_COMPOSE_OVERRIDES")
    if overrides and (override := Path(overrides) / f"{file.parent.name}.yaml").exists():
        files += ["-f", str(override)]
    return files


def compose(session: nox.Session, file: Path, *args: str) -> None:
    """The one place docker compose commands are built: always with .env and the file given."""
    session.run(
        "docker", "compose", "--env-file", str(ENV_FILE), *compose_files(file), *args,
        external=True,
    )  # fmt: skip


def app_compose_file(name: str) -> Path:
    """compose/<folder>/compose.yaml of a stage or demo app, by the name a learner types."""
    return ROOT / "compose" / lab_stages.app(name).compose / "compose.yaml"


def bring_up(session: nox.Session, *apps: str) -> None:
    files = [STACK, *map(app_compose_file, apps)]
    docker_gid = run_doctor(session, files)
    refuse_new_secrets_for_old_volumes(session, files)
    ensure_env_file(session, docker_gid)
    compose(session, STACK, "up", "--detach", "--wait")
    for app in apps:
        compose(session, app_compose_file(app), "up", "--detach", "--build", "--wait")
    urls = dict(STACK_URLS)
    for app in apps:
        urls.update(app_urls(app))
    width = max(map(len, urls))
    session.log("Up and healthy:\n" + "\n".join(f"  {k:<{width}}  {v}" for k, v in urls.items()))


@nox.session(python=False)
def doctor(session: nox.Session) -> None:
    """Check Docker, ports, memory and disk before starting: nox -s doctor [-- stage-2 ...]."""
    from tools import doctor

    try:
        apps, hints = doctor.apps_named(session.posargs)
    except LookupError as error:
        session.error(str(error))
    for hint in hints:
        session.warn(hint)
    run_doctor(session, [STACK, *map(app_compose_file, apps)])


@nox.session(python=False)
def stack(session: nox.Session) -> None:
    """Start Prometheus, Alertmanager, Loki, Tempo, Pyroscope, Alloy, Grafana, PostgreSQL, the
    usage-scraper and the alert-receiver, wait until healthy."""
    bring_up(session)


@nox.session(name="dice-roller", python=False)
def dice_roller(session: nox.Session) -> None:
    """Build and start the dice-roller beside the stack (http://127.0.0.1:8001)."""
    bring_up(session, "dice-roller")


def stage_session(name: str) -> None:
    """Register a session for a tutorial stage, named as the stage (`nox -s stage-2`)."""

    def run_stage(session: nox.Session) -> None:
        bring_up(session, name)

    first_url = next(iter(app_urls(name).values()))
    run_stage.__doc__ = f"Build and start tutorial {name} beside the stack ({first_url})."
    nox.session(name=name, python=False)(run_stage)


for _stage in lab_stages.stages():
    stage_session(_stage.name)


@nox.session(python=False)
def traffic(session: nox.Session) -> None:
    """Drive the running stage with simulated users: nox -s traffic -- --users 20."""
    uv_run(session, "traffic-gen", *session.posargs)


@nox.session(name="http-console", python=False)
def http_console(session: nox.Session) -> None:
    """Build and start the http-console and the dice-roller beside the stack (:8002)."""
    bring_up(session, "dice-roller", "http-console")


@nox.session(python=False)
def down(session: nox.Session) -> None:
    """Stop every app and the stack; data volumes are kept."""
    require_docker(session)
    ensure_env_file(session)
    for app in lab_stages.names():
        compose(session, app_compose_file(app), *EVERY_PROFILE, "down", "--remove-orphans")
    compose(session, STACK, *EVERY_PROFILE, "down", "--remove-orphans")


@nox.session(python=False)
def clean(session: nox.Session) -> None:
    """Stop everything and delete its data volumes (metrics, logs, traces, profiles, dashboards'
    state)."""
    require_docker(session)
    ensure_env_file(session)
    session.log(
        "removing the stack's volumes: Prometheus, Loki, Tempo, Pyroscope, Grafana and PostgreSQL"
        " data"
    )
    for app in lab_stages.names():
        compose(
            session, app_compose_file(app), *EVERY_PROFILE, "down", "--remove-orphans", "--volumes"
        )
    compose(session, STACK, *EVERY_PROFILE, "down", "--remove-orphans", "--volumes")


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """Run the test suite (pass pytest arguments after --)."""
    uv_run(session, "pytest", *session.posargs)


@nox.session(python=False)
def fuzz(session: nox.Session) -> None:
    """Schemathesis over every FastAPI service as a real process, 1,000+ cases each, seed 42."""
    uv_run(session, "pytest", "-m", "fuzz", "-s", "-p", "no:cacheprovider", *session.posargs)


@nox.session(python=False)
def smoke(session: nox.Session) -> None:
    """Container tests: images built, every stage up beside the stack, healthy, scraped, used."""
    require_docker(session)
    uv_run(session, "pytest", "-m", "docker", "-p", "no:cacheprovider", *session.posargs)


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    """ruff check and format check, shellcheck on the shell scripts."""
    uv_run(session, "ruff", "check", ".")
    uv_run(session, "ruff", "format", "--check", ".")
    uv_run(
        session, "shellcheck", ".ci/run", "compose/stack/postgres/reader.sh",
        "tests/docker/standins/postgres/docker-entrypoint.sh",
        "deploy/kubernetes/stack/tempo3-drop-ballast/drop-ballast.sh",
    )  # fmt: skip


@nox.session(name="slo-rules", python=False)
def slo_rules(session: nox.Session) -> None:
    """Regenerate the SLO rules from compose/stack/prometheus/slos.yaml."""
    from tools.slo_rules import render

    source = ROOT / "compose" / "stack" / "prometheus" / "slos.yaml"
    target = source.with_name("rules") / "slo.rules.yml"
    target.write_text(render(source))
    session.log(f"wrote {target.relative_to(ROOT)} from {source.name}")


@nox.session(python=False)
def dashboards(session: nox.Session) -> None:
    """Regenerate the stage dashboards' JSON from tools/dashboards (Grafana's SDK)."""
    uv_run(session, "--group", "dashboards", "python", "-m", "tools.dashboards")


@nox.session(python=False)
def screenshots(session: nox.Session) -> None:
    """Retake docs/images/*.png of the pages running here (headless Chromium, no Docker)."""
    uv_run(session, "python", "-m", "tools.screenshots")


@nox.session(python=False)
def bench(session: nox.Session) -> None:
    """Benchmarks, each comparing its variants side by side in one run (see benchmarks/)."""
    for script in BENCHMARKS:
        uv_run(session, "--group", "bench", "python", f"benchmarks/{script}")


@nox.session(name="k8s-values", python=False)
def k8s_values(session: nox.Session) -> None:
    """Regenerate the Helm chart's values-stage-N.yaml and files/ from the compose files."""
    uv_run(session, "python", "-m", "tools.k8s_values")


@nox.session(name="k8s-images", python=False)
def k8s_images(session: nox.Session) -> None:
    """Build the lab's own images a cluster runs, the stack release's and those of the stages
    named (nox -s k8s-images -- stage-5), and print the lines that load them into kind or k3d."""
    from tools import k8s_values

    stages = [name for name in session.posargs if name != "stack"]
    known = [r.name for r in k8s_values.releases() if r.app]
    for name in stages:
        if name not in known:
            session.error(f"no stage {name!r}: name one of {', '.join(known)}")
    releases = [k8s_values.release(name) for name in ["stack", *stages]]
    ensure_env_file(session)
    for release in releases:
        built = [n for n, s in k8s_values.compose_services(release).items() if "build" in s]
        compose(session, release.compose_file, "build", *built)
    images = " ".join(k8s_values.own_images(releases))
    session.log(
        "Load them into the cluster's nodes:\n"
        f"  kind load docker-image --name lab {images}\n"
        f"  k3d image import --cluster lab {images}"
    )


@nox.session(name="k8s-render", python=False)
def k8s_render(session: nox.Session) -> None:
    """Render every release of the lab chart with helm into build/k8s/, validated against
    Kubernetes' schemas."""
    uv_run(session, "python", "-m", "tools.k8s_render", *session.posargs)


@nox.session(name="k8s-charts", python=False)
def k8s_charts(session: nox.Session) -> None:
    """Pull each upstream chart at its pinned version, check every key the lab sets against its
    values.yaml and render it with the lab's values into build/k8s/charts/ (needs the charts'
    repositories: the GitHub workflow runs it)."""
    uv_run(session, "python", "-m", "tools.k8s_charts", *session.posargs)
