#!/usr/bin/env bash
# Runs inside the fresh container of docker/fresh-machine-test.sh, from the
# clone (/root/mod_wsgi_rs): the two commands at the top of README.md, as a
# new user types them on a fresh Debian machine, as root, with Docker's
# default capabilities.
#
#   1. ./scripts/serve-example: installs, builds, serves
#      examples/hello.wsgi on http://127.0.0.1:8000/; checked with a request
#      (the example's body, in the daemon group mod-wsgi-rs makes, and
#      Apache's start-up line naming mod_wsgi_rs), then stopped with Ctrl-C
#      (SIGINT), which must leave no Apache process behind; Debian's
#      mod_wsgi, installed for the tests, must not be left enabled;
#   2. ./scripts/test: the whole suite; its exit status counts.
#
# Prints PASS/FAIL lines and how long each command took; exits non-zero
# when anything failed.
set -uo pipefail
cd "$(dirname "$0")/../.."

PASSED=0; FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
SERVE_LIMIT="${SERVE_LIMIT:-2400}"   # seconds for apt, crates and the first build

echo "fresh-machine: clone $PWD, /root mode $(stat -c %a /root), uid $(id -u)," \
     "$(grep CapEff /proc/self/status | tr -s '\t' ' '), cargo $(command -v cargo || echo missing)"

# GET / on 127.0.0.1:8000 with bash alone (nothing else may be installed yet).
http_get() {
  local reply
  exec 3<>/dev/tcp/127.0.0.1/8000 || return 1
  printf 'GET /first/hour?x=1 HTTP/1.0\r\nHost: 127.0.0.1:8000\r\n\r\n' >&3
  reply="$(timeout 10 cat <&3)"
  exec 3<&-
  printf '%s' "$reply"
}
apache_pids() {
  local d
  for d in /proc/[0-9]*; do
    [ "$(cat "$d/comm" 2>/dev/null)" = apache2 ] && echo "${d#/proc/}"
  done
}

# --- 1. ./scripts/serve-example ---------------------------------------------------------
echo "=== ./scripts/serve-example ==="
started=$SECONDS
./scripts/serve-example >/tmp/serve-example.log 2>&1 &
serve=$!
reply=""
while kill -0 "$serve" 2>/dev/null && [ $((SECONDS - started)) -lt "$SERVE_LIMIT" ]; do
  if grep -q "resuming normal operations" /tmp/serve-example.log 2>/dev/null \
     && reply="$(http_get 2>/dev/null)" && [ -n "$reply" ]; then
    break
  fi
  sleep 2
done
took=$((SECONDS - started))
if [ -z "$reply" ]; then
  fail "./scripts/serve-example: nothing answered on 127.0.0.1:8000 after ${took}s" \
       "($(kill -0 "$serve" 2>/dev/null && echo "still running" || echo "it exited"))"
else
  status="$(head -n1 <<<"$reply" | tr -d '\r')"
  if [[ "$status" == "HTTP/1."?" 200 "* ]] && grep -q "^Hello from mod_wsgi_rs!" <<<"$reply" \
     && grep -q "^mod_wsgi.process_group  *'127.0.0.1:8000'" <<<"$reply" \
     && grep -q "^PATH_INFO  *'/first/hour'" <<<"$reply"; then
    pass "./scripts/serve-example serves examples/hello.wsgi in daemon group 127.0.0.1:8000 after ${took}s ($status)"
  else
    fail "./scripts/serve-example after ${took}s answered: $reply"
  fi
  if grep -q "mod_wsgi_rs/[0-9.]* Python/[0-9.]* configured -- resuming normal operations" /tmp/serve-example.log; then
    pass "Apache's start-up line names mod_wsgi_rs: $(grep -o 'Apache/[^ ]* ([^)]*) mod_wsgi_rs/[^ ]* Python/[^ ]*' /tmp/serve-example.log | head -n1)"
  else
    fail "no 'mod_wsgi_rs/... configured' start-up line in serve-example's output"
  fi
fi
if kill -0 "$serve" 2>/dev/null; then
  kill -INT "$serve"
  for _ in $(seq 1 75); do kill -0 "$serve" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$serve" 2>/dev/null; then
    fail "serve-example still running 15 s after Ctrl-C (SIGINT)"
    kill -KILL "$serve" 2>/dev/null
  fi
  wait "$serve" 2>/dev/null
  for _ in $(seq 1 50); do [ -z "$(apache_pids)" ] && break; sleep 0.2; done
  if [ -z "$(apache_pids)" ]; then
    pass "Ctrl-C stops serve-example and every Apache process"
  else
    fail "Apache processes left after Ctrl-C: $(apache_pids | tr '\n' ' ')"
  fi
fi
# install-deps installed Debian's mod_wsgi (the tests' reference) and left
# it disabled for the system's Apache.
if dpkg-query -W -f='${Status}' libapache2-mod-wsgi-py3 2>/dev/null | grep -q "install ok installed" \
   && [ ! -e /etc/apache2/mods-enabled/wsgi.load ]; then
  pass "Debian's mod_wsgi is installed and not enabled (a2dismod wsgi)"
else
  fail "Debian's mod_wsgi: $(dpkg-query -W -f='${Status}' libapache2-mod-wsgi-py3 2>&1)," \
       "mods-enabled/wsgi.load $([ -e /etc/apache2/mods-enabled/wsgi.load ] && echo present || echo absent)"
fi
if [ "$FAILED" != 0 ]; then
  echo "--- serve-example's output (last 60 lines) ---"
  tail -n 60 /tmp/serve-example.log
else
  echo "--- serve-example's output (first 5 and last 15 lines) ---"
  head -n 5 /tmp/serve-example.log; echo "..."; tail -n 15 /tmp/serve-example.log
fi

# --- 2. ./scripts/test ---------------------------------------------------------------------
echo "=== ./scripts/test ==="
started=$SECONDS
./scripts/test 2>&1 | tee /tmp/scripts-test.log
rc=${PIPESTATUS[0]}
took=$((SECONDS - started))
summary="$(grep -E '^(test result:|[0-9]+ (passed|failed)|=+ .*(passed|failed|error).* =+$)' /tmp/scripts-test.log | tr '\n' ';')"
if [ "$rc" = 0 ]; then
  pass "./scripts/test in ${took}s: $summary"
else
  fail "./scripts/test exited $rc after ${took}s: $summary"
fi

echo "fresh-machine: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
