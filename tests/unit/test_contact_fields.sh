#!/usr/bin/env bash
# test_contact_fields.sh: the router's scripts read a contact with one HMGET of the fields
# listed in CONTACT_FIELDS (services/router/lua/_prelude.lua, load_contact), and an agent
# with one HMGET of AGENT_FIELDS (load_agent), not the whole hash; a script reading
# c.<field> or a.<field> that is not in its list would silently see nil. Fails when any such
# field in the scripts is missing from its list, or when a list is not found.
set -u
LUA=$(cd "$(dirname "$0")/../../services/router/lua" && pwd)
rc=0
# check LIST VAR WHAT: every VAR.<field> in the scripts is in the Lua table LIST.
check() {
    local list used missing
    list=$(awk -v name="$1" '$0 ~ "^local " name " = \\{" { on = 1 } on { print } on && /\}/ { exit }' \
        "$LUA/_prelude.lua" | grep -oE "'[a-z_]+'" | tr -d "'" | sort -u)
    [ -n "$list" ] || { echo "FAIL: $1 not found in $LUA/_prelude.lua"; rc=1; return; }
    used=$(cat "$LUA"/*.lua | sed 's/--.*$//' | grep -oE "(^|[^A-Za-z0-9_.])$2\.[a-z_]+" |
        sed -E "s/.*$2\.//" | sort -u)
    [ -n "$used" ] || { echo "FAIL: no $2.<field> found in the scripts"; rc=1; return; }
    missing=$(comm -23 <(echo "$used") <(echo "$list"))
    if [ -n "$missing" ]; then
        echo "FAIL: the scripts read $3 fields $1 does not hold: $(echo $missing)"
        rc=1
        return
    fi
    echo "PASS: $(echo "$used" | wc -l) $3 fields read, all in $1"
}
check CONTACT_FIELDS c contact
check AGENT_FIELDS a agent
exit $rc
