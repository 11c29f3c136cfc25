#!/usr/bin/env bash
# Berth's main job on the sample application, from a fresh machine (after scripts/setup.sh):
# build the sample images offline, turn manifests/ into a git repository, apply it to the
# Docker Engine, and print the status.
#
#   BERTH_DEMO_DIR   where the demo's git repository lives (default: .build/demo/shop);
#                    its folder name is the project name (containers shop-*, network berth-shop)
#
# It also starts `berth proxy --project shop` (the balancer for published ports) once, in the
# background, and asks the gateway for its version through it on http://127.0.0.1:8080.
#
# Run it again after editing manifests/: the change is committed to the demo repository and
# applied (a rolling update, a scale, ...). Remove everything with:
#   docker rm -f $(docker ps -aq --filter label=berth.project=shop); docker network rm berth-shop
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

# The binary the benchmarks measure (Makefile RELEASE): release, Swift runtime linked
# statically (so the dynamic loader does not load and relocate the Swift runtime at every start).
echo "== building berth (release, static Swift runtime)" >&2
swift build -c release --static-swift-stdlib --product berth >&2
bin="$(swift build -c release --static-swift-stdlib --show-bin-path)/berth"

echo "== building the sample images (offline, from busybox-static)" >&2
samples/build-images.sh >&2

echo "== berth validate manifests/"
"$bin" validate manifests

demo="${BERTH_DEMO_DIR:-$root/.build/demo/shop}"
mkdir -p "$demo"
git_() { git -C "$demo" -c user.name="Berth demo" -c user.email=demo@berth.invalid -c commit.gpgsign=false "$@"; }
if [ ! -d "$demo/.git" ]; then
  git_ init -q
fi
rm -rf "$demo/manifests"
cp -R manifests "$demo/manifests"
git_ add -A manifests
if git_ diff --cached --quiet 2>/dev/null && git_ rev-parse -q --verify HEAD >/dev/null; then
  echo "== $demo: manifests unchanged since the last demo" >&2
else
  git_ commit -q -m "Sample shop from $(basename "$root")/manifests"
  echo "== $demo: committed $(git_ rev-parse --short HEAD)" >&2
fi

# The published port (gateway, host port 8080) is served by Berth's own balancer, a process
# of its own that outlives apply and watch. Start it once; it follows Docker by itself.
state="${XDG_STATE_HOME:-$HOME/.local/state}/berth/shop"
if ! { [ -f "$state/proxy-shop.json" ] && pgrep -f "berth proxy --project shop" >/dev/null; }; then
  mkdir -p "$state"
  nohup "$bin" proxy --project shop >"$state/proxy.log" 2>&1 &
  for _ in $(seq 1 50); do [ -f "$state/proxy-shop.json" ] && break; sleep 0.1; done
  echo "== berth proxy started (log: $state/proxy.log; stop it with: pkill -f 'berth proxy --project shop')" >&2
fi

echo "== berth apply --auto-approve (repository $demo)"
"$bin" apply --auto-approve --repo "$demo"

echo
echo "== berth status"
"$bin" status --repo "$demo"

echo
echo "== curl http://127.0.0.1:8080/version  (through Berth's balancer to a gateway replica)"
for _ in $(seq 1 50); do
  if out=$(curl -fsS --max-time 2 http://127.0.0.1:8080/version 2>/dev/null); then echo "$out"; break; fi
  sleep 0.2
done
