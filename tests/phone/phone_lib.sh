# shellcheck shell=bash disable=SC2034
# phone_lib.sh: bash helpers for the phone tests and the phone benchmark (sourced): free
# UDP+TCP loopback ports, a Redis, router replicas and hetki-phone on them, agents made
# available with the hetki CLI, and checks on the RTP streams ph_rtp_probe recorded.
# The caller sets BIN (the build's bin folder); a test then calls phone_begin (its folder,
# exit trap and checks), the benchmark sets TMP and calls phone_cleanup from its own trap.

PHONE_PIDS=""
PHONE_FAILED=0
_phone_taken=" "

phone_fail() {
    echo "FAIL: $*"
    PHONE_FAILED=1
}

# phone_free_ports VAR COUNT: stores in VAR the first of COUNT consecutive ports that no TCP
# or UDP socket uses and no earlier call handed out.
phone_free_ports() {
    local _i _p _k _ok _used
    _used=" $(awk '$2 ~ /:[0-9A-F]+$/ { split($2, a, ":"); print a[2] }' /proc/net/tcp \
        /proc/net/tcp6 /proc/net/udp /proc/net/udp6 2>/dev/null | while read -r _h; do
        printf '%d ' "$((16#$_h))"
    done)$_phone_taken"
    for _i in $(seq 1 500); do
        if [ "$2" -gt 100 ]; then
            _p=$((10000 + (RANDOM % 40) * 250))
        else
            _p=$((21000 + (RANDOM % 900) * 10))
        fi
        _ok=1
        for ((_k = 0; _k < $2; _k++)); do
            case "$_used" in *" $((_p + _k)) "*)
                _ok=0
                break
                ;;
            esac
        done
        if [ "$_ok" = 1 ]; then
            for ((_k = 0; _k < $2; _k++)); do
                _phone_taken+="$((_p + _k)) "
            done
            printf -v "$1" '%s' "$_p"
            return 0
        fi
    done
    echo "phone_free_ports: none found" >&2
    return 1
}

# phone_free_call_ports: the ports of a caller connected to an agent: AGENT_SIP_PORT and
# AGENT_RTP (the agent's phone), CALLER_SIP_PORT and PROBE_PORT (the caller and its media).
phone_free_call_ports() {
    phone_free_ports AGENT_SIP_PORT 1 && phone_free_ports AGENT_RTP 1 &&
        phone_free_ports CALLER_SIP_PORT 1 && phone_free_ports PROBE_PORT 1
}

# phone_spawn NAME CMD...: starts CMD in the background with output in $TMP/NAME.log and
# remembers its pid (in PHONE_PID_<NAME>).
phone_spawn() {
    local name=$1
    shift
    "$@" >"$TMP/$name.log" 2>&1 &
    printf -v "PHONE_PID_${name//[^a-zA-Z0-9_]/_}" "%s" "$!"
    PHONE_PIDS="$PHONE_PIDS $!"
}

# phone_wait_gone PID SECONDS: waits until PID is gone; returns 1 on timeout.
phone_wait_gone() {
    local deadline=$((SECONDS + $2))
    while kill -0 "$1" 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
    return 0
}

