#!/usr/bin/env bash
# format_check: every C source and header tracked by git follows the committed .clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.c' '*.h')
if ! command -v clang-format >/dev/null; then
    echo "format_check: clang-format is not installed (scripts/install-deps test installs it)" >&2
    exit 1
fi
clang-format --dry-run --Werror --style=file "${files[@]}"
echo "format_check: ${#files[@]} files formatted"
