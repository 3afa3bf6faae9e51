#!/usr/bin/env bash
# test_phone_shutdown.sh BUILD_DIR: hetki-phone stopped (SIGTERM) at two awkward moments exits
# cleanly; the sanitizer build aborts (exit 1) on a use after free.
#   connected  a caller is connected to an agent (two legs of one call) and the drain time
#              is 0: hanging up every call used to end the call through its first leg and
#              then read the second leg's key, freed by that.
#   sweep      a promise sweep that finds a broken promise is held back in Redis (CLIENT
#              PAUSE) across the stop: its answer used to report to the router through the
#              submit client already destroyed.
# shellcheck disable=SC2154 # PHONE_PID_<name> are set by phone_spawn
set -u

BUILD=${1:?usage: test_phone_shutdown.sh BUILD_DIR}
BIN=$BUILD/bin
HERE=$(cd "$(dirname "$0")" && pwd)
SIPP_DIR=$HERE/sipp
# shellcheck source=tests/phone/phone_lib.sh
. "$HERE/phone_lib.sh"

phone_begin shutdown phone router1 caller agent

export HETKI_LOG_LEVEL=info UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# stop_phone WHAT: SIGTERM, then the exit status must be 0 and the log free of sanitizer
# reports.
stop_phone() {
    local pid=$PHONE_PID_phone status
    kill -TERM "$pid"
    phone_wait_gone "$pid" 30 || phone_fail "$1: hetki-phone still runs 30 s after SIGTERM"
    wait "$pid"
    status=$?
    [ "$status" = 0 ] || phone_fail "$1: hetki-phone exited $status"
    if grep -q -E "ERROR: AddressSanitizer|runtime error" "$TMP/phone.log"; then
        phone_fail "$1: $(grep -m1 -E "ERROR: AddressSanitizer|runtime error" "$TMP/phone.log")"
    fi
    cp "$TMP/phone.log" "$TMP/phone-$1.log"
}

phone_free_call_ports || exit 1
phone_start_redis || exit 1
phone_start_router 1 || exit 1
phone_load_policy "$PHONE_POLICY_LIVE" || exit 1

# connected: caller and agent talk when the phone is stopped with no drain time.
HETKI_PHONE_DRAIN_S=0 phone_start_phone || exit 1
phone_spawn probe "$BIN/ph_rtp_probe" --ports "$PROBE_PORT-$PROBE_PORT" --out "$TMP/probe.out"
phone_wait_log "$TMP/probe.log" ready 10 || phone_fail "probe not ready"
phone_spawn agent.sipp sipp -sf "$SIPP_DIR/agent.xml" -i 127.0.0.1 -p "$AGENT_SIP_PORT" \
    -m 1 -key agent a1 -key rtp_port "$AGENT_RTP" -key hangup caller -d 20000 \
    -timeout 60 -nostdin -trace_logs -log_file "$TMP/agent.log"
phone_spawn caller.sipp sipp "127.0.0.1:$SIP_PORT" -sf "$SIPP_DIR/caller.xml" -i 127.0.0.1 \
    -p "$CALLER_SIP_PORT" -m 1 -s 0201234567 -key caller +358401234567 \
    -key rtp_port "$PROBE_PORT" -key hangup caller -d 20000 -timeout 60 -nostdin \
    -trace_logs -log_file "$TMP/caller.log"
phone_wait_log "$TMP/caller.log" answered 20 || phone_fail "the caller was not answered"
phone_agent_available a1 || exit 1
phone_wait_log "$TMP/phone.log" "event=phone.connected" 20 ||
    phone_fail "caller and agent were not connected"
stop_phone connected

# sweep: a promise whose window has ended, found by a sweep that Redis holds back until
# after the stop. The phone learns tenant demo from hk:tenants when it starts and every 5 s;
# MONITOR shows when its sweeps (every 500 ms) cover demo, and whether one ran only when the
# 900 ms pause ended (later than 0.3 s after it began), after the stop; else the scenario was
# not tested.
redis-cli -p "$REDIS_PORT" MONITOR >"$TMP/monitor.log" 2>&1 &
MONITOR_PID=$!
PHONE_PIDS="$PHONE_PIDS $MONITOR_PID"
phone_start_phone || exit 1
phone_wait_log "$TMP/monitor.log" 'hk:{demo}:promise_due' 15 ||
    phone_fail "sweep: hetki-phone does not sweep tenant demo's promises"
paused_at=$(redis-cli -p "$REDIS_PORT" TIME | {
    read -r sec
    read -r usec
    printf '%s.%06d' "$sec" "$usec"
})
printf 'MULTI\nHSET hk:{demo}:promise:c-broken status pending window_end 1 attempts 0 max_attempts 3\nZADD hk:{demo}:promise_due 0 c-broken\nEXEC\nCLIENT PAUSE 900 ALL\n' |
    redis-cli -p "$REDIS_PORT" >/dev/null 2>&1
sleep 0.55
stop_phone sweep
kill "$MONITOR_PID" 2>/dev/null
awk -v t="$paused_at" '$1 + 0 > t + 0.3 && /hk:\{demo\}:promise_due/ && !/"(zadd|ZADD)"/ { f = 1 }
    END { exit !f }' "$TMP/monitor.log" ||
    phone_fail "sweep: no sweep was held across the stop: not tested"

if [ "$PHONE_FAILED" = 0 ]; then
    echo "PASS: phone shutdown"
    exit 0
fi
exit 1
