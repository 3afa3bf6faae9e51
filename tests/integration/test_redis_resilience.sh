#!/usr/bin/env bash
# test_redis_resilience.sh BUILD_DIR: the router's Redis connection against a real
# redis-server that demands a password and then hangs. Wrong credentials keep the router not
# ready (and say why); the right ones work for the router and the CLI; a router started
# before Redis connects once Redis is up; a Redis that stops
# answering (SIGSTOP) is dropped after the stall limit instead of holding requests forever,
# and a contact submitted meanwhile is acked once Redis answers again, nothing lost; a Redis
# that lost the router's function library and scripts (FUNCTION FLUSH, SCRIPT FLUSH) gets
# them again on the next call, which is answered as if nothing had happened; a router stopped
# while an answer it waits for is held back in Redis exits cleanly.
set -u

BUILD=${1:?usage: test_redis_resilience.sh BUILD_DIR}
BIN=$BUILD/bin
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/stack/stack_lib.sh
. "$HERE/../stack/stack_lib.sh"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hetki-it-redis-XXXXXX")
REDIS_PID=
ROUTER_PID=
FAILED=0

# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
    local pid
    [ -n "$REDIS_PID" ] && kill -CONT "$REDIS_PID" 2>/dev/null
    for pid in $ROUTER_PID $REDIS_PID; do
        kill -TERM "$pid" 2>/dev/null || true
        stack_wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
    done
    if [ "$FAILED" != 0 ]; then
        for f in "$TMP"/router*.log; do
            [ -f "$f" ] && { echo "--- $f (tail)"; tail -n 20 "$f"; }
        done
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
    echo "FAIL: $*"
    FAILED=1
}

