#!/usr/bin/env bash
# test_contact_fields.sh: the router's scripts read a contact with one HMGET of the fields
# listed in CONTACT_FIELDS (services/router/lua/_prelude.lua, load_contact), not the whole
# hash; a script reading c.<field> that is not in the list would silently see nil. Fails when
# any c.<field> in the scripts is missing from the list, or when the list is not found.
set -u
LUA=$(cd "$(dirname "$0")/../../services/router/lua" && pwd)
list=$(awk '/^local CONTACT_FIELDS = \{/ { on = 1 } on { print } on && /\}/ { exit }' \
    "$LUA/_prelude.lua" | grep -oE "'[a-z_]+'" | tr -d "'" | sort -u)
[ -n "$list" ] || { echo "FAIL: CONTACT_FIELDS not found in $LUA/_prelude.lua"; exit 1; }
used=$(cat "$LUA"/*.lua | sed 's/--.*$//' | grep -oE '(^|[^A-Za-z0-9_.])c\.[a-z_]+' |
    sed -E 's/.*c\.//' | sort -u)
[ -n "$used" ] || { echo "FAIL: no c.<field> found in the scripts"; exit 1; }
missing=$(comm -23 <(echo "$used") <(echo "$list"))
if [ -n "$missing" ]; then
    echo "FAIL: the scripts read contact fields load_contact does not load: $(echo $missing)"
    exit 1
fi
echo "PASS: $(echo "$used" | wc -l) contact fields read, all in CONTACT_FIELDS"
