#!/usr/bin/env bash
# Installs the wheel on a machine that has Debian's apache2 and python3 but
# nothing to build with (no Rust, no clang, no C compiler, no apache2-dev),
# in a container, and checks that it serves (docker/wheel/check.sh):
# `mod-wsgi-rs start-server` from the virtualenv, and `mod-wsgi-rs
# module-config`'s lines in Debian's own Apache.
#
#   docker/wheel-test.sh
#
# Exits non-zero when a check fails; says "skipped" and exits 0 when no
# Docker Engine answers. Environment: MOD_WSGI_TEST_WHEEL=PATH tests that
# wheel (it must be for the image's Python, CPython 3.11 on bookworm) instead
# of building one with scripts/build-wheels (Rust and PyPI on the host);
# BASE_IMAGE=IMAGE another base (default mod_wsgi_rs/bookworm-base, built by
# docker/build-base-image.sh).
set -uo pipefail

IMAGE="${WHEEL_TEST_IMAGE:-mod_wsgi_rs/wheel-test:latest}"
NAME="mod_wsgi_rs-wheel-test-$$"
TAG=wheel-test
. "$(dirname "$0")/lib/container-test.sh"

# --- the wheel ------------------------------------------------------------------------
mkdir -p "$CTX/src/wheel"
if [ -n "${MOD_WSGI_TEST_WHEEL:-}" ]; then
  cp "$MOD_WSGI_TEST_WHEEL" "$CTX/src/" || exit 1
else
  log "building the wheel for CPython 3.11 on the host (scripts/build-wheels)"
  "$REPO/scripts/build-wheels" --out "$CTX/src" 3.11 >&2 || exit 1
fi
ls "$CTX"/src/*.whl >/dev/null 2>&1 || { log "no wheel in $CTX/src"; exit 1; }
cp "$REPO/docker/wheel/check.sh" "$REPO/docker/wheel/app.wsgi" "$CTX/src/wheel/"

# --- the image: base + apache2 + python3 (no build tools) ----------------------------------
build_image "$IMAGE" wheel

docker run -d --name "$NAME" "$IMAGE" sleep infinity >/dev/null || exit 1
docker cp "$CTX/src" "$NAME:/src" || exit 1
echo "=== the wheel on a machine without build tools (docker/wheel/check.sh) ==="
docker exec "$NAME" bash /src/wheel/check.sh
