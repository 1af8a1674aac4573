#!/usr/bin/env bash
# Regenerate the vendored MathJax from the npm registry package `mathjax`.
# Usage: bash scripts/vendor_mathjax.sh [VERSION]   (default 3.2.2)
# Copies the single-file TeX-to-SVG bundle (all TeX extensions included, no font
# files needed) and the licence into docs/javascripts/vendor/mathjax/.
set -euo pipefail
version=${1:-3.2.2}
target="$(cd "$(dirname "$0")/.." && pwd)/docs/javascripts/vendor/mathjax"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "mathjax@$version" >/dev/null && tar xzf mathjax-*.tgz)
mkdir -p "$target"
cp "$work/package/es5/tex-svg-full.js" "$target/tex-svg-full.js"
cp "$work/package/LICENSE" "$target/LICENSE"
echo "mathjax@$version (npm), es5/tex-svg-full.js" > "$target/VERSION"
echo "vendored mathjax@$version into $target"
