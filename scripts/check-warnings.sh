#!/usr/bin/env bash
# Fails when a build log holds compiler warnings in our own code (Sources/),
# so the build stays warnings-clean. Warnings in dependencies and pkg-config's
# "prohibited flag(s)" notes (flags SwiftPM drops from .pc files) are not ours.
# Usage: scripts/check-warnings.sh BUILD_LOG [ROOT]
# A build only reports files it compiles: run it on a clean build (CI) to see all.
set -euo pipefail
log_file="$1"
root="${2:-$(cd "$(dirname "$0")/.." && pwd)}"
# Compiler diagnostics look like `/abs/path/Sources/T/F.swift:616:13: warning: …`.
warnings="$(grep -E "^(${root}/)?Sources/[^:]+:[0-9]+(:[0-9]+)?: warning: " "$log_file" | grep -v 'prohibited flag' | sort -u || true)"
if [ -n "$warnings" ]; then
    count="$(printf '%s\n' "$warnings" | wc -l)"
    printf '==> %s compiler warning(s) in Sources/ (keep the build warnings-clean):\n%s\n' "$count" "$warnings" >&2
    exit 1
fi
