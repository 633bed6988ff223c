#!/usr/bin/env bash
# The dockerized test run of mod_wsgi_rs, in one command:
#
#   docker/run-tests.sh
#
#  1. builds the base image if missing (docker/build-base-image.sh: debootstrap
#     from the host's apt mirror, no registry needed), the module if it is
#     missing or older than its sources (scripts/build, on the host), the
#     image (docker/Dockerfile) and the test runner (docker/Dockerfile.tests);
#  2. runs docker/compose.yml: the `tests` container runs tests/docker/
#     against the `apache` container over the compose network;
#  3. checks the image itself: a container serves the example app (and an
#     app mounted over it); `docker stop` (SIGWINCH, graceful) and SIGTERM end
#     it with exit code 0, without a SIGKILL; the example in daemon mode; a
#     daemon process killed with SIGKILL inside the container is restarted
#     and serves again; `docker stop` with a streamed response in flight in
#     each mode lets both complete;
#  4. always tears everything down (compose down -v, its own containers).
#
# Exits non-zero when anything failed. When no Docker Engine answers it says
# so and exits 0 ("skipped"). Checks that need daemon mode are skipped, with
# the reason, while the module answers daemon-mode requests with 503 "does
# not serve yet".
#
# Environment: MOD_WSGI_SO=PATH uses that module instead of building one;
# BASE_IMAGE=IMAGE another base (default mod_wsgi_rs/bookworm-base);
# PYTEST_ADDOPTS is passed to the runner (e.g. "-k environ -x").
set -uo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
COMPOSE_FILE="$REPO/docker/compose.yml"
export MOD_WSGI_RS_IMAGE="${MOD_WSGI_RS_IMAGE:-mod_wsgi_rs:latest}"
export MOD_WSGI_RS_TEST_IMAGE="${MOD_WSGI_RS_TEST_IMAGE:-mod_wsgi_rs/tests:latest}"
PROJECT="mod_wsgi_rs_tests_$$"
PREFIX="mod_wsgi_rs-imgtest-$$"
NOT_YET="does not serve yet"
STOP_LIMIT=10   # seconds: docker stop's grace period, after which it SIGKILLs

log() { echo "run-tests: $*" >&2; }

PASSED=0; FAILED=0; SKIPPED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
skip() { SKIPPED=$((SKIPPED + 1)); echo "SKIP: $*"; }

# --- is there an engine? -----------------------------------------------------
if ! command -v docker >/dev/null 2>&1 || ! timeout 20 docker info >/dev/null 2>&1; then
  echo "run-tests: no Docker Engine answers (docker info failed): dockerized tests skipped"
  exit 0
fi

if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  COMPOSE=(docker-compose)
else
  log "neither 'docker compose' nor 'docker-compose' is installed (Debian: apt-get install docker-compose)"
  exit 1
fi
compose() { "${COMPOSE[@]}" -f "$COMPOSE_FILE" -p "$PROJECT" "$@"; }

# --- teardown, whatever happens ------------------------------------------------
OUR_CONTAINERS=()
cleanup() {
  local c
  compose down -v --remove-orphans >/dev/null 2>&1 || true
  for c in "${OUR_CONTAINERS[@]}"; do
    docker rm -f -v "$c" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- helpers -------------------------------------------------------------------
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# http_get URL -> prints "STATUS" on the first line, then the body ("000" when
# nothing answers). Runs on the host, against a port published on loopback.
http_get() {
  python3 - "$1" <<'EOF'
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=5)
    status, body = r.status, r.read()
except urllib.error.HTTPError as e:
    status, body = e.code, e.read()
except Exception:
    status, body = 0, b""
sys.stdout.write("%03d\n" % status)
sys.stdout.write(body.decode("utf-8", "replace"))
EOF
}

# in_container NAME URL -> the same, requested from inside container NAME.
in_container_get() {
  docker exec "$1" python3 -c '
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=5)
    status, body = r.status, r.read()
except urllib.error.HTTPError as e:
    status, body = e.code, e.read()
except Exception:
    status, body = 0, b""
sys.stdout.write("%03d\n" % status)
sys.stdout.write(body.decode("utf-8", "replace"))
' "$2" 2>/dev/null || echo "000"
}

