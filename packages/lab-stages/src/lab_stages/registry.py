"""The stages and demo apps of stages.toml as frozen dataclasses, checked when read.

Read at first use, not at import: a module that imports this one pays nothing until it asks.
"""

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

STAGES_FILE = Path(__file__).with_name("stages.toml")
HOST = "127.0.0.1"
KINDS = ("api", "page", "database")
TYPE_NAMES = {int: "an integer", str: "a string", list: "a list", dict: "a table"}
NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


class RegistryError(ValueError):
    """stages.toml says something impossible; the message is one line naming where."""


class UnknownName(LookupError):
    """No app or service of that name; the message is one line naming the choices."""


@dataclass(frozen=True)
class Service:
    name: str
    container: str
    container_port: int
    kind: str
    port: int | None = None
    metrics_port: int | None = None
    path: str = ""
    note: str = ""

    @property
    def url(self) -> str | None:
        """http://127.0.0.1:PORT of an HTTP service published on the host."""
        return f"http://{HOST}:{self.port}" if self.port and self.kind != "database" else None

    @property
    def sample(self) -> str | None:
        """What a person opens: the URL with its sample path, or a database's address and note."""
        if self.port is None:
            return None
        if self.url:
            return self.url + self.path
        return f"{HOST}:{self.port}" + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True)
class App:
    name: str
    package: str
    compose: str
    project: str
    services: tuple[Service, ...]
    stage: int | None = None
    namespace: str | None = None
    links: tuple[tuple[str, str], ...] = ()

    def service(self, name: str) -> Service:
        for service in self.services:
            if service.name == name:
                return service
        choices = ", ".join(service.name for service in self.services)
        raise UnknownName(f"{self.name} has no service {name}: choose from {choices}")

    def label(self, service: Service) -> str:
        """A service as messages name it: stage-2 frontend; dice-roller for the demo's own."""
        return self.name if service.name == self.name else f"{self.name} {service.name}"

    def find(self, name: str) -> Service | None:
        return next((service for service in self.services if service.name == name), None)


def _field(table: dict, key: str, kind: type, where: str, required: bool = True):
    if key not in table:
        if required:
            raise RegistryError(f"{where}: {key} is missing")
        return None
    value = table[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise RegistryError(f"{where}: {key} must be {TYPE_NAMES[kind]}, not {value!r}")
    return value


def _port(table: dict, key: str, where: str, required: bool = False) -> int | None:
    port = _field(table, key, int, where, required)
    if port is not None and not 0 < port < 65536:
        raise RegistryError(f"{where}: {key} {port} is not a port (1-65535)")
    return port


def _unknown_keys(table: dict, known: set[str], where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise RegistryError(f"{where}: unknown key {unknown[0]!r}")


def _service(table: object, app: str, index: int) -> Service:
    where = f"{app} service {index + 1}"
    if not isinstance(table, dict):
        raise RegistryError(f"{where}: must be a table")
    name = _field(table, "name", str, where)
    where = f"{app} {name}"
    _unknown_keys(table, set(Service.__dataclass_fields__), where)
    kind = _field(table, "kind", str, where)
    if kind not in KINDS:
        raise RegistryError(f"{where}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    path = _field(table, "path", str, where, required=False) or ""
    if path and not path.startswith("/"):
        raise RegistryError(f"{where}: path must start with /, not {path!r}")
    return Service(
        name=name,
        container=_field(table, "container", str, where),
        container_port=_port(table, "container_port", where, required=True),
        kind=kind,
        port=_port(table, "port", where),
        metrics_port=_port(table, "metrics_port", where),
        path=path,
        note=_field(table, "note", str, where, required=False) or "",
    )


def _app(table: object, index: int) -> App:
    where = f"app {index + 1}"
    if not isinstance(table, dict):
        raise RegistryError(f"{where}: must be a table")
    name = _field(table, "name", str, where)
    if not NAME.fullmatch(name):
        raise RegistryError(f"{where}: name {name!r} is not lower-case words joined by -")
    _unknown_keys(table, {*App.__dataclass_fields__, "service"} - {"services"}, name)
    stage = _field(table, "stage", int, name, required=False)
    if stage is not None and stage < 1:
        raise RegistryError(f"{name}: stage must be 1 or more, not {stage}")
    if stage is not None and name != f"stage-{stage}":
        raise RegistryError(f"{name}: stage {stage} must be named stage-{stage}")
    package = _field(table, "package", str, name)
    if not package.isidentifier():
        raise RegistryError(f"{name}: package {package!r} is not a Python package name")
    services = _field(table, "service", list, name)
    if not services:
        raise RegistryError(f"{name}: has no service")
    links = _field(table, "links", dict, name, required=False) or {}
    for label, url in links.items():
        if not (isinstance(url, str) and url.startswith(("http://", "https://"))):
            raise RegistryError(f"{name}: link {label!r} is not a URL: {url!r}")
    app = App(
        name=name,
        package=package,
        compose=_field(table, "compose", str, name),
        project=_field(table, "project", str, name),
        services=tuple(_service(service, name, i) for i, service in enumerate(services)),
        stage=stage,
        namespace=_field(table, "namespace", str, name, required=False),
        links=tuple(links.items()),
    )
    repeated = [s.name for s in app.services if [t.name for t in app.services].count(s.name) > 1]
    if repeated:
        raise RegistryError(f"{name}: service {repeated[0]!r} is listed twice")
    return app


def _owners(apps: tuple[App, ...]) -> dict[int, str]:
    """Every host port -> who uses it; a port used twice is an error naming both users."""
    owners: dict[int, str] = {}
    for app in apps:
        for service in app.services:
            who = app.label(service)
            for port, user in ((service.port, who), (service.metrics_port, f"{who} metrics")):
                if port is None:
                    continue
                if port in owners:
                    raise RegistryError(f"port {port} is used by {owners[port]} and {user}")
                owners[port] = user
    return owners


def load(path: Path = STAGES_FILE) -> tuple[App, ...]:
    """Every app of a registry file, in file order; RegistryError (one line) when it is wrong."""
    try:
        document = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise RegistryError(f"{path.name}: {error}") from None
    _unknown_keys(document, {"app"}, path.name)
    tables = document.get("app")
    if not isinstance(tables, list) or not tables:
        raise RegistryError(f"{path.name}: no [[app]] entries")
    try:
        apps = tuple(_app(table, i) for i, table in enumerate(tables))
        for key in ("name", "package", "compose", "project", "stage"):
            values = [getattr(app, key) for app in apps if getattr(app, key) is not None]
            twice = next((value for value in values if values.count(value) > 1), None)
            if twice is not None:
                raise RegistryError(f"{key} {twice!r} is used by two apps")
        _owners(apps)
    except RegistryError as error:
        raise RegistryError(f"{path.name}: {error}") from None
    return apps


@cache
def apps() -> tuple[App, ...]:
    """Every stage and demo app of the lab, as stages.toml lists them."""
    return load()


def stages() -> tuple[App, ...]:
    """The tutorial's stages, in order."""
    return tuple(sorted((app for app in apps() if app.stage), key=lambda app: app.stage))


def app(name: str) -> App:
    """A stage or demo app by the name a learner types (`stage-2`)."""
    for found in apps():
        if found.name == name:
            return found
    raise UnknownName(f"unknown app {name}: choose from {', '.join(names())}")


def names() -> tuple[str, ...]:
    return tuple(found.name for found in apps())


def all_ports() -> dict[int, str]:
    """Every host port of every stage and demo app -> who uses it ("stage-2 frontend")."""
    return _owners(apps())
