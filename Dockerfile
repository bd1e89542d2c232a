# One image recipe for every workspace member, built from the repository root:
#   docker compose -f compose/dice-roller/compose.yaml build
# PACKAGE names the member; its console script of the same name, where it has one, is the default
# command (a stage's compose file names the script of each service).
# No `# syntax=` line on purpose: it makes BuildKit pull a frontend image first, so a build with no
# registry at hand (offline, or a mirror only for packages) fails; the engine's built-in frontend
# already has what this file uses (RUN --mount of caches, binds and secrets).
#
# Layers, so that the lab's images share what they have in common instead of each carrying a copy:
#   base            the pinned Python and the app user
#   deps-services   third-party packages of every member but lab-frontend (pyproject.toml's group
#                   `members`): built once, the same layer in every image
#   deps-frontend   deps-services plus lab-frontend's (Streamlit and what it pulls in; group
#                   `frontends`): only the stages' frontend images sit on it (DEPS=frontend,
#                   which also installs the member's `frontend` extra)
#   the member      the member and the workspace members it needs, installed as packages; an
#                   exact sync, so what it does not use is removed from its filesystem (the
#                   bytes stay in the shared layer, stored once): a layer of kilobytes

# The two base images, pinned; build arguments only so that an image built elsewhere (a mirror, a
# local copy) can stand in for them. Declared before the first FROM so FROM lines can use them.
ARG PYTHON_IMAGE=python:3.13.14-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9
ARG DEPS=services

# Pinned uv, only to build; no image of ours contains it.
FROM ${UV_IMAGE} AS uv

FROM ${PYTHON_IMAGE} AS base
# A fixed non-root user; files are readable by it but owned by root, so the app cannot change them.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app
# Bytecode compiled at build time starts faster; copy mode because the cache is a mount;
# never download a Python: the base image's is the one the app runs on.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PATH="/app/.venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src

# Third-party packages from the lock alone: this layer is reused until uv.lock changes.
# Behind a proxy that re-signs TLS, pass its CA bundle as the optional build secret `ca-bundle`
# (compose: build.secrets); it is mounted for the step only and never stored in a layer.
FROM base AS deps-services
RUN --mount=from=uv,source=/uv,target=/bin/uv \
    --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    --mount=type=secret,id=ca-bundle,required=false \
    if [ -s /run/secrets/ca-bundle ]; then export SSL_CERT_FILE=/run/secrets/ca-bundle; fi \
    && uv sync --frozen --no-install-workspace --only-group members

FROM deps-services AS deps-frontend
RUN --mount=from=uv,source=/uv,target=/bin/uv \
    --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    --mount=type=secret,id=ca-bundle,required=false \
    if [ -s /run/secrets/ca-bundle ]; then export SSL_CERT_FILE=/run/secrets/ca-bundle; fi \
    && uv sync --frozen --no-install-workspace --only-group members --only-group frontends

# The member itself, not an editable link to the sources: they are mounted for this step only.
# Building it downloads its build backend (hatchling): the same optional CA bundle.
# hadolint ignore=DL3006
FROM deps-${DEPS}
ARG PACKAGE
ARG DEPS
# The sources are mounted writable so that building the members may write beside them; what is
# written there is discarded with the mount.
RUN --mount=from=uv,source=/uv,target=/bin/uv \
    --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,target=/src,rw \
    --mount=type=secret,id=ca-bundle,required=false \
    if [ -s /run/secrets/ca-bundle ]; then export SSL_CERT_FILE=/run/secrets/ca-bundle; fi \
    && if [ "${DEPS}" = frontend ]; then set -- --extra frontend; fi \
    && uv sync --frozen --no-dev --no-editable --package "${PACKAGE}" "$@" \
    && ln -s "/app/.venv/bin/${PACKAGE}" /app/entrypoint
WORKDIR /app
USER 10001:10001
# Apps listen on 8000 inside the container; compose maps it to the host's 127.0.0.1.
EXPOSE 8000
CMD ["/app/entrypoint"]