# http_status PORT PATH: the status code of a GET (bash /dev/tcp, no curl needed).
http_status() {
    local status
    { exec 9<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || { echo 000; return; }
    printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&9
    read -r -t 2 _ status _ <&9 || status=000
    exec 9<&- 9>&-
    echo "${status:-000}"
}

start_router() { # LOG PASSWORD
    HETKI_REDIS_PORT=$REDIS_PORT HETKI_REDIS_PASSWORD=$2 HETKI_ADMIN_PORT=$ADMIN_PORT \
        HETKI_ROUTER_CONTACTS_PORT=$BUS_PORT HETKI_ROUTER_EVENTS_PORT=0 \
        "$BIN/hetki-router" >"$1" 2>&1 &
    ROUTER_PID=$!
}

stop_router() {
    kill -TERM "$ROUTER_PID" 2>/dev/null
    stack_wait_gone "$ROUTER_PID" 10 || kill -KILL "$ROUTER_PID" 2>/dev/null
    ROUTER_PID=
}

stack_free_port REDIS_PORT
stack_free_port ADMIN_PORT
stack_free_port BUS_PORT
# Redis not there yet: the router keeps trying (with backoff) and becomes ready once it is.
start_router "$TMP/router-early.log" s3cret
sleep 3
[ "$(http_status "$ADMIN_PORT" /readyz)" = 503 ] || fail "router ready without Redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$TMP" --save "" \
    --requirepass s3cret --daemonize no --logfile "$TMP/redis.log" &
REDIS_PID=$!
for _ in $(seq 100); do
    redis-cli -p "$REDIS_PORT" -a s3cret --no-auth-warning ping >/dev/null 2>&1 && break
    sleep 0.05
done

for _ in $(seq 150); do
    [ "$(http_status "$ADMIN_PORT" /readyz)" = 200 ] && break
    sleep 0.1
done
[ "$(http_status "$ADMIN_PORT" /readyz)" = 200 ] || fail "router not ready 15 s after Redis came up"
stop_router

# Wrong password: alive, never ready, and the log says why.
start_router "$TMP/router-wrong.log" wrong
sleep 2
[ "$(http_status "$ADMIN_PORT" /healthz)" = 200 ] || fail "router with a wrong password is not alive"
[ "$(http_status "$ADMIN_PORT" /readyz)" = 503 ] || fail "router with a wrong password is ready"
grep -q "event=redis.auth_failed" "$TMP/router-wrong.log" || fail "no redis.auth_failed logged"
grep -q "s3cret\|=wrong" "$TMP/router-wrong.log" && fail "the password appears in the log"
stop_router

# Right password: ready; the CLI needs it too.
start_router "$TMP/router.log" s3cret
for _ in $(seq 100); do
    [ "$(http_status "$ADMIN_PORT" /readyz)" = 200 ] && break
    sleep 0.1
done
[ "$(http_status "$ADMIN_PORT" /readyz)" = 200 ] || fail "router with the right password not ready"
HETKI_REDIS_PORT=$REDIS_PORT HETKI_REDIS_PASSWORD=s3cret "$BIN/hetki" send --tenant res \
    --channel chat --text "hello" >"$TMP/send1.out" 2>&1 || fail "send with the password failed"
grep -q "contact_id=" "$TMP/send1.out" || fail "no ack: $(cat "$TMP/send1.out")"
HETKI_REDIS_PORT=$REDIS_PORT "$BIN/hetki" status >/dev/null 2>&1 &&
    fail "status without the password succeeded"

# A hanging Redis: the request waits, the connection is dropped after the stall limit, and
# the contact is acked once Redis answers again (same dedupe key: stored once).
kill -STOP "$REDIS_PID"
HETKI_ROUTER_ENDPOINT=tcp://127.0.0.1:$BUS_PORT "$BIN/hetki" send --tenant res --channel chat \
    --text "during the stall" --dedupe-key stall-1 --timeout-ms 40000 >"$TMP/send2.out" 2>&1 &
SEND_PID=$!
sleep 7
grep -q "event=redis.stalled" "$TMP/router.log" || fail "no redis.stalled after 7 s of silence"
kill -CONT "$REDIS_PID"
if wait "$SEND_PID"; then
    # Redis may run the first attempt, still in its socket, once it wakes: then the retry is
    # rightly answered as a duplicate of it. Either way the contact is stored exactly once.
    grep -q "contact_id=" "$TMP/send2.out" || fail "unexpected answer: $(cat "$TMP/send2.out")"
else
    fail "the contact sent during the stall was not acked: $(cat "$TMP/send2.out")"
fi
stored=$(redis-cli -p "$REDIS_PORT" -a s3cret --no-auth-warning ZCARD "hk:{res}:contacts")
[ "$stored" = 2 ] || fail "expected 2 stored contacts, found $stored"

# Redis loses the router's functions and scripts under a running router (an operator's
# FUNCTION FLUSH, a Redis replaced by an empty one without a reconnect being noticed).
rcli() { redis-cli -p "$REDIS_PORT" -a s3cret --no-auth-warning "$@"; }
[ "$(rcli FUNCTION LIST | grep -c '^rt_lua_')" = 1 ] || fail "the router's library is not loaded"
# One transaction: the running router (its timer sweep every 100 ms) loads the library again
# as soon as a call finds it missing, so a FUNCTION LIST sent on its own may already see it.
flushed=$(printf 'MULTI\nFUNCTION FLUSH\nSCRIPT FLUSH\nFUNCTION LIST\nEXEC\n' | rcli)
if [ "$(grep -c '^OK$' <<<"$flushed")" != 3 ] || grep -q 'rt_lua_' <<<"$flushed"; then
    fail "FUNCTION FLUSH left functions"
fi
HETKI_ROUTER_ENDPOINT=tcp://127.0.0.1:$BUS_PORT "$BIN/hetki" send --tenant res --channel chat \
    --text "after the flush" --dedupe-key flushed-1 --timeout-ms 10000 >"$TMP/send3.out" 2>&1 ||
    fail "the contact after FUNCTION FLUSH was not acked: $(cat "$TMP/send3.out")"
grep -q "duplicate=0" "$TMP/send3.out" || fail "unexpected answer: $(cat "$TMP/send3.out")"
grep -q "event=redis.noscript.*action=load_library" "$TMP/router.log" ||
    fail "no redis.noscript action=load_library logged"
[ "$(rcli FUNCTION LIST | grep -c '^rt_lua_')" = 1 ] || fail "the library was not loaded again"
stored=$(rcli ZCARD "hk:{res}:contacts")
[ "$stored" = 3 ] || fail "expected 3 stored contacts after the flush, found $stored"

# A router stopped while an answer it waits for is still in Redis takes that answer before
# the policies and events it uses go. The engine asks for the tenants list when it starts and
# every 5 s after; a CLIENT PAUSE around the 5th second holds the question back, and the
# router is stopped after it was asked. Its answer used to arrive after the policies were
# freed (a use after free: the sanitizer build aborts, exit status 1; a release build could
# crash). MONITOR shows whether the question was held across the stop (run by Redis only when
# the 900 ms pause ended, later than 0.3 s after it began); up to three timings are tried
# until one held it, and one must.
stop_router
held=0
for at in 4.55 4.7 4.85; do
    log="$TMP/router-stop-$at.log"
    rcli MONITOR >"$TMP/monitor-$at.log" 2>&1 &
    monitor=$!
    HETKI_ROUTER_POLICY_POLL_MS=60000 start_router "$log" s3cret
    for _ in $(seq 100); do
        [ "$(http_status "$ADMIN_PORT" /healthz)" = 200 ] && break
        sleep 0.05
    done
    sleep "$at"
    paused_at=$(rcli TIME | { read -r sec; read -r usec; printf '%s.%06d' "$sec" "$usec"; })
    rcli CLIENT PAUSE 900 ALL >/dev/null
    sleep 0.55
    pid=$ROUTER_PID
    stop_router
    wait "$pid"
    status=$?
    kill "$monitor" 2>/dev/null
    wait "$monitor" 2>/dev/null
    [ "$status" = 0 ] || fail "router stopped during a paused Redis exited $status (see $log)"
    grep -q "AddressSanitizer" "$log" && fail "sanitizer report when stopping: $(grep -m1 ERROR "$log")"
    if awk -v t="$paused_at" '$1 + 0 > t + 0.3 && tolower($0) ~ /"smembers" "hk:tenants"/ { f = 1 }
        END { exit !f }' "$TMP/monitor-$at.log"; then
        held=1
        break
    fi
done
[ "$held" = 1 ] || fail "no timing held the router's tenants question across its stop: not tested"

if [ "$FAILED" = 0 ]; then
    echo "PASS: redis auth and stall handling"
    exit 0
fi
exit 1
