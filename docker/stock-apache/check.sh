#!/usr/bin/env bash
# Runs inside the stock-Apache container (docker/stock-apache-test.sh): a
# Debian Apache with Debian's mod_wsgi installed and enabled, running. It
# installs mod_wsgi_rs the Debian way, as README.md tells users:
#
#   install -m 0644 apache-conf/wsgi_rs.load apache-conf/wsgi_rs.conf /etc/apache2/mods-available/
#   install -m 0644 target/release/libmod_wsgi_rs.so /usr/lib/apache2/modules/mod_wsgi_rs.so
#   a2dismod wsgi && a2enmod wsgi_rs && apache2ctl configtest && apache2ctl graceful
#
# and checks that `a2enmod wsgi_rs` is refused while Debian's mod_wsgi is
# enabled, and that after the graceful restart the site is served by
# mod_wsgi_rs (mod_wsgi.server_implementation, mod_wsgi.version), in
# embedded mode and in a daemon process group.
#
# /src holds apache-conf/, mod_wsgi_rs.so and this folder (stock-apache/).
# EXPECT_VERSION is the module's version ("0.1.0", from Cargo.toml).
set -uo pipefail

PASSED=0; FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
ERROR_LOG=/var/log/apache2/error.log

# get PATH -> "STATUS BODY" from http://127.0.0.1PATH ("000" when nothing answers)
get() {
  python3 - "$1" <<'EOF'
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen("http://127.0.0.1" + sys.argv[1], timeout=5)
    status, body = r.status, r.read()
except urllib.error.HTTPError as e:
    status, body = e.code, e.read()
except Exception:
    status, body = 0, b""
sys.stdout.write("%03d %s" % (status, body.decode("utf-8", "replace")))
EOF
}

# poll SECONDS CMD...: runs CMD until it succeeds or SECONDS pass.
poll() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}
answers_200() { [ "$(get "$1" | head -c3)" = 200 ]; }
# gone, or a zombie (the container's PID 1, `sleep`, reaps nobody)
pid_gone() { [ ! -e "/proc/$1" ] || [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
apache_pid() { cat /var/run/apache2/apache2.pid 2>/dev/null; }

# --- the machine before: stock Apache, Debian's mod_wsgi enabled, running --------
if [ -L /etc/apache2/mods-enabled/wsgi.load ]; then
  pass "Debian's mod_wsgi package enabled its module (mods-enabled/wsgi.load)"
else
  fail "Debian's mod_wsgi is not enabled: the refusal below would prove nothing"
fi
apache2ctl start
if poll 20 answers_200 /; then
  pass "stock Apache serves its default site"
else
  fail "stock Apache did not start"; tail -n 20 "$ERROR_LOG"; exit 1
fi
first_pid="$(apache_pid)"

# --- install, as the README says ---------------------------------------------------
install -m 0644 /src/apache-conf/wsgi_rs.load /src/apache-conf/wsgi_rs.conf /etc/apache2/mods-available/
install -m 0644 /src/mod_wsgi_rs.so /usr/lib/apache2/modules/mod_wsgi_rs.so

# --- a2enmod wsgi_rs is refused while Debian's mod_wsgi is enabled -----------------
out="$(a2enmod wsgi_rs 2>&1)"; rc=$?
if [ "$rc" != 0 ] && grep -q "Module wsgi is enabled - cannot proceed due to conflicts" <<<"$out" \
   && [ ! -e /etc/apache2/mods-enabled/wsgi_rs.load ]; then
  pass "a2enmod wsgi_rs refused while wsgi is enabled (exit $rc: $(grep -m1 ERROR <<<"$out"))"
else
  fail "a2enmod wsgi_rs while wsgi is enabled: exit $rc, wsgi_rs.load enabled:" \
       "$([ -e /etc/apache2/mods-enabled/wsgi_rs.load ] && echo yes || echo no); output: $out"
  a2dismod -q wsgi_rs >/dev/null 2>&1 || true
fi

# --- switch: a2dismod wsgi, a2enmod wsgi_rs, configtest, graceful --------------------
a2dismod -q wsgi
if out="$(a2enmod wsgi_rs 2>&1)" && [ -L /etc/apache2/mods-enabled/wsgi_rs.load ] \
   && [ -L /etc/apache2/mods-enabled/wsgi_rs.conf ]; then
  pass "a2enmod wsgi_rs after a2dismod wsgi (wsgi_rs.load and wsgi_rs.conf enabled)"
else
  fail "a2enmod wsgi_rs after a2dismod wsgi: $out"
fi
install -d -m 0755 /srv/stock-test
install -m 0644 /src/stock-apache/app.wsgi /srv/stock-test/app.wsgi
install -m 0644 /src/stock-apache/site.conf /etc/apache2/sites-available/stock-test.conf
a2ensite -q stock-test
if out="$(apache2ctl configtest 2>&1)"; then
  pass "apache2ctl configtest: $(tail -n1 <<<"$out")"
else
  fail "apache2ctl configtest: $out"
fi
log_size=$(stat -c %s "$ERROR_LOG")
apache2ctl graceful
served_by_us() {
  local r; r="$(get "$1")"
  [ "${r:0:3}" = 200 ] && grep -q '"server_implementation": "mod_wsgi_rs"' <<<"$r"
}
for path in /embedded /daemon; do
  if poll 30 served_by_us "$path"; then
    pass "after graceful, $path is served by mod_wsgi_rs: $(get "$path" | cut -c5-)"
  else
    fail "after graceful, $path: $(get "$path")"
  fi
done
r="$(get /embedded | cut -c5-)"
want="$(sed 's/\./, /g' <<<"$EXPECT_VERSION")"
if grep -q "\"environ_version\": \[6, 1, 1\], \"module_version\": \[6, 1, 1\], \"implementation_version\": \[$want\]" <<<"$r"; then
  pass "mod_wsgi.version is mod_wsgi 6.1's API level (6, 1, 1), implementation_version ($want)"
else
  fail "mod_wsgi.version is not (6, 1, 1) with implementation_version ($want): $r"
fi
if get /daemon | grep -q '"process_group": "stocktest"'; then
  pass "/daemon runs in daemon process group stocktest"
else
  fail "/daemon is not in process group stocktest: $(get /daemon)"
fi
new_log="$(tail -c +$((log_size + 1)) "$ERROR_LOG")"
if grep -q "mod_wsgi_rs/$EXPECT_VERSION Python/.* configured -- resuming normal operations" <<<"$new_log" \
   && [ "$(apache_pid)" = "$first_pid" ]; then
  pass "graceful restart of the same Apache (pid $first_pid); its banner names mod_wsgi_rs/$EXPECT_VERSION"
else
  fail "after graceful: pid $(apache_pid) (was $first_pid); new log: $new_log"
fi
if grep -E "\[(wsgi|core):(error|crit|alert|emerg)\]|Segmentation|exit signal" <<<"$new_log"; then
  fail "errors in the log after the switch (above)"
else
  pass "no errors in the log after the switch"
fi

# --- stop -----------------------------------------------------------------------------
apache2ctl stop
if poll 15 pid_gone "$first_pid"; then
  pass "apache2ctl stop"
else
  fail "Apache (pid $first_pid) still running 15 s after apache2ctl stop"
fi

echo "stock-apache: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
