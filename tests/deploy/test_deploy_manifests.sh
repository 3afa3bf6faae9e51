#!/usr/bin/env bash
# test_deploy_manifests: checks deploy/ offline, without kubectl, helm or a container engine:
#   - every YAML file parses (a strict block-style subset, read by tests/deploy/yaml_flat.awk);
#   - every kustomization lists only files that exist, every file under deploy/k8s is used,
#     every manifest has apiVersion/kind/metadata.name, patches and replicas name real objects,
#     selectors match pod labels, the Redis host of the router is a Service of the same set;
#   - the router Deployment: replicas, env, probes on /readyz and /healthz at the admin port,
#     Prometheus annotations; the overlays' replicas, autoscaler and Redis volume;
#   - every HETKI_* name used under deploy/ is read by the binaries (names from the C sources);
#   - compose, Containerfile (packages agree with scripts/install-deps) and systemd units;
#   - with redis-server: the Redis configs load and persist with appendfsync always, and the
#     ACL users allow and refuse what they should, against the real Lua scripts;
#   - when present: systemd-analyze verify, python3 yaml, kubectl kustomize (else skipped).
#   usage: test_deploy_manifests.sh <source dir>
# "A && B || fail" is used on purpose: fail when either test does not hold.
# shellcheck disable=SC2015
set -uo pipefail

src=$(cd "${1:?usage: test_deploy_manifests.sh <source dir>}" && pwd)
deploy=$src/deploy
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hetki-deploy.XXXXXX")
redis_pids=()
failures=0

