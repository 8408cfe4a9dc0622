# syntax=docker/dockerfile:1
#
# kong-authkit: the official Kong OSS image with the authkit Go plugins
# (go-pdk embedded servers) and the `authkit` CLI.
#
#   docker build -t kong-authkit:dev .
#
# deploy/compose.yaml builds and runs this image next to Ory Hydra and an
# echo upstream; deploy/kubernetes/values.yaml runs it with the kong/kong
# Helm chart. deploy/dockerfile_test.go checks that every directory under
# plugins/ is built, installed and registered below.

# ---------------------------------------------------------------- build ----
# Go 1.26.8 is the `go` line of go.mod. Exact tag: a rebuild uses the same
# toolchain.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
# CGO_ENABLED=0: static binaries. A cgo build linked against the builder's
# glibc fails to exec on another libc ("not found", exit 127, and Kong
# respawns it in a loop). GOTOOLCHAIN=local: never download another Go.
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false

# Modules first: this layer is reused until go.mod or go.sum changes.
COPY go.mod go.sum ./
RUN go mod download

COPY pkg/ pkg/
COPY internal/ internal/
COPY cmd/ cmd/
COPY plugins/ plugins/

# One build per plugin. The output file name is the plugin name: go-pdk
# reports basename(os.Executable()) as the plugin name in -dump and listens
# on <prefix>/<name>.socket.
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/authkit-basic ./plugins/authkit-basic
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/authkit-key ./plugins/authkit-key
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/authkit-oauth ./plugins/authkit-oauth
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/authkit-oauth-explain ./plugins/authkit-oauth-explain
# The operator CLI (explain, logs, check, hash).
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/authkit ./cmd/authkit

# Kong runs `<plugin> -dump` at start-up and refuses to start when its
# stdout is anything but one JSON object. Catch that here, not in Kong.
RUN set -e; for p in authkit-basic authkit-key authkit-oauth authkit-oauth-explain; do \
      out=$(/out/$p -dump); \
      case "$out" in "{"*"}") ;; *) echo "$p -dump does not print a JSON object: $out" >&2; exit 1 ;; esac; \
    done

# ---------------------------------------------------------------- kong -----
# Supported Kong versions: 3.7 and later.
#  - go-pdk >= 0.10 (we use v0.11.2) uses Kong's __seq__ as the instance id;
#    __seq__ is unique across nginx workers only since Kong 3.6. On older
#    Kong two workers can register different configs under one id, and a
#    request then runs with another route's config.
#  - 3.6.x did not pick up changed Go plugin configs until a restart
#    (kong#12718 / go-pdk#198) and could spin in a reset loop (kong#12363);
#    both are fixed in 3.7.0.
#  - QUERY_CMD is set explicitly below: Kong <= 3.8 has no default for it
#    (3.9 derives `/usr/local/bin/<name> -dump`), so the same settings work
#    on 3.7-3.9.
# Pinned: kong:3.9.1, the newest 3.9 patch in Docker's official `kong`
# image (later 3.9 patches are published only as kong/kong:3.9.x), and the
# release whose plugin-server code our wire-level tests (internal/kongwire)
# reproduce. Its prefix is /usr/local/kong, which is where go-pdk puts the
# socket by default, so START_CMD needs no -kong-prefix here.
FROM kong:3.9.1

LABEL org.opencontainers.image.title="kong-authkit" \
      org.opencontainers.image.description="Kong Gateway 3.9.1 with the authkit Go plugins: authkit-basic, authkit-key, authkit-oauth, authkit-oauth-explain" \
      org.opencontainers.image.source="https://github.com/kong-authkit/kong-authkit" \
      org.opencontainers.image.url="https://github.com/kong-authkit/kong-authkit" \
      org.opencontainers.image.documentation="https://github.com/kong-authkit/kong-authkit/blob/main/deploy/README.md" \
      org.opencontainers.image.vendor="kong-authkit" \
      org.opencontainers.image.base.name="docker.io/library/kong:3.9.1"

