# syntax=docker/dockerfile:1
# One image recipe for every workspace member, built from the repository root:
#   docker build --build-arg PACKAGE=dice-roller -t observability-lab/dice-roller .
# PACKAGE names the member; its console script of the same name is the default command.

# Pinned uv, only to build; the runtime image never contains it.
FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

FROM python:3.13.14-slim-bookworm AS build
ARG PACKAGE
# Bytecode compiled at build time starts faster; copy mode because the cache is a mount;
# never download a Python: the base image's is the one the runtime stage has too.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src

# Step 1, third-party dependencies from the lock alone: this layer is reused until uv.lock changes.
RUN --mount=from=uv,source=/uv,target=/bin/uv \
    --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --frozen --no-install-workspace --no-dev --package "${PACKAGE}"

# Step 2, the workspace members themselves, installed as packages (not editable links to /src).
COPY . /src
RUN --mount=from=uv,source=/uv,target=/bin/uv \
    --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package "${PACKAGE}" \
    && ln -s "/app/.venv/bin/${PACKAGE}" /app/entrypoint

# Runtime: the same Python, the virtualenv and nothing else.
FROM python:3.13.14-slim-bookworm
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
