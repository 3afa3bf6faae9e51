#!/usr/bin/env bash
# test_explain.sh BUILD_DIR: `hetki explain` and `hetki snapshot` against a real redis-server
# and one real hetki-router on free loopback ports: an agent takes an urgent contact, explain
# shows the class, the reasons in words, the offer and the acceptance; snapshot shows the
# agent busy; unknown contacts, unknown tenants and an unreachable Redis give their exit codes.
set -u

BUILD=${1:?usage: test_explain.sh BUILD_DIR}
BIN=$BUILD/bin
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/stack/stack_lib.sh
. "$HERE/../stack/stack_lib.sh"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hetki-it-explain-XXXXXX")
REDIS_PID=
ROUTER_PID=
FAILED=0

# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
    local pid
    for pid in $ROUTER_PID $REDIS_PID; do
        kill -TERM "$pid" 2>/dev/null || true
        stack_wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
    done
    if [ "$FAILED" != 0 ] && [ -f "$TMP/router.log" ]; then
        echo "--- router log (tail)"
        tail -n 30 "$TMP/router.log"
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
    echo "FAIL: $*"
    FAILED=1
}

# expect_in FILE TEXT: FILE contains TEXT (fixed string).
expect_in() {
    if ! grep -qF -- "$2" "$1"; then
        fail "$(basename "$1") lacks \"$2\""
    fi
}

