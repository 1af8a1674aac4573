#!/usr/bin/env bash
# Regenerate the book's licence files from the SPDX texts in the npm registry package
# `spdx-license-list` (default version 6.12.0), so that no licence is typed by hand.
# Usage: bash scripts/licence_texts.sh [VERSION]
#   LICENSE                  MIT, for the code, with the book's copyright line
#   LICENSES/CC-BY-4.0.txt   the CC BY 4.0 legal code, for the text and figures
set -euo pipefail
version=${1:-6.12.0}
root="$(cd "$(dirname "$0")/.." && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "spdx-license-list@$version" >/dev/null && tar xzf spdx-license-list-*.tgz)
mkdir -p "$root/LICENSES"
python3 - "$work/package/licenses" "$root" <<'EOF'
import json
import sys
from pathlib import Path

licences, root = Path(sys.argv[1]), Path(sys.argv[2])


def text_of(identifier: str) -> str:
    return json.loads((licences / f"{identifier}.json").read_text(encoding="utf-8"))["licenseText"]


mit = text_of("MIT")
placeholder = "Copyright (c) <year> <copyright holders>"
if placeholder not in mit:
    sys.exit(f"the SPDX MIT text no longer contains {placeholder!r}; update this script")
mit = mit.replace(placeholder, "Copyright (c) 2026 GAN Book contributors")
(root / "LICENSE").write_text(mit.rstrip("\n") + "\n", encoding="utf-8")
(root / "LICENSES" / "CC-BY-4.0.txt").write_text(text_of("CC-BY-4.0").rstrip("\n") + "\n",
                                                 encoding="utf-8")
EOF
echo "wrote LICENSE (MIT) and LICENSES/CC-BY-4.0.txt from spdx-license-list@$version (npm)"
