#!/usr/bin/env bash
# stack_run_command: runs README command 1 (scripts/run) on free ports with a temporary data
# directory, submits a contact with `hetki send`, checks `hetki status`, stops the stack with
# SIGTERM and asserts that no process of it remains.
#   usage: test_run_command.sh <source dir> <build dir>
set -euo pipefail

src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
ready_timeout_s=120
stop_timeout_s=40
# shellcheck source=tests/stack/stack_lib.sh
. "$src/tests/stack/stack_lib.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hetki-stack.XXXXXX")
tmp=$(cd "$tmp" && pwd -P)
data=$tmp/data
out=$tmp/run.out
run_pid=
redis_port='' router_admin='' router_contacts='' router_events=''
stack_pids=()
failed=1

cleanup() {
    set +e
    if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
        kill -TERM "$run_pid"
        stack_wait_gone "$run_pid" 15 || kill -KILL -- "-$run_pid" "$run_pid" 2>/dev/null
    fi
    stack_kill_leftovers "$data" "$redis_port" "${stack_pids[@]}"
    if [ "$failed" -ne 0 ]; then
        echo "---- output of scripts/run ----"
        cat "$out" 2>/dev/null
        for log in "$data"/*.log; do
            [ -f "$log" ] || continue
            echo "---- last lines of $log ----"
            tail -n 30 "$log"
        done
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap "exit 143" TERM
trap "exit 130" INT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# Every port the stack may listen on, moved to free ones.
stack_free_port redis_port
stack_free_port router_admin
stack_free_port router_contacts
stack_free_port router_events
for svc in CHAT DASHBOARD PHONE EMAIL KIOSK; do
    stack_free_port port
    export "HETKI_${svc}_ADMIN_PORT=$port"
done
# Public ports of the services that have one so far.
stack_free_port port
export HETKI_CHAT_PORT=$port
export HETKI_REDIS_PORT=$redis_port HETKI_DATA_DIR=$data HETKI_BUILD_DIR=$build
export HETKI_ROUTER_ADMIN_PORT=$router_admin HETKI_ROUTER_CONTACTS_PORT=$router_contacts
export HETKI_ROUTER_EVENTS_PORT=$router_events HETKI_ROUTER_REPLICAS=1
unset HETKI_INSTANCE

echo "stack: redis $redis_port, router admin $router_admin bus $router_contacts/$router_events"
# setsid: the run command leads its own process group, so cleanup can stop it whole.
setsid "$src/scripts/run" >"$out" 2>&1 </dev/null &
run_pid=$!

deadline=$((SECONDS + ready_timeout_s))
until grep -q '^hetki: stack ready' "$out"; do
    kill -0 "$run_pid" 2>/dev/null || fail "scripts/run exited before the stack was ready"
    [ "$SECONDS" -lt "$deadline" ] || fail "stack not ready within ${ready_timeout_s} s"
    sleep 0.5
done
# The table hetki up prints: "  NAME PID ENDPOINTS... LOG".
while read -r name pid _; do
    stack_pids+=("$pid")
    echo "stack: $name pid $pid"
done < <(grep -E '^  [a-z0-9-]+ +[0-9]+ ' "$out")
[ ${#stack_pids[@]} -ge 2 ] || fail "hetki up listed fewer than 2 processes"
grep -qE '^  router-1 +[0-9]+ ' "$out" || fail "hetki up did not start a router"

send_out=$(timeout 60 "$build/bin/hetki" send --tenant demo --channel chat --text "hello" 2>&1) ||
    fail "hetki send exited with $?: $send_out"
echo "send: $send_out"
grep -q 'contact_id=' <<<"$send_out" || fail "hetki send printed no contact_id="

status_out=$(timeout 30 "$build/bin/hetki" status 2>&1) || fail "hetki status exited with $?: $status_out"
echo "status: $status_out"
grep -qi 'router' <<<"$status_out" || fail "hetki status lists no router instance"

kill -TERM "$run_pid"
stack_wait_gone "$run_pid" "$stop_timeout_s" || fail "hetki up still runs ${stop_timeout_s} s after SIGTERM"
rc=0
wait "$run_pid" || rc=$?
run_pid=
[ "$rc" -eq 0 ] || fail "hetki up exited with $rc after SIGTERM (expected 0)"

left=$(stack_leftovers "$data" "$redis_port" "${stack_pids[@]}")
[ -z "$left" ] || fail "processes left behind after stop: $left"

failed=0
echo "PASS: stack_run_command"
