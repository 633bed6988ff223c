#!/usr/bin/env bash
# Builds the local Debian base image used by docker/Dockerfile on hosts whose
# Docker Engine cannot pull anything (air-gapped hosts, this project's CI):
#
#   debootstrap --variant=minbase SUITE into a folder, using the host's own
#   apt mirror, then `docker import` the folder as an image.
#
# The image is reused when it already exists (pass --force to rebuild).
#
#   docker/build-base-image.sh [--force] [--image NAME] [--suite SUITE]
#                              [--mirror URL]
#
# Defaults: NAME mod_wsgi_rs/bookworm-base (or $BASE_IMAGE), SUITE the host's
# release codename (bookworm), URL the host's mirror for SUITE as configured
# in /etc/apt/sources.list and /etc/apt/sources.list.d/*.{list,sources}.
# The image's /etc/apt/sources.list lists the host's entries for SUITE,
# SUITE-updates and SUITE-security, so `apt-get install` inside a build works
# wherever the host's apt works.
#
# Needs root (or sudo) for debootstrap; installs debootstrap with apt-get
# when it is missing.
set -euo pipefail

IMAGE="${BASE_IMAGE:-mod_wsgi_rs/bookworm-base}"
SUITE="${DEBIAN_SUITE:-}"
MIRROR="${DEBIAN_MIRROR:-}"
FORCE=0

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1 ;;
    --image) IMAGE="$2"; shift ;;
    --suite) SUITE="$2"; shift ;;
    --mirror) MIRROR="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build-base-image: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

log() { echo "build-base-image: $*" >&2; }

if ! docker info >/dev/null 2>&1; then
  log "no Docker Engine answers (docker info failed)"
  exit 1
fi

if [ "$FORCE" = 0 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  log "reusing existing image $IMAGE ($(docker image inspect -f '{{.Created}}' "$IMAGE"))"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { log "debootstrap needs root (or sudo)"; exit 1; }
  SUDO="sudo"
fi

if [ -z "$SUITE" ]; then
  # shellcheck disable=SC1091
  SUITE="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
  [ -n "$SUITE" ] || SUITE=bookworm
fi

# ---------------------------------------------------------------------------
# The host's apt sources, as "URI SUITE COMPONENTS..." lines (deb entries
# only, from one-line .list files and deb822 .sources files; files with other
# suffixes, e.g. *.disabled, are ignored by apt and so here too).
# ---------------------------------------------------------------------------
host_sources() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    # deb [opts] URI SUITE COMP...
    sed -e 's/#.*//' "$f" | awk '
      $1 == "deb" {
        i = 2
        if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        line = $i " " $(i+1)
        for (j = i + 2; j <= NF; j++) line = line " " $j
        print line
      }'
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # Stanzas separated by blank lines; fields Types, URIs, Suites,
    # Components, Enabled (continuation lines are not used for these).
    awk '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && enabled !~ /^[Nn]o/ && uris != "") {
          nu = split(uris, U, " "); ns = split(suites, S, " ")
          for (a = 1; a <= nu; a++) for (b = 1; b <= ns; b++)
            print U[a] " " S[b] " " comps
        }
        types = uris = suites = comps = enabled = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      {
        key = tolower($1); sub(/:$/, "", key)
        val = $0; sub(/^[^:]*:[ \t]*/, "", val)
        if (key == "types") types = val
        else if (key == "uris") uris = val
        else if (key == "suites") suites = val
        else if (key == "components") comps = val
        else if (key == "enabled") enabled = val
      }
      END { flush() }' "$f"
  done
}

SOURCES="$(host_sources | awk 'NF >= 2' | sort -u)"
if [ -z "$MIRROR" ]; then
  MIRROR="$(printf '%s\n' "$SOURCES" | awk -v s="$SUITE" '$2 == s { print $1; exit }')"
fi
if [ -z "$MIRROR" ]; then
  log "no apt source for suite '$SUITE' in /etc/apt/sources.list{,.d/*}; pass --mirror URL"
  exit 1
