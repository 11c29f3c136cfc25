#!/usr/bin/env bash
# Berth's main job on the sample application: check the manifests, then plan them.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product berth >&2
bin="$(swift build -c release --show-bin-path)/berth"
echo "== berth validate manifests/"
"$bin" validate manifests