# phone_cleanup: stops every process phone_spawn started (TERM, then KILL after 10 s).
phone_cleanup() {
    local pid
    for pid in $PHONE_PIDS; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in $PHONE_PIDS; do
        phone_wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

# phone_begin NAME LOG...: the test's folder ($TMP, named after NAME), the EXIT trap (stop
# every spawned process; when the test failed, print the tail of each named log in $TMP;
# remove $TMP unless PHONE_KEEP is set), and the check that the binaries in $BIN and the
# tools are there. Exits the test when one is missing.
phone_begin() {
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/hetki-phone-$1-XXXXXX")
    shift
    PHONE_LOGS="$*"
    trap phone_end EXIT
    trap 'exit 1' INT TERM
    local b t
    for b in hetki hetki-router hetki-phone ph_rtp_probe; do
        [ -x "$BIN/$b" ] || { echo "FAIL: $BIN/$b not built"; exit 1; }
    done
    for t in sipp redis-server redis-cli; do
        command -v "$t" >/dev/null || { echo "FAIL: $t not installed"; exit 1; }
    done
}

# shellcheck disable=SC2317 # called through the EXIT trap
phone_end() {
    local f
    phone_cleanup
    if [ "$PHONE_FAILED" != 0 ]; then
        for f in $PHONE_LOGS; do
            if [ -s "$TMP/$f.log" ]; then
                echo "--- $f.log (tail)"
                tail -n 25 "$TMP/$f.log"
            fi
        done
    fi
    [ -n "${PHONE_KEEP:-}" ] || rm -rf "$TMP"
}

# phone_http_ok PORT PATH: a GET answers 200.
phone_http_ok() {
    local status
    { exec 9<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
    printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&9
    read -r -t 2 _ status _ <&9 || status=
    exec 9<&- 9>&-
    [ "$status" = 200 ]
}

# phone_http_get PORT PATH: prints the body of a GET.
phone_http_get() {
    { exec 9<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
    printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&9
    timeout 3 cat <&9 | sed '1,/^\r$/d'
    exec 9<&- 9>&-
}

# phone_wait_ready PORT SECONDS: polls /readyz until it answers 200.
phone_wait_ready() {
    local deadline=$((SECONDS + $2))
    until phone_http_ok "$1" /readyz; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# phone_start_redis: a redis-server on a free port (REDIS_PORT), AOF with fsync always as in
# the local stack.
phone_start_redis() {
    phone_free_ports REDIS_PORT 1 || return 1
    phone_spawn redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
        --appendonly yes --appendfsync "${PHONE_FSYNC:-always}" --dir "$TMP"
    for _ in $(seq 1 100); do
        redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break
        sleep 0.1
    done
    redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG || {
        phone_fail "redis did not start"
        return 1
    }
    export HETKI_REDIS_HOST=127.0.0.1 HETKI_REDIS_PORT=$REDIS_PORT
}

# phone_start_router N: router replica N (admin port in ROUTER_ADMIN_N), found by the others
# through the registry.
phone_start_router() {
    local port
    phone_free_ports port 1 || return 1
    printf -v "ROUTER_ADMIN_$1" '%s' "$port"
    HETKI_INSTANCE=router-$1-$$ HETKI_ROUTER_CONTACTS_PORT=0 HETKI_ROUTER_EVENTS_PORT=0 \
        HETKI_ADMIN_PORT=$port phone_spawn "router$1" "$BIN/hetki-router"
    phone_wait_ready "$port" 20 || {
        phone_fail "router $1 not ready"
        return 1
    }
}

# phone_start_phone: hetki-phone on free SIP (SIP_PORT), admin (PHONE_ADMIN) and RTP ports;
# agents' phones are sip:<agent>@127.0.0.1:AGENT_SIP_PORT.
phone_start_phone() {
    local rtp
    phone_free_ports SIP_PORT 1 || return 1
    phone_free_ports PHONE_ADMIN 1 || return 1
    phone_free_ports rtp "${PHONE_RTP_PORTS:-40}" || return 1
    HETKI_INSTANCE=phone-$$ HETKI_ADMIN_PORT=$PHONE_ADMIN HETKI_PHONE_SIP_PORT=$SIP_PORT \
        HETKI_PHONE_SIP_HOST=127.0.0.1 HETKI_PHONE_RTP_PORT_MIN=$rtp \
        HETKI_PHONE_RTP_PORT_MAX=$((rtp + ${PHONE_RTP_PORTS:-40} - 1)) \
        HETKI_PHONE_AGENT_URI="sip:{agent}@127.0.0.1:$AGENT_SIP_PORT" \
        HETKI_PHONE_DEFAULT_TENANT=demo HETKI_PHONE_LANGUAGE=${PHONE_LANGUAGE:-en} \
        HETKI_PHONE_TRUSTED=127.0.0.1 \
        HETKI_PHONE_CALLBACK_THRESHOLD_S=${PHONE_CALLBACK_THRESHOLD_S:-86400} \
        phone_spawn phone "$BIN/hetki-phone"
    phone_wait_ready "$PHONE_ADMIN" 20 || {
        phone_fail "hetki-phone not ready"
        return 1
    }
}

# phone_load_policy TEXT: loads TEXT (printf format, no arguments) as tenant demo's policy and
# waits until hetki-phone's view of it (hk:{demo}:phone) is written; the routers and
# hetki-phone pick it up within a second or two.
phone_load_policy() {
    # shellcheck disable=SC2059 # TEXT is the format
    printf "$1" >"$TMP/demo.policy"
    "$BIN/hetki" policy load "$TMP/demo.policy" >>"$TMP/cli.log" 2>&1 || {
        phone_fail "policy load"
        return 1
    }
    local deadline=$((SECONDS + 5))
    until [ -n "$(redis-cli -p "$REDIS_PORT" hget 'hk:{demo}:phone' version 2>/dev/null)" ]; do
        [ "$SECONDS" -lt "$deadline" ] || break
        sleep 0.1
    done
    sleep 2
}

# A policy for the live-call tests and the benchmark: callers wait for an agent (no callback
# offered for a long estimated wait).
PHONE_POLICY_LIVE='[tenant]\nname = demo\n[lifecycle]\ncallback_threshold = 24h\n[phone]\nnumbers = 0201234567\n'

# phone_agent_available AGENT: registers AGENT (tenant demo, phone channel, every language)
# and makes it available.
phone_agent_available() {
    "$BIN/hetki" agent register --tenant demo --agent "$1" --languages fi,sv,en \
        --channels phone >>"$TMP/cli.log" 2>&1 || {
        phone_fail "agent register $1"
        return 1
    }
    "$BIN/hetki" agent available --tenant demo --agent "$1" >>"$TMP/cli.log" 2>&1 || {
        phone_fail "agent available $1"
        return 1
    }
}

# phone_log_value FILE KEY: the value of the last "KEY=value" in FILE.
phone_log_value() {
    grep -o "$2=[^ ]*" "$1" 2>/dev/null | tail -n 1 | cut -d= -f2-
}

# phone_wait_log FILE TEXT SECONDS: waits until FILE contains TEXT.
phone_wait_log() {
    local deadline=$((SECONDS + $3))
    until grep -qF -- "$2" "$1" 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# phone_check_stream PROBE_OUT SRC_PORT MIN_PACKETS: the probe recorded an RTP stream from
# 127.0.0.1:SRC_PORT with at least MIN_PACKETS PCMU packets, the marker on the first, no
# sequence or timestamp gaps, and 20 ms pacing (average 19-21 ms; no silence over 300 ms: a
# busy test machine may delay a wake-up, after which the sender catches up).
phone_check_stream() {
    local line
    line=$(grep " src=127.0.0.1:$2 " "$1" | head -n 1)
    if [ -z "$line" ]; then
        phone_fail "no RTP stream from port $2 (probe: $(cat "$1" 2>/dev/null))"
        return 1
    fi
    echo "rtp: $line"
    echo "$line" | awk -v min="$3" '
        { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
        END {
            bad = ""
            if (v["packets"] < min) bad = bad " packets<" min
            if (v["pt"] != 0) bad = bad " pt"
            if (v["marker_first"] != 1) bad = bad " marker"
            if (v["seq_gaps"] != 0) bad = bad " seq_gaps"
            if (v["ts_bad"] != 0) bad = bad " ts_bad"
            if (v["max_gap_ms"] > 300) bad = bad " max_gap"
            avg = (v["last_us"] - v["first_us"]) / 1000 / (v["packets"] - 1)
            if (avg < 19 || avg > 21) bad = bad " pacing(" avg " ms)"
            if (bad != "") { print "bad stream:" bad; exit 1 }
        }' || {
        phone_fail "announcement stream from port $2 is not right"
        return 1
    }
}

# phone_contacts: how many contacts tenant demo has.
phone_contacts() {
    redis-cli -p "$REDIS_PORT" zcard 'hk:{demo}:contacts'
}
