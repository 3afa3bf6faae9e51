#!/usr/bin/env bash
# test_phone_passwd.sh BUILD_DIR: `hetki agent phone-passwd` against a real redis-server: the
# stored value is HA1 = MD5(agent:realm:password) (checked with md5sum) in
# hk:{t}:phone:agents_ha1, the realm follows --realm or HETKI_PHONE_REALM, --remove deletes it,
# and bad input (short password, none, bad ids) exits 2 and stores nothing.
set -u

BUILD=${1:?usage: test_phone_passwd.sh BUILD_DIR}
BIN=$BUILD/bin
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/stack/stack_lib.sh
. "$HERE/../stack/stack_lib.sh"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hetki-it-phonepw-XXXXXX")
REDIS_PID=
FAILED=0

# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
    if [ -n "$REDIS_PID" ]; then
        kill -TERM "$REDIS_PID" 2>/dev/null || true
        stack_wait_gone "$REDIS_PID" 10 || kill -KILL "$REDIS_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
    echo "FAIL: $*"
    FAILED=1
}

PORT=
stack_free_port PORT || { echo "FAIL: no free port"; exit 1; }
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --dir "$TMP" >"$TMP/redis.log" 2>&1 &
REDIS_PID=$!
for _ in $(seq 1 100); do
    redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
done
export HETKI_REDIS_HOST=127.0.0.1 HETKI_REDIS_PORT=$PORT
unset HETKI_PHONE_REALM
H="$BIN/hetki"
KEY='hk:{acme}:phone:agents_ha1'

md5() { printf '%s' "$1" | md5sum | cut -d' ' -f1; }

echo 'correct horse battery' | "$H" agent phone-passwd --tenant acme --id anna.k >"$TMP/out" 2>&1 ||
    fail "set: exit $? ($(cat "$TMP/out"))"
got=$(redis-cli -p "$PORT" hget "$KEY" anna.k)
[ "$got" = "$(md5 'anna.k:hetki:correct horse battery')" ] || fail "HA1 '$got' is not MD5(anna.k:hetki:...)"
grep -q "password set tenant=acme agent=anna.k realm=hetki" "$TMP/out" || fail "output: $(cat "$TMP/out")"

printf 'another secret\r\n' | HETKI_PHONE_REALM=pbx.example "$H" agent phone-passwd --tenant acme \
    --id desk-1 >"$TMP/out" 2>&1 || fail "set with the realm from the environment"
got=$(redis-cli -p "$PORT" hget "$KEY" desk-1)
[ "$got" = "$(md5 'desk-1:pbx.example:another secret')" ] || fail "HETKI_PHONE_REALM not used"
echo 'another secret' | "$H" agent phone-passwd --tenant acme --id desk-2 --realm r2 >/dev/null 2>&1 ||
    fail "set with --realm"
[ "$(redis-cli -p "$PORT" hget "$KEY" desk-2)" = "$(md5 'desk-2:r2:another secret')" ] || fail "--realm not used"

# Bad input: exit 2, nothing stored.
before=$(redis-cli -p "$PORT" hgetall "$KEY" | tr '\n' ' ')
echo 'short' | "$H" agent phone-passwd --tenant acme --id bob >/dev/null 2>&1
[ $? = 2 ] || fail "a 5-byte password was not refused with 2"
"$H" agent phone-passwd --tenant acme --id bob </dev/null >/dev/null 2>&1
[ $? = 2 ] || fail "no password was not refused with 2"
echo 'long enough pw' | "$H" agent phone-passwd --tenant Acme --id bob >/dev/null 2>&1
[ $? = 2 ] || fail "a bad tenant was not refused with 2"
echo 'long enough pw' | "$H" agent phone-passwd --tenant acme --id 'b o b' >/dev/null 2>&1
[ $? = 2 ] || fail "a bad agent id was not refused with 2"
echo 'long enough pw' | "$H" agent phone-passwd --tenant acme --id bob --realm 'a"b' >/dev/null 2>&1
[ $? = 2 ] || fail "a realm with a quote was not refused with 2"
after=$(redis-cli -p "$PORT" hgetall "$KEY" | tr '\n' ' ')
[ "$before" = "$after" ] || fail "refused input changed the credentials"

"$H" agent phone-passwd --tenant acme --id anna.k --remove >"$TMP/out" 2>&1 || fail "remove"
[ "$(redis-cli -p "$PORT" hexists "$KEY" anna.k)" = 0 ] || fail "--remove left the credentials"
grep -q "password removed" "$TMP/out" || fail "remove output: $(cat "$TMP/out")"

HETKI_REDIS_PORT=1 "$H" agent phone-passwd --tenant acme --id x --remove >/dev/null 2>&1
[ $? = 3 ] || fail "an unreachable Redis did not give 3"

if [ "$FAILED" = 0 ]; then
    echo "PASS: phone-passwd"
    exit 0
fi
exit 1