# http_ok PORT PATH: a GET answers 200 (bash /dev/tcp, no curl needed).
http_ok() {
    local status
    { exec 9<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
    printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&9
    read -r -t 2 _ status _ <&9 || status=
    exec 9<&- 9>&-
    [ "$status" = 200 ]
}

for b in hetki hetki-router; do
    [ -x "$BIN/$b" ] || { echo "FAIL: $BIN/$b not built"; exit 1; }
done
command -v redis-server >/dev/null || { echo "FAIL: redis-server not installed"; exit 1; }

stack_free_port REDIS_PORT || exit 1
stack_free_port ADMIN_PORT || exit 1
stack_free_port DEAD_PORT || exit 1

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$TMP" >"$TMP/redis.log" 2>&1 &
REDIS_PID=$!
for _ in $(seq 1 100); do
    redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
done
redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG || { echo "FAIL: redis did not start"; exit 1; }

export HETKI_REDIS_HOST=127.0.0.1 HETKI_REDIS_PORT=$REDIS_PORT HETKI_LOG_LEVEL=info
HETKI_INSTANCE=router-explain-$$ HETKI_ROUTER_CONTACTS_PORT=0 HETKI_ROUTER_EVENTS_PORT=0 \
    HETKI_ADMIN_PORT=$ADMIN_PORT "$BIN/hetki-router" >"$TMP/router.log" 2>&1 &
ROUTER_PID=$!
for _ in $(seq 1 100); do
    http_ok "$ADMIN_PORT" /readyz && break
    sleep 0.1
done
http_ok "$ADMIN_PORT" /readyz || { FAILED=1; echo "FAIL: router not ready"; exit 1; }

H=$BIN/hetki
T=explaintest

# An agent who takes calls and chats in Finnish and English, available.
"$H" agent register --tenant $T --agent aino --name "Aino Agent" --languages fi,en \
    --channels phone,chat >"$TMP/reg.out" 2>&1 || fail "agent register: $(cat "$TMP/reg.out")"
"$H" agent available --tenant $T --agent aino >"$TMP/avail.out" 2>&1 ||
    fail "agent available: $(cat "$TMP/avail.out")"

# An urgent chat from a customer with a phone number: a callback in the voice queue, offered
# to aino at once.
"$H" send --tenant $T --channel chat --language "fi" --urgent --phone +358401234567 \
    --text "kortti on varastettu" >"$TMP/send.out" 2>&1 || fail "send: $(cat "$TMP/send.out")"
CID=$(sed -n 's/^ack contact_id=\([^ ]*\).*/\1/p' "$TMP/send.out")
[ -n "$CID" ] || { FAILED=1; echo "FAIL: no contact id in: $(cat "$TMP/send.out")"; exit 1; }

"$H" agent accept --tenant $T --agent aino --contact "$CID" >"$TMP/accept.out" 2>&1 ||
    fail "accept: $(cat "$TMP/accept.out")"
expect_in "$TMP/accept.out" "contact_state=assigned"

# explain without --tenant (found through hk:tenants) and with it.
"$H" explain "$CID" >"$TMP/explain.out" 2>"$TMP/explain.err"
rc=$?
[ "$rc" = 0 ] || fail "explain exit $rc: $(cat "$TMP/explain.err")"
expect_in "$TMP/explain.out" "contact $CID"
expect_in "$TMP/explain.out" "tenant       $T"
expect_in "$TMP/explain.out" "class        urgent"
expect_in "$TMP/explain.out" "target       callback"
expect_in "$TMP/explain.out" "queue        voice"
expect_in "$TMP/explain.out" "assigned to aino"
expect_in "$TMP/explain.out" "choice:urgent"
expect_in "$TMP/explain.out" "the customer marked it urgent"
expect_in "$TMP/explain.out" "first_contact:moment_of_truth"
expect_in "$TMP/explain.out" "the customer's first-ever contact: the moment of truth"
expect_in "$TMP/explain.out" "phone number known: a voice callback"
expect_in "$TMP/explain.out" "received customer="
expect_in "$TMP/explain.out" "queued queue=voice"
expect_in "$TMP/explain.out" "offered agent=aino"
expect_in "$TMP/explain.out" "accepted agent=aino"
expect_in "$TMP/explain.out" "<- this contact"
grep -qE '^  [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} \+[0-9]+\.[0-9]{3}s  accepted agent=aino' \
    "$TMP/explain.out" || fail "trail line format"
"$H" explain "$CID" --tenant $T >"$TMP/explain2.out" 2>&1 || fail "explain --tenant failed"
cmp -s "$TMP/explain.out" "$TMP/explain2.out" || fail "explain with and without --tenant differ"

# snapshot: the agent holds the contact, so it shows busy.
"$H" snapshot --tenant $T >"$TMP/snap.out" 2>&1 || fail "snapshot: $(cat "$TMP/snap.out")"
grep -qE '^aino +Aino Agent +busy +33/100 +1 ' "$TMP/snap.out" ||
    fail "snapshot does not show aino busy: $(cat "$TMP/snap.out")"
expect_in "$TMP/snap.out" "1 busy"

# A routine email: explained as routine, bound for the async queue.
"$H" send --tenant $T --channel email --language en --email someone@example.com \
    --text "Please update my address" >"$TMP/send2.out" 2>&1 || fail "send 2: $(cat "$TMP/send2.out")"
CID2=$(sed -n 's/^ack contact_id=\([^ ]*\).*/\1/p' "$TMP/send2.out")
"$H" explain "$CID2" --tenant $T >"$TMP/explain3.out" 2>&1 || fail "explain of the routine contact"
expect_in "$TMP/explain3.out" "class        routine"
expect_in "$TMP/explain3.out" "routine: the async queue"

# Customer flags: set before the customer's first contact, weighed at intake, in the reasons.
"$H" customer flag --tenant $T --phone +358409999999 --vulnerable on --vip on >"$TMP/flag.out" 2>&1 ||
    fail "customer flag failed: $(cat "$TMP/flag.out")"
expect_in "$TMP/flag.out" "vulnerable=1 vip=1"
"$H" send --tenant $T --channel email --text "question about my loan" \
    --phone +358409999999 >"$TMP/flagged.out" 2>&1 || fail "send for the flagged customer failed"
expect_in "$TMP/flagged.out" "customer:vulnerable"
expect_in "$TMP/flagged.out" "customer:vip"
"$H" customer flag --tenant $T --phone +358409999999 --vulnerable off >"$TMP/flag.out" 2>&1
expect_in "$TMP/flag.out" "vulnerable=0 vip=1"
"$H" customer flag --tenant $T --phone +358409999999 --vulnerable maybe >/dev/null 2>&1
rc=$?
[ "$rc" = 2 ] || fail "customer flag with a bad value exited $rc, not 2"

# Unknown contact, wrong tenant, unknown tenant, bad usage, unreachable Redis.
"$H" explain 01NOSUCHCONTACT0000000000 >"$TMP/none.out" 2>&1
rc=$?
[ "$rc" = 1 ] || fail "explain of an unknown id exited $rc, not 1"
expect_in "$TMP/none.out" "hetki: no contact 01NOSUCHCONTACT0000000000"
"$H" explain "$CID" --tenant someoneelse >/dev/null 2>&1
rc=$?
[ "$rc" = 1 ] || fail "explain in another tenant exited $rc, not 1"
"$H" snapshot --tenant nosuchtenant >/dev/null 2>&1
rc=$?
[ "$rc" = 1 ] || fail "snapshot of an unknown tenant exited $rc, not 1"
"$H" explain >/dev/null 2>&1
rc=$?
[ "$rc" = 2 ] || fail "explain without an id exited $rc, not 2"
HETKI_REDIS_PORT=$DEAD_PORT "$H" explain "$CID" >/dev/null 2>&1
rc=$?
[ "$rc" = 3 ] || fail "explain without Redis exited $rc, not 3"
HETKI_REDIS_PORT=$DEAD_PORT "$H" snapshot --tenant $T >/dev/null 2>&1
rc=$?
[ "$rc" = 3 ] || fail "snapshot without Redis exited $rc, not 3"

if [ "$FAILED" = 0 ]; then
    echo "PASS: explain and snapshot"
    exit 0
fi
echo "--- explain output"
cat "$TMP/explain.out"
echo "--- snapshot output"
cat "$TMP/snap.out" 2>/dev/null
exit 1