# poll SECONDS CMD... : runs CMD until it succeeds or SECONDS pass.
poll() {
  local limit="$1"; shift
  local start; start=$(now)
  while :; do
    "$@" && return 0
    awk -v a="$start" -v b="$(now)" -v l="$limit" 'BEGIN { exit !(b - a > l) }' && return 1
    sleep 0.2
  done
}

start_container() {  # NAME [docker run args...] -- [image args...]
  local name="$1"; shift
  OUR_CONTAINERS+=("$name")
  docker run -d --name "$name" "$@" >/dev/null
}

published_port() { docker port "$1" 80/tcp | head -n1 | sed 's/.*://'; }

# stop_check NAME HOW LABEL: stops the container (HOW = stop: `docker stop`, i.e.
# the image's STOPSIGNAL; TERM: SIGTERM) and checks it ended by itself, with
# exit code 0, well before docker stop's SIGKILL.
stop_check() {
  local name="$1" how="$2" start took code
  start=$(now)
  if [ "$how" = stop ]; then
    docker stop -t "$STOP_LIMIT" "$name" >/dev/null
  else
    docker kill -s "$how" "$name" >/dev/null
    timeout $((STOP_LIMIT + 5)) docker wait "$name" >/dev/null
  fi
  took=$(elapsed "$start")
  code=$(docker inspect -f '{{.State.ExitCode}}' "$name")
  if [ "$code" = 0 ] && awk -v t="$took" -v l="$STOP_LIMIT" 'BEGIN { exit !(t < l - 1) }'; then
    pass "$3: exit code $code after ${took}s (no SIGKILL)"
  else
    fail "$3: exit code $code after ${took}s (137 = SIGKILLed by docker stop)"
    docker logs --tail 20 "$name" 2>&1 | sed 's/^/    /'
  fi
}

# --- 1. images -----------------------------------------------------------------
log "engine $(docker version -f '{{.Server.Version}}' 2>/dev/null), compose: ${COMPOSE[*]}"
started=$(now)
# (build-image.sh builds the default base image first when it is missing.)
"$REPO/docker/build-image.sh" --tests --tag "$MOD_WSGI_RS_IMAGE" || exit 1
log "images ready in $(elapsed "$started")s"

# --- 2. the integration suite over the compose network -----------------------------
echo "=== dockerized integration suite (docker/compose.yml: tests -> apache) ==="
if ! up_out="$(compose up -d apache 2>&1)"; then
  echo "$up_out"
  log "compose up failed"
  exit 1
fi
APACHE_CID="$(compose ps -q apache)"
healthy() { [ "$(docker inspect -f '{{.State.Health.Status}}' "$APACHE_CID" 2>/dev/null)" = healthy ]; }
if ! poll 60 healthy; then
  fail "apache service never became healthy"
  compose logs --no-color --tail 40 apache
  SUITE_STATUS=1
else
  compose run --rm -T -e "PYTEST_ADDOPTS=${PYTEST_ADDOPTS:-}" tests
  SUITE_STATUS=$?
  if [ "$SUITE_STATUS" != 0 ]; then
    echo "--- apache service log (last 60 lines) ---"
    compose logs --no-color --tail 60 apache
  fi
fi

# --- 3. the image itself -------------------------------------------------------
echo "=== image checks ==="

# 3a. A container of the image serves the example app; docker stop is graceful.
C1="$PREFIX-example"
start_container "$C1" -p 127.0.0.1::80 "$MOD_WSGI_RS_IMAGE"
port=$(published_port "$C1")
serves_example() { http_get "http://127.0.0.1:$port/hello" | grep -q "^Hello from mod_wsgi_rs!"; }
if poll 30 serves_example; then
  pass "container serves the example app (127.0.0.1:$port -> :80)"
else
  fail "container does not serve the example app"
  docker logs --tail 20 "$C1" 2>&1 | sed 's/^/    /'
fi
if docker logs "$C1" 2>&1 | grep -q '"GET /hello HTTP/1.1" 200'; then
  pass "access log goes to the container's stdout (docker logs)"
else
  fail "no access log line in docker logs"
