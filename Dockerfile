# The image gccheck's Helm hook (charts/gccheck) runs.
#
#   docker build --build-arg VERSION=0.1.0 -t registry.example.com/gccheck:0.1.0 .
#
# Stage 1 builds gccheck's wheel; stage 2 installs only that wheel and its runtime
# dependencies (no build tools, no tests, no demo servers) and runs as a non-root user.

FROM python:3.12-slim AS build
WORKDIR /src
RUN pip install --no-cache-dir --disable-pip-version-check "build>=1.0"
COPY pyproject.toml README.md matrix.yaml ./
COPY gccheck/ gccheck/
RUN python -m build --wheel --outdir /dist

FROM python:3.12-slim
# gccheck's version (gccheck/__init__.py); tests keep the default equal to it.
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="gccheck" \
      org.opencontainers.image.description="Checks that W&B Server's artifact garbage collection will work on a deployment" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
# Logs unbuffered; no .pyc writes at run time (the hook's root filesystem is read-only:
# pip compiles at install time); HOME on the writable /tmp.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp
COPY --from=build /dist/ /tmp/dist/
RUN groupadd --system --gid 65532 gccheck \
 && useradd --system --uid 65532 --gid 65532 --home-dir /tmp --no-create-home \
      --shell /usr/sbin/nologin gccheck \
 && pip install --no-cache-dir --disable-pip-version-check /tmp/dist/*.whl \
 && rm -rf /tmp/dist
# Numeric, so that Kubernetes can verify runAsNonRoot; the chart runs as the same UID.
USER 65532:65532
ENTRYPOINT ["gccheck"]
CMD ["--help"]