fi
log "suite $SUITE from mirror $MIRROR -> image $IMAGE"

if ! command -v debootstrap >/dev/null 2>&1 && [ ! -x /usr/sbin/debootstrap ]; then
  log "installing debootstrap with apt-get"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi
DEBOOTSTRAP="$(command -v debootstrap || echo /usr/sbin/debootstrap)"

INCLUDE="ca-certificates"
ROOTFS="$(mktemp -d "${TMPDIR:-/var/tmp}/mod_wsgi_rs-rootfs.XXXXXX")"

cleanup() {
  # debootstrap mounts proc/sys inside the target; a failed run may leave
  # them mounted. Unmount (deepest first) before removing the folder.
  local m
  # shellcheck disable=SC2013  # mount points of our own mktemp folder: no spaces
  for m in $(awk -v r="$ROOTFS" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
    $SUDO umount -l "$m" 2>/dev/null || true
  done
  $SUDO rm -rf --one-file-system "$ROOTFS"
}
trap cleanup EXIT

started=$(date +%s)
log "debootstrap --variant=minbase into $ROOTFS (takes a few minutes)"
if ! $SUDO "$DEBOOTSTRAP" --variant=minbase --include="$INCLUDE" --components=main \
      "$SUITE" "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1; then
  tail -n 30 "$ROOTFS.log" >&2
  [ -f "$ROOTFS/debootstrap/debootstrap.log" ] && tail -n 30 "$ROOTFS/debootstrap/debootstrap.log" >&2
  rm -f "$ROOTFS.log"
  log "debootstrap failed"
  exit 1
fi
rm -f "$ROOTFS.log"

# The image's apt sources: the host's entries for this release.
{
  echo "# Written by docker/build-base-image.sh from the build host's apt sources."
  printf '%s\n' "$SOURCES" | awk -v s="$SUITE" '
    $2 == s || $2 == s "-updates" || $2 == s "-security" || $2 == s "/updates" {
      comps = ""
      for (j = 3; j <= NF; j++) comps = comps " " $j
      if (comps == "") comps = " main"
      print "deb " $1 " " $2 comps
    }'
} | $SUDO tee "$ROOTFS/etc/apt/sources.list" >/dev/null

# Container conventions (as Debian's official images): no service starts
# during package installation, no docs/man pages, no apt caches.
$SUDO tee "$ROOTFS/usr/sbin/policy-rc.d" >/dev/null <<'EOF'
#!/bin/sh
# Containers run one service in the foreground; packages must not start any.
exit 101
EOF
$SUDO chmod 0755 "$ROOTFS/usr/sbin/policy-rc.d"
$SUDO tee "$ROOTFS/etc/dpkg/dpkg.cfg.d/docker-minimal" >/dev/null <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
$SUDO tee "$ROOTFS/etc/apt/apt.conf.d/docker-minimal" >/dev/null <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
EOF
$SUDO find "$ROOTFS/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
$SUDO rm -rf "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* \
  "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin \
  "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/log/*.log \
  "$ROOTFS"/debootstrap
: | $SUDO tee "$ROOTFS/etc/hostname" >/dev/null
$SUDO rm -f "$ROOTFS/etc/resolv.conf"   # Docker provides it at run time

log "importing $ROOTFS as $IMAGE"
$SUDO tar --numeric-owner --xattrs -C "$ROOTFS" -c . | docker import \
  --change 'CMD ["/bin/bash"]' \
  --change 'ENV LANG=C.UTF-8' \
  --change "LABEL org.opencontainers.image.description=\"Debian $SUITE minbase, debootstrapped from $MIRROR by mod_wsgi_rs docker/build-base-image.sh\"" \
  --message "debootstrap --variant=minbase $SUITE $MIRROR" \
  - "$IMAGE" >/dev/null

log "built $IMAGE in $(( $(date +%s) - started ))s: $(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f MB", $1/1e6 }')"