fi
stop_check "$C1" stop "docker stop (STOPSIGNAL SIGWINCH, graceful stop)"

# 3a'. The documented way to serve your own app: mount it over the example.
MYAPP="$(mktemp -d)"
chmod 0755 "$MYAPP"
printf '%s\n' \
  'def application(environ, start_response):' \
  '    start_response("200 OK", [("Content-Type", "text/plain")])' \
  '    return [b"my own app at " + environ["PATH_INFO"].encode()]' >"$MYAPP/app.wsgi"
chmod 0644 "$MYAPP/app.wsgi"
C5="$PREFIX-myapp"
start_container "$C5" -p 127.0.0.1::80 -v "$MYAPP:/srv/wsgi/example:ro" "$MOD_WSGI_RS_IMAGE"
port=$(published_port "$C5")
serves_mine() { [ "$(http_get "http://127.0.0.1:$port/x" | sed -n 2p)" = "my own app at /x" ]; }
if poll 30 serves_mine; then
  pass "an app mounted at /srv/wsgi/example replaces the example"
else
  fail "mounted app not served: $(http_get "http://127.0.0.1:$port/x" | head -n3 | tr '\n' ' ')"
fi
docker rm -f -v "$C5" >/dev/null
rm -rf "$MYAPP"

# 3b. A plain SIGTERM (orchestrators, docker kill -s TERM) also ends it cleanly.
C2="$PREFIX-sigterm"
start_container "$C2" "$MOD_WSGI_RS_IMAGE"
serves_inside() { [ "$(in_container_get "$C2" http://127.0.0.1/ | head -n1)" = 200 ]; }
if poll 30 serves_inside; then
  stop_check "$C2" TERM "SIGTERM (immediate stop)"
else
  fail "SIGTERM check: container did not serve"
fi

# 3c. The example site in daemon mode (-DWSGI_DAEMON_MODE), and its stop.
C3="$PREFIX-daemon"
start_container "$C3" -p 127.0.0.1::80 "$MOD_WSGI_RS_IMAGE" -DWSGI_DAEMON_MODE
port=$(published_port "$C3")
answers() { [ "$(http_get "http://127.0.0.1:$port/" | head -n1)" != 000 ]; }
poll 30 answers
out="$(http_get "http://127.0.0.1:$port/")"
if [ "$(head -n1 <<<"$out")" = 503 ] && poll 5 bash -c "docker logs '$C3' 2>&1 | grep -q '$NOT_YET'"; then
  skip "example app in daemon mode: the module answers 503 \"$NOT_YET\""
elif grep -q "^mode: daemon (process group 'example')" <<<"$out"; then
  pass "example app served in daemon mode"
else
  fail "example app in daemon mode: $(head -n3 <<<"$out" | tr '\n' ' ')"
  docker logs --tail 20 "$C3" 2>&1 | sed 's/^/    /'
fi
stop_check "$C3" stop "docker stop with daemon processes configured"

# 3d. A daemon process killed inside the compose apache container is restarted.
# (WSGI_RS_RESTART_CHECK_PORT=8080 aims the check at embedded mode, where
# Apache itself replaces a killed child: a way to test the check.)
daemon_env() { in_container_get "$APACHE_CID" "http://127.0.0.1:${WSGI_RS_RESTART_CHECK_PORT:-8081}/env"; }
pid_of() { python3 -c 'import json, sys; print(json.loads(sys.stdin.read().split("\n", 1)[1])["pid"])'; }
out="$(daemon_env)"
status="$(head -n1 <<<"$out")"
DAEMON_SERVED=1
if [ "$status" = 503 ] && docker logs "$APACHE_CID" 2>&1 | grep -q "$NOT_YET"; then
  DAEMON_SERVED=0
  skip "daemon restart after kill -9: the module answers 503 \"$NOT_YET\""
elif [ "$status" != 200 ]; then
  fail "daemon restart after kill -9: daemon mode answers $status before the kill"
else
  old_pid="$(pid_of <<<"$out")"
  docker exec "$APACHE_CID" kill -9 "$old_pid"
  killed_at=$(now)
  new_pid=""
  served_again() {
    local o; o="$(daemon_env)"
    [ "$(head -n1 <<<"$o")" = 200 ] || return 1
    new_pid="$(pid_of <<<"$o")"
    [ "$new_pid" != "$old_pid" ]
  }
  # Gone = no process (thread group) with that pid, zombie included: Apache
  # reaped it. (/proc/PID also exists for a thread id, hence the Tgid test.)
  reaped() {
    docker exec "$APACHE_CID" sh -c \
      "! grep -qs '^Tgid:[[:space:]]*$old_pid\$' /proc/$old_pid/status"
  }
  if poll 30 served_again; then
    served_after=$(elapsed "$killed_at")
    if poll 10 reaped; then
      pass "daemon pid $old_pid killed with SIGKILL; new pid $new_pid serves after ${served_after}s"
    else
      fail "daemon restart: killed pid $old_pid still exists (not reaped): $(docker exec "$APACHE_CID" grep State "/proc/$old_pid/status")"
    fi
  else
    fail "daemon restart: group not served again within 30s of kill -9 $old_pid"
    docker logs --tail 20 "$APACHE_CID" 2>&1 | sed 's/^/    /'
  fi
fi

# 3e. `docker stop` of the compose apache while a streamed response is in
# flight in each mode: graceful stop lets both finish (daemons included), and
# Apache still exits by itself. The client is a second container on the
# compose network.
NET="$(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$APACHE_CID" | awk '{ print $1 }')"
INFLIGHT_LOG="$(mktemp)"
C4="$PREFIX-inflight"
OUR_CONTAINERS+=("$C4")
modes="embedded:8080"
[ "$DAEMON_SERVED" = 1 ] && modes="$modes daemon:8081"
# shellcheck disable=SC2086  # $modes: one argument per mode
docker run --rm --name "$C4" --network "$NET" "$MOD_WSGI_RS_TEST_IMAGE" python3 -c '
import http.client, sys, threading
results = {}
def fetch(name, port):
    try:
        c = http.client.HTTPConnection("apache", int(port), timeout=30)
        c.request("GET", "/stream?n=4&delay=0.5")
        r = c.getresponse()
        lines = [r.readline()]
        print("started", name, flush=True)
        while True:
            line = r.readline()
            if not line:
                break
            lines.append(line)
        results[name] = "%d %d" % (r.status, len(lines))
    except Exception as e:
        results[name] = "error %r" % (e,)
threads = [threading.Thread(target=fetch, args=m.split(":")) for m in sys.argv[1:]]
for t in threads:
    t.start()
for t in threads:
    t.join()
for name in sorted(results):
    print("result", name, results[name], flush=True)
' $modes >"$INFLIGHT_LOG" 2>&1 &
client_pid=$!
n_modes=$(wc -w <<<"$modes")
all_started() { [ "$(grep -c '^started' "$INFLIGHT_LOG")" -ge "$n_modes" ]; }
if poll 20 all_started; then
  stop_check "$APACHE_CID" stop "docker stop of the test apache with requests in flight"
  wait "$client_pid"
  for m in $modes; do
    name="${m%%:*}"
    if grep -q "^result $name 200 4$" "$INFLIGHT_LOG"; then
      pass "in-flight $name-mode response completed during graceful stop"
    else
      fail "in-flight $name-mode response cut by docker stop: $(grep "^result $name" "$INFLIGHT_LOG")"
    fi
  done
else
  fail "in-flight requests never started: $(tr '\n' ' ' <"$INFLIGHT_LOG")"
  kill "$client_pid" 2>/dev/null
  stop_check "$APACHE_CID" stop "docker stop of the test apache (both modes configured)"
fi
[ "$DAEMON_SERVED" = 1 ] || skip "in-flight daemon-mode response during graceful stop: daemon mode not served yet"
rm -f "$INFLIGHT_LOG"

# --- 4. summary (teardown runs on exit) --------------------------------------------
log "total $(elapsed "$started")s"
echo "=== summary ==="
if [ "$SUITE_STATUS" = 0 ]; then
  echo "integration suite (pytest in the runner container): passed"
else
  echo "integration suite (pytest in the runner container): FAILED (exit $SUITE_STATUS)"
fi
echo "image-checks: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$SUITE_STATUS" = 0 ] && [ "$FAILED" = 0 ]
