#!/usr/bin/env bash
# run_node.sh: runs one test file of a node test suite (tests/chat, tests/dashboard) with
# node's test runner, for ctest.
#   run_node.sh SUITE_DIR BUILD_DIR TEST_FILE
# Installs the suite's node packages first when missing (npm_setup.sh), gives the run a folder for
# logs, and afterwards kills whatever process of this run is still alive (found by the
# HETKI_TEST_TAG in its environment), so a crashed or timed-out test leaves nothing behind.
# On failure the servers' logs are kept under BUILD_DIR/artifacts/ and their tails printed.
set -uo pipefail
lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
here=$(cd "$1" && pwd)
suite=$(basename "$here")
build=$2
file=$3
name=$(basename "$file" .mjs)

"$lib/npm_setup.sh" "$here" || exit 1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hetki-$suite-test-XXXXXX")
export HETKI_TEST_TMP=$tmp
export HETKI_TEST_TAG="$suite-$name-$$-$RANDOM"
export HETKI_BIN_DIR=${HETKI_BIN_DIR:-$build/bin}
export HETKI_ARTIFACTS=${HETKI_ARTIFACTS:-$build/artifacts}
mkdir -p "$HETKI_ARTIFACTS"

leftovers() {
    local dir pid
    for dir in /proc/[0-9]*; do
        pid=${dir#/proc/}
        [ "$pid" = "$$" ] && continue
        if { tr '\0' '\n' <"$dir/environ"; } 2>/dev/null | grep -qxF "HETKI_TEST_TAG=$HETKI_TEST_TAG"; then
            echo "$pid"
        fi
    done
}
node_pid=
cleanup() {
    [ -n "$node_pid" ] && kill -TERM "$node_pid" 2>/dev/null
    local p
    for p in $(leftovers); do
        echo "run_node: killing leftover $({ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null) ($p)" >&2
        kill -KILL "$p" 2>/dev/null
    done
}
trap 'cleanup; exit 143' TERM INT

node --test --test-reporter=spec "$here/$file" &
node_pid=$!
wait "$node_pid"
rc=$?
node_pid=
cleanup

if [ "$rc" -ne 0 ]; then
    keep="$HETKI_ARTIFACTS/$suite-logs-$name"
    rm -rf "$keep"
    cp -r "$tmp" "$keep" 2>/dev/null
    echo "run_node: $file failed (exit $rc); logs kept in $keep" >&2
    find "$keep" -name '*.log' | while read -r log; do
        echo "---- tail of $log" >&2
        tail -n 25 "$log" >&2
    done
fi
rm -rf "$tmp"
exit "$rc"
