# ModelTerms: the web app and its PyTorch training workers in one image.
#
#   docker build -t modelterms .                                  CPU image (the default)
#   docker build --build-arg TORCH_FLAVOR=cu130 -t modelterms:cuda .   CUDA image for GPU hosts
#   podman build --format docker -t modelterms .                  Podman (OCI format drops HEALTHCHECK)
#
# Only instructions and flags that Docker Engine 20.10 (Debian 12's docker.io) and Podman 4.3 build
# without BuildKit are used: tests/api/test_selfhost.py checks every flag.
#
# TORCH_FLAVOR names a wheel index of PyTorch: cpu, or a CUDA build such as cu126, cu128 or
# cu130 (pick one the TORCH_VERSION release ships and the host's NVIDIA driver supports). The
# CUDA wheels bring their own CUDA runtime; the driver comes from the host through the NVIDIA
# Container Toolkit, so both flavors share the same slim base. compose.yaml builds both.
#
# The container runs as a non-root user and works with a read-only root filesystem: it writes
# only to /data (the run store: a volume) and to /tmp (mount a tmpfs).

ARG PYTHON_VERSION=3.12
ARG NODE_VERSION=22

# --- front-end assets: `npm ci`, then the same copies as the Makefile's static/vendor rule ----
FROM node:${NODE_VERSION}-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error
RUN mkdir -p static/vendor/fonts \
 && cp node_modules/htmx.org/dist/htmx.min.js static/vendor/ \
 && cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css static/vendor/ \
 && cp node_modules/@fontsource/stix-two-math/files/stix-two-math-latin-400-normal.woff2 static/vendor/fonts/ \
 && cp node_modules/@fontsource-variable/inter/files/inter-latin-wght-normal.woff2 static/vendor/fonts/ \
 && mkdir -p static/vendor/swagger-ui \
 && cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css static/vendor/swagger-ui/

# --- the app -----------------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS app

ARG TORCH_VERSION=2.13.0
ARG TORCH_FLAVOR=cpu
ARG TORCH_INDEX=https://download.pytorch.org/whl/${TORCH_FLAVOR}

# No .pyc files at run time (the root filesystem may be read-only); temporary files and anything
# a library caches under $HOME go to /tmp.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    HOME=/tmp \
    TMPDIR=/tmp \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    MODELTERMS_DATA_DIR=/data \
    MODELTERMS_ARTIFACTS_DIR=/opt/modelterms/artifacts

# Not --system: uid 10001 lies outside the system range (100-999), which useradd warns about.
RUN groupadd --gid 10001 modelterms \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin modelterms \
 && install -d -o 10001 -g 10001 -m 0750 /data

# torch first, from PyTorch's own index: its own layer, rebuilt only when the version or flavor
# changes. The CPU index has no CUDA libraries, which keeps the CPU image small.
RUN python -m venv /opt/venv \
 && pip install --no-cache-dir --index-url "${TORCH_INDEX}" "torch==${TORCH_VERSION}"

# The other dependencies, read from pyproject.toml; torch stays pinned to the build above.
WORKDIR /app
COPY pyproject.toml README.md ./
RUN python -c "import tomllib, importlib.metadata as m; \
deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; \
open('/tmp/requirements.txt', 'w').write('\n'.join(deps)); \
open('/tmp/constraints.txt', 'w').write('torch==' + m.version('torch'))" \
 && pip install --no-cache-dir -r /tmp/requirements.txt -c /tmp/constraints.txt \
 && rm /tmp/requirements.txt /tmp/constraints.txt

# The app stays where it is (app/settings.py finds templates, static and content next to it), so
# it is installed in editable mode; its bytecode is compiled now, while the filesystem is writable.
COPY app ./app
COPY templates ./templates
COPY content ./content
COPY static ./static
COPY --from=assets /build/static/vendor ./static/vendor
RUN pip install --no-cache-dir --no-deps --editable . \
 && python -m compileall -q app

# Base models and other artifacts are built now and baked in, read-only: the first run of every
# demo starts at once, and a fresh volume loses nothing.
RUN modelterms prepare

USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000
# Liveness: /healthz answers 200 while the process lives ("ready" in its body says whether runs
# start at once). Only the flags Docker Engine 20.10 and Podman 4.3 know (no --start-interval,
# Engine 25+): a 10 s interval, so a fresh container reads healthy within about 10 s.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('MODELTERMS_PORT', '8000'), timeout=4)"]
CMD ["modelterms", "serve", "--host", "0.0.0.0"]
