#!/usr/bin/env bash
# test_phone_callback.sh BUILD_DIR: the callback promise over real SIP and RTP, against real
# redis-server, hetki-router and hetki-phone on free loopback ports. A caller (sipp,
# caller_press1.xml) hears the announcement; its media endpoint (ph_rtp_probe) presses 1 as
# RFC 4733 telephone-events; hetki-phone stores the promise, says the window and hangs up.
# Then an agent becomes available: hetki-phone calls the agent's phone first (sipp,
# cb_agent.xml), then the customer's (sipp, agent.xml at HETKI_PHONE_CALLBACK_URI) and
# connects them (RFC 3725): each phone gets the other's SDP, and the promise is kept.
# shellcheck disable=SC2154 # PHONE_PID_<name> are set by phone_spawn
set -u

BUILD=${1:?usage: test_phone_callback.sh BUILD_DIR}
BIN=$BUILD/bin
HERE=$(cd "$(dirname "$0")" && pwd)
SIPP_DIR=$HERE/sipp
# shellcheck source=tests/phone/phone_lib.sh
. "$HERE/phone_lib.sh"

phone_begin callback phone router1 cli caller agent customer caller.sipp agent.sipp customer.sipp

export HETKI_LOG_LEVEL=info
phone_free_ports AGENT_SIP_PORT 1 || exit 1
phone_free_ports CUST_SIP_PORT 1 || exit 1
phone_free_ports CALLER_SIP_PORT 1 || exit 1
phone_free_ports PROBE_PORT 1 || exit 1
phone_free_ports AGENT_RTP 1 || exit 1
phone_free_ports CUST_RTP 1 || exit 1
phone_start_redis || exit 1
phone_start_router 1 || exit 1
# A long callback threshold: the promise must come from the key press, not from the wait.
phone_load_policy '[tenant]\nname = demo\n[lifecycle]\ncallback_threshold = 24h\n[phone]\nnumbers = 0201234567\ncallback_window = 10m\ncallback_retry_after = 30s\n' ||
    exit 1
export HETKI_PHONE_CALLBACK_URI="sip:{number}@127.0.0.1:$CUST_SIP_PORT"
phone_start_phone || exit 1

phone_spawn probe "$BIN/ph_rtp_probe" --ports "$PROBE_PORT-$PROBE_PORT" --out "$TMP/probe.out" \
    --dtmf 1 --dtmf-after-ms 1500 --dtmf-pt 101
phone_wait_log "$TMP/probe.log" ready 10 || { phone_fail "probe not ready"; exit 1; }

# 1. The caller presses 1, hears the window and is hung up on.
phone_spawn caller.sipp sipp "127.0.0.1:$SIP_PORT" -sf "$SIPP_DIR/caller_press1.xml" \
    -i 127.0.0.1 -p "$CALLER_SIP_PORT" -m 1 -s 0201234567 -key caller +358401234567 \
    -key rtp_port "$PROBE_PORT" -timeout 90 -nostdin -trace_logs -log_file "$TMP/caller.log" \
    -trace_err -error_file "$TMP/caller.err.log"
phone_wait_log "$TMP/caller.log" "answered" 20 || phone_fail "the call was not answered"
ANN_PORT=$(phone_log_value "$TMP/caller.log" ann_port)
phone_wait_log "$TMP/caller.log" "ended call=" 60 || phone_fail "hetki-phone did not hang up"
phone_wait_gone "$PHONE_PID_caller_sipp" 10 || phone_fail "the caller's sipp did not finish"
wait "$PHONE_PID_caller_sipp" || phone_fail "caller sipp failed"
kill -TERM "$PHONE_PID_probe"
phone_wait_gone "$PHONE_PID_probe" 10 || phone_fail "probe did not stop"
# welcome + press 1 + the window: several seconds of one continuous stream
phone_check_stream "$TMP/probe.out" "$ANN_PORT" 150
grep -q "src=127.0.0.1:$ANN_PORT .*dtmf_sent=1" "$TMP/probe.out" || phone_fail "the probe did not press 1"

