"""The lab's tutorial stages and demo apps: names, services and host ports, from stages.toml.

import lab_stages
lab_stages.app("stage-2").service("dice-roller").url   # "http://127.0.0.1:8201"
[app.name for app in lab_stages.stages()]             # ["stage-1", ..., "stage-7"]
lab_stages.all_ports()[8201]                          # "stage-2 dice-roller"
"""

from lab_stages.registry import (
    STAGES_FILE,
    App,
    RegistryError,
    Service,
    UnknownName,
    all_ports,
    app,
    apps,
    load,
    names,
    stages,
)

__all__ = [
    "STAGES_FILE",
    "App",
    "RegistryError",
    "Service",
    "UnknownName",
    "all_ports",
    "app",
    "apps",
    "load",
    "names",
    "stages",
]
