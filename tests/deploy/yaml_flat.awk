# yaml_flat.awk: flattens the block-style YAML subset used by deploy/ into tab-separated
# records, for tests/deploy/test_deploy_manifests.sh (POSIX awk: runs on mawk and gawk).
#   K doc path          a key or sequence item exists
#   V doc path value    a scalar (quotes removed; flow collections kept as text; "" = null)
#   B doc path line     one line of a block scalar (| or >)
#   E line message      a parse error
# Paths look like "a.b[0].c". Supported: mappings, sequences (also "- key: v" and compact
# "key:\n- x"), quoted and plain one-line scalars, one-line flow collections, block scalars,
# comments, anchors, aliases, merge keys, "---" documents. Anything else is an error.
function out(rec) { print rec }
function err(msg) { out("E\t" FNR "\t" msg) }
function push(n, k, p) { d++; ind[d] = n; kind[d] = k; pth[d] = p; cnt[d] = 0 }
function rtrim(s) { sub(/[ ]+$/, "", s); return s }
function ltrim(s) { sub(/^[ ]+/, "", s); return s }
# Cuts a comment (" #" outside quotes) and trailing blanks.
function strip_comment(s,    i, c, q, prev) {
    q = ""; prev = " "
    for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (q == "\"") {
            if (c == "\\") { i++; prev = "x"; continue }
            if (c == "\"") { q = "" }
        } else if (q == "'") {
            if (c == "'") { q = "" }
        } else if (c == "#" && prev == " ") {
            return rtrim(substr(s, 1, i - 1))
        } else if ((c == "\"" || c == "'") && prev ~ /^[ [{,]$/) {
            q = c
        }
        prev = c
    }
    return rtrim(s)
}
# The position of the ':' that ends a mapping key in s, or 0 when s is no "key: value".
function key_end(s,    i, c, q, n) {
    n = length(s); c = substr(s, 1, 1)
    if (c == "[" || c == "{") { return 0 }
    if (c == "\"" || c == "'") {
        q = c
        for (i = 2; i <= n; i++) {
            c = substr(s, i, 1)
            if (q == "\"" && c == "\\") { i++; continue }
            if (c == q) { break }
        }
        if (i > n) { return 0 }
        for (i++; i <= n && substr(s, i, 1) == " "; i++) { }
        if (substr(s, i, 1) == ":" && (i == n || substr(s, i + 1, 1) == " ")) { return i }
        return 0
    }
    for (i = 1; i <= n; i++) {
        if (substr(s, i, 1) == ":" && (i == n || substr(s, i + 1, 1) == " ")) { return i }
    }
    return 0
}
# The text of a quoted scalar; reports an unterminated quote or text after the closing one.
function unquote(s,    q, body, i, c, r) {
    q = substr(s, 1, 1)
    if (q == "'") {
        if (length(s) < 2 || substr(s, length(s), 1) != "'") {
            err("unterminated quote: " s)
            return s
        }
        body = substr(s, 2, length(s) - 2)
        if (body ~ /(^|[^'])'([^']|$)/) { err("text after a quoted value: " s) }
        gsub(/''/, "'", body)
        return body
    }
    r = ""
    for (i = 2; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (c == "\\") { i++; r = r substr(s, i, 1); continue }
        if (c == "\"") {
            if (i != length(s)) { err("text after a quoted value: " s) }
            return r
        }
        r = r c
    }
    err("unterminated quote: " s)
    return r
}
# Checks that a one-line flow collection closes its brackets and quotes.
function check_flow(s,    i, c, q, depth) {
    depth = 0; q = ""
    for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (q == "\"") { if (c == "\\") { i++ } else if (c == "\"") { q = "" }; continue }
        if (q == "'") { if (c == "'") { q = "" }; continue }
        if (c == "\"" || c == "'") { q = c }
        else if (c == "[" || c == "{") { depth++ }
        else if (c == "]" || c == "}") { depth--; if (depth < 0) { break } }
        if (depth == 0 && i < length(s)) { err("text after a flow collection: " s); return }
    }
    if (q != "") { err("unterminated quote in a flow collection: " s) }
    else if (depth != 0) { err("unbalanced brackets: " s) }
}
# Emits the scalar v at path p; a block scalar indicator starts a block owned by indent owner.
function scalar(p, v, owner,    c) {
    c = substr(v, 1, 1)
    if (v ~ /^[|>][-+0-9]*$/) {
        blk = 1; blk_owner = owner; blk_ind = 0; blk_path = p
        out("V\t" doc "\t" p "\t<block>")
        return
    }
    if (c == "\"" || c == "'") { v = unquote(v) }
    else if (c == "[" || c == "{") { check_flow(v) }
    else if (c ~ /^[|>@`%]$/) { err("reserved indicator starts a plain value: " v) }
    else if (v ~ /: / || v ~ /:$/) { err("': ' inside a plain value (quote it): " v) }
    out("V\t" doc "\t" p "\t" v)
}
# Handles "key: value" / "key:" at indent n in the current mapping.
function mapentry(n, s,    pos, key, val, kp) {
    pos = key_end(s)
    if (pos == 0) { err("expected \"key: value\" or \"- item\": " s); return }
    key = rtrim(substr(s, 1, pos - 1))
    if (key ~ /^["']/) { key = unquote(key) }
    if (key == "") { err("empty key"); return }
    val = ltrim(substr(s, pos + 1))
    kp = (pth[d] == "" ? key : pth[d] "." key)
    if ((doc SUBSEP kp) in seen) { err("duplicate key " kp) }
    seen[doc SUBSEP kp] = 1
    out("K\t" doc "\t" kp)
    if (val ~ /^&[^ ]+$/) { val = "" }
    else if (val ~ /^&[^ ]+ /) { sub(/^&[^ ]+ +/, "", val) }
    if (val == "") { pend = 1; pend_ind = n; pend_path = kp; pend_item = 0; return }
    scalar(kp, val, n)
}
# Handles one content line s at indent n: closes and opens containers, then the entry.
function process(n, s,    isitem, i, ip, rest, k) {
    isitem = (s == "-" || substr(s, 1, 2) == "- ")
    if (pend) {
        pend = 0
        if (n > pend_ind) { push(n, isitem ? "s" : "m", pend_path) }
        else if (n == pend_ind && isitem && !pend_item) { push(n, "s", pend_path) }
        else { out("V\t" doc "\t" pend_path "\t") }
    }
    while (d > 0 && n < ind[d]) { d-- }
    while (d > 0 && n == ind[d] && kind[d] == "s" && !isitem) { d-- }
    if (d == 0) {
        if (n != 0) { err("unexpected indentation"); return }
        if (rooted) { err("a second top-level node in one document"); return }
        rooted = 1
        push(0, isitem ? "s" : "m", "")
    }
    if (n != ind[d]) { err("bad indentation: " n " spaces where " ind[d] " were expected"); return }
    if (isitem) {
        if (kind[d] != "s") { err("sequence item inside a mapping"); return }
        i = cnt[d]++
        ip = pth[d] "[" i "]"
        out("K\t" doc "\t" ip)
        rest = (s == "-") ? "" : substr(s, 3)
        k = n + 2
        while (substr(rest, 1, 1) == " ") { rest = substr(rest, 2); k++ }
        if (rest == "" || rest ~ /^&[^ ]+$/) {
            pend = 1; pend_ind = n; pend_path = ip; pend_item = 1
            return
        }
        if (rest == "-" || substr(rest, 1, 2) == "- ") {
            err("nested inline sequences are not supported")
            return
        }
        if (key_end(rest) > 0) { push(k, "m", ip); mapentry(k, rest); return }
        scalar(ip, rest, n)
        return
    }
    if (kind[d] != "m") { err("mapping key inside a sequence: " s); return }
    mapentry(n, s)
}
# Starts the next document ("---").
function newdoc() {
    if (pend) { out("V\t" doc "\t" pend_path "\t"); pend = 0 }
    if (rooted) { doc++ }
    d = 0; rooted = 0; blk = 0
}
BEGIN { doc = 1; d = 0; rooted = 0; pend = 0; blk = 0 }
{
    line = $0
    sub(/\r$/, "", line)
    if (blk) {
        if (line ~ /^[ ]*$/) { out("B\t" doc "\t" blk_path "\t"); next }
        n = match(line, /[^ ]/) - 1
        if (n > blk_owner) {
            if (blk_ind == 0) { blk_ind = n }
            if (n < blk_ind) { err("block scalar line indented less than its first line") }
            out("B\t" doc "\t" blk_path "\t" substr(line, blk_ind + 1))
            next
        }
        blk = 0
    }
    if (line ~ /^[ \t]*$/ || line ~ /^[ ]*#/) { next }
    if (line ~ /^[ ]*\t/) { err("tab in indentation"); next }
    if (line ~ /^---([ ]|$)/) {
        if (strip_comment(substr(line, 4)) != "") { err("content after ---") }
        newdoc(); next
    }
    if (line ~ /^\.\.\.[ ]*$/) { newdoc(); next }
    if (line ~ /^%/) { next }
    n = match(line, /[^ ]/) - 1
    s = strip_comment(substr(line, n + 1))
    if (s == "") { next }
    process(n, s)
}
END { if (pend) { out("V\t" doc "\t" pend_path "\t") } }