# The image runs as `kong`; installing into /usr/local/bin needs root.
USER root
# Real files, not symlinks: os.Executable resolves symlinks, so a symlinked
# binary would report (and listen as) the target's name.
COPY --from=build /out/authkit-basic /usr/local/bin/authkit-basic
COPY --from=build /out/authkit-key /usr/local/bin/authkit-key
COPY --from=build /out/authkit-oauth /usr/local/bin/authkit-oauth
COPY --from=build /out/authkit-oauth-explain /usr/local/bin/authkit-oauth-explain
COPY --from=build /out/authkit /usr/local/bin/authkit
# The demo DB-less configuration (compose bind-mounts the working copy over
# it, Kubernetes uses the ingress controller instead).
COPY kong.yaml /kong/kong.yaml

# Plugin registration. Each plugin is its own plugin server, named like the
# plugin; Kong turns `-` into `_` in the per-server keys.
# Plugins read no environment variables: nginx clears the workers'
# environment, so a variable would need KONG_NGINX_MAIN_ENV to reach them.
#
# Prometheus metrics are off. To turn them on for a plugin, add
# `-metrics-listen ADDR` to its START_CMD, one port per plugin, e.g.
#   KONG_PLUGINSERVER_AUTHKIT_BASIC_START_CMD="/usr/local/bin/authkit-basic -metrics-listen 127.0.0.1:9542"
# (an address without a host, ":9542", binds 127.0.0.1; the path is
# /metrics). deploy/compose.yaml does this for every plugin. The variable
# AUTHKIT_METRICS_LISTEN works too, but reaches the plugin processes only
# with KONG_NGINX_MAIN_ENV=AUTHKIT_METRICS_LISTEN, and then gives every
# plugin the same address: prefer the flag.
ENV KONG_PLUGINS=bundled,authkit-basic,authkit-key,authkit-oauth,authkit-oauth-explain \
    KONG_PLUGINSERVER_NAMES=authkit-basic,authkit-key,authkit-oauth,authkit-oauth-explain \
    KONG_PLUGINSERVER_AUTHKIT_BASIC_START_CMD=/usr/local/bin/authkit-basic \
    KONG_PLUGINSERVER_AUTHKIT_BASIC_QUERY_CMD="/usr/local/bin/authkit-basic -dump" \
    KONG_PLUGINSERVER_AUTHKIT_KEY_START_CMD=/usr/local/bin/authkit-key \
    KONG_PLUGINSERVER_AUTHKIT_KEY_QUERY_CMD="/usr/local/bin/authkit-key -dump" \
    KONG_PLUGINSERVER_AUTHKIT_OAUTH_START_CMD=/usr/local/bin/authkit-oauth \
    KONG_PLUGINSERVER_AUTHKIT_OAUTH_QUERY_CMD="/usr/local/bin/authkit-oauth -dump" \
    KONG_PLUGINSERVER_AUTHKIT_OAUTH_EXPLAIN_START_CMD=/usr/local/bin/authkit-oauth-explain \
    KONG_PLUGINSERVER_AUTHKIT_OAUTH_EXPLAIN_QUERY_CMD="/usr/local/bin/authkit-oauth-explain -dump"

# DB-less, with the configuration copied above.
ENV KONG_DATABASE=off \
    KONG_DECLARATIVE_CONFIG=/kong/kong.yaml

# Logs to the container's stdout/stderr. The plugins' `authkit {...}` lines
# go through kong.log at notice (refusals) and err (gateway or provider
# failures), so Kong's default level, notice, shows them. The plugin
# processes' own output (start-up errors, panics, "Listening on socket")
# is copied into error.log at info only: run with KONG_LOG_LEVEL=info while
# setting up or debugging.
ENV KONG_LOG_LEVEL=notice \
    KONG_PROXY_ACCESS_LOG=/dev/stdout \
    KONG_ADMIN_ACCESS_LOG=/dev/stdout \
    KONG_PROXY_ERROR_LOG=/dev/stderr \
    KONG_ADMIN_ERROR_LOG=/dev/stderr

HEALTHCHECK --interval=10s --timeout=10s --start-period=20s --retries=3 CMD kong health

USER kong
