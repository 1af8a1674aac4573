#!/usr/bin/env bash
# Regenerate the vendored iframe-worker shim from the npm registry package
# `iframe-worker` (default version 1.0.4, MIT, by Martin Donath).
# Usage: bash scripts/vendor_iframe_worker.sh [VERSION]
# Material's offline plugin (the `make dist` build) loads this shim so that the search
# worker starts from file://; the plugin would fetch it from a CDN, and
# overrides/main.html points it at this copy instead.
set -euo pipefail
version=${1:-1.0.4}
target="$(cd "$(dirname "$0")/.." && pwd)/overrides/assets/javascripts/iframe-worker"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "iframe-worker@$version" >/dev/null && tar xzf iframe-worker-*.tgz)
mkdir -p "$target"
cp "$work/package/shim/index.js" "$target/shim.js"
cp "$work/package/LICENSE" "$target/LICENSE"
echo "iframe-worker@$version (npm), shim/index.js" > "$target/VERSION"
echo "vendored iframe-worker@$version into $target"