cleanup() {
    local pid
    for pid in "${redis_pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap "exit 143" TERM
trap "exit 130" INT

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
ok() { echo "ok: $*"; }
skip() { echo "skip: $*"; }
rel() { echo "${1#"$src"/}"; }

# ---------------------------------------------------------------------------------------------
# The YAML files are read through tests/deploy/yaml_flat.awk (see there for the records).
flat_awk=$(cd "$(dirname "$0")" && pwd)/yaml_flat.awk
[ -f "$flat_awk" ] || { echo "FAIL: no $flat_awk" >&2; exit 1; }

mkdir -p "$tmp/flat"
# flat FILE: prints the path of FILE's flattened records (made once).
flat() {
    local f
    f=$tmp/flat/$(rel "$1" | tr '/' '_')
    [ -f "$f" ] || awk -f "$flat_awk" "$1" >"$f"
    echo "$f"
}
# val FILE DOC PATH: the scalar at PATH of document DOC ("" when absent).
val() {
    awk -F'\t' -v d="$2" -v p="$3" '$1 == "V" && $2 == d && $3 == p { print $4; exit }' \
        "$(flat "$1")"
}
# has FILE DOC PATH: true when PATH exists in document DOC.
has() {
    awk -F'\t' -v d="$2" -v p="$3" '$1 == "K" && $2 == d && $3 == p { f = 1; exit }
        END { exit !f }' "$(flat "$1")"
}
# list FILE DOC PATH: the scalar items PATH[0], PATH[1], ... one per line.
list() {
    awk -F'\t' -v d="$2" -v p="$3" '$1 == "V" && $2 == d && index($3, p "[") == 1 &&
        substr($3, length(p) + 1) ~ /^\[[0-9]+\]$/ { print $4 }' "$(flat "$1")"
}
# count FILE DOC PATH: how many items the sequence at PATH has.
count() {
    awk -F'\t' -v d="$2" -v p="$3" '$1 == "K" && $2 == d && index($3, p "[") == 1 &&
        substr($3, length(p) + 1) ~ /^\[[0-9]+\]$/ { n++ } END { print n + 0 }' "$(flat "$1")"
}
# pairs FILE DOC PATH: "key<TAB>value" for each scalar directly in the map at PATH (labels).
pairs() {
    awk -F'\t' -v d="$2" -v p="$3." '$1 == "V" && $2 == d && index($3, p) == 1 {
        k = substr($3, length(p) + 1); if (k !~ /\[/) { print k "\t" $4 } }' "$(flat "$1")"
}
# docs FILE: the numbers of the documents that have a kind.
docs() {
    awk -F'\t' '$1 == "V" && $3 == "kind" { print $2 }' "$(flat "$1")"
}
# subset FILE1 DOC1 PATH1 FILE2 DOC2 PATH2: true when every pair at PATH1 is also at PATH2.
subset() {
    local a b
    a=$(pairs "$1" "$2" "$3" | sort)
    b=$(pairs "$4" "$5" "$6" | sort)
    [ -n "$a" ] && [ -z "$(comm -23 <(echo "$a") <(echo "$b"))" ]
}

# ---------------------------------------------------------------------------------------------
# 1. Every YAML file parses.
mapfile -t yaml_files < <(find -H "$deploy" \( -path "$deploy/policies" -prune \) -o -type f \
    \( -name '*.yaml' -o -name '*.yml' \) -print | sort)
if [ ${#yaml_files[@]} -eq 0 ]; then
    fail "no YAML files under deploy/"
fi
for f in "${yaml_files[@]}"; do
    errors=$(awk -F'\t' -v f="$(rel "$f")" '$1 == "E" { print f ":" $2 ": " $3 }' \
        "$(flat "$f")")
    if [ -n "$errors" ]; then
        fail "YAML: $errors"
    elif ! grep -q '^[KV]' "$(flat "$f")"; then
        fail "YAML: $(rel "$f") is empty"
    fi
done
ok "${#yaml_files[@]} YAML files parse"

# ---------------------------------------------------------------------------------------------
# 2. Kustomize: references, manifests, patches, cross references.
k8s=$deploy/k8s
declare -A used=()
mapfile -t kustomizations < <(find -H "$k8s" -name kustomization.yaml | sort)
[ ${#kustomizations[@]} -ge 3 ] ||
    fail "kustomize: expected base and two overlays under deploy/k8s"

# objects KUSTOMIZATION_DIR: "kind<TAB>name<TAB>file<TAB>doc" of every resource, recursively.
objects() {
    local k=$1/kustomization.yaml r path doc name
    [ -f "$k" ] || return 0
    while IFS= read -r r; do
        path=$1/$r
        if [ -d "$path" ]; then
            objects "$(cd "$path" && pwd)"
        elif [ -f "$path" ]; then
            for doc in $(docs "$path"); do
                name=$(val "$path" "$doc" metadata.name)
                printf '%s\t%s\t%s\t%s\n' "$(val "$path" "$doc" kind)" "${name:-(none)}" \
                    "$path" "$doc"
            done
        fi
    done < <(list "$k" 1 resources)
}

for k in "${kustomizations[@]}"; do
    kdir=$(dirname "$k")
    kr=$(rel "$k")
    [ "$(val "$k" 1 kind)" = Kustomization ] || fail "$kr: kind is not Kustomization"
    [ "$(val "$k" 1 apiVersion)" = kustomize.config.k8s.io/v1beta1 ] || fail "$kr: apiVersion"
    case "$kr" in
    */base/*) has "$k" 1 namespace && fail "$kr: the base must be namespace-less" ;;
    esac
    objs=$(objects "$kdir")

    # Listed files exist; directories hold a kustomization.
    refs=$( (list "$k" 1 resources; list "$k" 1 components; list "$k" 1 patchesStrategicMerge
        awk -F'\t' '$1 == "V" && $3 ~ /^patches\[[0-9]+\]\.path$/ { print $4 }
            $1 == "V" && $3 ~ /^(configMap|secret)Generator\[[0-9]+\]\.files\[[0-9]+\]$/ {
                sub(/^[^=]*=/, "", $4); print $4 }' "$(flat "$k")"))
    while IFS= read -r r; do
        [ -n "$r" ] || continue
        if [ -d "$kdir/$r" ]; then
            [ -f "$kdir/$r/kustomization.yaml" ] ||
                fail "$kr: $r is a directory without kustomization.yaml"
        elif [ -f "$kdir/$r" ]; then
            used[$(cd "$(dirname "$kdir/$r")" && pwd)/$(basename "$r")]=1
        else
            fail "$kr: lists $r, which does not exist"
        fi
    done <<<"$refs"

    # Resource manifests: apiVersion, kind, metadata.name in every document.
    while IFS= read -r r; do
        [ -f "$kdir/$r" ] || continue
        n=0
        while IFS= read -r doc; do
            n=$((n + 1))
            for field in apiVersion kind metadata.name; do
                [ -n "$(val "$kdir/$r" "$doc" "$field")" ] ||
                    fail "$(rel "$kdir/$r") document $doc: no $field"
            done
            case "$kr" in
            */base/*) has "$kdir/$r" "$doc" metadata.namespace &&
                fail "$(rel "$kdir/$r"): the base must be namespace-less" ;;
            esac
        done < <(awk -F'\t' '$1 == "K" && $3 !~ /[.[]/ { print $2 }' "$(flat "$kdir/$r")" |
            sort -un)
        [ "$n" -gt 0 ] || fail "$(rel "$kdir/$r"): no documents"
    done < <(list "$k" 1 resources)

    # Patches name an object of this kustomization's resources.
    np=$(count "$k" 1 patches)
    for ((i = 0; i < np; i++)); do
        p=$(val "$k" 1 "patches[$i].path")
        tkind=$(val "$k" 1 "patches[$i].target.kind")
        tname=$(val "$k" 1 "patches[$i].target.name")
        if [ -n "$p" ] && [ -f "$kdir/$p" ] && has "$kdir/$p" 1 "[0]"; then
            [ -n "$tkind" ] && [ -n "$tname" ] ||
                fail "$kr: JSON6902 patch $p needs target kind and name"
            [ -n "$(val "$kdir/$p" 1 "[0].op")" ] && [ -n "$(val "$kdir/$p" 1 "[0].path")" ] ||
                fail "$(rel "$kdir/$p"): a JSON6902 patch needs op and path"
        elif [ -n "$p" ] && [ -f "$kdir/$p" ]; then
            for doc in $(docs "$kdir/$p"); do
                tkind=$(val "$kdir/$p" "$doc" kind)
                tname=$(val "$kdir/$p" "$doc" metadata.name)
                grep -q "^$tkind	$tname	" <<<"$objs" ||
                    fail "$(rel "$kdir/$p"): patches $tkind/$tname, which $kr does not have"
            done
            tkind=''
        fi
        if [ -n "$tkind" ] && [ -n "$tname" ]; then
            grep -q "^$tkind	$tname	" <<<"$objs" ||
                fail "$kr: patch target $tkind/$tname does not exist"
        fi
    done
    nr=$(count "$k" 1 replicas)
    for ((i = 0; i < nr; i++)); do
        name=$(val "$k" 1 "replicas[$i].name")
        grep -qE "^(Deployment|StatefulSet)	$name	" <<<"$objs" ||
            fail "$kr: replicas names $name, which is no Deployment or StatefulSet here"
    done

    # Selectors select pods; references point at objects of the same set.
    workloads=$(grep -E '^(Deployment|StatefulSet)	' <<<"$objs")
    while IFS=$'\t' read -r kind name file doc; do
        [ -n "$kind" ] || continue
        where="$(rel "$file") $kind/$name"
        case "$kind" in
        Deployment | StatefulSet)
            subset "$file" "$doc" spec.selector.matchLabels \
                "$file" "$doc" spec.template.metadata.labels ||
                fail "$where: selector does not match the pod labels"
            nc=$(count "$file" "$doc" spec.template.spec.containers)
            [ "$nc" -gt 0 ] || fail "$where: no containers"
            for ((c = 0; c < nc; c++)); do
                cpath="spec.template.spec.containers[$c]"
                for field in name image resources.requests.cpu resources.requests.memory \
                    resources.limits.memory; do
                    [ -n "$(val "$file" "$doc" "$cpath.$field")" ] ||
                        fail "$where: container $c has no $field"
                done
            done
            nv=$(count "$file" "$doc" spec.template.spec.volumes)
            for ((v = 0; v < nv; v++)); do
                cm=$(val "$file" "$doc" "spec.template.spec.volumes[$v].configMap.name")
                [ -z "$cm" ] || grep -q "^ConfigMap	$cm	" <<<"$objs" ||
                    fail "$where: volume uses ConfigMap $cm, which does not exist"
            done
            ;;
        Service | PodDisruptionBudget | NetworkPolicy)
            case "$kind" in
            Service) sel=spec.selector ;;
            PodDisruptionBudget) sel=spec.selector.matchLabels ;;
            NetworkPolicy) sel=spec.podSelector.matchLabels ;;
            esac
            found=0
            while IFS=$'\t' read -r _ _ wfile wdoc; do
                [ -n "$wfile" ] || continue
                if subset "$file" "$doc" "$sel" "$wfile" "$wdoc" \
                    spec.template.metadata.labels; then
                    found=1
                fi
            done <<<"$workloads"
            [ "$found" -eq 1 ] || fail "$where: its selector matches no pods"
            ;;
        HorizontalPodAutoscaler)
            tkind=$(val "$file" "$doc" spec.scaleTargetRef.kind)
            tname=$(val "$file" "$doc" spec.scaleTargetRef.name)
            grep -q "^$tkind	$tname	" <<<"$objs" ||
                fail "$where: scaleTargetRef names no object here"
            ;;
        esac
    done <<<"$objs"
done

# Every file under deploy/k8s is used by a kustomization.
while IFS= read -r f; do
    [ "$(basename "$f")" = kustomization.yaml ] && continue
    [ -n "${used[$f]:-}" ] || fail "$(rel "$f") is not listed in any kustomization.yaml"
done < <(find -H "$k8s" -type f | sort)
ok "kustomize references, manifests, patches and selectors"

# ---------------------------------------------------------------------------------------------
# 3. The router and Redis in the base, and what the overlays change.
base_objs=$(objects "$k8s/base")
obj() { grep -m1 "^$1	$2	" <<<"$base_objs" | cut -f3,4; }
list_ports() { # FILE DOC: the ports of a Service
    awk -F'\t' -v d="$2" '$1 == "V" && $2 == d && $3 ~ /^spec\.ports\[[0-9]+\]\.port$/ {
        print $4 }' "$(flat "$1")"
}
read -r rfile rdoc < <(obj Deployment hetki-router | tr '\t' ' ')
if [ -z "${rfile:-}" ]; then
    fail "base: no Deployment hetki-router"
else
    c='spec.template.spec.containers[0]'
    declare -A env=() envref=()
    ne=$(count "$rfile" "$rdoc" "$c.env")
    for ((i = 0; i < ne; i++)); do
        n=$(val "$rfile" "$rdoc" "$c.env[$i].name")
        env[$n]=$(val "$rfile" "$rdoc" "$c.env[$i].value")
        envref[$n]=$(val "$rfile" "$rdoc" "$c.env[$i].valueFrom.fieldRef.fieldPath")
    done
    expect() { [ "$2" = "$3" ] || fail "router Deployment: $1 is \"$2\", expected \"$3\""; }
    expect replicas "$(val "$rfile" "$rdoc" spec.replicas)" 2
    expect terminationGracePeriodSeconds \
        "$(val "$rfile" "$rdoc" spec.template.spec.terminationGracePeriodSeconds)" 30
    expect image "$(val "$rfile" "$rdoc" "$c.image")" hetki:latest
    expect HETKI_BIND_HOST "${env[HETKI_BIND_HOST]:-}" 0.0.0.0
    expect "HETKI_ADVERTISE_HOST fieldRef" "${envref[HETKI_ADVERTISE_HOST]:-}" status.podIP
    expect HETKI_ROUTER_CONTACTS_PORT "${env[HETKI_ROUTER_CONTACTS_PORT]:-}" 5555
    expect HETKI_ROUTER_EVENTS_PORT "${env[HETKI_ROUTER_EVENTS_PORT]:-}" 5556
    admin=${env[HETKI_ADMIN_PORT]:-}
    expect HETKI_ADMIN_PORT "$admin" 9100
    # The Redis host is a Service of the base, on the port the router is given.
    rhost=${env[HETKI_REDIS_HOST]:-}
    read -r sfile sdoc < <(obj Service "$rhost" | tr '\t' ' ')
    if [ -z "${sfile:-}" ]; then
        fail "router Deployment: HETKI_REDIS_HOST=$rhost is no Service of the base"
    else
        rport=${env[HETKI_REDIS_PORT]:-6380}
        list_ports "$sfile" "$sdoc" | grep -qx "$rport" ||
            fail "router Deployment: Service $rhost has no port $rport (HETKI_REDIS_PORT)"
    fi
    # Probes: GET /readyz and /healthz on the admin port (number or name of that port).
    declare -A cports=()
    np=$(count "$rfile" "$rdoc" "$c.ports")
    for ((i = 0; i < np; i++)); do
        cport=$(val "$rfile" "$rdoc" "$c.ports[$i].containerPort")
        cports[$(val "$rfile" "$rdoc" "$c.ports[$i].name")]=$cport
        cports[#$cport]=1
    done
    for probe in readinessProbe:/readyz livenessProbe:/healthz; do
        kind=${probe%%:*}
        expect "$kind path" "$(val "$rfile" "$rdoc" "$c.$kind.httpGet.path")" "${probe#*:}"
        port=$(val "$rfile" "$rdoc" "$c.$kind.httpGet.port")
        [[ "$port" =~ ^[0-9]+$ ]] || port=${cports[$port]:-}
        expect "$kind port" "$port" "$admin"
    done
    for p in "${env[HETKI_ROUTER_CONTACTS_PORT]:-}" "${env[HETKI_ROUTER_EVENTS_PORT]:-}" \
        "$admin"; do
        [ -n "${cports[#$p]:-}" ] || fail "router Deployment: no containerPort $p"
    done
    a=spec.template.metadata.annotations
    expect prometheus.io/scrape "$(val "$rfile" "$rdoc" "$a.prometheus.io/scrape")" true
    expect prometheus.io/port "$(val "$rfile" "$rdoc" "$a.prometheus.io/port")" "$admin"
    expect prometheus.io/path "$(val "$rfile" "$rdoc" "$a.prometheus.io/path")" /metrics
    read -r sfile sdoc < <(obj Service hetki-router | tr '\t' ' ')
    if [ -z "${sfile:-}" ]; then
        fail "base: no Service hetki-router"
    else
        for p in 5555 5556 "$admin"; do
            list_ports "$sfile" "$sdoc" | grep -qx "$p" || fail "Service hetki-router: no port $p"
        done
    fi
    read -r pfile pdoc < <(obj PodDisruptionBudget hetki-router | tr '\t' ' ')
    [ -n "${pfile:-}" ] && [ "$(val "$pfile" "$pdoc" spec.minAvailable)" = 1 ] ||
        fail "base: no PodDisruptionBudget hetki-router with minAvailable 1"
fi

# Redis: a StatefulSet with a volume claim and a ConfigMap redis.conf that persists like
# deploy/redis/redis.conf.
read -r qfile qdoc < <(obj StatefulSet redis | tr '\t' ' ')
cm_conf=$tmp/configmap-redis.conf
if [ -z "${qfile:-}" ]; then
    fail "base: no StatefulSet redis"
else
    base_storage=$(val "$qfile" "$qdoc" \
        "spec.volumeClaimTemplates[0].spec.resources.requests.storage")
    [ -n "$base_storage" ] || fail "StatefulSet redis: no volumeClaimTemplates storage request"
    cm=$(awk -F'\t' -v d="$qdoc" '$1 == "V" && $2 == d &&
        $3 ~ /^spec\.template\.spec\.volumes\[[0-9]+\]\.configMap\.name$/ { print $4; exit }' \
        "$(flat "$qfile")")
    read -r cfile cdoc < <(obj ConfigMap "$cm" | tr '\t' ' ')
    if [ -z "${cfile:-}" ]; then
        fail "StatefulSet redis: no ConfigMap volume with redis.conf"
    else
        awk -F'\t' -v d="$cdoc" '$1 == "B" && $2 == d && $3 == "data.redis.conf" { print $4 }' \
            "$(flat "$cfile")" >"$cm_conf"
        for setting in "appendonly yes" "appendfsync always" "maxmemory-policy noeviction"; do
            grep -qx "$setting" "$cm_conf" || fail "ConfigMap $cm redis.conf: no \"$setting\""
        done
        settings() { grep -vE '^[[:space:]]*(#|$)' "$1" | sed 's/[[:space:]]*$//' | sort; }
        diff <(settings "$cm_conf") <(settings "$deploy/redis/redis.conf") >"$tmp/conf.diff" ||
            fail "ConfigMap $cm and deploy/redis/redis.conf differ:" \
                "$(tr '\n' ' ' <"$tmp/conf.diff")"
    fi
fi

# Overlays: replicas, autoscaler, Redis volume size.
replicas_of() { # KUSTOMIZATION NAME
    local i n
    n=$(count "$1" 1 replicas)
    for ((i = 0; i < n; i++)); do
        [ "$(val "$1" 1 "replicas[$i].name")" = "$2" ] && val "$1" 1 "replicas[$i].count"
    done
}
dev=$k8s/overlays/dev/kustomization.yaml
prod=$k8s/overlays/prod/kustomization.yaml
if [ -f "$dev" ] && [ -f "$prod" ]; then
    [ "$(replicas_of "$dev" hetki-router)" = 1 ] ||
        fail "overlays/dev: hetki-router replicas is not 1"
    [ "$(replicas_of "$prod" hetki-router)" = 3 ] ||
        fail "overlays/prod: hetki-router replicas is not 3"
    ! grep -rq volumeClaimTemplates "$k8s/overlays/dev" ||
        fail "overlays/dev changes the Redis volume"
    prod_objs=$(objects "$k8s/overlays/prod")
    read -r hfile hdoc < <(grep -m1 '^HorizontalPodAutoscaler	' <<<"$prod_objs" | cut -f3,4 |
        tr '\t' ' ')
    if [ -z "${hfile:-}" ]; then
        fail "overlays/prod: no HorizontalPodAutoscaler"
    else
        [ "$(val "$hfile" "$hdoc" spec.scaleTargetRef.name)" = hetki-router ] &&
            [ "$(val "$hfile" "$hdoc" spec.minReplicas)" = 2 ] &&
            [ "$(val "$hfile" "$hdoc" spec.maxReplicas)" = 10 ] &&
            [ "$(val "$hfile" "$hdoc" 'spec.metrics[0].resource.name')" = cpu ] &&
            [ "$(val "$hfile" "$hdoc" \
                'spec.metrics[0].resource.target.averageUtilization')" = 70 ] ||
            fail "overlays/prod: the autoscaler is not hetki-router, 2..10, CPU 70%"
    fi
    prod_storage=$(for f in "$k8s"/overlays/prod/*.yaml; do
        awk -F'\t' '$1 == "V" && $3 ~ /volumeClaimTemplates\[[0-9]+\]\.spec\.resources\.requests/ &&
            $3 ~ /\.storage$/ { print $4 }' "$(flat "$f")"
    done | head -n1)
    [ -n "$prod_storage" ] && [ "$prod_storage" != "${base_storage:-}" ] ||
        fail "overlays/prod: does not change the Redis volume size"
else
    fail "deploy/k8s/overlays/dev and overlays/prod must exist"
fi
ok "router Deployment, Redis StatefulSet and overlays"

# ---------------------------------------------------------------------------------------------
# 4. HETKI_* names: only those the binaries read, or CMake options. In files named after the
# router, settings outside comments must be ones the router itself reads.
known=$( (grep -rhoE '"HETKI_[A-Z0-9_]+"' "$src/services" "$src/common" 2>/dev/null | tr -d '"'
    grep -rhoE --include=CMakeLists.txt 'option\(HETKI_[A-Z0-9_]+' "$src" 2>/dev/null |
        cut -c8-) |
    sort -u)
router_known=$(grep -rhoE '"HETKI_[A-Z0-9_]+"' "$src/services/router" "$src/common" 2>/dev/null |
    tr -d '"' | sort -u)
if [ -z "$known" ] || [ -z "$router_known" ]; then
    fail "found no HETKI_ names in services/ and common/"
else
    nnames=0
    while IFS= read -r f; do
        while IFS=: read -r line name; do
            nnames=$((nnames + 1))
            allowed=$known
            case "$(basename "$f")" in
            *router*)
                sed -n "${line}p" "$f" | grep -qE '^[[:space:]]*#' || allowed=$router_known
                ;;
            esac
            grep -qx "$name" <<<"$allowed" ||
                fail "$(rel "$f"):$line: $name is not a setting of the binaries it configures"
        done < <(grep -noE 'HETKI_[A-Z0-9_]*[A-Z0-9]' "$f")
    done < <(find -H "$deploy" \( -path "$deploy/policies" -prune \) -o -type f -print | sort)
    [ "$nnames" -gt 0 ] || fail "no HETKI_ names under deploy/ at all"
    ok "$nnames HETKI_ names under deploy/ are real settings"
fi
for f in "$deploy"/systemd/*.env; do
    [ -f "$f" ] || { fail "no example env file in deploy/systemd"; break; }
    bad=$(grep -nvE '^[[:space:]]*(#|$)|^HETKI_[A-Z0-9_]+=' "$f")
    [ -z "$bad" ] || fail "$(rel "$f"): not NAME=value: $bad"
done

# ---------------------------------------------------------------------------------------------
# 5. Compose: Redis and two routers from hetki:latest; mounted files exist.
compose=$deploy/compose/compose.yaml
if [ ! -f "$compose" ]; then
    fail "no deploy/compose/compose.yaml"
else
    [ -n "$(val "$compose" 1 services.redis.image)" ] || fail "compose: no redis service"
    image_of() { # SERVICE: its image, directly or through a merged anchor
        local img anchor
        img=$(val "$compose" 1 "services.$1.image")
        anchor=$(val "$compose" 1 "services.$1.<<")
        [ -z "$img" ] && [ -n "$anchor" ] && img=$(val "$compose" 1 "x-${anchor#\*}.image")
        echo "$img"
    }
    routers=$(awk -F'\t' '$1 == "K" && $3 ~ /^services\.[^.]+$/ {
        sub(/^services\./, "", $3); print $3 }' "$(flat "$compose")" | grep '^router')
    [ "$(wc -w <<<"$routers")" -ge 2 ] || fail "compose: fewer than 2 router services"
    advertised=()
    for r in $routers; do
        [ "$(image_of "$r")" = hetki:latest ] || fail "compose: $r does not use hetki:latest"
        advertised+=("$(val "$compose" 1 "services.$r.environment.HETKI_ADVERTISE_HOST")")
        [ "${advertised[-1]}" = "$r" ] || fail "compose: $r must advertise its own name"
    done
    while IFS= read -r v; do
        hostpath=${v%%:*}
        case "$hostpath" in
        ./* | ../*)
            [ -e "$deploy/compose/$hostpath" ] ||
                fail "compose: mounts $hostpath, which does not exist"
            ;;
        esac
    done < <(awk -F'\t' '$1 == "V" && $3 ~ /^services\.[^.]+\.volumes\[[0-9]+\]$/ { print $4 }' \
        "$(flat "$compose")")
    ok "compose: redis and $(wc -w <<<"$routers") routers"
fi

# ---------------------------------------------------------------------------------------------
# 6. Containerfile: Debian 12 stages; build packages = scripts/install-deps run set.
cf=$deploy/Containerfile
if [ ! -f "$cf" ]; then
    fail "no deploy/Containerfile"
else
    grep -qE '^FROM debian:12 AS build$' "$cf" || fail "Containerfile: no 'FROM debian:12 AS build'"
    grep -qE '^FROM debian:12-slim$' "$cf" || fail "Containerfile: no 'FROM debian:12-slim' stage"
    split=$(grep -nE '^FROM debian:12-slim' "$cf" | cut -d: -f1)
    build_part=$(head -n "$((${split:-1} - 1))" "$cf")
    run_part=$(tail -n "+${split:-1}" "$cf")
    run_set=$(awk '/^run_packages=\(/ { on = 1; next } on && /^\)/ { exit }
        on { sub(/#.*/, ""); print }' "$src/scripts/install-deps" | tr -s ' \t' '\n' | grep -v '^$')
    [ -n "$run_set" ] || fail "scripts/install-deps: no run_packages"
    for p in $run_set; do
        case "$p" in redis-server | redis-tools) continue ;; esac
        grep -qE "(^|[[:space:]])$p([[:space:]]|$)" <<<"$build_part" ||
            fail "Containerfile build stage lacks $p"
    done
    for p in libzmq5 libprotobuf-c1 libhiredis0.14 libwebsockets17 libwebsockets-evlib-uv libuv1 \
        libjansson4 libsodium23; do
        grep -qE "(^|[[:space:]])$p([[:space:]]|$)" <<<"$run_part" ||
            fail "Containerfile runtime stage lacks $p"
    done
    grep -qE '^COPY --from=build .*/bin/? ' <<<"$run_part" ||
        fail "Containerfile: the runtime stage copies no bin/"
    ok "Containerfile stages and packages"
fi

# ---------------------------------------------------------------------------------------------
# 7. systemd units: syntax, required settings, systemd-analyze verify when present.
unit_get() { # UNIT SECTION KEY: every value of KEY in SECTION
    awk -v s="[$2]" -v k="$3" '/^\[/ { cur = $0; next }
        cur == s && index($0, k "=") == 1 { print substr($0, length(k) + 2) }' "$1"
}
ru=$deploy/systemd/hetki-router@.service
qu=$deploy/systemd/hetki-redis.service
for u in "$ru" "$qu"; do
    [ -f "$u" ] || { fail "no $(rel "$u")"; continue; }
    bad=$(grep -nvE '^[[:space:]]*([#;]|$)|^\[[A-Za-z]+\]$|^[A-Za-z][A-Za-z0-9]*=' "$u")
    [ -z "$bad" ] || fail "$(rel "$u"): not a unit line: $bad"
done
if [ -f "$ru" ]; then
    for kv in EnvironmentFile=/etc/hetki/router-%i.env Restart=on-failure KillSignal=SIGTERM \
        TimeoutStopSec=30 NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
        DynamicUser=yes; do
        unit_get "$ru" Service "${kv%%=*}" | grep -qx "${kv#*=}" ||
            fail "$(rel "$ru"): no $kv in [Service]"
    done
    unit_get "$ru" Service ExecStart | grep -q '/hetki-router\b' ||
        fail "$(rel "$ru"): ExecStart is not hetki-router"
fi
if [ -f "$qu" ]; then
    exec_redis=$(unit_get "$qu" Service ExecStart)
    for kv in "appendonly yes" "appendfsync always"; do
        grep -q -- "--$kv" <<<"$exec_redis" || fail "$(rel "$qu"): ExecStart lacks --$kv"
    done
    grep -q redis-server <<<"$exec_redis" || fail "$(rel "$qu"): ExecStart is not redis-server"
fi
if command -v systemd-analyze >/dev/null 2>&1; then
    mkdir -p "$tmp/units" "$tmp/stubs"
    for u in "$deploy"/systemd/*.service; do
        cp "$u" "$tmp/units/"
        # Programs not installed here are replaced by stubs (verify checks they are executable).
        for prog in $(unit_get "$u" Service ExecStart |
            awk '{ sub(/^[-@:+!]+/, "", $1); print $1 }'); do
            if [ ! -x "$prog" ]; then
                printf '#!/bin/sh\nexit 0\n' >"$tmp/stubs/$(basename "$prog")"
                chmod +x "$tmp/stubs/$(basename "$prog")"
                sed -i "s|$prog|$tmp/stubs/$(basename "$prog")|" "$tmp/units/$(basename "$u")"
            fi
        done
    done
    verify=$(cd "$tmp/units" && systemd-analyze verify ./*.service 2>&1 |
        grep -E "$tmp/units|hetki-" || true)
    if [ -n "$verify" ]; then
        fail "systemd-analyze verify: $verify"
    else
        ok "systemd-analyze verify"
    fi
else
    skip "systemd-analyze not installed: unit files checked for syntax and settings only"
fi
ok "systemd units"

# ---------------------------------------------------------------------------------------------
# 8. Redis: the configurations load and persist; the ACL users allow and refuse as they should.
# start_redis NAME ARGS...: starts redis-server on a unix socket only (no TCP port).
start_redis() {
    local name=$1 i
    shift
    mkdir -p "$tmp/$name"
    redis-server "$@" --port 0 --unixsocket "$tmp/$name.sock" --unixsocketperm 700 \
        --dir "$tmp/$name" --daemonize no --logfile "$tmp/$name.log" &
    redis_pids+=($!)
    for i in $(seq 1 100); do
        # Up when it answers (PONG, or NOAUTH once the ACL file disabled the default user).
        if [ -S "$tmp/$name.sock" ] && kill -0 "$!" 2>/dev/null &&
            redis-cli -s "$tmp/$name.sock" ping 2>&1 | grep -qE '^(PONG|NOAUTH)'; then
            return 0
        fi
        kill -0 "$!" 2>/dev/null || break
        sleep 0.1
    done
    fail "redis-server ($name) did not start: $( (grep -iE 'abort|fatal|error' "$tmp/$name.log" ||
        tail -n 3 "$tmp/$name.log") 2>/dev/null | tail -n 3 | tr '\n' ' ')"
    return 1
}
config_is() { # NAME SETTING VALUE [redis-cli auth args]
    local name=$1 key=$2 want=$3 got
    shift 3
    got=$(redis-cli -s "$tmp/$name.sock" --no-auth-warning "$@" config get "$key" | sed -n 2p)
    [ "$got" = "$want" ] || fail "Redis ($name): $key is \"$got\", expected \"$want\""
}
is_denied() { grep -qiE "NOPERM|NOAUTH|no permissions|can.t (run|access)"; }
acl_check() { # allow|deny USER DESCRIPTION redis-cli args...
    local want=$1 user=$2 what=$3 reply
    shift 3
    reply=$(redis-cli -s "$tmp/acl.sock" --no-auth-warning --user "$user" --pass test-pw "$@" 2>&1)
    if [ "$want" = allow ] && is_denied <<<"$reply"; then
        fail "ACL: $user may not $what: $reply"
    elif [ "$want" = deny ] && ! is_denied <<<"$reply"; then
        fail "ACL: $user may $what: $reply"
    fi
}
acl=$deploy/redis/users.acl
# Redis ACL files take "user NAME rules..." lines only (no comments).
bad=$(grep -nvE '^user [A-Za-z0-9_-]+( [^ ]+)*$' "$acl" 2>&1)
[ -z "$bad" ] || fail "$(rel "$acl"): not an ACL user line: $bad"
for user in default hetki-router hetki-gateway hetki-chat hetki-phone hetki-dashboard hetki-cli; do
    grep -q "^user $user " "$acl" || fail "$(rel "$acl"): no user $user"
done
if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
    sed -E 's/^(user .*)$/\1 >test-pw/' "$acl" >"$tmp/users.acl"
    if start_redis acl "$deploy/redis/redis.conf" --aclfile "$tmp/users.acl"; then
        admin=(--user hetki-admin --pass test-pw)
        config_is acl appendonly yes "${admin[@]}"
        config_is acl appendfsync always "${admin[@]}"
        config_is acl maxmemory-policy noeviction "${admin[@]}"
        # The registry scripts every service runs; the roles must be able to run them.
        beat=$src/common/lua/registry_beat.lua
        lst=$src/common/lua/registry_list.lua
        [ -f "$beat" ] && [ -f "$lst" ] || fail "ACL: common/lua/registry_{beat,list}.lua not found"
        reg=('hk:{registry}:instances' 'hk:{registry}:inst:test/acl')
        acl_check allow hetki-router "write hetki keys" set 'hk:{acltest}:x' 1
        acl_check deny hetki-router "write other keys" set other:x 1
        acl_check deny hetki-router "flush everything" flushall
        acl_check deny hetki-router "change the configuration" config set appendfsync no
        beat_args=(--eval "$beat" "${reg[@]}" ',' test acl 3000 ep tcp://x:1)
        list_args=(--eval "$lst" "${reg[0]}" ',' '' 'hk:{registry}:inst:')
        lib=$'#!lua name=acltest\nredis.register_function("acltest_get", function(k) return redis.call("GET", k[1]) end)'
        acl_check allow hetki-router "load its function library" function load "$lib"
        acl_check allow hetki-router "call its functions" fcall acltest_get 1 'hk:{acltest}:x'
        acl_check deny hetki-router "call a function on other keys" fcall acltest_get 1 other:x
        acl_check deny hetki-router "delete function libraries" function flush
        acl_check deny hetki-gateway "load a function library" function load replace "$lib"
        acl_check deny hetki-gateway "call functions" fcall acltest_get 1 'hk:{registry}:x'
        acl_check allow hetki-router "register" "${beat_args[@]}"
        acl_check allow hetki-router "list the registry" "${list_args[@]}"
        acl_check allow hetki-gateway "register" "${beat_args[@]}"
        acl_check allow hetki-gateway "list the registry" "${list_args[@]}"
        acl_check deny hetki-gateway "write contacts" hset 'hk:{acltest}:contact:1' state queued
        acl_check deny hetki-gateway "write contacts from a script" \
            eval "return redis.call('SET', 'hk:{acltest}:contact:2', 1)" 0
        acl_check allow hetki-chat "register" "${beat_args[@]}"
        acl_check allow hetki-chat "keep a chat session" hset 'hk:{acltest}:chat:s1' token t
        acl_check allow hetki-chat "trim an outbox" lrem 'hk:{acltest}:outbox:s1' 0 m
        acl_check allow hetki-chat "read a conversation" lrange 'hk:{acltest}:conv:c1' 0 -1
        acl_check deny hetki-chat "write contacts" hset 'hk:{acltest}:contact:1' state queued
        acl_check allow hetki-phone "register" "${beat_args[@]}"
        acl_check allow hetki-phone "store a registration" set 'hk:{acltest}:phone:reg:a1' sip:x
        acl_check allow hetki-phone "keep a promise" hset 'hk:{acltest}:promise:c1' status pending
        acl_check allow hetki-phone "schedule a promise" zadd 'hk:{acltest}:promise_due' 1 c1
        acl_check deny hetki-phone "write contacts" hset 'hk:{acltest}:contact:1' state queued
        acl_check deny hetki-phone "change agents' phone passwords" \
            hset 'hk:{acltest}:phone:agents_ha1' a1 x
        acl_check allow hetki-dashboard "read contacts" get 'hk:{acltest}:x'
        acl_check deny hetki-dashboard "write contacts" set 'hk:{acltest}:x' 2
        acl_check allow hetki-dashboard "register" "${beat_args[@]}"
        acl_check allow hetki-dashboard "open a session" hset 'hk:{acltest}:session:ab' account a
        acl_check allow hetki-dashboard "list an account's sessions" \
            sadd 'hk:{acltest}:account:a1:sessions' ab
        acl_check deny hetki-dashboard "change an account" hset 'hk:{acltest}:account:a1' hash x
        acl_check allow hetki-dashboard "run a read-only view script" \
            eval_ro "return redis.call('GET', KEYS[1])" 1 'hk:{acltest}:rev'
        acl_check allow hetki-cli "add a dashboard account" hset 'hk:{acltest}:account:a1' hash x
        acl_check allow hetki-cli "give a tenant a phone number" \
            hset 'hk:{phone}:numbers' 0201234567 acltest
        acl_check allow hetki-cli "list the registry" "${list_args[@]}"
        acl_check allow hetki-cli "read contacts" get 'hk:{acltest}:x'
        acl_check allow hetki-cli "store a policy" hset 'hk:{acltest}:policy' version 1
        acl_check allow hetki-cli "add a tenant" sadd hk:tenants acltest
        acl_check deny hetki-cli "write contacts" hset 'hk:{acltest}:contact:1' state queued
        acl_check deny hetki-cli "flush everything" flushall
        reply=$(redis-cli -s "$tmp/acl.sock" ping 2>&1)
        is_denied <<<"$reply" || fail "ACL: anonymous access works: $reply"
        ok "deploy/redis/redis.conf loads and persists; users.acl roles behave"
    fi
    if [ -s "$cm_conf" ] && start_redis configmap "$cm_conf"; then
        config_is configmap appendonly yes
        config_is configmap appendfsync always
        config_is configmap maxmemory-policy noeviction
        ok "the k8s ConfigMap redis.conf loads and persists"
    fi
else
    skip "redis-server not installed: Redis configuration and ACL not loaded"
fi

# ---------------------------------------------------------------------------------------------
# 9. Stricter tools when present (none is required).
if command -v python3 >/dev/null 2>&1 && python3 -c 'import yaml' >/dev/null 2>&1; then
    if python3 - "${yaml_files[@]}" >"$tmp/py.out" 2>&1 <<'PY_EOF'; then
import sys, yaml
for path in sys.argv[1:]:
    with open(path) as f:
        list(yaml.safe_load_all(f))
PY_EOF
        ok "python3 yaml loads every YAML file"
    else
        fail "python3 yaml: $(tail -n 5 "$tmp/py.out" | tr '\n' ' ')"
    fi
else
    skip "python3 with yaml not available"
fi
if command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then
    for k in "${kustomizations[@]}"; do
        kd=$(dirname "$k")
        if kubectl kustomize "$kd" >"$tmp/kustomize.out" 2>&1 && [ -s "$tmp/kustomize.out" ]; then
            ok "kubectl kustomize $(rel "$kd")"
        else
            fail "kubectl kustomize $(rel "$kd"): $(tail -n 5 "$tmp/kustomize.out" | tr '\n' ' ')"
        fi
    done
else
    skip "kubectl not installed: kustomize builds not run"
fi

if [ "$failures" -ne 0 ]; then
    echo "deploy_manifests: $failures failure(s)" >&2
    exit 1
fi
echo "deploy_manifests: all checks passed"
