#!/usr/bin/env bash
# test_phone_call.sh BUILD_DIR CASE: calls into hetki-phone with sipp, against real
# redis-server, hetki-router and hetki-phone on free loopback ports. The caller's media is
# ph_rtp_probe (its port is in the caller's SDP), so the test sees the announcement's RTP.
# CASE:
#   caller_bye  caller -> announcement RTP -> an agent becomes available -> hetki-phone calls
#               the agent's phone (sipp UAS) and connects the two (each gets the other's
#               SDP) -> the caller hangs up -> both legs end
#   agent_bye   the same, and the agent hangs up
#   duplicate   the INVITE arrives three times (same branch): one call, one contact
#   router_kill two router replicas; one is SIGKILLed while the caller hears the
#               announcement; the agent is still connected, the call ends cleanly and the
#               contact carries the final call state
# shellcheck disable=SC2154 # PHONE_PID_<name> are set by phone_spawn
set -u

BUILD=${1:?usage: test_phone_call.sh BUILD_DIR CASE}
CASE=${2:?usage: test_phone_call.sh BUILD_DIR CASE}
BIN=$BUILD/bin
HERE=$(cd "$(dirname "$0")" && pwd)
SIPP_DIR=$HERE/sipp
# shellcheck source=tests/phone/phone_lib.sh
. "$HERE/phone_lib.sh"

phone_begin "$CASE" phone router1 router2 caller agent cli caller.sipp agent.sipp caller.err agent.err

export HETKI_LOG_LEVEL=info
phone_free_call_ports || exit 1
phone_start_redis || exit 1
phone_start_router 1 || exit 1
if [ "$CASE" = router_kill ]; then
    phone_start_router 2 || exit 1
fi
phone_load_policy "$PHONE_POLICY_LIVE" || exit 1
phone_start_phone || exit 1

phone_spawn probe "$BIN/ph_rtp_probe" --ports "$PROBE_PORT-$PROBE_PORT" --out "$TMP/probe.out"
phone_wait_log "$TMP/probe.log" ready 10 || { phone_fail "probe not ready"; exit 1; }

CALLER_ID=+358401234567
case "$CASE" in
caller_bye | router_kill) HANGUP=caller ;;
agent_bye) HANGUP=agent ;;
duplicate) HANGUP=caller ;;
*)
    echo "FAIL: unknown case $CASE"
    exit 1
    ;;
esac

if [ "$CASE" != duplicate ]; then
    phone_spawn agent.sipp sipp -sf "$SIPP_DIR/agent.xml" -i 127.0.0.1 -p "$AGENT_SIP_PORT" \
        -m 1 -key agent a1 -key rtp_port "$AGENT_RTP" -key hangup "$HANGUP" -d 1000 \
        -timeout 90 -nostdin -trace_logs -log_file "$TMP/agent.log" \
        -trace_err -error_file "$TMP/agent.err.log"
    AGENT_SIPP=$PHONE_PID_agent_sipp
    SCEN=caller.xml
else
    SCEN=caller_dup.xml
fi
phone_spawn caller.sipp sipp "127.0.0.1:$SIP_PORT" -sf "$SIPP_DIR/$SCEN" -i 127.0.0.1 \
    -p "$CALLER_SIP_PORT" -m 1 -s 0201234567 -key caller "$CALLER_ID" \
    -key rtp_port "$PROBE_PORT" -key hangup "$HANGUP" -d "$([ "$CASE" = duplicate ] && echo 2000 || echo 1000)" \
    -timeout 90 -nostdin -trace_logs -log_file "$TMP/caller.log" \
    -trace_err -error_file "$TMP/caller.err.log"
CALLER_SIPP=$PHONE_PID_caller_sipp

phone_wait_log "$TMP/caller.log" "answered" 20 || phone_fail "the call was not answered"
ANN_PORT=$(phone_log_value "$TMP/caller.log" ann_port)
echo "answered; hetki-phone's media port $ANN_PORT"

if [ "$CASE" != duplicate ]; then
    sleep 1.5 # the caller hears the announcement for a while
    if [ "$CASE" = router_kill ]; then
        echo "SIGKILL router 1 during the call"
        kill -KILL "$PHONE_PID_router1"
    fi
    phone_agent_available a1 || exit 1
fi

if ! phone_wait_gone "$CALLER_SIPP" 60; then
    phone_fail "the caller's sipp did not finish"
fi
wait "$CALLER_SIPP"
rc=$?
[ "$rc" = 0 ] || phone_fail "caller sipp exit $rc"
if [ "$CASE" != duplicate ]; then
    phone_wait_gone "$AGENT_SIPP" 20 || phone_fail "the agent's sipp did not finish"
    wait "$AGENT_SIPP"
    rc=$?
    [ "$rc" = 0 ] || phone_fail "agent sipp exit $rc"
    # each phone got the other's SDP through hetki-phone
    got=$(phone_log_value "$TMP/caller.log" agent_port)
    [ "$got" = "$AGENT_RTP" ] || phone_fail "the caller got media port '$got', not the agent's $AGENT_RTP"
    got=$(phone_log_value "$TMP/agent.log" caller_port)
    [ "$got" = "$PROBE_PORT" ] || phone_fail "the agent got media port '$got', not the caller's $PROBE_PORT"
    grep -q "ended call=.* by=$HANGUP" "$TMP/caller.log" "$TMP/agent.log" ||
        phone_fail "no hang-up by the $HANGUP seen"
fi

kill -TERM "$PHONE_PID_probe"
phone_wait_gone "$PHONE_PID_probe" 10 || phone_fail "probe did not stop"
phone_check_stream "$TMP/probe.out" "$ANN_PORT" 50

n=$(phone_contacts)
[ "$n" = 1 ] || phone_fail "tenant demo has $n contacts, expected 1"
CONTACT=$(redis-cli -p "$REDIS_PORT" zrange 'hk:{demo}:contacts' 0 0)
echo "contact $CONTACT: $(redis-cli -p "$REDIS_PORT" hmget "hk:{demo}:contact:$CONTACT" channel state call_state | tr '\n' ' ')"
if [ "$CASE" != duplicate ]; then
    # the final call state reaches the router (the surviving replica after a crash)
    deadline=$((SECONDS + 15))
    until [ "$(redis-cli -p "$REDIS_PORT" hget "hk:{demo}:contact:$CONTACT" call_state)" = ended ]; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            phone_fail "the contact's call_state is not 'ended'"
            break
        fi
        sleep 0.2
    done
fi
phone_http_get "$PHONE_ADMIN" /metrics | grep -E '^hetki_phone_' | head -n 20 >"$TMP/metrics.txt"
cat "$TMP/metrics.txt"

if [ "$PHONE_FAILED" = 0 ]; then
    echo "PASS: phone $CASE"
    exit 0
fi
exit 1
