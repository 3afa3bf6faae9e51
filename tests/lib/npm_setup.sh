#!/usr/bin/env bash
# npm_setup.sh: installs a node test suite's packages (exact versions from its
# package-lock.json) into SUITE_DIR/node_modules with `npm ci`, once per lockfile: a stamp
# holding the lockfile's hash skips the install when nothing changed. Safe to run
# concurrently (flock). Usage: npm_setup.sh [--force]
set -euo pipefail
here=$(cd "${1:?usage: npm_setup.sh SUITE_DIR [--force]}" && pwd)
stamp="$here/node_modules/.hetki-lock-sha256"
want=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "npm_setup: node and npm are needed (scripts/install-deps test installs them)" >&2
    exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
    echo "npm_setup: node >= 20 is needed, found $(node --version)" >&2
    exit 1
fi

# The lock lives outside the tree (npm ci replaces node_modules, the tree stays clean).
exec 9>"${TMPDIR:-/tmp}/hetki-npm-setup-$(echo "$here" | sha256sum | cut -c1-16).lock"
flock -w 600 9
if [ "${2:-}" != "--force" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi
cd "$here"
npm ci --no-audit --no-fund --loglevel=error
echo "$want" >"$stamp"
echo "npm_setup: installed $(node -p 'Object.entries(require("./package.json").dependencies).map(([k,v])=>k+"@"+v).join(" ")')"
