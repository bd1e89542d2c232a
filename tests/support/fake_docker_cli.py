"""A stand-in `docker` command for testing nox's Docker sessions where no engine exists.

Installed on PATH as `docker` by tests/integration/test_doctor.py. Its answers come from the JSON
file named by FAKE_DOCKER_STATE; every call's arguments are appended to its "log" file:
  info: dict for `docker info --format {{json .}}`, or null for an engine that does not answer
  compose: what `docker compose version --short` prints, or null for no compose plugin
  ps: lines for `docker ps --format ...` (name, project, service, ports; tab-separated)
  socket_gid: what `stat -c %g` prints inside a container, or null when `docker run` fails
Compose's up and down succeed without doing anything.
"""

import json
import os
import sys


def main() -> int:
    with open(os.environ["FAKE_DOCKER_STATE"]) as file:
        state = json.load(file)
    args = sys.argv[1:]
    with open(state["log"], "a") as log:
        log.write(json.dumps(args) + "\n")
    if args[:1] == ["info"]:
        if state["info"] is None:
            print(
                "Cannot connect to the Docker daemon at unix:///var/run/docker.sock.",
                file=sys.stderr,
            )
            return 1
        print(json.dumps(state["info"]))
    elif args[:2] == ["compose", "version"]:
        if state["compose"] is None:
            print("docker: 'compose' is not a docker command.", file=sys.stderr)
            return 1
        print(state["compose"])
    elif args[:1] == ["compose"]:
        return 0
    elif args[:1] == ["ps"]:
        print("\n".join(state["ps"]))
    elif args[:1] == ["run"]:
        if state["socket_gid"] is None:
            print("Unable to find image locally; pull access denied", file=sys.stderr)
            return 125
        print(state["socket_gid"])
    else:
        print(f"fake docker: unexpected call {args}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
