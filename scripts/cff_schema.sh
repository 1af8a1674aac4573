#!/usr/bin/env bash
# Regenerate scripts/cff-schema-1.2.0.json, the Citation File Format 1.2.0 JSON schema
# that tests/test_publishing.py checks CITATION.cff against, from the schema shipped in
# the PyPI package `cffconvert` 2.0.0 (cffconvert/schemas/1.2.0/schema.json).
# The schema is unmodified work of the Citation File Format project (Stephan Druskat
# and contributors), licensed CC BY-SA 4.0.
# cffconvert itself pins jsonschema < 4, which the book's environment cannot take, so
# the test validates with the jsonschema package instead.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --only-binary :all: -d "$work" cffconvert==2.0.0
python3 -m zipfile -e "$work"/cffconvert-2.0.0-*.whl "$work/wheel"
cp "$work/wheel/cffconvert/schemas/1.2.0/schema.json" "$root/scripts/cff-schema-1.2.0.json"
echo "wrote scripts/cff-schema-1.2.0.json from cffconvert 2.0.0 (PyPI)"
