#!/usr/bin/env bash
# Runs inside the wheel container (docker/wheel-test.sh): Debian's apache2,
# python3, python3-venv and libpython3.11, and nothing to build with. Installs
# the wheel as README.md tells users and checks:
#
#   - the machine has no cargo, rustc, cc, clang, apxs (so nothing is built);
#   - python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-index WHEEL;
#   - `mod-wsgi-rs start-server app.wsgi` (the venv not activated) serves the
#     app in daemon mode with the venv as Python home; SIGTERM stops it;
#   - `mod-wsgi-rs module-config` prints lines that Debian's own Apache
#     (a2enmod, apache2ctl start) serves the app with.
#
# /src holds the wheel (*.whl) and this folder (wheel/).
set -uo pipefail

PASSED=0; FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }

get() {
  python3 - "$1" <<'PY'
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=5)
    status, body = r.status, r.read()
except urllib.error.HTTPError as e:
    status, body = e.code, e.read()
except Exception:
    status, body = 0, b""
sys.stdout.write("%03d %s" % (status, body.decode("utf-8", "replace")))
PY
}
poll() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}
answers_200() { [ "$(get "$1" | head -c3)" = 200 ]; }

# --- nothing to build with ----------------------------------------------------------
missing=1
for tool in cargo rustc cc gcc clang apxs apxs2; do
  if command -v "$tool" >/dev/null 2>&1; then
    missing=0; fail "$tool is installed: the check must run without build tools"
  fi
done
if ls /usr/lib/llvm-*/lib/libclang*.so* /usr/lib/x86_64-linux-gnu/libclang*.so* >/dev/null 2>&1; then
  missing=0; fail "libclang is installed"
fi
[ "$missing" = 1 ] && pass "no Rust, C compiler, clang or apxs on this machine"

# --- install ------------------------------------------------------------------------
WHEEL="$(ls /src/*.whl)"
if python3 -m venv /opt/venv && /opt/venv/bin/pip install -q --no-index --no-deps \
     --disable-pip-version-check "$WHEEL"; then
  pass "pip install $(basename "$WHEEL") into /opt/venv"
else
  fail "pip install $WHEEL"; exit 1
fi
CMD=/opt/venv/bin/mod-wsgi-rs
install -d -m 0755 /srv/app
install -m 0644 /src/wheel/app.wsgi /srv/app/app.wsgi

# --- start-server ---------------------------------------------------------------------
"$CMD" start-server /srv/app/app.wsgi --port 8000 >/tmp/start-server.log 2>&1 &
ss_pid=$!
if poll 30 answers_200 http://127.0.0.1:8000/; then
  r="$(get http://127.0.0.1:8000/)"
  if grep -q '"server_implementation": "mod_wsgi_rs"' <<<"$r" && grep -q '"prefix": "/opt/venv"' <<<"$r" \
     && grep -q '"process_group": "127.0.0.1:8000"' <<<"$r"; then
    pass "mod-wsgi-rs start-server: 200 from the daemon, Python home /opt/venv: ${r:4}"
  else
    fail "mod-wsgi-rs start-server answered, but not as expected: $r"
  fi
else
  fail "mod-wsgi-rs start-server did not answer 200: $(get http://127.0.0.1:8000/)"
  cat /tmp/start-server.log
  tail -n 30 /tmp/mod_wsgi_rs-127.0.0.1:8000:0/error_log 2>/dev/null
fi
kill -TERM "$ss_pid"
if poll 30 eval '! kill -0 '"$ss_pid"' 2>/dev/null'; then
  wait "$ss_pid"; rc=$?
  if [ "$rc" = 0 ]; then pass "SIGTERM stops start-server (exit 0)"; else fail "start-server exited $rc after SIGTERM"; fi
else
  fail "start-server still running 30 s after SIGTERM"
fi

# --- module-config into Debian's Apache -------------------------------------------------
if "$CMD" module-config >/tmp/module-config.out 2>/tmp/module-config.err; then
  pass "mod-wsgi-rs module-config: $(tr '\n' ';' </tmp/module-config.out)"
else
  fail "mod-wsgi-rs module-config: $(cat /tmp/module-config.err)"
fi
cp /tmp/module-config.out /etc/apache2/mods-available/wsgi_rs.load
cat >/etc/apache2/sites-available/wheel-test.conf <<'CONF'
ServerName 127.0.0.1
WSGIDaemonProcess wheeltest processes=1 threads=2
WSGIScriptAlias /embedded /srv/app/app.wsgi
WSGIScriptAlias /daemon /srv/app/app.wsgi process-group=wheeltest application-group=%{GLOBAL}
<Directory /srv/app>
    Require all granted
</Directory>
CONF
a2enmod -q wsgi_rs && a2ensite -q wheel-test
if out="$(apache2ctl configtest 2>&1)"; then
  pass "apache2ctl configtest with module-config's lines"
else
  fail "apache2ctl configtest: $out"
fi
apache2ctl start
for path in /embedded /daemon; do
  if poll 30 answers_200 "http://127.0.0.1$path"; then
    r="$(get "http://127.0.0.1$path")"
    if grep -q '"prefix": "/opt/venv"' <<<"$r"; then
      pass "Debian's Apache serves $path through the wheel's module: ${r:4}"
    else
      fail "$path: $r"
    fi
  else
    fail "Debian's Apache $path: $(get "http://127.0.0.1$path")"
    tail -n 30 /var/log/apache2/error.log
  fi
done
apache2ctl stop

echo "wheel: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
