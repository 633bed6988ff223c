#!/usr/bin/env bash
# Builds the mod_wsgi_rs image (docker/Dockerfile) from a host-built module,
# and optionally the test-runner image (docker/Dockerfile.tests).
#
#   docker/build-image.sh [--tag NAME] [--so PATH] [--base IMAGE] [--tests]
#
#   --tag NAME    image to build (default mod_wsgi_rs:latest, or $MOD_WSGI_RS_IMAGE)
#   --so PATH     module to install (default $MOD_WSGI_SO, else
#                 target/release/libmod_wsgi_rs.so, built with scripts/build
#                 when missing or older than the sources)
#   --base IMAGE  base image (default $BASE_IMAGE, else
#                 mod_wsgi_rs/bookworm-base, built by
#                 docker/build-base-image.sh when it does not exist yet)
#   --tests       also build the test runner, mod_wsgi_rs/tests:latest
#                 (or $MOD_WSGI_RS_TEST_IMAGE)
#   --no-build    never run scripts/build (fail if the module is missing)
#   --from-source compile the module inside Docker instead
#                 (docker/Dockerfile.build; needs $RUST_IMAGE, default
#                 rust:1-bookworm, and crates.io: i.e. a registry)
#
# Only the files the image needs are copied into a temporary build context,
# so target/ is never sent to the Docker Engine.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
TAG="${MOD_WSGI_RS_IMAGE:-mod_wsgi_rs:latest}"
TEST_TAG="${MOD_WSGI_RS_TEST_IMAGE:-mod_wsgi_rs/tests:latest}"
SO="${MOD_WSGI_SO:-}"
BASE="${BASE_IMAGE:-mod_wsgi_rs/bookworm-base}"
TESTS=0
BUILD_MODULE=1
FROM_SOURCE=0
RUST_IMAGE="${RUST_IMAGE:-rust:1-bookworm}"

while [ $# -gt 0 ]; do
  case "$1" in
    --tag) TAG="$2"; shift ;;
    --so) SO="$2"; shift ;;
    --base) BASE="$2"; shift ;;
    --tests) TESTS=1 ;;
    --no-build) BUILD_MODULE=0 ;;
    --from-source) FROM_SOURCE=1 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "build-image: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "build-image: $*" >&2; }

# The classic builder works with every Engine this project meets (and with
# docker-compose v1); BuildKit needs the buildx plugin with newer clients.
if [ -z "${DOCKER_BUILDKIT:-}" ] && ! docker buildx version >/dev/null 2>&1; then
  export DOCKER_BUILDKIT=0
fi

# --- the module --------------------------------------------------------------
module_is_stale() {
  local so="$1"
  [ -f "$so" ] || return 0
  [ -n "$(find "$REPO/src" "$REPO/Cargo.toml" "$REPO/Cargo.lock" "$REPO/build.rs" \
           -newer "$so" -type f -print -quit 2>/dev/null)" ]
}

if [ "$FROM_SOURCE" = 1 ]; then
  SO="(compiled in $RUST_IMAGE)"
elif [ -z "$SO" ]; then
  SO="$REPO/target/release/libmod_wsgi_rs.so"
  if [ "$BUILD_MODULE" = 1 ] && module_is_stale "$SO"; then
    log "building the module on the host (scripts/build)"
    "$REPO/scripts/build" >&2
  fi
fi
if [ "$FROM_SOURCE" = 0 ] && [ ! -f "$SO" ]; then
  log "module not found: $SO (build it with scripts/build, or pass --so PATH)"
  exit 1
fi

# The module links the host's libpython and is built against the host's
# Apache headers: warn when the host is not the base image's Debian release.
host_release="$(. /etc/os-release 2>/dev/null && echo "${ID:-}-${VERSION_CODENAME:-}")"
[ "$FROM_SOURCE" = 1 ] || case "$BASE" in
  *bookworm*) [ "$host_release" = "debian-bookworm" ] || \
    log "warning: host is '$host_release', the image is Debian bookworm: the module may not load" ;;
esac

# --- the base image ----------------------------------------------------------
if docker image inspect "$BASE" >/dev/null 2>&1; then
  log "base image $BASE: present ($(docker image inspect -f '{{.Created}}' "$BASE"))"
else
  if [ "$BASE" = "mod_wsgi_rs/bookworm-base" ]; then
    "$REPO/docker/build-base-image.sh" --image "$BASE"
  else
    log "base image $BASE is not present locally; docker build will try to pull it"
  fi
fi

# --- a minimal build context ---------------------------------------------------
CTX="$(mktemp -d "${TMPDIR:-/tmp}/mod_wsgi_rs-ctx.XXXXXX")"
trap 'rm -rf "$CTX"' EXIT
mkdir -p "$CTX/docker" "$CTX/apache-conf" "$CTX/target/release"
cp "$REPO/docker/Dockerfile" "$REPO/docker/apache2-foreground" "$CTX/docker/"
cp -r "$REPO/docker/conf" "$REPO/docker/example" "$CTX/docker/"
cp "$REPO/apache-conf/wsgi_rs.load" "$REPO/apache-conf/wsgi_rs.conf" \
   "$REPO/apache-conf/example-site.conf" "$CTX/apache-conf/"
if [ "$FROM_SOURCE" = 1 ]; then
  cp "$REPO/docker/Dockerfile.build" "$CTX/docker/"
  cp "$REPO/Cargo.toml" "$REPO/Cargo.lock" "$REPO/build.rs" "$CTX/"
  cp -r "$REPO/src" "$CTX/src"
  cp -r "$REPO/cli" "$CTX/cli"
else
  cp "$SO" "$CTX/target/release/libmod_wsgi_rs.so"
fi

# docker build's output goes to a log, shown when the build fails.
# The image a tag named before is removed once the tag moves on (when no
# container uses it), so repeated runs do not pile up dangling images.
build() {
  local what="$1" tag="$2"; shift 2
  local started=$SECONDS old
  old="$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)"
  local proxy_args=() v
  for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
    [ -n "${!v:-}" ] && proxy_args+=(--build-arg "$v")
  done
  if ! docker build --force-rm -t "$tag" "${proxy_args[@]}" "$@" >"$CTX/build.log" 2>&1; then
    tail -n 40 "$CTX/build.log" >&2
    log "docker build of $what failed"
    exit 1
  fi
  log "built $what in $((SECONDS - started))s"
  if [ -n "$old" ] && [ "$old" != "$(docker image inspect -f '{{.Id}}' "$tag")" ]; then
    docker rmi "$old" >/dev/null 2>&1 || true
  fi
}

if [ "$FROM_SOURCE" = 1 ]; then
  build "$TAG (base $BASE, module compiled in $RUST_IMAGE)" "$TAG" \
    -f "$CTX/docker/Dockerfile.build" --build-arg BASE_IMAGE="$BASE" \
    --build-arg RUST_IMAGE="$RUST_IMAGE" "$CTX"
else
  build "$TAG (base $BASE, module $SO)" "$TAG" \
    -f "$CTX/docker/Dockerfile" --build-arg BASE_IMAGE="$BASE" "$CTX"
fi

if [ "$TESTS" = 1 ]; then
  cp "$REPO/docker/Dockerfile.tests" "$CTX/docker/"
  build "$TEST_TAG (base $BASE)" "$TEST_TAG" \
    -f "$CTX/docker/Dockerfile.tests" --build-arg BASE_IMAGE="$BASE" "$CTX/docker"
fi
