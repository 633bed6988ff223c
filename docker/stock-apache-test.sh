#!/usr/bin/env bash
# Installs mod_wsgi_rs into a stock Debian Apache the way README.md tells
# users, in a container, and checks it (docker/stock-apache/check.sh):
#
#   - the container: Debian's apache2 and Debian's mod_wsgi
#     (libapache2-mod-wsgi-py3, which enables itself), Apache running;
#   - apache-conf/wsgi_rs.{load,conf} copied to /etc/apache2/mods-available,
#     the module to /usr/lib/apache2/modules/mod_wsgi_rs.so;
#   - `a2enmod wsgi_rs` is refused while `wsgi` is enabled (the
#     "# Conflicts: wsgi" line of wsgi_rs.load);
#   - a2dismod wsgi, a2enmod wsgi_rs, a site, `apache2ctl configtest`,
#     `apache2ctl graceful`: the site is then served by mod_wsgi_rs
#     (mod_wsgi.server_implementation and mod_wsgi.version), in embedded
#     mode and in a daemon process group; `apache2ctl stop` stops it.
#
#   docker/stock-apache-test.sh
#
# Exits non-zero when a check fails; says "skipped" and exits 0 when no
# Docker Engine answers. Takes about a minute once the base image exists.
# Environment: MOD_WSGI_SO=PATH tests that module instead of building one
# (scripts/build, when target/release/libmod_wsgi_rs.so is missing or older
# than the sources); BASE_IMAGE=IMAGE another base (default
# mod_wsgi_rs/bookworm-base, built by docker/build-base-image.sh).
set -uo pipefail

IMAGE="${STOCK_APACHE_IMAGE:-mod_wsgi_rs/stock-apache:latest}"
NAME="mod_wsgi_rs-stock-apache-$$"
TAG=stock-apache-test
. "$(dirname "$0")/lib/container-test.sh"

# --- the module ------------------------------------------------------------------
SO="${MOD_WSGI_SO:-$REPO/target/release/libmod_wsgi_rs.so}"
if [ -z "${MOD_WSGI_SO:-}" ] && { [ ! -f "$SO" ] || [ -n "$(find "$REPO/src" "$REPO/Cargo.toml" \
     "$REPO/Cargo.lock" "$REPO/build.rs" -newer "$SO" -type f -print -quit 2>/dev/null)" ]; }; then
  log "building the module on the host (scripts/build)"
  "$REPO/scripts/build" >&2 || exit 1
fi
[ -f "$SO" ] || { log "module not found: $SO"; exit 1; }
VERSION="$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$REPO/Cargo.toml" | head -n1)"

# --- the image: base + stock apache2 + Debian's mod_wsgi ------------------------------
build_image "$IMAGE" stock-apache

# --- what the container gets: the files a user has after building ---------------------
mkdir -p "$CTX/src/apache-conf" "$CTX/src/stock-apache"
cp "$REPO/apache-conf/wsgi_rs.load" "$REPO/apache-conf/wsgi_rs.conf" "$CTX/src/apache-conf/"
cp "$SO" "$CTX/src/mod_wsgi_rs.so"
cp "$REPO/docker/stock-apache/check.sh" "$REPO/docker/stock-apache/app.wsgi" \
   "$REPO/docker/stock-apache/site.conf" "$CTX/src/stock-apache/"

docker run -d --name "$NAME" "$IMAGE" sleep infinity >/dev/null || exit 1
docker cp "$CTX/src" "$NAME:/src" || exit 1
echo "=== stock Debian Apache: install mod_wsgi_rs the README's way (docker/stock-apache/check.sh) ==="
docker exec -e EXPECT_VERSION="$VERSION" "$NAME" bash /src/stock-apache/check.sh
rc=$?
if [ "$rc" != 0 ]; then
  echo "--- Apache's error log in the container (last 40 lines) ---"
  docker exec "$NAME" tail -n 40 /var/log/apache2/error.log
fi
exit "$rc"
