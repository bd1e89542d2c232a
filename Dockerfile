# One image recipe for every workspace member, built from the repository root:
#   docker compose -f compose/dice-roller/compose.yaml build
# PACKAGE names the member; its console script of the same name is the default command.
# No `# syntax=` line on purpose: it makes BuildKit pull a frontend image first, so a build with no
# registry at hand (offline, or a mirror only for packages) fails; the engine's built-in frontend
# already has what this file uses (RUN --mount of caches, binds and secrets).

# The two base images, pinned; build arguments only so that an image built elsewhere (a mirror, a
# local copy) can stand in for them. Declared before the first FROM so FROM lines can use them.
ARG PYTHON_IMAGE=python:3.13.14-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9

# Pinned uv, only to build; the runtime image never contains it.
FROM ${UV_IMAGE} AS uv

FROM ${PYTHON_IMAGE} AS build
ARG PACKAGE
# Bytecode compiled at build time starts faster; copy mode because the cache is a mount;
# never download a Python: the base image's is the one the runtime stage has too.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src

# Step 1, third-party dependencies from the lock alone: this layer is reused until uv.lock changes.
# Behind a proxy that re-signs TLS, pass its CA bundle as the optional build secret `ca-bundle`
# (compose: build.secrets); it is mounted for this step only and never stored in a layer.
RUN --mount=from=uv,source=/uv,target=/bin/uv \
    --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    --mount=type=secret,id=ca-bundle,required=false \
    if [ -s /run/secrets/ca-bundle ]; then export SSL_CERT_FILE=/run/secrets/ca-bundle; fi \
    && uv sync --frozen --no-install-workspace --no-dev --package "${PACKAGE}"

# Step 2, the workspace members themselves, installed as packages (not editable links to /src).
COPY . /src
# Building them downloads their build backend (hatchling): the same optional CA bundle.
RUN --mount=from=uv,source=/uv,target=/bin/uv \
    --mount=type=cache,target=/root/.cache/uv \
    --mount=type=secret,id=ca-bundle,required=false \
    if [ -s /run/secrets/ca-bundle ]; then export SSL_CERT_FILE=/run/secrets/ca-bundle; fi \
    && uv sync --frozen --no-dev --no-editable --package "${PACKAGE}" \
    && ln -s "/app/.venv/bin/${PACKAGE}" /app/entrypoint

# Runtime: the same Python, the virtualenv and nothing else.
FROM ${PYTHON_IMAGE}
# A fixed non-root user; files are readable by it but owned by root, so the app cannot change them.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app
COPY --from=build /app /app
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
USER 10001:10001
# Apps listen on 8000 inside the container; compose maps it to the host's 127.0.0.1.
EXPOSE 8000
CMD ["/app/entrypoint"]
