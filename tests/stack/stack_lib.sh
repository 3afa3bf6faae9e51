# shellcheck shell=bash
# stack_lib.sh: bash helpers for the stack tests (sourced): free loopback ports, waiting for
# processes to go, and finding what a stack left behind.

# stack_free_port VAR: stores in VAR a TCP port that no socket uses (per /proc/net/tcp{,6})
# and that no earlier call handed out. Picks below the kernel's ephemeral range.
_stack_ports_taken=" "
stack_free_port() {
    local _p _hex _i
    for _i in $(seq 1 500); do
        _p=$((20000 + RANDOM % 12000))
        case "$_stack_ports_taken" in *" $_p "*) continue ;; esac
        printf -v _hex ':%04X ' "$_p"
        if ! grep -q "$_hex" /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
            _stack_ports_taken+="$_p "
            printf -v "$1" '%s' "$_p"
            return 0
        fi
    done
    echo "stack_free_port: no free port found" >&2
    return 1
}

# stack_wait_gone PID SECONDS: waits until PID is gone (or a zombie); returns 1 on timeout.
stack_wait_gone() {
    local deadline=$((SECONDS + $2)) state
    while [ -e "/proc/$1" ]; do
        state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
        [ "$state" = Z ] && return 0
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
    return 0
}

# stack_leftovers DATA_DIR REDIS_PORT [PID...]: prints "pid:program" for every live process
# of a stack: the given pids, a redis-server on 127.0.0.1:REDIS_PORT, and any hetki or hetki-*
# program started with HETKI_DATA_DIR=DATA_DIR.
stack_leftovers() {
    local data=$1 port=$2 pid dir cmd argv0 state
    shift 2
    for dir in /proc/[0-9]*; do
        pid=${dir#/proc/}
        if [ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ]; then
            continue
        fi
        state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "$dir/status" 2>/dev/null) || continue
        if [ -z "$state" ] || [ "$state" = Z ]; then
            continue
        fi
        cmd=$(tr '\0' ' ' <"$dir/cmdline" 2>/dev/null) || continue
        argv0=${cmd%% *}
        argv0=${argv0##*/}
        if [[ " $* " == *" $pid "* ]] ||
            { [ -n "$port" ] && [[ "$argv0" == redis-server && "$cmd " == *" 127.0.0.1:$port "* ]]; } ||
            { [[ "$argv0" == hetki || "$argv0" == hetki-* ]] &&
                tr '\0' '\n' <"$dir/environ" 2>/dev/null | grep -qxF "HETKI_DATA_DIR=$data"; }; then
            echo -n "$pid:$argv0 "
        fi
    done
}

# stack_kill_leftovers DATA_DIR REDIS_PORT [PID...]: SIGKILLs whatever stack_leftovers finds.
stack_kill_leftovers() {
    local entry
    for entry in $(stack_leftovers "$@"); do
        kill -KILL "${entry%%:*}" 2>/dev/null || true
    done
}
