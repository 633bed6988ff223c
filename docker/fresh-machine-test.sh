#!/usr/bin/env bash
# A new user's first hour, in a container: README.md's two commands,
# `./scripts/serve-example` and `./scripts/test`, run as root in a fresh
# Debian bookworm (the debootstrap base image, nothing installed) from a
# clone under /root (mode 0700), with Docker's default capabilities (no
# CAP_SYS_PTRACE, no --privileged). docker/fresh-machine/run.sh does the
# work inside; see it for the checks.
#
#   docker/fresh-machine-test.sh
#
# The clone is a `git clone` of this checkout's HEAD: uncommitted changes
# are not in it. Everything else comes from the network as on a real fresh
# machine: Debian packages (scripts/install-deps), crates (cargo), PyPI (the
# end-to-end suite's venv), except Rust itself: rustup cannot be downloaded
# where only package registries answer (this project's CI), so the host's
# toolchain (`rustc --print sysroot`, Cargo.toml's rust-version or newer) is
# mounted read-only at /opt/rust and put first on PATH. With
# FRESH_MACHINE_RUSTUP=1 nothing is mounted and install-deps installs Rust
# with rustup, as on a machine with internet access.
#
# The host's CA bundle (/etc/ssl/certs/ca-certificates.crt) is added to the
# container's trusted CAs, so that a host behind a TLS-inspecting proxy can
# reach crates.io and PyPI from the container as it does itself.
#
# Takes 10 to 30 minutes (apt, crates, a release build from scratch, the
# whole suite twice). Exits non-zero when a check fails; says "skipped" and
# exits 0 when no Docker Engine answers.
# Environment: BASE_IMAGE=IMAGE another base (default
# mod_wsgi_rs/bookworm-base, built by docker/build-base-image.sh);
# FRESH_MACHINE_TIMEOUT=SECONDS for the whole run in the container (3600).
set -uo pipefail

NAME="mod_wsgi_rs-fresh-machine-$$"
LIMIT="${FRESH_MACHINE_TIMEOUT:-3600}"
TAG=fresh-machine-test
. "$(dirname "$0")/lib/container-test.sh"

# --- Rust for the container -------------------------------------------------------------
run_args=()
if [ "${FRESH_MACHINE_RUSTUP:-0}" != 1 ]; then
  [ -x "$HOME/.cargo/bin/rustc" ] && export PATH="$HOME/.cargo/bin:$PATH"
  min="$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' "$REPO/Cargo.toml")"
  if ! sysroot="$(rustc --print sysroot 2>/dev/null)" || [ ! -x "$sysroot/bin/cargo" ]; then
    log "no Rust toolchain with cargo on this host to lend the container (rustc --print sysroot);" \
        "install Rust $min or newer, or set FRESH_MACHINE_RUSTUP=1 where rustup.rs can be reached"
    exit 1
  fi
  have="$("$sysroot/bin/cargo" --version | awk '{ print $2 }')"
  if [ "$(printf '%s\n%s\n' "$min" "$have" | sort -V | head -n1)" != "$min" ]; then
    log "the host's cargo $have ($sysroot) is older than $min (rust-version in Cargo.toml): rustup update stable"
    exit 1
  fi
  run_args+=(-v "$sysroot:/opt/rust:ro"
             -e "PATH=/opt/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
  log "Rust: the host's toolchain $sysroot (cargo $have), mounted at /opt/rust"
fi

# --- the base image and the clone ----------------------------------------------------------
if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  if [ "$BASE" = "mod_wsgi_rs/bookworm-base" ]; then
    "$REPO/docker/build-base-image.sh" --image "$BASE" || exit 1
  else
    log "base image $BASE is not present locally; docker run will try to pull it"
  fi
fi
if [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  log "warning: uncommitted changes in $REPO are not tested (the container gets a clone of HEAD)"
fi
git clone -q "$REPO" "$CTX/mod_wsgi_rs" || exit 1
log "clone of $(git -C "$CTX/mod_wsgi_rs" log -1 --format='%h %s' | cut -c1-72)"

# --- the container: default capabilities, a plain init that reaps orphans -------------------
docker run -d --init --name "$NAME" "${run_args[@]}" "$BASE" sleep infinity >/dev/null || exit 1
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  docker exec "$NAME" mkdir -p /usr/local/share/ca-certificates
  docker cp /etc/ssl/certs/ca-certificates.crt "$NAME:/usr/local/share/ca-certificates/host-bundle.crt" >/dev/null
  docker cp /etc/ssl/certs/ca-certificates.crt "$NAME:/etc/ssl/certs/ca-certificates.crt" >/dev/null
fi
docker cp "$CTX/mod_wsgi_rs" "$NAME:/root/mod_wsgi_rs" || exit 1

echo "=== a fresh machine: README.md's commands from a clone in /root (docker/fresh-machine/run.sh) ==="
started=$SECONDS
timeout "$LIMIT" docker exec "$NAME" bash /root/mod_wsgi_rs/docker/fresh-machine/run.sh
rc=$?
[ "$rc" = 124 ] && log "timed out after ${LIMIT}s (FRESH_MACHINE_TIMEOUT)"
log "exit status $rc after $((SECONDS - started))s"
exit "$rc"