n=$(phone_contacts)
[ "$n" = 1 ] || phone_fail "tenant demo has $n contacts, expected 1"
CONTACT=$(redis-cli -p "$REDIS_PORT" zrange 'hk:{demo}:contacts' 0 0)
echo "promise: $(redis-cli -p "$REDIS_PORT" hgetall "hk:{demo}:promise:$CONTACT" | tr '\n' ' ')"
[ -n "$(redis-cli -p "$REDIS_PORT" hget "hk:{demo}:promise:$CONTACT" status)" ] ||
    phone_fail "no promise stored for contact $CONTACT"
src=$(redis-cli -p "$REDIS_PORT" hget "hk:{demo}:promise:$CONTACT" source)
[ "$src" = ivr ] || phone_fail "the promise's source is '$src', not the key press (ivr)"

# 2. An agent becomes available: the agent's phone rings first, then the customer's.
phone_spawn agent.sipp sipp -sf "$SIPP_DIR/cb_agent.xml" -i 127.0.0.1 -p "$AGENT_SIP_PORT" -m 1 \
    -key agent a1 -key rtp_port "$AGENT_RTP" -d 1500 -timeout 60 -nostdin -trace_logs \
    -log_file "$TMP/agent.log" -trace_err -error_file "$TMP/agent.err.log"
phone_spawn customer.sipp sipp -sf "$SIPP_DIR/agent.xml" -i 127.0.0.1 -p "$CUST_SIP_PORT" -m 1 \
    -key agent cust -key rtp_port "$CUST_RTP" -key hangup caller -timeout 60 -nostdin \
    -trace_logs -log_file "$TMP/customer.log" -trace_err -error_file "$TMP/customer.err.log"
phone_agent_available a1 || exit 1

phone_wait_log "$TMP/agent.log" "invited" 20 || phone_fail "the agent's phone was not called"
if grep -q "invited" "$TMP/customer.log" 2>/dev/null; then
    phone_fail "the customer was called before the agent answered"
fi
phone_wait_log "$TMP/agent.log" "reinvited" 30 || phone_fail "the agent was not connected"
phone_wait_log "$TMP/customer.log" "connected" 30 || phone_fail "the customer was not connected"
phone_wait_gone "$PHONE_PID_agent_sipp" 20 || phone_fail "the agent's sipp did not finish"
wait "$PHONE_PID_agent_sipp" || phone_fail "agent sipp failed"
phone_wait_gone "$PHONE_PID_customer_sipp" 20 || phone_fail "the customer's sipp did not finish"
wait "$PHONE_PID_customer_sipp" || phone_fail "customer sipp failed"
got=$(phone_log_value "$TMP/agent.log" customer_port)
[ "$got" = "$CUST_RTP" ] || phone_fail "the agent got media port '$got', not the customer's $CUST_RTP"
got=$(phone_log_value "$TMP/customer.log" caller_port)
[ "$got" = "$AGENT_RTP" ] || phone_fail "the customer got media port '$got', not the agent's $AGENT_RTP"

deadline=$((SECONDS + 10))
until [ "$(redis-cli -p "$REDIS_PORT" hget "hk:{demo}:promise:$CONTACT" status)" = kept ]; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        phone_fail "promise status is '$(redis-cli -p "$REDIS_PORT" hget "hk:{demo}:promise:$CONTACT" status)', not kept"
        break
    fi
    sleep 0.2
done
echo "contact $CONTACT: $(redis-cli -p "$REDIS_PORT" hmget "hk:{demo}:contact:$CONTACT" state callback call_state | tr '\n' ' ')"

if [ "$PHONE_FAILED" = 0 ]; then
    echo "PASS: phone callback (press 1)"
    exit 0
fi
exit 1
