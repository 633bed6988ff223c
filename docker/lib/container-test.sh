# Shared by the container checks (stock-apache-test.sh, wheel-test.sh,
# fresh-machine-test.sh); sourced, not run. Before sourcing, set TAG (the
# prefix of log lines and of the work folder) and NAME (the container).
# It sets REPO and BASE, defines log, skips the whole check when no Docker
# Engine answers, makes CTX (a work folder) and removes both at exit.

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BASE="${BASE_IMAGE:-mod_wsgi_rs/bookworm-base}"

log() { echo "$TAG: $*" >&2; }

if ! command -v docker >/dev/null 2>&1 || ! timeout 20 docker info >/dev/null 2>&1; then
  echo "$TAG: no Docker Engine answers (docker info failed): skipped"
  exit 0
fi
if [ -z "${DOCKER_BUILDKIT:-}" ] && ! docker buildx version >/dev/null 2>&1; then
  export DOCKER_BUILDKIT=0
fi

CTX="$(mktemp -d "${TMPDIR:-/tmp}/mod_wsgi_rs-$TAG.XXXXXX")"
cleanup() {
  docker rm -f -v "$NAME" >/dev/null 2>&1 || true
  rm -rf "$CTX"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# build_image IMAGE FOLDER: docker/FOLDER/Dockerfile over the base image
# (made by docker/build-base-image.sh when it is the default and missing).
build_image() {
  local image="$1" folder="$REPO/docker/$2" started=$SECONDS
  if ! docker image inspect "$BASE" >/dev/null 2>&1; then
    if [ "$BASE" = "mod_wsgi_rs/bookworm-base" ]; then
      "$REPO/docker/build-base-image.sh" --image "$BASE" || exit 1
    else
      log "base image $BASE is not present locally; docker build will try to pull it"
    fi
  fi
  if ! docker build --force-rm -t "$image" --build-arg BASE_IMAGE="$BASE" \
       -f "$folder/Dockerfile" "$folder" >"$CTX/build.log" 2>&1; then
    tail -n 40 "$CTX/build.log" >&2
    log "docker build of $image failed"
    exit 1
  fi
  log "image $image ready in $((SECONDS - started))s"
}
