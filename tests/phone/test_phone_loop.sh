#!/usr/bin/env bash
# test_phone_loop.sh BUILD_DIR: an INVITE that carries hetki-phone's own Via (one of its own
# outbound calls come back to it) is refused with 482 Loop Detected and makes no contact.
# shellcheck disable=SC2154 # PHONE_PID_<name> are set by phone_spawn
set -u

BUILD=${1:?usage: test_phone_loop.sh BUILD_DIR}
BIN=$BUILD/bin
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/phone/phone_lib.sh
. "$HERE/phone_lib.sh"

phone_begin loop phone router1 caller.sipp caller caller.err

export HETKI_LOG_LEVEL=info
phone_free_ports AGENT_SIP_PORT 1 || exit 1
phone_free_ports CALLER_SIP_PORT 1 || exit 1
phone_start_redis || exit 1
phone_start_router 1 || exit 1
phone_load_policy "$PHONE_POLICY_LIVE" || exit 1
phone_start_phone || exit 1

phone_spawn caller.sipp sipp "127.0.0.1:$SIP_PORT" -sf "$HERE/sipp/caller_loop.xml" \
    -i 127.0.0.1 -p "$CALLER_SIP_PORT" -m 1 -s 0201234567 -timeout 30 -nostdin \
    -trace_logs -log_file "$TMP/caller.log" -trace_err -error_file "$TMP/caller.err.log"
CALLER_SIPP=$PHONE_PID_caller_sipp
phone_wait_gone "$CALLER_SIPP" 40 || phone_fail "the caller's sipp did not finish"
wait "$CALLER_SIPP"
rc=$?
[ "$rc" = 0 ] || phone_fail "caller sipp exit $rc (no 482?)"
grep -q "phone.sip_loop" "$TMP/phone.log" || phone_fail "hetki-phone logged no phone.sip_loop"
if grep -q "phone.call_in" "$TMP/phone.log"; then
    phone_fail "the looped INVITE became a call"
fi
sleep 0.5
n=$(phone_contacts)
[ "$n" = 0 ] || phone_fail "tenant demo has $n contacts, expected 0"

if [ "$PHONE_FAILED" = 0 ]; then
    echo "PASS: phone loop"
    exit 0
fi
exit 1
